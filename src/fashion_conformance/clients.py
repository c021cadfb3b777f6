"""One HTTP client per API: base URL, auth, contract paths, and a record of every exchange (secrets redacted)."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from . import contracts
from .targets import redact

EXCERPT = 1500


@dataclass
class Exchange:
    """One request and its response, as a failure message shows them."""

    api: str
    endpoint: str
    method: str
    url: str
    request_body: str
    status: int
    response_text: str
    elapsed_s: float
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def json(self) -> Any:
        try:
            return jsonlib.loads(self.response_text)
        except ValueError:
            return None

    @property
    def header(self) -> dict[str, Any]:
        body = self.json
        return body.get("header", {}) if isinstance(body, dict) else {}

    @property
    def data(self) -> Any:
        body = self.json
        return body.get("data") if isinstance(body, dict) else None

    def describe(self) -> str:
        req = f"{self.method} {self.url}"
        if self.request_body:
            req += f"\n  body: {self.request_body[:EXCERPT]}"
        text = self.response_text if len(self.response_text) <= EXCERPT else self.response_text[:EXCERPT] + " ..."
        return redact(f"request:  {req}\nresponse: HTTP {self.status} ({self.elapsed_s * 1000:.0f} ms)\n  {text}",
                      self.secrets)


class ApiClient:
    """Calls one API's endpoints by contract ID; path variables other than appKey come from the caller."""

    def __init__(self, api: str, base_url: str, *, appkey: str | None = None, headers: Mapping[str, str] | None = None,
                 secrets: Sequence[str] = (), timeout_s: float = 30.0) -> None:
        self.api = api
        self.base_url = base_url.rstrip("/")
        self.appkey = appkey
        self.secrets = tuple(s for s in secrets if s)
        self.http = httpx.Client(base_url=self.base_url, headers=dict(headers or {}), timeout=timeout_s)
        self.history: list[Exchange] = []

    def close(self) -> None:
        self.http.close()

    def path(self, endpoint_id: str, **path_vars: str) -> str:
        template = contracts.endpoint(self.api, endpoint_id).path
        values = {"appKey": self.appkey, **path_vars}
        for name in contracts.endpoint(self.api, endpoint_id).path_params:
            template = template.replace("{" + name + "}", quote(str(values[name]), safe=""))
        return template

    def call(self, endpoint_id: str, *, path: Mapping[str, str] | None = None, params: Any = None,
             json: Any = None, data: Mapping[str, Any] | None = None, files: Any = None, content: bytes | None = None,
             headers: Mapping[str, str] | None = None, method: str | None = None, raw_path: str | None = None) -> Exchange:
        ep = contracts.endpoint(self.api, endpoint_id)
        url_path = raw_path or self.path(endpoint_id, **(path or {}))
        response = self.http.request(method or ep.method, url_path, params=params, json=json, data=data, files=files,
                                     content=content, headers=headers)
        body = ""
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False)
        elif data or files:
            shown = dict(data or {})
            for name, spec in (files.items() if isinstance(files, Mapping) else (files or ())):
                size = len(spec[1]) if isinstance(spec, tuple) and isinstance(spec[1], (bytes, str)) else "?"
                shown[name] = f"<file {spec[0] if isinstance(spec, tuple) else ''} {size} bytes>"
            body = jsonlib.dumps(shown, ensure_ascii=False)
        elif content:
            body = content[:200].decode("utf-8", "replace")
        ex = Exchange(self.api, endpoint_id, response.request.method, str(response.request.url), body,
                      response.status_code, response.text, response.elapsed.total_seconds(), self.secrets)
        self.history.append(ex)
        del self.history[:-20]
        return ex


def for_target(api: str, section: Mapping[str, str], *, timeout_s: float = 30.0) -> ApiClient:
    """The client of `api` configured from its targets section."""
    if api == "tagger":
        key = section["api_key"]
        return ApiClient(api, section["base_url"], headers={"x-api-key": key}, secrets=[key], timeout_s=timeout_s)
    headers = {"Authorization": section["secret_key"]} if api == "v2" else {}
    return ApiClient(api, section["base_url"], appkey=section["appkey"], headers=headers,
                     secrets=[section["appkey"], section.get("secret_key", "")], timeout_s=timeout_s)
