"""The one loader of contracts/: endpoints, schemas, code tables, limits, requirements, errata.

Both the emulator and the suite read the APIs' facts through this module (format: contracts/README.md).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError
from jsonschema.validators import extend
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

APIS: tuple[str, ...] = ("v1", "v2", "maker", "tagger")
LEVELS: tuple[str, ...] = ("MUST", "SHOULD", "INTERPRETED")
PARTS: tuple[str, ...] = ("params", "body", "success", "error")


def _find_root() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here / "contracts", here.parents[1] / "contracts"):
        if (candidate / "README.md").is_file():
            return candidate
    raise FileNotFoundError("contracts/ not found beside the package or in the source checkout")


ROOT: Path = _find_root()


class ContractError(LookupError):
    """A name asked of the contracts that they do not hold."""


@dataclass(frozen=True)
class Endpoint:
    api: str
    id: str
    method: str
    path: str
    summary: str
    params: str | None
    body: str | None
    body_media_type: str | None
    success: str
    error: str
    codes: tuple[int, ...]
    source: str

    @property
    def path_params(self) -> list[str]:
        return [seg[1:-1] for seg in self.path.split("/") if seg.startswith("{") and seg.endswith("}")]

    def schema_file(self, part: str) -> str | None:
        if part not in PARTS:
            raise ContractError(f"unknown schema part {part!r}; one of {PARTS}")
        return getattr(self, part)


@dataclass(frozen=True)
class Code:
    code: int
    message: str
    meaning: str
    source: str = ""


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str
    api: str
    endpoints: tuple[str, ...]
    source: str
    statement: str
    errata: tuple[str, ...] = ()
    http: bool = True
    reading: str = ""  # the stated reading of an ambiguity the check rests on (INTERPRETED without an erratum)

    @property
    def ambiguity(self) -> str:
        """Why a verdict on this requirement is a doc ambiguity: its errata and/or its reading ("" for none)."""
        parts = [", ".join(self.errata)] if self.errata else []
        if self.reading:
            parts.append(f"reading: {self.reading}")
        if not parts and self.level == "INTERPRETED":
            parts.append("interpreted (no reading stated)")
        return "; ".join(parts)


@dataclass(frozen=True)
class Erratum:
    id: str
    api: str
    endpoints: tuple[str, ...]
    sources: tuple[str, ...]
    says: str
    decision: str


@dataclass(frozen=True)
class Limit:
    name: str
    source: str
    value: Any = None
    min: Any = None
    max: Any = None
    exclusive_min: bool = False
    default: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def _yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _check_api(api: str) -> None:
    if api not in APIS:
        raise ContractError(f"unknown API {api!r}; one of {', '.join(APIS)}")


@cache
def api_info(api: str) -> dict[str, Any]:
    """Top-level keys of <api>/endpoints.yaml (api, title, document, prefix)."""
    _check_api(api)
    doc = _yaml(ROOT / api / "endpoints.yaml")
    return {k: v for k, v in doc.items() if k != "endpoints"}


@cache
def endpoints(api: str) -> tuple[Endpoint, ...]:
    _check_api(api)
    doc = _yaml(ROOT / api / "endpoints.yaml")
    return tuple(
        Endpoint(
            api=api,
            id=e["id"],
            method=e["method"].upper(),
            path=e["path"],
            summary=e.get("summary", ""),
            params=e.get("params"),
            body=e.get("body"),
            body_media_type=e.get("body_media_type"),
            success=e["success"],
            error=e["error"],
            codes=tuple(int(c) for c in e.get("codes", ())),
            source=e["source"],
        )
        for e in doc["endpoints"]
    )


def endpoint(api: str, endpoint_id: str) -> Endpoint:
    for ep in endpoints(api):
        if ep.id == endpoint_id:
            return ep
    raise ContractError(f"{api} has no endpoint {endpoint_id!r}")


@cache
def _registry() -> Registry:
    """Every schema file under contracts/, keyed by its file URI, so relative $refs resolve."""
    resources = []
    for path in sorted(ROOT.glob("**/*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((path.resolve().as_uri(), Resource.from_contents(contents, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


def schema_path(api: str, file: str) -> Path:
    _check_api(api)
    path = (ROOT / api / "schemas" / file).resolve()
    if not path.is_file():
        raise ContractError(f"{api} has no schema file {file!r}")
    return path


@cache
def schema(api: str, file: str) -> dict[str, Any]:
    return json.loads(schema_path(api, file).read_text(encoding="utf-8"))


@cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """`pattern` as ECMA-262 reads it: without the multiline flag `$` is the end of input, where Python's `$`
    also matches before a final newline (so "aa\n" would pass ^[a-z][a-z0-9_-]{1,31}$)."""
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Any:
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


SchemaValidator = extend(Draft202012Validator, {"pattern": _pattern})


@cache
def validator(api: str, ref: str) -> Draft202012Validator:
    """A validator for a schema file of `api`, optionally with a fragment (`common.schema.json#/$defs/x`)."""
    file, _, fragment = ref.partition("#")
    uri = schema_path(api, file).as_uri()
    if fragment:
        return SchemaValidator({"$ref": f"{uri}#{fragment}"}, registry=_registry())
    # The file's own schema with its URI as base, so relative $refs resolve without a $ref hop per validation.
    return SchemaValidator({**schema(api, file), "$id": uri}, registry=_registry())


def _messages(v: Draft202012Validator, instance: Any) -> list[str]:
    if v.is_valid(instance):
        return []
    errors = sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in errors]


def validate_ref(api: str, ref: str, instance: Any) -> list[str]:
    """Messages for every way `instance` breaks the schema at `ref` (empty: valid)."""
    return _messages(validator(api, ref), instance)


def validate(api: str, endpoint_id: str, part: str, instance: Any) -> list[str]:
    """Messages for every way `instance` breaks the endpoint's schema for `part` (empty: valid)."""
    file = endpoint(api, endpoint_id).schema_file(part)
    if file is None:
        raise ContractError(f"{api} {endpoint_id} has no {part} schema")
    return _messages(validator(api, file), instance)


