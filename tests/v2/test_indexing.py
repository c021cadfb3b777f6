"""v2 index requests: JSONL and CSV files, the first-line check, caps, link over file, line outcomes and
their counts, enable/disable semantics, concurrency, and the effect on documentCount and the searches.

Sources: nhn-ai-fashion-v2.0-api-guide.ko.txt / API 공통 정보 > 색인 가이드; 색인 > 색인 요청 (errata E9, E202,
E205, E211, E212, E213). Every test indexes into its own fresh service.
"""

from __future__ import annotations

import json
import secrets as pysecrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from fashion_conformance import checks

from . import helpers as h

pytestmark = pytest.mark.destructive

INVALID, INVALID_FILE, NO_DATA = h.code("InvalidParam"), h.code("InvalidFileError"), h.code("NoDataError")
EXCEED, BUSY = h.code("ExceedDataSizeError"), h.code("TooManyRequestError")
NOT_EXIST, NOT_FOUND_PRODUCT = h.code("NotExistService"), h.code("NotFoundProductId")
MAX_LINES, MAX_FILE = h.lim("index.max_lines").value, h.lim("index.max_file_bytes")
MAX_LEN = h.lim("index.field_max_length").value
IMAGE_CAP = h.lim("index.image_max_bytes")
SLOW_S = (
    2.0  # first-byte delay of the images of a job that must stay running for a while (under the 3 s deadline)
)


def products(image_host, ids, seed0: int = 500, **fields) -> list[h.Product]:
    return [
        h.Product(pid, image_host.generated(seed0 + i), name=f"name {pid}", **fields)
        for i, pid in enumerate(ids)
    ]


def search_product(v2, service: str, pid: str, limit: int = 50):
    return v2.call("search.product", path={"serviceName": service, "productId": pid}, params={"limit": limit})


def expect(v2, condition: bool, expectation: str) -> None:
    """A check on state read by the last exchange (the failure shows that exchange)."""
    checks.that(v2.history[-1], condition, expectation)


def check_finished(v2, detail: dict, status: str = "finished") -> None:
    """The index ended with `status` (finished includes partial failure, failed means every line failed)."""
    expect(v2, detail["status"] == status, f"the index ends {status}; got {detail['status']}")


def check_sum_and_times(v2, detail: dict, lines: int) -> None:
    """The readings V2-INDEX-COUNTS-SUM and V2-INDEX-TIMESTAMPS: totalCount = data lines = sum of the five counts
    (E9), times in order (E212)."""
    sums = sum(detail[f"{k}Count"] for k in h.COUNT_KINDS)
    expect(
        v2,
        detail["totalCount"] == lines == sums,
        f"totalCount {detail['totalCount']} equals the {lines} data lines and the sum of the counts {sums}",
    )
    expect(
        v2,
        0 < detail["requestedTime"] <= detail["startTime"] <= detail["finishTime"],
        "requestedTime <= startTime <= finishTime, all set once the index ended",
    )


FORMATS = [
    pytest.param("jsonl", marks=pytest.mark.req("V2-INDEX-JSONL"), id="jsonl"),
    pytest.param("csv", marks=pytest.mark.req("V2-INDEX-CSV"), id="csv"),
]


def add_three(v2, image_host, service: str, fmt: str, name: str, s1: str):
    """Index a1..a3 (name `name` with the productId, s1 `s1`, s2 empty) in `fmt`; (products, filename, indexId,
    first detail, final detail, statuses seen)."""
    items = [
        h.Product(pid, image_host.generated(510 + i), name=name.format(pid), category1Id="top", s1=s1, s2="")
        for i, pid in enumerate(["a1", "a2", "a3"])
    ]
    data = h.jsonl(items) if fmt == "jsonl" else h.csv_file(items)
    filename = f"catalog-{pysecrets.token_hex(3)}.{fmt}"
    ex = h.submit(v2, service, data, fmt=fmt, filename=filename)
    index_id = checks.success(ex)["indexId"]
    checks.that(ex, isinstance(index_id, str) and index_id, "data.indexId is a non-empty string")
    first = h.index_detail(v2, service, index_id)
    detail, seen = h.wait_index(v2, service, index_id)
    return items, filename, index_id, first, detail, seen


