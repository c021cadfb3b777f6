"""What the SEC-* probes hand to the target: private and loopback hosts in several spellings, and one call per
image-fetching endpoint. The suite never connects to these hosts itself; only the target sees the URLs."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from fashion_conformance import checks, contracts
from fashion_conformance.clients import ApiClient, Exchange

# Hosts that an API fetching images for the public must never reach (label -> host as written in the URL).
PRIVATE_HOSTS: dict[str, str] = {
    "loopback": "127.0.0.1",
    "rfc1918-10": "10.0.0.1",
    "rfc1918-172": "172.16.0.1",
    "rfc1918-192": "192.168.0.1",
    "metadata": "169.254.169.254",
    "loopback-v6": "[::1]",
    "ula-v6": "[fd00::1]",
    "loopback-decimal": "2130706433",
    "loopback-octal": "0177.0.0.1",
}
LOOPBACK_NAMES: dict[str, str] = {"localhost": "localhost"}
METADATA_PATH = "/latest/meta-data/iam/security-credentials/"

# (api, endpoint) pairs that fetch an image named by URL.
IMAGE_ENDPOINTS: tuple[tuple[str, str], ...] = (
    ("v1", "detect"), ("v1", "tag"), ("v2", "detect"), ("v2", "tag"), ("v2", "search.image"), ("tagger", "tags"),
)
SERVICE_VAR = {"v1": "serviceID", "maker": "serviceID", "v2": "serviceName"}


def code_of(api: str, message: str) -> int:
    """A result code by its documented message (contracts/<api>/codes.yaml)."""
    return next(c.code for c in contracts.codes(api).values() if c.message == message)


V1_INDEX_RUNNING = code_of("v1", "CannotDeletedOnIndexRunning")
MAKER_QUOTA_USED = code_of("maker", "IndexQuotaExceededException")
FINAL = ("finished", "failed")
POLL_S = 0.2
WAIT_S = 60.0


def private_url(host: str, port: int, name: str) -> str:
    """A URL on `host` naming file `name` as the suite's image host serves it at /f/<name> on `port`.

    The port is an allowed one (image guide), so a refusal can only come from the host. For a loopback host the
    URL would reach the suite's image host on the same machine, so a target that fetched it would succeed.
    """
    if host == PRIVATE_HOSTS["metadata"]:
        return f"http://{host}{METADATA_PATH}"
    return f"http://{host}:{port}/f/{name}"


def fetch_image(client: ApiClient, endpoint: str, service: str | None, url: str) -> Exchange:
    """One request that makes the target fetch the image at `url`."""
    if client.api == "tagger":
        return client.call("tags", json={"image": {"type": "url", "content": url}})
    path = {SERVICE_VAR[client.api]: service}
    if endpoint == "search.image":
        return client.call("search.image", path=path, files=[("imageUrl", (None, url)), ("limit", (None, "5"))])
    return client.call(endpoint, path=path, params={"path": url})


def refused(ex: Exchange, what: str) -> None:
    """The target answered the probe with an error (any documented one), never with success."""
    checks.not_success(ex)
    if ex.api == "tagger":
        checks.that(ex, ex.status < 500, f"{what}: refused as a client error, not with HTTP {ex.status} (E19)")


def need_destructive(request: pytest.FixtureRequest) -> None:
    """Fixtures that create services on a live target need --allow-destructive (the collection guard marks tests,
    but a module fixture runs before it could skip)."""
    target = request.getfixturevalue("target")
    if not getattr(target, "embedded", False) and not request.config.getoption("--allow-destructive"):
        pytest.skip("destructive: needs --allow-destructive against a non-embedded target")


def never_fetched(image_host, ex: Exchange, name: str) -> None:
    """The suite's image host never served file `name`: the target did not follow the URL into it."""
    checks.that(ex, f"/f/{name}" not in image_host.requests,
                f"the target must not fetch /f/{name} through a private or loopback address, but it did")


# ------------------------------------------------------------------ services


def create_service(client: ApiClient, services, label: str) -> str:
    """A run-prefixed service (v1 service ID or v2 service name), registered for cleanup."""
    name = services.name(label)
    if client.api == "v2":
        checks.success(client.call("service.create", json={"serviceName": name}))
    else:
        checks.success(client.call("service.create", path={"serviceID": name}))
    services.track(client, name)
    return name


def delete_service(client: ApiClient, name: str) -> None:
    """Delete `name`; v1 refuses (-42020) while a Maker index runs, so that is retried (bounded)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        ex = client.call("service.delete", path={SERVICE_VAR[client.api]: name})
        if ex.header.get("resultCode") != V1_INDEX_RUNNING or time.monotonic() > deadline:
            return
        time.sleep(POLL_S)


# ------------------------------------------------------------------ index files (v2 and Maker)


def index_line(api: str, product_id: str, image_url: str) -> dict[str, str]:
    """One enabled index line in the API's field names (v2 camelCase, Maker snake_case), in file order."""
    enable = contracts.limit(api, "index.product_statuses").value[0]
    values = [product_id, enable, f"probe {product_id}", "c1", "c2", "c3", image_url, "s1", "s2"]
    return dict(zip(contracts.limit(api, "index.fields").value, values, strict=True))


def jsonl(lines: list[dict[str, str]]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode("utf-8")


def submit_index(client: ApiClient, service: str, *, link: str | None = None, data: bytes | None = None) -> Exchange:
    """A JSONL index request with a link or a file (v2: multipart form; Maker: format in the query)."""
    if client.api == "v2":
        form: list[Any] = [("format", (None, "jsonl"))]
        form += [("link", (None, link))] if link else [("file", ("products.jsonl", data, "application/octet-stream"))]
        return client.call("index.create", path={"serviceName": service}, files=form)
    if link:
        return client.call("index.create", path={"serviceID": service}, params={"format": "jsonl"}, data={"link": link})
    return client.call("index.create", path={"serviceID": service}, params={"format": "jsonl"},
                       files={"file": ("products.jsonl", data, "application/octet-stream")})


def index_id(client: ApiClient, ex: Exchange) -> str:
    data = checks.success(ex)
    return data["indexId"] if client.api == "v2" else data["indexID"]


def index_item(client: ApiClient, service: str, ident: str) -> dict[str, Any] | None:
    """The index's status item (v2 detail with id lists; Maker list item), None while Maker does not list it."""
    if client.api == "v2":
        ex = client.call("index.get", path={"serviceName": service, "indexId": ident})
        return checks.success(ex)["items"][0]
    ex = client.call("index.list", path={"serviceID": service}, params={"start": 0, "limit": 100})
    return next((i for i in checks.success(ex)["items"] if i["id"] == ident), None)


def wait_index(client: ApiClient, service: str, ident: str) -> dict[str, Any]:
    """The index's status item once finished or failed (polled every 0.2 s, at most 60 s)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        item = index_item(client, service, ident)
        if item is not None and item["status"] in FINAL:
            return item
        if time.monotonic() > deadline:
            raise AssertionError(f"{client.api} index {ident} of {service} did not end within {WAIT_S:g} s: {item}")
        time.sleep(POLL_S)


def added(client: ApiClient, item: dict[str, Any]) -> int:
    return item["addedCount"] if client.api == "v2" else item["addCnt"]


def index_total(client: ApiClient, service: str) -> int:
    path = {SERVICE_VAR[client.api]: service}
    return checks.success(client.call("index.list", path=path, params={"start": 0, "limit": 1}))["total"]
