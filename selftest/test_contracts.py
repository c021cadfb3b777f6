"""The contracts themselves: valid schemas and OpenAPI documents, examples, code tables, the catalog."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi

from fashion_conformance import contracts

EXAMPLES = Path(__file__).parent / "data" / "examples"
ID_PATTERN = re.compile(r"^(V1|V2|MAKER|TAGGER|SEC)-[A-Z0-9]+(-[A-Z0-9]+)+$")
SCHEMA_FILES = sorted(contracts.ROOT.glob("*/schemas/*.schema.json"))


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_schema_is_valid_draft_2020_12(path: Path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    assert "$id" not in doc, "no $id: relative $refs resolve against the file"
    Draft202012Validator.check_schema(doc)


@pytest.mark.parametrize("api", contracts.APIS)
def test_every_schema_file_is_used(api: str):
    used = {f for ep in contracts.endpoints(api) for f in (ep.params, ep.body, ep.success, ep.error) if f}
    referenced = set(re.findall(r'"([\w.-]+\.schema\.json)', "".join(
        p.read_text(encoding="utf-8") for p in (contracts.ROOT / api / "schemas").glob("*.schema.json"))))
    referenced |= {ex["schema"].partition("#")[0] for a, ex in _examples() if a == api and ex["part"] == "line"}
    files = {p.name for p in (contracts.ROOT / api / "schemas").glob("*.schema.json")}
    assert files - used - referenced == set()
    assert used <= files


@pytest.mark.parametrize("api", contracts.APIS)
def test_openapi_document_validates(api: str):
    path = contracts.openapi_path(api)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["openapi"].startswith("3.1")
    validate_openapi(doc, base_uri=path.resolve().as_uri())


@pytest.mark.parametrize("api", contracts.APIS)
def test_openapi_document_loads_in_schemathesis(api: str):
    import schemathesis

    schema = schemathesis.openapi.from_path(contracts.openapi_path(api))
    operations = [op.ok() for op in schema.get_all_operations()]
    assert {(op.method.upper(), op.path) for op in operations} == {
        (ep.method, ep.path) for ep in contracts.endpoints(api)
    }


def _error_body(api: str, code: int, message: str) -> dict:
    if api == "tagger":
        return {"data": {}, "status": "fail", "error": {"code": code, "message": message}}
    return {"header": {"isSuccessful": False, "resultCode": code, "resultMessage": message}}


@pytest.mark.parametrize(
    "api,endpoint_id", [(api, ep.id) for api in contracts.APIS for ep in contracts.endpoints(api)]
)
def test_error_schema_admits_exactly_the_code_table(api: str, endpoint_id: str):
    ep = contracts.endpoint(api, endpoint_id)
    table = contracts.codes(api)
    assert set(ep.codes) <= set(table), "every endpoint code is in the API's code table"
    for code, entry in table.items():
        if code == 0:
            continue
        errors = contracts.validate(api, endpoint_id, "error", _error_body(api, code, entry.message))
        assert (not errors) == (code in ep.codes), f"code {code}: {errors or 'admitted but not in the table'}"
    wrong_message = contracts.validate(api, endpoint_id, "error", _error_body(api, ep.codes[0], "NotTheMessage"))
    if api != "tagger":
        assert wrong_message, "an error code must come with its own message"


def _examples() -> list[tuple[str, dict]]:
    out = []
    for path in sorted(EXAMPLES.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for ex in doc["examples"]:
            out.append((path.stem, ex))
        for ex in doc.get("line_examples", []):
            out.append((path.stem, {**ex, "part": "line"}))
    return out


def _line_instance(api: str, example: dict, text: str):
    """An index-file example line as an object: JSONL as is, CSV by the documented field order."""
    if example.get("format") == "csv":
        import csv

        row = next(csv.reader([text.strip()]))
        return dict(zip(contracts.limit(api, "index.fields").value, row, strict=False))
    return json.loads(text)


@pytest.mark.parametrize("api,example", _examples(), ids=lambda v: v["name"] if isinstance(v, dict) else v)
def test_document_example_matches_its_schema_or_its_erratum(api: str, example: dict):
    known = {e.id for e in contracts.errata()}
    assert set(example.get("errata", [])) <= known
    fails_at = set(example.get("fails_at", []))
    assert bool(fails_at) == bool(example.get("errata")), "a failing example names its erratum, and only then"
    line = example["part"] == "line"
    try:
        instance = _line_instance(api, example, example["raw"]) if line else json.loads(example["raw"])
    except json.JSONDecodeError:
        assert fails_at == {"<parse>"}, "the example is not JSON but no erratum says so"
        instance = json.loads(example["repaired"])
        fails_at = set()
    else:
        assert "<parse>" not in fails_at, "the example parses although an erratum says it does not"
    if line:
        errors = contracts.validate_ref(api, example["schema"], instance)
    else:
        errors = contracts.validate(api, example["endpoint"], example["part"], instance)
    failing = {e.split(": ", 1)[0] for e in errors}
    assert failing == fails_at, errors


def test_requirement_ids_unique_and_complete():
    reqs = contracts.requirements()
    ids = [r.id for r in reqs]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    errata_ids = {e.id for e in contracts.errata()}
    for r in reqs:
        assert ID_PATTERN.match(r.id), r.id
        assert r.level in contracts.LEVELS, r.id
        assert r.source and " / " in r.source, f"{r.id}: source is '<document> / <section>'"
        assert r.statement.strip(), r.id
        assert set(r.errata) <= errata_ids, r.id
        if r.api in contracts.APIS:
            names = {ep.id for ep in contracts.endpoints(r.api)}
            assert set(r.endpoints) <= names, f"{r.id}: unknown endpoints {set(r.endpoints) - names}"
        else:  # SEC-*: across APIs, endpoints as "<api>.<endpoint>"
            assert r.api == "sec" and r.id.startswith("SEC-"), r.id
            names = {f"{api}.{ep.id}" for api in contracts.APIS for ep in contracts.endpoints(api)}
            assert set(r.endpoints) <= names, f"{r.id}: unknown endpoints {set(r.endpoints) - names}"
        if r.level == "INTERPRETED":
            assert r.errata or r.reading, f"{r.id}: an INTERPRETED requirement has an erratum or a reading"
        assert not r.reading or r.level == "INTERPRETED", f"{r.id}: only INTERPRETED requirements state a reading"
        assert not r.reading or len(r.reading) >= 40, f"{r.id}: a reading says what is read and why"


def test_catalog_size_and_levels():
    inv = contracts.inventory()
    assert inv["requirements_total"] >= 150
    for api in contracts.APIS:
        assert inv["requirements"].get(api, {}).get("MUST", 0) > 0, api


def test_errata_cover_design_decisions():
    ids = {e.id for e in contracts.errata()}
    assert {f"E{i}" for i in range(1, 22)} <= ids
    for e in contracts.errata():
        assert len(e.sources) >= 1 and e.says and e.decision, e.id


@pytest.mark.parametrize("api", contracts.APIS)
def test_every_endpoint_code_is_covered_by_a_requirement(api: str):
    """Each (endpoint, error code) pair of the tables is the subject of at least one requirement."""
    text = {r.id: (r.statement, r.endpoints) for r in contracts.requirements() if r.api == api}
    for ep in contracts.endpoints(api):
        for code in ep.codes:
            if code in (-50000, 500):
                continue
            digits = str(abs(code))
            hits = [i for i, (stmt, eps) in text.items() if ep.id in eps and (digits in stmt or digits in i)]
            assert hits, f"{api} {ep.id}: no requirement about code {code}"


def test_limits_agree_with_parameter_schemas():
    """Bounds that both limits.yaml and a parameter schema state are the same numbers."""
    pairs = {("v1", "search.product", "limit"): "search.limit", ("v2", "search.product", "limit"): "search.limit",
             ("v1", "tag", "item_limit"): "tag.item_limit", ("v2", "tag", "itemLimit"): "tag.item_limit",
             ("v2", "index.list", "limit"): "index.list.limit", ("maker", "index.list", "limit"): "index.list.limit"}
    for (api, endpoint_id, prop), name in pairs.items():
        lim = contracts.limit(api, name)
        spec = contracts.schema(api, contracts.endpoint(api, endpoint_id).params)["properties"][prop]
        assert (spec.get("minimum"), spec.get("maximum")) == (lim.min, lim.max), (api, endpoint_id, prop)
