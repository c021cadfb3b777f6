"""Request parameters read and checked against the endpoint's parameter schema in contracts/."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from starlette.requests import Request

from .. import contracts
from . import fastcheck
from .envelope import NhnError

INVALID_PARAM = -40000
_INT = re.compile(r"[+-]?[0-9]{1,18}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")  # ASCII only, no spaces


def _types(prop: Mapping[str, Any]) -> set[str]:
    kinds: set[str] = set()
    t = prop.get("type")
    if isinstance(t, str):
        kinds.add(t)
    elif isinstance(t, list):
        kinds.update(t)
    for key in ("anyOf", "oneOf"):
        for sub in prop.get(key, ()):
            kinds |= _types(sub)
    return kinds


def coerce(raw: str, prop: Mapping[str, Any]) -> Any:
    """A wire string as the schema's type; left as a string when it is not one (the schema then rejects it).
    An array is comma-separated on the wire (v2 index list `statuses`, E7)."""
    kinds = _types(prop)
    if kinds == {"array"}:
        return [coerce(part, prop.get("items", {})) for part in raw.split(",")]
    if "string" in kinds and not kinds & {"integer", "number", "boolean"}:
        return raw
    if "integer" in kinds and _INT.fullmatch(raw):
        return int(raw)
    if "number" in kinds and _NUMBER.fullmatch(raw):
        value = float(raw)
        return value if math.isfinite(value) else raw
    if "boolean" in kinds and raw in ("true", "false"):
        return raw == "true"
    return raw


def header(request: Request, name: bytes) -> str | None:
    """The first value of a header (`name` in lower case), read from the ASGI scope as Starlette would."""
    for key, value in request.scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _verbatim(prop: Mapping[str, Any]) -> bool:
    """Whether `coerce` leaves every wire value of this parameter as it is (a plain string parameter)."""
    kinds = _types(prop)
    return "string" in kinds and not kinds & {"integer", "number", "boolean", "array"}


class Field(NamedTuple):
    name: str
    where: str  # "path", "header" or "query"
    key: Any  # the name as the request holds it (a header's is lower-case bytes)
    prop: dict[str, Any]
    verbatim: bool


@functools.cache
def _plan(api: str, endpoint_id: str) -> tuple[tuple[Field, ...], fastcheck.Check]:
    """The parameters of the endpoint and the compiled test of its parameter schema."""
    ep = contracts.endpoint(api, endpoint_id)
    if not ep.params:
        return (), fastcheck.compile_schema(True)
    schema = contracts.schema(api, ep.params)
    fields = []
    for name, prop in schema.get("properties", {}).items():
        where = prop.get("x-in", "query")
        key = name.lower().encode("latin-1") if where == "header" else name
        fields.append(Field(name, where, key, prop, _verbatim(prop)))
    return tuple(fields), fastcheck.compile_schema(schema)


def read(api: str, endpoint_id: str, request: Request) -> dict[str, Any]:
    """Path, query and header parameters typed and validated; -40000 InvalidParam when they break the schema."""
    fields, is_valid = _plan(api, endpoint_id)
    values: dict[str, Any] = {}
    if not fields:
        return values
    path = request.path_params
    for name, where, key, prop, verbatim in fields:
        if where == "path":
            raw = path.get(key)
        elif where == "header":
            raw = header(request, key)
        else:
            raw = request.query_params.get(key)
        if raw is not None:
            values[name] = raw if verbatim else coerce(raw, prop)
    if is_valid(values):
        return values
    errors = contracts.validate(api, endpoint_id, "params", values)
    if errors:
        raise NhnError(INVALID_PARAM, "; ".join(errors))
    return values
