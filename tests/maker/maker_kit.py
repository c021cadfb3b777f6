"""Helpers of the AI Fashion Maker v1.0 suite. Maker indexes into v1 service IDs, so the v1 kit (service IDs, index
lines, polling) is shared: tests/maker/conftest.py puts tests/v1 on the import path."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence

import v1_kit

from fashion_conformance import checks, contracts
from fashion_conformance.clients import ApiClient, Exchange

API = "maker"
CODE = v1_kit.codes_by_message(API)
NO_API = (CODE["NoApiFound"], CODE["URL Not Found"])  # E13: either code for an undefined API
FIELDS = v1_kit.MAKER_FIELDS
MAX_LENGTH: dict[str, int] = contracts.limit(API, "index.field_max_length").value
STATUSES: tuple[str, ...] = tuple(contracts.limit(API, "index.statuses").value)
FINAL = v1_kit.FINAL


def limit(name: str) -> contracts.Limit:
    return contracts.limit(API, name)


def csv_bytes(lines: Sequence[Mapping[str, str]]) -> bytes:
    """The lines as CSV: the documented column order, no header line, UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for line in lines:
        writer.writerow([line[f] for f in FIELDS])
    return out.getvalue().encode("utf-8")


def expect(client: ApiClient, condition: bool, expectation: str) -> None:
    """checks.that on the client's latest exchange (the answer the condition was read from)."""
    checks.that(client.history[-1], condition, expectation)


def no_api(ex: Exchange) -> None:
    """An undefined API: isSuccessful false with -40400 NoApiFound, or 4041007 "URL Not Found" (E13)."""
    header = ex.header
    checks.that(ex, header.get("isSuccessful") is False, "an undefined API must be answered with isSuccessful false")
    checks.that(ex, header.get("resultCode") in NO_API, f"expected one of {list(NO_API)} (E13)")
    message = contracts.code_message(API, header["resultCode"])
    checks.that(ex, header.get("resultMessage") == message, f"code {header['resultCode']} comes with {message!r}")


def index_list(maker: ApiClient, service: str, **params) -> Exchange:
    return maker.call("index.list", path={"serviceID": service}, params={"start": 0, "limit": 100, **params})


def index_total(maker: ApiClient, service: str) -> int:
    return checks.success(index_list(maker, service))["total"]


def service_info(maker: ApiClient, service: str) -> dict:
    ex = maker.call("service.list")
    items = [it for it in checks.success(ex)["items"] if it["service"] == service]
    checks.that(ex, len(items) == 1, f"service {service!r} must be listed exactly once")
    return items[0]


def sized_file(total_bytes: int, image_url: str) -> bytes:
    """A JSONL file of exactly `total_bytes` bytes in at most a few thousand lines: `disable` lines for unknown
    products whose name and image_url use 3-byte characters up to the field maxima; the last line is padded with
    JSON whitespace."""
    wide = "\u3042"
    base = image_url + "#"
    template = {
        "product_id": "", "status": v1_kit.DISABLE, "name": wide * MAX_LENGTH["name"],
        "category1_id": "c1", "category2_id": "c2", "category3_id": "c3",
        "image_url": base + wide * (MAX_LENGTH["image_url"] - len(base)), "s1": "", "s2": "",
    }

    def line(i: int, pad: int = 0) -> bytes:
        text = json.dumps({**template, "product_id": f"big{i:06d}"}, ensure_ascii=False)
        return ("{" + " " * pad + text[1:] + "\n").encode("utf-8")

    size = len(line(0))
    count, rest = divmod(total_bytes, size)
    if count < 1:
        raise ValueError(f"{total_bytes} bytes is below one line ({size})")
    return b"".join(line(i) for i in range(count - 1)) + line(count - 1, pad=rest)
