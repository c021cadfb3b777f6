"""Request parameters read and checked against the endpoint's parameter schema in contracts/."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from .. import contracts
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


def read(api: str, endpoint_id: str, request: Request) -> dict[str, Any]:
    """Path, query and header parameters typed and validated; -40000 InvalidParam when they break the schema."""
    ep = contracts.endpoint(api, endpoint_id)
    values: dict[str, Any] = {}
    if not ep.params:
        return values
    for name, prop in contracts.schema(api, ep.params).get("properties", {}).items():
        where = prop.get("x-in", "query")
        if where == "path":
            raw = request.path_params.get(name)
        elif where == "header":
            raw = request.headers.get(name)
        else:
            raw = request.query_params.get(name)
        if raw is not None:
            values[name] = coerce(raw, prop)
    errors = contracts.validate(api, endpoint_id, "params", values)
    if errors:
        raise NhnError(INVALID_PARAM, "; ".join(errors))
    return values