@cache
def codes(api: str) -> dict[int, Code]:
    _check_api(api)
    doc = _yaml(ROOT / api / "codes.yaml")
    return {int(c["code"]): Code(int(c["code"]), c["message"], c.get("meaning", ""), c.get("source", "")) for c in doc["codes"]}


def code_message(api: str, code: int) -> str:
    try:
        return codes(api)[code].message
    except KeyError:
        raise ContractError(f"{api} has no code {code}") from None


@cache
def limits(api: str) -> dict[str, Limit]:
    _check_api(api)
    doc = _yaml(ROOT / api / "limits.yaml")
    known = {"value", "min", "max", "exclusive_min", "default", "source"}
    return {
        name: Limit(
            name=name,
            source=spec.get("source", ""),
            value=spec.get("value"),
            min=spec.get("min"),
            max=spec.get("max"),
            exclusive_min=bool(spec.get("exclusive_min", False)),
            default=spec.get("default"),
            extra={k: v for k, v in spec.items() if k not in known},
        )
        for name, spec in doc["limits"].items()
    }


def limit(api: str, name: str) -> Limit:
    try:
        return limits(api)[name]
    except KeyError:
        raise ContractError(f"{api} has no limit {name!r}") from None


@cache
def requirements() -> tuple[Requirement, ...]:
    out: list[Requirement] = []
    for path in sorted((ROOT / "requirements").glob("*.yaml")):
        for r in _yaml(path)["requirements"]:
            out.append(
                Requirement(
                    id=r["id"],
                    level=r["level"],
                    api=r["api"],
                    endpoints=tuple(r.get("endpoints") or ()),
                    source=r["source"],
                    statement=r["statement"],
                    errata=tuple(r.get("errata") or ()),
                    http=bool(r.get("http", True)),
                    reading=" ".join(str(r.get("reading") or "").split()),
                )
            )
    return tuple(out)


def requirement(req_id: str) -> Requirement:
    for r in requirements():
        if r.id == req_id:
            return r
    raise ContractError(f"no requirement {req_id!r}")


@cache
def errata() -> tuple[Erratum, ...]:
    return tuple(
        Erratum(
            id=e["id"],
            api=e["api"],
            endpoints=tuple(e.get("endpoints") or ()),
            sources=tuple(e["sources"]),
            says=e["says"],
            decision=e["decision"],
        )
        for path in sorted((ROOT / "errata").glob("*.yaml"))
        for e in _yaml(path)["errata"]
    )


def openapi_path(api: str) -> Path:
    _check_api(api)
    return ROOT / api / "openapi.json"


def inventory() -> dict[str, Any]:
    """Counts for `fashion-conformance contracts`: schemas per API, requirements by API and level, errata."""
    reqs = requirements()
    by_api: dict[str, Counter] = {}
    for r in reqs:
        by_api.setdefault(r.api, Counter())[r.level] += 1
    return {
        "schemas": {api: len(list((ROOT / api / "schemas").glob("*.schema.json"))) for api in APIS},
        "endpoints": {api: len(endpoints(api)) for api in APIS},
        "codes": {api: len(codes(api)) for api in APIS},
        "requirements": {api: dict(sorted(c.items())) for api, c in sorted(by_api.items())},
        "requirements_total": len(reqs),
        "errata": len(errata()),
    }