def expect_round_trip(v2, service: str, items) -> None:
    """Each product's search answers only the service's products, with the indexed name and s1."""
    for p in items:
        ex = search_product(v2, service, p.productId)
        found = {it["productId"]: it for it in h.items_of(ex)}
        checks.that(ex, set(found) <= {"a1", "a2", "a3"}, "results hold only products of the service")
        for it in found.values():
            want = next(q for q in items if q.productId == it["productId"])
            checks.that(
                ex,
                it["name"] == want.name and it.get("s1", want.s1) == want.s1,
                f"{it['productId']} comes back with the indexed values {want.name!r}, {want.s1!r}",
            )


@pytest.mark.req(
    "V2-INDEX-FORMAT-PARAM",
    "V2-INDEX-QUEUED",
    "V2-INDEX-CREATE-INDEX-ID",
    "V2-INDEX-ENABLE-ADD",
    "V2-INDEX-COUNTS-VALUES",
    "V2-INDEX-FILENAME",
    "V2-INDEX-SEARCHABLE-AFTER-FINISH",
    "V2-SERVICE-DOCUMENT-COUNT-VALUE",
    "V2-SEARCH-ITEM-VALUES",
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_index_create_adds_products(v2, image_host, fresh_service, fmt):
    """ASCII values (a comma and quotes in the name): the UTF-8 round trip is V2-INDEX-UTF8's test below."""
    items, filename, index_id, first, detail, seen = add_three(
        v2, image_host, fresh_service, fmt, 'name {}, "quoted"', "spring"
    )
    expect(
        v2, seen[0] in ("reserved", "running", "finished"), f"a new index starts reserved or running: {seen}"
    )
    check_finished(v2, detail)
    expect(
        v2,
        detail["addedCount"] == 3 and all(detail[f"{k}Count"] == 0 for k in h.COUNT_KINDS if k != "added"),
        f"addedCount counts the three new products, the other counts are 0: {detail}",
    )
    expect(v2, detail["id"] == index_id and first["id"] == index_id, "the detail shows the indexId as id")
    expect(
        v2,
        detail["filename"] == filename,
        f"filename is the uploaded file's name {filename!r}: {detail['filename']!r}",
    )
    expect(v2, h.document_count(v2, fresh_service) == 3, "documentCount counts the three added products")
    expect_round_trip(v2, fresh_service, items)


@pytest.mark.req("V2-INDEX-UTF8", "V2-INDEX-COUNTS-SUM", "V2-INDEX-COUNTS-LISTS", "V2-INDEX-TIMESTAMPS")
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_index_create_utf8_values_and_counts_as_read(v2, image_host, fresh_service, fmt):
    """The readings: Korean values round-trip (UTF-8), totalCount is the sum and the id lists name the products
    (E9), the times are in order (E212)."""
    items, _, _, _, detail, _ = add_three(v2, image_host, fresh_service, fmt, '한글 상품 {}, "quoted"', "봄")
    check_sum_and_times(v2, detail, len(items))
    h.expect_counts(detail, {"added": ["a1", "a2", "a3"]}, fmt, lists=True)
    expect_round_trip(v2, fresh_service, items)


@pytest.mark.req(
    "V2-INDEX-ENABLE-UPDATE",
    "V2-INDEX-PRODUCT-ID-UNIQUE",
    "V2-INDEX-COUNTS-VALUES",
    "V2-SERVICE-DOCUMENT-COUNT-VALUE",
    "V2-SEARCH-ITEM-VALUES",
)
def test_index_enable_updates_existing_product(v2, image_host, fresh_service):
    old = products(image_host, ["u1", "u2"], category1Id="top", s1="old")
    h.index_and_wait(v2, fresh_service, h.jsonl(old))
    new = h.Product("u1", image_host.generated(520), name="renamed u1", category1Id="shoes", s1="new", s2="x")
    detail = h.index_and_wait(v2, fresh_service, h.jsonl([new]))
    check_finished(v2, detail)
    h.expect_counts(detail, {"updated": ["u1"]}, "re-indexing u1")
    expect(v2, h.document_count(v2, fresh_service) == 2, "an updated product is not a second document")
    ex = search_product(v2, fresh_service, "u2")
    got = {it["productId"]: it for it in h.items_of(ex)}
    checks.that(ex, "u1" in got, "the updated product is still found")
    for f in ("name", "imageUrl", "category1Id", "s1", "s2"):
        if f in got["u1"]:
            checks.that(
                ex, got["u1"][f] == getattr(new, f), f"u1.{f} shows the new value {getattr(new, f)!r}"
            )


@pytest.mark.req(
    "V2-INDEX-DISABLE-DELETE",
    "V2-INDEX-COUNTS-VALUES",
    "V2-SERVICE-DOCUMENT-COUNT-VALUE",
    "V2-SEARCH-PRODUCT-NOT-FOUND-PRODUCT-40050",
    "V2-SEARCH-ITEMS-IN-SERVICE",
)
def test_index_disable_deletes_product(v2, image_host, fresh_service):
    items = products(image_host, ["d1", "d2", "d3"])
    h.index_and_wait(v2, fresh_service, h.jsonl(items))
    detail = h.index_and_wait(v2, fresh_service, h.jsonl([items[0].disabled()]))
    check_finished(v2, detail)
    h.expect_counts(detail, {"deleted": ["d1"]}, "disabling d1")
    expect(v2, h.document_count(v2, fresh_service) == 2, "a deleted product no longer counts")
    checks.error(search_product(v2, fresh_service, "d1"), NOT_FOUND_PRODUCT)
    ex = search_product(v2, fresh_service, "d2")
    checks.that(
        ex, "d1" not in [it["productId"] for it in h.items_of(ex)], "a deleted product is no longer found"
    )


@pytest.mark.req("V2-INDEX-DISABLE-UNKNOWN")
def test_index_disable_unknown_product_fails_line(v2, image_host, fresh_service):
    """Our reading: a disable line for a productId not in the service counts as failed (beside an added line)."""
    items = products(image_host, ["k1"])
    detail = h.index_and_wait(
        v2, fresh_service, h.jsonl([*items, products(image_host, ["ghost"])[0].disabled()])
    )
    h.expect_counts(detail, {"added": ["k1"], "failed": ["ghost"]}, "disable of an unknown product")


@pytest.mark.req(
    "V2-INDEX-IMAGE-FAILURE",
    "V2-INDEX-FINISHED-VS-FAILED",
    "V2-INDEX-COUNTS-VALUES",
    "V2-SERVICE-DOCUMENT-COUNT-VALUE",
)
def test_index_image_failures_count_as_failed(v2, image_host, fresh_service):
    from fashion_conformance.imagehost import factory

    blank = image_host.put("v2-idx-blank.png", factory.encode(factory.render(200, 200, []), "png"))
    lines = [
        *products(image_host, ["ok1"]),
        h.Product("gone", image_host.status_url(404)),
        h.Product("blank", blank),
        h.Product("text", image_host.put("v2-idx.txt", b"no image")),
    ]
    detail = h.index_and_wait(v2, fresh_service, h.jsonl(lines))
    check_finished(v2, detail)
    h.expect_counts(detail, {"added": ["ok1"], "failed": ["gone", "blank", "text"]}, "lines with bad images")
    expect(v2, h.document_count(v2, fresh_service) == 1, "failed lines add no document")


@pytest.mark.req("V2-INDEX-FINISHED-VS-FAILED", "V2-INDEX-IMAGE-FAILURE")
def test_index_every_line_failed_is_failed(v2, image_host, fresh_service):
    lines = [h.Product(f"f{i}", image_host.status_url(404)) for i in range(3)]
    detail = h.index_and_wait(v2, fresh_service, h.jsonl(lines))
    check_finished(v2, detail, status="failed")
    h.expect_counts(detail, {"failed": ["f0", "f1", "f2"]}, "every line failed")


@pytest.mark.req(
    "V2-INDEX-LATER-LINES",
    "V2-INDEX-FIELDS",
    "V2-INDEX-PRODUCT-STATUS",
    "V2-INDEX-FIELD-MAX-LENGTH",
    "V2-INDEX-COUNTS-SUM",
)
def test_index_malformed_later_lines_fail(v2, image_host, fresh_service):
    good = products(image_host, ["g1"])[0]
    missing = {k: v for k, v in products(image_host, ["m1"])[0].line().items() if k != "category3Id"}
    bad_status = products(image_host, ["s1"])[0].line() | {"status": "enabled"}
    too_long = products(image_host, ["l1"])[0].line() | {"name": "n" * (MAX_LEN["name"] + 1)}
    detail = h.index_and_wait(
        v2, fresh_service, h.jsonl([good, "this is not json", missing, bad_status, too_long])
    )
    check_finished(v2, detail)
    check_sum_and_times(v2, detail, 5)
    expect(
        v2,
        detail["addedCount"] == 1 and detail["failedCount"] == 4,
        f"four malformed later lines fail: {detail}",
    )
    expect(
        v2,
        {"m1", "s1", "l1"} <= set(detail["failedProductIds"]),
        f"the failed ids name the lines' products: {detail}",
    )
    expect(v2, h.document_count(v2, fresh_service) == 1, "failed lines add no document")


FIRST_LINE_CASES = {
    "not-json": ("jsonl", b"this is not json\n", "V2-INDEX-FIRST-LINE-CHECK"),
    "json-array": ("jsonl", b'["a1", "enable"]\n', "V2-INDEX-FIRST-LINE-CHECK"),
    "missing-field": ("jsonl", None, "V2-INDEX-FIELDS"),
    "bad-status": ("jsonl", None, "V2-INDEX-PRODUCT-STATUS"),
    "id-too-long": ("jsonl", None, "V2-INDEX-FIELD-MAX-LENGTH"),
    "name-too-long": ("jsonl", None, "V2-INDEX-FIELD-MAX-LENGTH"),
    "csv-8-columns": ("csv", None, "V2-INDEX-FIELDS"),
    "csv-header": ("csv", None, "V2-INDEX-CSV-NO-HEADER"),
    "not-utf8": ("jsonl", None, "V2-INDEX-UTF8"),
}


def first_line(case: str, image_host) -> bytes:
    p = products(image_host, ["x1"])[0]
    line = p.line()
    if case == "missing-field":
        return h.jsonl([{k: v for k, v in line.items() if k != "s2"}, p])
    if case == "bad-status":
        return h.jsonl([line | {"status": "update"}, p])
    if case == "id-too-long":
        return h.jsonl([line | {"productId": "i" * (MAX_LEN["productId"] + 1)}, p])
    if case == "name-too-long":
        return h.jsonl([line | {"name": "n" * (MAX_LEN["name"] + 1)}, p])
    if case == "csv-8-columns":
        return h.csv_file([list(line.values())[:-1], p])
    if case == "csv-header":
        return h.csv_file([h.FIELDS, p])
    if case == "not-utf8":
        return json.dumps(line | {"name": "caf\u00e9"}, ensure_ascii=False).encode("latin-1") + b"\n"
    return FIRST_LINE_CASES[case][1]


@pytest.mark.parametrize(
    "case", [pytest.param(c, marks=pytest.mark.req(r), id=c) for c, (_, _, r) in FIRST_LINE_CASES.items()]
)
def test_index_first_line_refused(v2, image_host, fresh_service, case):
    """The request is refused at once and no index is created (not-json, json-array: the text's format errors;
    the other cases: what the readings count as one)."""
    fmt = FIRST_LINE_CASES[case][0]
    checks.not_success(h.submit(v2, fresh_service, first_line(case, image_host), fmt=fmt, filename=f"bad.{fmt}"))
    expect(v2, h.index_total(v2, fresh_service) == 0, "a refused file creates no index")


@pytest.mark.parametrize("case", list(FIRST_LINE_CASES))
@pytest.mark.req("V2-INDEX-CREATE-INVALID-FILE-40010")
def test_index_first_line_refused_with_40010(v2, image_host, fresh_service, case):
    """Our reading: the code of a first line that does not fit the format is -40010 InvalidFileError."""
    fmt = FIRST_LINE_CASES[case][0]
    checks.error(
        h.submit(v2, fresh_service, first_line(case, image_host), fmt=fmt, filename=f"bad.{fmt}"),
        INVALID_FILE,
    )


@pytest.mark.req("V2-INDEX-FIELD-MAX-LENGTH", "V2-INDEX-EMPTY-VALUES")
def test_index_values_at_max_length_and_empty(v2, image_host, fresh_service):
    url = image_host.generated(530)
    url += ("&" if "?" in url else "?") + "pad="
    url += "u" * (MAX_LEN["imageUrl"] - len(url))
    longest = h.Product(
        "L" * MAX_LEN["productId"],
        url,
        name="n" * MAX_LEN["name"],
        category1Id="a" * MAX_LEN["category1Id"],
        category2Id="b" * MAX_LEN["category2Id"],
        category3Id="c" * MAX_LEN["category3Id"],
        s1="s" * MAX_LEN["s1"],
        s2="t" * MAX_LEN["s2"],
    )
    empty = h.Product("e1", image_host.generated(531))
    detail = h.index_and_wait(v2, fresh_service, h.jsonl([longest, empty]))
    check_finished(v2, detail)
    h.expect_counts(
        detail, {"added": [longest.productId, "e1"]}, "values at their max length, and empty values"
    )
    ex = search_product(v2, fresh_service, "e1")
    got = {it["productId"]: it for it in h.items_of(ex)}
    checks.that(ex, longest.productId in got, "the product with maximal values is found")
    for f in ("name", "imageUrl", *h.FILTER_FIELDS):
        if f in got[longest.productId]:
            checks.that(
                ex, got[longest.productId][f] == getattr(longest, f), f"{f} at its max length round-trips"
            )


@pytest.mark.req("V2-INDEX-NO-BLANK-LINES")
def test_index_blank_line_creates_no_document(v2, image_host, fresh_service):
    a, b = products(image_host, ["b1", "b2"])
    data = h.jsonl([a]) + b"\n" + h.jsonl([b])
    ex = h.submit(v2, fresh_service, data)
    if ex.header.get("isSuccessful") is not True:
        checks.error(ex, INVALID_FILE)
        return
    detail, _ = h.wait_index(v2, fresh_service, checks.success(ex)["indexId"])
    expect(
        v2,
        detail["failedCount"] >= 1 and h.document_count(v2, fresh_service) <= 2,
        "a blank line never creates a document and counts as failed",
    )


@pytest.mark.req("V2-INDEX-CREATE-NO-DATA-40020")
@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_index_empty_file(v2, fresh_service, fmt):
    checks.error(h.submit(v2, fresh_service, b"", fmt=fmt, filename=f"empty.{fmt}"), NO_DATA)
    expect(v2, h.index_total(v2, fresh_service) == 0, "a refused file creates no index")


def disable_line(pid: str, pad: int | None = None) -> str:
    """A disable line for an unknown product (no image is fetched); `pad` lengthens imageUrl by 1 + pad."""
    url = "http://example.invalid/x.png" + ("" if pad is None else "?" + "p" * pad)
    return json.dumps(
        {
            "productId": pid,
            "status": h.DISABLE,
            "name": "",
            "category1Id": "",
            "category2Id": "",
            "category3Id": "",
            "imageUrl": url,
            "s1": "",
            "s2": "",
        }
    )


@pytest.mark.req("V2-INDEX-MAX-LINES", "V2-INDEX-CREATE-EXCEED-40030")
def test_index_line_cap(v2, fresh_service):
    lines = [disable_line(f"z{i}") for i in range(MAX_LINES + 1)]
    checks.error(h.submit(v2, fresh_service, h.jsonl(lines)), EXCEED)
    expect(v2, h.index_total(v2, fresh_service) == 0, "a refused file creates no index")
    checks.success(h.submit(v2, fresh_service, h.jsonl(lines[:MAX_LINES])))


def file_of_size(size: int) -> bytes:
    """A JSONL file of exactly `size` bytes in long disable lines (far fewer than the line cap)."""
    most = MAX_LEN["imageUrl"] - len(json.loads(disable_line("z", 0))["imageUrl"])
    base = len(disable_line("z00000", 0)) + 1
    lines: list[str] = []
    left = size
    while left > 2 * (base + most):
        lines.append(disable_line(f"z{len(lines):05d}", most))
        left -= base + most
    first = min(most, left - 2 * base)
    lines += [
        disable_line(f"z{len(lines):05d}", first),
        disable_line(f"z{len(lines) + 1:05d}", left - 2 * base - first),
    ]
    out = h.jsonl(lines)
    assert len(out) == size and len(lines) < MAX_LINES, f"test data: {len(out)} bytes in {len(lines)} lines"
    return out


@pytest.mark.req("V2-INDEX-MAX-FILE-BYTES", "V2-INDEX-CREATE-EXCEED-40030")
def test_index_file_size_cap(v2, fresh_service):
    checks.error(h.submit(v2, fresh_service, file_of_size(MAX_FILE.extra["reject_from"])), EXCEED)
    expect(v2, h.index_total(v2, fresh_service) == 0, "a refused file creates no index")
    checks.success(h.submit(v2, fresh_service, file_of_size(MAX_FILE.value)))


@pytest.mark.req("V2-INDEX-CREATE-INVALID-40000", "V2-INDEX-FORMAT-PARAM")
@pytest.mark.parametrize("fmt", [None, "xml", "JSONL", "json", ""])
def test_index_format_invalid(v2, image_host, fresh_service, fmt):
    checks.error(h.submit(v2, fresh_service, h.jsonl(products(image_host, ["v1"])), fmt=fmt), INVALID)
    expect(v2, h.index_total(v2, fresh_service) == 0, "a refused request creates no index")


@pytest.mark.req("V2-INDEX-SOURCE-REQUIRED")
def test_index_without_link_or_file(v2, fresh_service):
    h.expect_code_in(
        h.submit(v2, fresh_service, None), [INVALID, INVALID_FILE], "neither link nor file (E213)"
    )


@pytest.mark.req("V2-INDEX-LINK", "V2-INDEX-COUNTS-VALUES")
def test_index_by_link(v2, image_host, fresh_service):
    items = products(image_host, ["k1", "k2"], seed0=540)
    link = image_host.put(f"v2-index-{pysecrets.token_hex(3)}.jsonl", h.jsonl(items))
    ex = h.submit(v2, fresh_service, None, link=link)
    detail, _ = h.wait_index(v2, fresh_service, checks.success(ex)["indexId"])
    check_finished(v2, detail)
    h.expect_counts(detail, {"added": ["k1", "k2"]}, "index by link")
    checks.success(search_product(v2, fresh_service, "k1"))


@pytest.mark.req("V2-INDEX-LINK-PRIORITY")
def test_index_link_wins_over_file(v2, image_host, fresh_service):
    by_link, by_file = (
        products(image_host, ["from-link"], seed0=545),
        products(image_host, ["from-file"], seed0=546),
    )
    link = image_host.put(f"v2-index-{pysecrets.token_hex(3)}.jsonl", h.jsonl(by_link))
    ex = h.submit(v2, fresh_service, h.jsonl(by_file), link=link)
    detail, _ = h.wait_index(v2, fresh_service, checks.success(ex)["indexId"])
    h.expect_counts(detail, {"added": ["from-link"]}, "link and file together")
    checks.success(search_product(v2, fresh_service, "from-link"))
    checks.error(search_product(v2, fresh_service, "from-file"), NOT_FOUND_PRODUCT)


@pytest.mark.req("V2-INDEX-CREATE-INVALID-FILE-40010")
def test_index_link_not_downloadable(v2, image_host, fresh_service):
    checks.error(h.submit(v2, fresh_service, None, link=image_host.status_url(404)), INVALID_FILE)
    expect(v2, h.index_total(v2, fresh_service) == 0, "a refused request creates no index")


@pytest.mark.req(
    "V2-INDEX-CREATE-NOT-EXIST-42000", "V2-INDEX-LIST-NOT-EXIST-42000", "V2-INDEX-GET-NOT-EXIST-42000"
)
def test_index_unknown_service(v2, image_host, run_prefix):
    ghost = f"{run_prefix}-nosuch"
    checks.error(h.submit(v2, ghost, h.jsonl(products(image_host, ["n1"]))), NOT_EXIST)
    checks.error(
        v2.call("index.list", path={"serviceName": ghost}, params={"start": 0, "limit": 10}), NOT_EXIST
    )
    checks.error(v2.call("index.get", path={"serviceName": ghost, "indexId": "x"}), NOT_EXIST)


def slow_file(image_host, ids, seed0: int = 560) -> bytes:
    return h.jsonl(
        [h.Product(pid, image_host.generated(seed0 + i, delay=SLOW_S)) for i, pid in enumerate(ids)]
    )


@pytest.mark.req("V2-INDEX-LIFECYCLE", "V2-INDEX-QUEUED")
def test_index_create_slow_file_is_queued_and_moves_forward(v2, image_host, fresh_service):
    """색인 요청, 색인 상태: a slow file is answered at once, reserved or running, then finished, never going back."""
    ex = h.submit(v2, fresh_service, slow_file(image_host, ["r1", "r2"]))
    index_id = checks.success(ex)["indexId"]
    early = h.index_detail(v2, fresh_service, index_id)
    expect(
        v2,
        early["status"] in ("reserved", "running"),
        f"a slow index is reserved or running at first: {early}",
    )
    detail, seen = h.wait_index(v2, fresh_service, index_id)
    rank = {"reserved": 0, "running": 1, "finished": 2, "failed": 2}
    expect(
        v2,
        [rank[s] for s in seen] == sorted(rank[s] for s in seen),
        f"reserved -> running -> finished, never back: {seen}",
    )
    h.expect_counts(detail, {"added": ["r1", "r2"]}, "the slow index")


@pytest.mark.req("V2-INDEX-CREATE-TOO-MANY-40080-WHILE-QUEUED", "V2-INDEX-TIMESTAMPS")
def test_index_create_while_running_is_refused_with_40080(v2, image_host, fresh_service):
    """The -40080 reading (a request after one was accepted, while that one is reserved or running) and E212's
    times of a pending index (0 until they happen)."""
    ex = h.submit(v2, fresh_service, slow_file(image_host, ["r1", "r2"]))
    index_id = checks.success(ex)["indexId"]
    early = h.index_detail(v2, fresh_service, index_id)
    expect(v2, early["status"] in ("reserved", "running"), f"a slow index is reserved or running at first: {early}")
    if early["status"] == "reserved":
        expect(
            v2,
            early["startTime"] == 0 and early["finishTime"] == 0,
            f"times are 0 until they happen: {early}",
        )
    expect(v2, early["finishTime"] == 0, f"finishTime is 0 until the index ends: {early}")
    checks.error(h.submit(v2, fresh_service, h.jsonl(products(image_host, ["r3"]))), BUSY)
    h.wait_index(v2, fresh_service, index_id)
    expect(v2, h.index_total(v2, fresh_service) == 1, "the refused request created no index")


@pytest.mark.req("V2-INDEX-CREATE-TOO-MANY-40080")
def test_index_parallel_requests_one_accepted(v2, image_host, fresh_service):
    files = [slow_file(image_host, [f"q{i}"], seed0=570 + i) for i in range(3)]
    with ThreadPoolExecutor(max_workers=len(files)) as pool:
        answers = list(pool.map(lambda d: h.submit(v2, fresh_service, d), files))
    ok = [ex for ex in answers if ex.header.get("isSuccessful") is True]
    for ex in answers:
        if ex not in ok:
            checks.error(ex, BUSY)
    expect(
        v2, len(ok) == 1, f"of {len(files)} parallel index requests exactly one is accepted, {len(ok)} were"
    )
    h.wait_index(v2, fresh_service, checks.success(ok[0])["indexId"])


@pytest.mark.req("V2-SERVICE-DELETE-WHILE-INDEXING")
def test_service_delete_while_indexing(v2, image_host, fresh_service):
    ex = h.submit(v2, fresh_service, slow_file(image_host, ["w1", "w2"], seed0=580))
    index_id = checks.success(ex)["indexId"]
    status = h.index_detail(v2, fresh_service, index_id)["status"]
    expect(
        v2, status in ("reserved", "running"), f"the index is still active when the delete is sent: {status}"
    )
    checks.success(v2.call("service.delete", path={"serviceName": fresh_service}))
    checks.error(v2.call("service.get", path={"serviceName": fresh_service}), NOT_EXIST)


@pytest.mark.req("V2-INDEX-IMAGE-MAX-BYTES")
def test_index_product_image_cap(v2, image_host, fresh_service):
    lines = [
        h.Product("big-ok", image_host.generated(590, "jpeg", size=IMAGE_CAP.value)),
        h.Product("big-no", image_host.generated(591, "jpeg", size=IMAGE_CAP.extra["reject_from"])),
    ]
    detail = h.index_and_wait(v2, fresh_service, h.jsonl(lines))
    h.expect_counts(
        detail, {"added": ["big-ok"], "failed": ["big-no"]}, "product images at and over 20MB (E202)"
    )
