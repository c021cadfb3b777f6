"""Helpers of the AI Fashion v1.0 suite: codes by message, service IDs, Maker-indexed catalogs, geometry checks."""

from __future__ import annotations

import contextlib
import json
import secrets as pysecrets
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from fashion_conformance import checks, contracts, waits
from fashion_conformance.clients import ApiClient, Exchange
from fashion_conformance.imagehost import factory

API = "v1"
FINAL = ("finished", "failed")
MAKER_STATUSES: tuple[str, ...] = tuple(contracts.limit("maker", "index.statuses").value)
MAKER_LIFECYCLE = "MAKER-INDEX-STATUS-LIFECYCLE"  # a Maker index ends, through documented statuses only
POLL_S = waits.budgets().poll_s  # the targets file's [waits], loaded before the suite's modules are imported
WAIT_S = waits.budgets().index_s
GEOMETRY_TOL = 1e-3


def codes_by_message(api: str) -> dict[str, int]:
    """The API's result codes keyed by their documented message (so tests name codes as the tables do)."""
    return {c.message: c.code for c in contracts.codes(api).values()}


CODE = codes_by_message(API)
MAKER_FIELDS: tuple[str, ...] = tuple(contracts.limit("maker", "index.fields").value)
FILTER_FIELDS: tuple[str, ...] = tuple(contracts.limit(API, "filter.fields").value)
ENABLE, DISABLE = contracts.limit("maker", "index.product_statuses").value


def limit(name: str) -> contracts.Limit:
    return contracts.limit(API, name)


def error_in(ex: Exchange, codes: Sequence[int]) -> None:
    """Refused with one of `codes` (where the guide leaves the choice open)."""
    checks.not_success(ex)
    checks.that(ex, ex.header.get("resultCode") in codes,
                f"{ex.api} {ex.endpoint}: expected one of the codes {list(codes)}")


def envelope_ok(ex: Exchange) -> None:
    """The NHN envelope rules, spelled out: HTTP 200, header types, SUCCESS only with code 0 and isSuccessful
    true, an error code with isSuccessful false and its documented message, and a code of the endpoint's table."""
    checks.that(ex, ex.status == 200, "every answer has HTTP status 200")
    header = ex.json.get("header") if isinstance(ex.json, dict) else None
    checks.that(ex, isinstance(header, dict), "the body is JSON with a header object")
    ok, code, message = header.get("isSuccessful"), header.get("resultCode"), header.get("resultMessage")
    checks.that(ex, isinstance(ok, bool) and type(code) is int and isinstance(message, str),
                "isSuccessful is a boolean, resultCode an integer, resultMessage a string")
    checks.that(ex, (code == 0) == (message == "SUCCESS") == (ok is True),
                "resultCode 0, resultMessage SUCCESS and isSuccessful true occur only together")
    if code != 0:
        documented = contracts.codes(ex.api).get(code)
        checks.that(ex, ok is False and documented is not None and message == documented.message,
                    f"code {code} comes with isSuccessful false and its documented message")
    table = contracts.endpoint(ex.api, ex.endpoint).codes
    checks.that(ex, code == 0 or code in table, f"{ex.endpoint} may answer only 0 or a code of its table {table}")


def need_destructive(request: pytest.FixtureRequest) -> None:
    """Skip a fixture that creates resources on a live target unless --allow-destructive was given."""
    target = request.getfixturevalue("target")
    if not getattr(target, "embedded", False) and not request.config.getoption("--allow-destructive"):
        pytest.skip("destructive: needs --allow-destructive against a non-embedded target")


def need_embedded(target) -> None:
    if not getattr(target, "embedded", False):
        pytest.skip("needs loopback-only image-host tricks: embedded emulator only")


# ------------------------------------------------------------------ service IDs

def service_names(v1: ApiClient) -> list[str]:
    data = checks.success(v1.call("service.list"))
    return [item["serviceID"] for item in data["items"]]


SERVICE_CREATE = "V1-SERVICE-NAME-VALID"  # the requirement the fixtures' service registration rests on


