"""Before a run: index the embedded target's catalog, and check that the target answers one detect->search.

The catalog is one service per API under the same name: v2 indexed through v2, v1 through Maker (v1 searches
what Maker indexed). Field names and the index formats come from contracts/.
"""

from __future__ import annotations

import json
import time

from fashion_conformance import contracts
from fashion_conformance.clients import ApiClient

from . import nhn

POLL_S = 0.1
FINAL = ("finished", "failed")


class CatalogError(RuntimeError):
    """The target refused a catalog or preflight step (the message holds the answer, secrets redacted)."""


def index_file(api: str, image_urls: list[str]) -> bytes:
    """A JSONL index file, one enabled product per image, in the API's field names (file order)."""
    fields = contracts.limit(api, "index.fields").value
    lines = []
    for i, url in enumerate(image_urls):
        values = [f"load-{i}", "enable", f"load product {i}", f"c{i % 4}", "c2", "c3", url, "s1", "s2"]
        lines.append(json.dumps(dict(zip(fields, values, strict=True))))
    return ("\n".join(lines) + "\n").encode()


def _ok(client: ApiClient, endpoint_id: str, **kwargs) -> dict:
    ex = client.call(endpoint_id, **kwargs)
    if ex.header.get("isSuccessful") is not True:
        raise CatalogError(f"{client.api} {endpoint_id} failed:\n{ex.describe()}")
    return ex.data if isinstance(ex.data, dict) else {}


def _wait(poll, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        item = poll()
        if item.get("status") in FINAL or time.monotonic() > deadline:
            return item
        time.sleep(POLL_S)


def create_service(client: ApiClient, service: str) -> None:
    if client.api == "v2":
        _ok(client, "service.create", json={"serviceName": service})
    else:
        _ok(client, "service.create", path={"serviceID": service})


def index_v2(v2: ApiClient, service: str, image_urls: list[str], timeout_s: float) -> dict:
    """Index one product per image into v2 service `service`; the finished index detail."""
    data = _ok(v2, "index.create", path={"serviceName": service}, data={"format": "jsonl"},
               files={"file": ("catalog.jsonl", index_file("v2", image_urls))})
    path = {"serviceName": service, "indexId": data["indexId"]}
    item = _wait(lambda: _ok(v2, "index.get", path=path)["items"][0], timeout_s)
    if item.get("status") != "finished":
        raise CatalogError(f"v2 catalog index ended {item.get('status')!r}")
    return item


def index_v1(maker: ApiClient, service: str, image_urls: list[str], timeout_s: float) -> dict:
    """Index one product per image through Maker into v1 service `service`; the finished index item."""
    data = _ok(maker, "index.create", path={"serviceID": service}, params={"format": "jsonl"},
               files={"file": ("catalog.jsonl", index_file("maker", image_urls))})

    def poll() -> dict:
        items = _ok(maker, "index.list", path={"serviceID": service}, params={"start": 0, "limit": 100})["items"]
        return next((i for i in items if i.get("id") == data["indexID"]), {})

    item = _wait(poll, timeout_s)
    if item.get("status") != "finished":
        raise CatalogError(f"Maker catalog index ended {item.get('status')!r}")
    return item


def preflight(client: ApiClient, service: str, image_url: str, search_limit: int | None) -> int:
    """One detect and (search_limit given) one search with the largest item's link, as the scenarios do;
    the number of items found."""
    path = {nhn.SERVICE_VAR[client.api]: service}
    data = _ok(client, nhn.DETECT, path=path, params={"path": image_url})
    item = nhn.largest_item(data)
    if item is None:
        raise CatalogError(f"{client.api} detect found no item in {image_url}")
    if search_limit is None:
        return len(data.get("items") or [])
    found = _ok(client, nhn.SEARCH[client.api], path=path, params={"link": item["link"], "limit": search_limit})
    return int(found.get("totalCount", 0))
