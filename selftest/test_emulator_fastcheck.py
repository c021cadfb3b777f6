"""The emulator's compiled parameter check (emulator/fastcheck.py) against jsonschema, for every parameter schema.

On parameters as the emulator reads them (wire strings through params.coerce) the two agree exactly; on any
JSON-like value the compiled check is never more lenient than jsonschema (True from it means valid)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fashion_conformance import contracts
from fashion_conformance.emulator import fastcheck, params

PARAM_SCHEMAS = [(api, ep.id, ep.params) for api in contracts.APIS if api != "tagger"
                 for ep in contracts.endpoints(api) if ep.params]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_every_parameter_schema_compiles_to_a_working_check():
    """No parameter schema uses a keyword the compiled check gives up on (it would always defer to jsonschema)."""
    assert PARAM_SCHEMAS
    for api, endpoint_id, file in PARAM_SCHEMAS:
        assert fastcheck.compile_schema(contracts.schema(api, file)) is not fastcheck._never, (api, endpoint_id)


def _wire(value) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def valid_wire(prop: dict) -> st.SearchStrategy[str]:
    """Wire text the parameter's schema accepts (or nearly: a pattern's match may still break a length bound)."""
    if prop.get("type") == "array":
        items = st.lists(valid_wire(prop.get("items", {})), min_size=max(prop.get("minItems", 1), 1), max_size=4,
                         unique=bool(prop.get("uniqueItems")))
        return items.map(",".join)
    if "enum" in prop:
        return st.sampled_from([_wire(e) for e in prop["enum"]])
    if "pattern" in prop:
        return st.from_regex(prop["pattern"], fullmatch=True)
    if prop.get("type") in ("integer", "number"):
        low = prop.get("minimum", prop.get("exclusiveMinimum", -10**6 - 1) + 1)
        return st.integers(low, prop.get("maximum", 10**6)).map(str)
    if prop.get("type") == "boolean":
        return st.sampled_from(["true", "false"])
    return st.text(min_size=prop.get("minLength", 0), max_size=prop.get("maxLength", 20))


def near_misses(prop: dict) -> st.SearchStrategy[str]:
    """Wire text around the parameter's rules: other types, bounds +-1, repeated list items, odd strings."""
    options = [st.text(max_size=12), st.sampled_from(["", " ", "0", "-1", "1.5", "1e3", "nan", "true", "false",
                                                      "a\n", "x" * 300]),
               st.integers(-10**6, 10**6).map(str), st.floats(allow_nan=True, allow_infinity=True).map(repr)]
    for bound in ("minimum", "maximum", "exclusiveMinimum"):
        if bound in prop:
            options.append(st.sampled_from([prop[bound] - 1, prop[bound], prop[bound] + 1]).map(str))
    for bound in ("minLength", "maxLength"):
        if bound in prop:
            options.append(st.sampled_from([prop[bound] - 1, prop[bound], prop[bound] + 1]).map(lambda n: "a" * max(n, 0)))
    if prop.get("type") == "array":
        repeated = valid_wire(prop.get("items", {})).map(lambda v: f"{v},{v}")
        return st.one_of(repeated, st.just(""), *options)
    return st.one_of(options)


@st.composite
def wire_params(draw, schema: dict) -> dict:
    """Parameters as the emulator reads them: valid ones with at most one near miss, a missing required one or
    an unknown one."""
    props = schema.get("properties", {})
    required = [name for name in sorted(props) if name in schema.get("required", ())]
    optional = [name for name in sorted(props) if name not in required]
    names = required + (draw(st.lists(st.sampled_from(optional), unique=True)) if optional else [])
    odd = draw(st.sampled_from([None, "missing", "unknown", *names]))
    values = {}
    for name in names:
        if odd == "missing" and name in required:
            odd = None
            continue
        wire = near_misses(props[name]) if name == odd else valid_wire(props[name])
        values[name] = params.coerce(draw(wire), props[name])
    if odd == "unknown":
        values["unknownParameter"] = "x"
    return values


@pytest.mark.parametrize(("api", "endpoint_id", "file"), PARAM_SCHEMAS, ids=lambda v: str(v))
@SETTINGS
@given(data=st.data())
def test_fastcheck_agrees_with_jsonschema_on_wire_parameters(api, endpoint_id, file, data):
    schema = contracts.schema(api, file)
    values = data.draw(wire_params(schema))
    expected = not contracts.validate_ref(api, file, values)
    assert fastcheck.compile_schema(schema)(values) is expected, values


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**4, 10**4) | st.floats(-1e4, 1e4) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.parametrize(("api", "endpoint_id", "file"), PARAM_SCHEMAS, ids=lambda v: str(v))
@SETTINGS
@given(data=st.data())
def test_fastcheck_is_never_more_lenient_than_jsonschema(api, endpoint_id, file, data):
    schema = contracts.schema(api, file)
    props = sorted(schema.get("properties", {}))
    values = data.draw(st.dictionaries(st.sampled_from(props) | st.text(max_size=6), JSON_VALUES, max_size=6))
    if fastcheck.compile_schema(schema)(values):
        assert not contracts.validate_ref(api, file, values), values


@pytest.mark.parametrize(("schema", "instance"), [
    ({"type": "integer", "enum": [1, 2]}, 1.0),  # equal under JSON Schema, judged by jsonschema
    ({"type": "array", "uniqueItems": True}, [[1], [2]]),
    ({"type": "array", "uniqueItems": True}, ["a", "a"]),  # invalid, as jsonschema will say
    ({"type": "array", "uniqueItems": True}, [1, 1.0]),
    ({"type": "string", "not": {"const": "x"}}, "y"),  # a keyword it does not know
    ({"type": "object", "additionalProperties": {"type": "string"}}, {"a": "b"}),
])
def test_fastcheck_defers_when_in_doubt(schema, instance):
    assert fastcheck.compile_schema(schema)(instance) is False
