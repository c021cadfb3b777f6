"""Response envelopes: NHN `header` envelope (always HTTP 200) with codes and messages from contracts/."""

from __future__ import annotations

import functools
import json
from typing import Any

from starlette.responses import JSONResponse

from .. import contracts


class NhnError(Exception):
    """Answer the request with the API's error envelope for `code`."""

    def __init__(self, code: int, detail: str = "") -> None:
        super().__init__(detail or str(code))
        self.code = code
        self.detail = detail


@functools.cache
def _header(api: str, code: int) -> dict[str, Any]:
    return {"isSuccessful": code == 0, "resultCode": code, "resultMessage": contracts.code_message(api, code)}


def nhn_body(api: str, code: int, data: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"header": dict(_header(api, code))}
    if data is not None:
        body["data"] = data
    return body


class NhnResponse(JSONResponse):
    """Starlette's JSON rendering (compact, UTF-8, no NaN) with one encoder made once."""

    ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    def render(self, content: Any) -> bytes:
        return self.ENCODER.encode(content).encode("utf-8")


def nhn_ok(api: str, data: Any = None) -> NhnResponse:
    return NhnResponse(nhn_body(api, 0, data))


def nhn_error(api: str, code: int) -> NhnResponse:
    return NhnResponse(nhn_body(api, code))
