"""A compiled validity test for the parameter schemas in contracts/, the emulator's fast path per request.

`compile_schema(schema)` returns `is_valid(instance) -> bool` for the keywords these schemas use, one plain
function per schema node. It is conservative: True only when the instance is valid under JSON Schema 2020-12
(with the suite's ECMA-262 `pattern`); a keyword it does not know makes it answer False, and so does any doubt
(an instance of a subclass, an array of non-scalars with uniqueItems, 1.0 against an enum of 1). A False sends
the caller to `contracts.validate`, which decides and words the error; a self-test compares the two on
generated values for every parameter schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import contracts

Check = Callable[[Any], bool]
ANNOTATIONS = frozenset({"$schema", "title", "description", "default", "format", "examples", "x-in"})
KEYWORDS = ANNOTATIONS | {
    "type", "enum", "minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "items", "minItems", "maxItems", "uniqueItems", "properties", "required",
    "additionalProperties",
}
SCALARS = (str, int, float, bool, type(None))


def _never(_: Any) -> bool:
    return False


def _always(_: Any) -> bool:
    return True


# The exact Python types of each JSON type (bool is not a number; a float with no fraction is also an integer).
PY_TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,), "array": (list,),
            "object": (dict,), "null": (type(None),)}


def _unique(v: list) -> bool:
    """No two equal items (JSON Schema: 1 equals 1.0, true does not equal 1); only scalar items are judged."""
    if not all(type(x) in SCALARS for x in v):
        return False
    keys = [(type(x) is bool, x) for x in v]
    return len(set(keys)) == len(keys)


def compile_schema(schema: dict[str, Any] | bool) -> Check:
    """`is_valid(instance)` for `schema` (see the module docstring: True is sure, False means "ask jsonschema")."""
    if schema is True:
        return _always
    if not isinstance(schema, dict) or not KEYWORDS.issuperset(schema):
        return _never
    if schema.get("additionalProperties", False) is not False:
        return _never
    if "enum" in schema and not all(type(e) in SCALARS for e in schema["enum"]):
        return _never
    raw_type = schema.get("type")
    kinds = None if raw_type is None else [raw_type] if isinstance(raw_type, str) else raw_type
    py_types = None if kinds is None else frozenset(t for kind in kinds for t in PY_TYPES[kind])
    integral = kinds is not None and "integer" in kinds
    min_len, max_len = schema.get("minLength"), schema.get("maxLength")
    regex = contracts.ecma_regex(schema["pattern"]) if "pattern" in schema else None
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    ex_min, ex_max = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    min_items, max_items, unique = schema.get("minItems"), schema.get("maxItems"), schema.get("uniqueItems", False)
    item = compile_schema(schema["items"]) if "items" in schema else None
    required = frozenset(schema.get("required", ()))
    props = {name: compile_schema(sub) for name, sub in schema.get("properties", {}).items()}
    closed = frozenset(props) if "additionalProperties" in schema else None
    enum = [(type(e), e) for e in schema["enum"]] if "enum" in schema else None

    def is_valid(v: Any) -> bool:
        t = type(v)
        if py_types is not None and t not in py_types and not (integral and t is float and v.is_integer()):
            return False
        if t is str:
            if (min_len is not None and len(v) < min_len) or (max_len is not None and len(v) > max_len):
                return False
            if regex is not None and regex.search(v) is None:
                return False
        elif t is int or t is float:
            if (minimum is not None and v < minimum) or (maximum is not None and v > maximum):
                return False
            if (ex_min is not None and v <= ex_min) or (ex_max is not None and v >= ex_max):
                return False
        elif t is list:
            if (min_items is not None and len(v) < min_items) or (max_items is not None and len(v) > max_items):
                return False
            if unique and not _unique(v):
                return False
            if item is not None and not all(item(x) for x in v):
                return False
        elif t is dict:
            if not required <= v.keys() or (closed is not None and not closed.issuperset(v)):
                return False
            for k, x in v.items():
                check = props.get(k)
                if check is not None and not check(x):
                    return False
        elif t not in SCALARS:
            return False
        return enum is None or (t, v) in enum

    return is_valid