def create_service(v1: ApiClient, services, label: str) -> str:
    name = services.name(label)
    with waits.precondition("v1 service registration", SERVICE_CREATE):
        checks.success(v1.call("service.create", path={"serviceID": name}))
    services.track(v1, name)
    return name


def delete_service(v1: ApiClient, name: str) -> Exchange:
    """Delete `name`, waiting (at most waits.delete_s) while an index request still runs (-42020)."""
    deadline = time.monotonic() + waits.budgets().delete_s
    while True:
        ex = v1.call("service.delete", path={"serviceID": name})
        if ex.header.get("resultCode") != CODE["CannotDeletedOnIndexRunning"] or time.monotonic() > deadline:
            return ex
        time.sleep(waits.budgets().poll_s)


@contextlib.contextmanager
def temp_service(v1: ApiClient, services, label: str) -> Iterator[str]:
    """A service ID registered for one test and deleted after it (the 5-per-appKey quota stays free)."""
    name = create_service(v1, services, label)
    try:
        yield name
    finally:
        delete_service(v1, name)


# ------------------------------------------------------------------ Maker index files

def product(pid: str, image_url: str, *, status: str = ENABLE, name: str | None = None,
            **fields: str) -> dict[str, str]:
    """One index line as a mapping of the Maker field names (category1_id, ..., s2 default to "")."""
    values = {"product_id": pid, "status": status, "name": name or f"product {pid}", "image_url": image_url}
    unknown = set(fields) - set(MAKER_FIELDS)
    if unknown:
        raise ValueError(f"unknown index fields {sorted(unknown)}")
    return {f: values.get(f, fields.get(f, "")) for f in MAKER_FIELDS}


def jsonl(lines: Sequence[Mapping[str, str]]) -> bytes:
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")


def submit_index(maker: ApiClient, service: str, data: bytes, fmt: str = "jsonl",
                 filename: str | None = None) -> Exchange:
    return maker.call("index.create", path={"serviceID": service}, params={"format": fmt},
                      files={"file": (filename or f"products.{fmt}", data, "application/octet-stream")})


def find_index(maker: ApiClient, service: str, index_id: str) -> dict | None:
    ex = maker.call("index.list", path={"serviceID": service}, params={"start": 0, "limit": 100})
    data = checks.success(ex)
    return next((item for item in data["items"] if item["id"] == index_id), None)


def wait_index(maker: ApiClient, service: str, index_id: str) -> dict:
    """The index status item once it is finished or failed (polled every waits.poll_s, at most waits.index_s). A
    status outside the documented set fails at once on MAKER-INDEX-STATUS-LIFECYCLE, as does an index that does not
    end within the budget (later waits are then blocked by it)."""

    def probe() -> dict | None:
        item = find_index(maker, service, index_id)
        if item is not None:
            waits.documented(maker.history[-1], item["status"], MAKER_STATUSES, "index status", MAKER_LIFECYCLE)
        return item

    return waits.poll(probe, lambda item: item is not None and item["status"] in FINAL, requirement=MAKER_LIFECYCLE,
                      what=f"maker index {index_id} of {service}",
                      describe=lambda item: repr(item) if item is not None else "not in the index list")


def index_products(maker: ApiClient, service: str, lines: Sequence[Mapping[str, str]]) -> dict:
    """Index `lines` (JSONL upload) and wait for the index to end; returns its status item."""
    data = checks.success(submit_index(maker, service, jsonl(lines)))
    return wait_index(maker, service, data["indexID"])


# ------------------------------------------------------------------ catalog and scenes

DUPLICATE_OF = "p04"  # the catalog holds a second product with this product's image
DUPLICATE_ID = "p04dup"
QUERY_PRODUCT = "p09"  # the catalog product whose image the search tests query with


