"""Helpers of the AI Fashion v2.0 tests: index files, bounded polls, result checks, a mutable image server.

Facts (fields, limits, codes) come from contracts/v2 (nhn-ai-fashion-v2.0-api-guide.ko.txt).
"""

from __future__ import annotations

import csv
import io
import json
import random
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from fashion_conformance import checks, contracts, filters, waits
from fashion_conformance.clients import ApiClient, Exchange

API = "v2"
FIELDS: tuple[str, ...] = tuple(contracts.limit(API, "index.fields").value)
FILTER_FIELDS: tuple[str, ...] = tuple(contracts.limit(API, "filter.fields").value)
ENABLE, DISABLE = contracts.limit(API, "index.product_statuses").value
DONE_STATUSES = ("finished", "failed")
INDEX_STATUSES: tuple[str, ...] = tuple(contracts.limit(API, "index.statuses").value)
COUNT_KINDS = ("added", "failed", "exceeded", "deleted", "updated")
LIFECYCLE = "V2-INDEX-LIFECYCLE"  # an index ends (finished or failed), through documented statuses only


def lim(name: str) -> contracts.Limit:
    return contracts.limit(API, name)


def code(name: str) -> int:
    """A v2 result code by its documented message (codes.yaml)."""
    for c in contracts.codes(API).values():
        if c.message == name:
            return c.code
    raise LookupError(f"v2 has no code named {name}")


# ---------------------------------------------------------------- index files


@dataclass(frozen=True)
class Product:
    """One line of an index file, in the wire names of the v2 index guide (파일 데이터 포맷)."""

    productId: str
    imageUrl: str
    status: str = ENABLE
    name: str = ""
    category1Id: str = ""
    category2Id: str = ""
    category3Id: str = ""
    s1: str = ""
    s2: str = ""

    def line(self) -> dict[str, str]:
        data = asdict(self)
        return {f: data[f] for f in FIELDS}

    def disabled(self) -> Product:
        return replace(self, status=DISABLE)


def jsonl(lines: Iterable[Product | Mapping[str, Any] | str]) -> bytes:
    """A JSONL file: products as JSON objects, mappings as given, strings verbatim; one per line."""
    out = []
    for item in lines:
        if isinstance(item, str):
            out.append(item)
        else:
            out.append(
                json.dumps(item.line() if isinstance(item, Product) else dict(item), ensure_ascii=False)
            )
    return ("\n".join(out) + "\n").encode("utf-8")


