"""The NHN requests of the scenarios: URLs and parameter names from contracts/, the envelope's outcome, and the
largest detected item. No Locust here: the user classes pass the bytes they received."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from fashion_conformance import contracts

DETECT = "detect"
SEARCH = {"v1": "search.image", "v2": "search.link"}  # search by a detected item's link
SERVICE_VAR = {"v1": "serviceID", "v2": "serviceName"}


def query_param(api: str, endpoint_id: str, name: str) -> str:
    """`name`, after checking that the endpoint's contract has it as a query parameter."""
    ep = contracts.endpoint(api, endpoint_id)
    prop = contracts.schema(api, ep.params)["properties"].get(name, {})
    if prop.get("x-in") != "query":
        raise contracts.ContractError(f"{api} {endpoint_id} has no query parameter {name!r}")
    return name


@dataclass(frozen=True)
class NhnTarget:
    """One NHN API (v1 or v2) and one of its services, as the scenarios call it."""

    api: str
    base_url: str
    appkey: str
    service: str
    secret_key: str | None = None

    @classmethod
    def from_section(cls, api: str, section: Mapping[str, str], service: str) -> NhnTarget:
        return cls(api, section["base_url"], section["appkey"], service, section.get("secret_key"))

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": self.secret_key} if self.api == "v2" and self.secret_key else {}

    def _path(self, endpoint_id: str) -> str:
        ep = contracts.endpoint(self.api, endpoint_id)
        path = ep.path
        for name in ep.path_params:
            value = self.appkey if name == "appKey" else self.service
            path = path.replace("{" + name + "}", quote(value, safe=""))
        return self.base_url + path

    def detect_url(self, image_url: str) -> str:
        return self._path(DETECT) + "?" + urlencode({query_param(self.api, DETECT, "path"): image_url})

    def search_url(self, link: str, limit: int) -> str:
        ep = SEARCH[self.api]
        params = {query_param(self.api, ep, "link"): link, query_param(self.api, ep, "limit"): limit}
        return self._path(ep) + "?" + urlencode(params)


def outcome(status: int, body: bytes | str | None) -> tuple[dict | None, int | None, str | None]:
    """(data, resultCode, error text) of an NHN answer; error text None means success."""
    if status != 200:
        return None, None, f"HTTP {status}"
    try:
        doc = json.loads(body or b"")
        header = doc["header"]
    except (ValueError, TypeError, KeyError):
        return None, None, "not an NHN envelope"
    code = header.get("resultCode") if isinstance(header, dict) else None
    if not isinstance(header, dict) or header.get("isSuccessful") is not True:
        return None, code, f"resultCode {code} {header.get('resultMessage') if isinstance(header, dict) else ''}"
    data = doc.get("data")
    return (data if isinstance(data, dict) else {}), code, None


def largest_item(data: dict) -> dict | None:
    """The detected item with the largest box (b0, b1 are normalised corners)."""
    def area(item: dict) -> float:
        try:
            (x0, y0), (x1, y1) = item["b0"], item["b1"]
            return (x1 - x0) * (y1 - y0)
        except (KeyError, TypeError, ValueError):
            return -1.0

    items = [i for i in data.get("items") or [] if isinstance(i, dict) and i.get("link")]
    return max(items, key=area, default=None)