@dataclass
class Catalog:
    """A service the suite indexed itself: every product's filter fields and image are known.

    The drawn catalogue (default): products p00..p17 with generated images (`seeds`); a photo catalogue (--photos):
    one product per photo with the manifest's fields (`photos`). Either way `duplicate_id` is indexed with the image
    of `duplicate_of`."""

    service: str
    records: dict[str, dict[str, str]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    seeds: dict[str, int] = field(default_factory=dict)
    photos: dict[str, Any] = field(default_factory=dict)  # productID -> photos.Photo
    query_id: str = QUERY_PRODUCT
    duplicate_of: str = DUPLICATE_OF
    duplicate_id: str = DUPLICATE_ID
    pair_ids: tuple[str, str] = ("p03", "p07")  # two more products, each with an image of its own

    def values(self, field_name: str) -> list[str]:
        """The non-empty values of a field that products hold (a filter cannot carry an empty value)."""
        return sorted({r[field_name] for r in self.records.values()} - {""})

    def image_bytes(self, pid: str) -> bytes:
        """The image a product was indexed with (a drawn one as PNG)."""
        photo = self.photos.get(pid)
        return photo.data if photo is not None else generated_bytes(self.seeds[pid], "png")

    def describe(self, pid: str) -> str:
        photo = self.photos.get(pid)
        return photo.describe() if photo is not None else f"the drawn image of catalog product {pid}"


@dataclass(frozen=True)
class Scene:
    """A test image: garments that must be detected and, optionally, garments too small to be."""

    name: str
    width: int
    height: int
    items: tuple[factory.ItemSpec, ...]
    small: tuple[factory.ItemSpec, ...] = ()

    def encoded(self, fmt: str) -> bytes:
        return factory.encode(factory.render(self.width, self.height, [*self.items, *self.small]), fmt)

    def file(self, fmt: str) -> tuple[str, bytes]:
        """(name, bytes) for ImageHost.put."""
        return f"{self.name}.{fmt}", self.encoded(fmt)


def generated_bytes(seed: int, fmt: str, size: int | None = None) -> bytes:
    """The image host's generated product image (optionally padded to exactly `size` bytes), for put()."""
    data = factory.product_image(seed, fmt=fmt)
    return data if size is None else factory.pad_to_size(data, fmt, size)


# ------------------------------------------------------------------ detect and geometry

def items_of(ex: Exchange, at_least: int = 1) -> list[dict]:
    """The answer's items, after the success checks; at least `at_least` of them (with a real model, fewer blocks
    the test: checks.detected)."""
    return checks.detected(ex, "the image", at_least=at_least)


def box_ok(ex: Exchange, item: Mapping) -> None:
    """center, b0 and b1 are [x, y] in [0, 1], b0 < b1 on both axes, center their midpoint."""
    b0, b1, center = item["b0"], item["b1"], item["center"]
    for name, point in (("b0", b0), ("b1", b1), ("center", center)):
        checks.that(ex, len(point) == 2 and all(0 <= v <= 1 for v in point),
                    f"{name} must be an [x, y] pair with coordinates in [0, 1], got {point}")
    checks.that(ex, b0[0] < b1[0] and b0[1] < b1[1], f"b0 {b0} must lie above-left of b1 {b1}")
    mid = [(b0[i] + b1[i]) / 2 for i in (0, 1)]
    checks.that(ex, all(abs(center[i] - mid[i]) <= GEOMETRY_TOL for i in (0, 1)),
                f"center {center} must be the midpoint {mid} of b0 and b1")


def iou(item: Mapping, box_px: tuple[int, int, int, int], width: int, height: int) -> float:
    """Intersection over union of an answered box and a true pixel box (exclusive ends)."""
    ax0, ay0, ax1, ay1 = item["b0"][0], item["b0"][1], item["b1"][0], item["b1"][1]
    bx0, by0, bx1, by1 = box_px[0] / width, box_px[1] / height, box_px[2] / width, box_px[3] / height
    ix = max(0.0, min(ax1, bx1) - max(ax0, bx0))
    iy = max(0.0, min(ay1, by1) - max(ay0, by0))
    inter = ix * iy
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return inter / union if union > 0 else 0.0


def bad_client(client: ApiClient) -> ApiClient:
    """The same API and base URL with an appKey that no deployment holds."""
    return ApiClient(client.api, client.base_url, appkey="fc-no-such-appkey-" + pysecrets.token_hex(4),
                     secrets=client.secrets)