def csv_file(lines: Iterable[Product | Sequence[str]]) -> bytes:
    """A CSV file without header: the nine fields in the documented order."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for item in lines:
        writer.writerow(list(item.line().values()) if isinstance(item, Product) else list(item))
    return buf.getvalue().encode("utf-8")


def form(**fields: str) -> list[tuple[str, tuple[None, str]]]:
    """Plain multipart/form-data fields (httpx sends (None, value) parts without a file name)."""
    return [(k, (None, str(v))) for k, v in fields.items()]


def submit(
    v2: ApiClient,
    service: str,
    data: bytes | None,
    *,
    fmt: str | None = "jsonl",
    filename: str = "products.jsonl",
    link: str | None = None,
) -> Exchange:
    """POST an index request as multipart/form-data (format, link, file: as given)."""
    files: list[Any] = form(
        **({"format": fmt} if fmt is not None else {}), **({"link": link} if link else {})
    )
    if data is not None:
        files.append(("file", (filename, data, "application/octet-stream")))
    return v2.call("index.create", path={"serviceName": service}, files=files)


def index_detail(v2: ApiClient, service: str, index_id: str) -> dict[str, Any]:
    ex = v2.call("index.get", path={"serviceName": service, "indexId": index_id})
    data = checks.success(ex)
    checks.that(ex, len(data["items"]) == 1, "the index detail holds exactly one item (E8)")
    return data["items"][0]


def wait_index(
    v2: ApiClient, service: str, index_id: str, timeout_s: float | None = None
) -> tuple[dict, list[str]]:
    """Poll the detail (every waits.poll_s, at most waits.index_s) until finished or failed; (final detail, statuses
    seen in order). A status outside the documented set fails at once on V2-INDEX-LIFECYCLE, as does an index that
    does not end within the budget (later waits are then blocked by it)."""
    seen: list[str] = []

    def probe() -> dict:
        detail = index_detail(v2, service, index_id)
        waits.documented(v2.history[-1], detail["status"], INDEX_STATUSES, "index status", LIFECYCLE)
        if not seen or seen[-1] != detail["status"]:
            seen.append(detail["status"])
        return detail

    detail = waits.poll(probe, lambda d: d["status"] in DONE_STATUSES, requirement=LIFECYCLE, budget_s=timeout_s,
                        what=f"index {index_id} of {service}", describe=lambda d: f"statuses seen {seen}")
    return detail, seen


def index_and_wait(
    v2: ApiClient, service: str, data: bytes, *, fmt: str = "jsonl", filename: str | None = None
) -> dict[str, Any]:
    """Submit an index file, require its acceptance, and return the final detail."""
    ex = submit(v2, service, data, fmt=fmt, filename=filename or f"products.{fmt}")
    index_id = checks.success(ex)["indexId"]
    return wait_index(v2, service, index_id)[0]


def expect_counts(detail: Mapping[str, Any], expected: Mapping[str, Sequence[str]], what: str, *,
                  lists: bool = False) -> None:
    """The detail's counts equal `expected` (kind -> product ids; kinds left out: none); with `lists`, also its id
    lists (the E9 reading, V2-INDEX-COUNTS-LISTS: only tests that carry that requirement ask for them)."""
    problems = []
    for kind in COUNT_KINDS:
        want = sorted(expected.get(kind, ()))
        got_ids = sorted(detail[f"{kind}ProductIds"]) if lists else want
        if detail[f"{kind}Count"] != len(want) or got_ids != want:
            shown = got_ids if lists else ""
            problems.append(f"{kind}: expected {len(want)} {want}, got {detail[f'{kind}Count']} {shown}".rstrip())
    if problems:
        raise AssertionError(
            f"{what}: index counts differ from what the file implies:\n  "
            + "\n  ".join(problems)
            + f"\n  detail: {json.dumps(detail)[:1500]}"
        )


def service_info(v2: ApiClient, service: str) -> dict[str, Any]:
    return checks.success(v2.call("service.get", path={"serviceName": service}))


def document_count(v2: ApiClient, service: str) -> int:
    return int(service_info(v2, service)["documentCount"])


def index_total(v2: ApiClient, service: str) -> int:
    ex = v2.call("index.list", path={"serviceName": service}, params={"start": 0, "limit": 1})
    return checks.success(ex)["total"]


# ---------------------------------------------------------------- result checks


def expect_code_in(ex: Exchange, allowed: Sequence[int], why: str) -> int:
    """The answer is an error whose code is one of `allowed` (a documented choice); returns the code."""
    got = ex.header.get("resultCode")
    checks.that(ex, got in allowed, f"{why}: expected resultCode in {list(allowed)}, got {got!r}")
    checks.error(ex, got)
    return got


def envelope_shape(ex: Exchange) -> None:
    """HTTP 200; a JSON object whose header has isSuccessful (bool), resultCode (int), resultMessage (str)."""
    checks.that(ex, ex.status == 200, f"every v2 answer is HTTP 200, got {ex.status}")
    body = ex.json
    checks.that(
        ex,
        isinstance(body, dict) and isinstance(body.get("header"), dict),
        "the body is a JSON object with a header object",
    )
    h = body["header"]
    checks.that(ex, isinstance(h.get("isSuccessful"), bool), "header.isSuccessful is a JSON boolean")
    checks.that(
        ex,
        isinstance(h.get("resultCode"), int) and not isinstance(h.get("resultCode"), bool),
        "header.resultCode is a JSON integer",
    )
    checks.that(ex, isinstance(h.get("resultMessage"), str), "header.resultMessage is a string")


def items_of(ex: Exchange) -> list[dict[str, Any]]:
    return checks.success(ex)["items"]


def detected_items(ex: Exchange, image: str) -> list[dict[str, Any]]:
    """The items detect found in `image`; none: blocked by the target's model (checks.detected)."""
    return checks.detected(ex, image)


def similarities(items: Sequence[Mapping[str, Any]]) -> list[float]:
    return [it["similarity"] for it in items]


def check_geometry(ex: Exchange, item: Mapping[str, Any]) -> None:
    """0 <= b0 < b1 <= 1 per axis, center the midpoint (1e-4, E208), score in (0, 1]."""
    b0, b1, center = item["b0"], item["b1"], item["center"]
    for v in (*b0, *b1, *center):
        checks.that(ex, 0 <= v <= 1, f"every coordinate lies in [0, 1]; got {v} in {_item_repr(item)}")
    for axis in (0, 1):
        checks.that(ex, b0[axis] < b1[axis], f"b0 < b1 on axis {axis}; got {b0} / {b1}")
        mid = (b0[axis] + b1[axis]) / 2
        checks.that(
            ex,
            abs(center[axis] - mid) <= 1e-4,
            f"center[{axis}] is the midpoint {mid:.6f} of b0 and b1 (1e-4); got {center[axis]}",
        )
    checks.that(ex, 0 < item["score"] <= 1, f"score lies in (0, 1]; got {item['score']}")


def _item_repr(item: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in item.items() if k != "link"})


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes (x0, y0, x1, y1)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def record_of(product: Product) -> dict[str, str]:
    """The filterable record of a product, for filters.matches."""
    return {f: getattr(product, f) for f in FILTER_FIELDS}


def render_clause(clause: filters.Clause, bare: bool = False) -> tuple[str, str]:
    """(name, value) of a clause; `bare` leaves out the default operator (equal)."""
    name, value = clause.render()
    return (name, value.removeprefix("equal:")) if bare and not clause.negate else (name, value)


# ---------------------------------------------------------------- servers


def free_port(low: int, high: int, host: str = "127.0.0.1") -> int:
    """A port in low..high on which nothing listens now."""
    ports = list(range(low, high + 1))
    random.shuffle(ports)
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise OSError(f"no free port in {low}..{high}")


def allowed_port_range() -> tuple[int, int]:
    """The explicit-port range of the image guide (contracts image.allowed_ports)."""
    for entry in lim("image.allowed_ports").value:
        if isinstance(entry, list):
            return entry[0], entry[1]
    raise LookupError("no port range in image.allowed_ports")
