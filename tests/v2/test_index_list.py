"""v2 index list and detail: paging window, order, status filter, fields, and unknown index ids.

Sources: nhn-ai-fashion-v2.0-api-guide.ko.txt / 색인 > 색인 목록 조회 (페이징, 정렬, 색인 상태), 색인 상세 조회
(errata E6, E7, E8, E9, E203, E204, E212). A module service holds five finished or failed indexes whose
outcomes the suite knows.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fashion_conformance import checks

from . import helpers as h
from .conftest import create_service, require_destructive

pytestmark = pytest.mark.destructive

INVALID, NOT_FOUND_INDEX = h.code("InvalidParam"), h.code("NotFoundIndexId")
START, LIMIT, WINDOW = h.lim("index.list.start"), h.lim("index.list.limit"), h.lim("index.list.window").value
START_REFUSED, LIMIT_REFUSED = (("V2-INDEX-LIST-START", "V2-INDEX-LIST-INVALID-40000"),
                                ("V2-INDEX-LIST-LIMIT", "V2-INDEX-LIST-INVALID-40000"))
ORDER_FIELDS = h.lim("index.list.order_fields").value
DIRECTIONS = h.lim("index.list.order_directions").value
STATUSES = h.lim("index.statuses").value
STATUSES_PARAM = h.lim("index.list.statuses_param").value
TIME_FIELDS = [f for f in ORDER_FIELDS if f.endswith("Time")]
JOB_GAP_S = 1.05  # more than the one-second resolution of the index times
SHARED = (
    "id",
    "filename",
    "status",
    "requestedTime",
    "startTime",
    "finishTime",
    *(f"{k}Count" for k in h.COUNT_KINDS),
    "totalCount",
)


@dataclass
class History:
    service: str
    expected: dict[str, dict[str, list[str]]]  # index id -> kind -> product ids
    statuses: dict[str, str]


@pytest.fixture(scope="module")
def history(request, v2, image_host, services) -> History:
    """Five indexes run one after another, more than a second apart (so their times differ and follow request
    order): adds, an update and an add (CSV), a delete and a failed disable, every line failed, and four adds."""
    require_destructive(request)
    name = create_service(v2, services, "hist")
    p = [h.Product(f"h{i}", image_host.generated(600 + i), name=f"history {i}") for i in range(9)]
    runs = [
        ("jsonl", h.jsonl(p[:3]), {"added": ["h0", "h1", "h2"]}, "finished"),
        ("csv", h.csv_file([p[0], p[3]]), {"updated": ["h0"], "added": ["h3"]}, "finished"),
        (
            "jsonl",
            h.jsonl([p[1].disabled(), p[8].disabled()]),
            {"deleted": ["h1"], "failed": ["h8"]},
            "finished",
        ),
        (
            "jsonl",
            h.jsonl([h.Product(f"x{i}", image_host.status_url(404)) for i in range(2)]),
            {"failed": ["x0", "x1"]},
            "failed",
        ),
        ("jsonl", h.jsonl(p[4:8]), {"added": ["h4", "h5", "h6", "h7"]}, "finished"),
    ]
    expected, statuses = {}, {}
    for i, (fmt, data, counts, status) in enumerate(runs):
        if i:
            time.sleep(JOB_GAP_S)  # times are whole seconds: each index starts after the previous one's second
        detail = h.index_and_wait(v2, name, data, fmt=fmt, filename=f"history-{i}.{fmt}")
        h.expect_counts(detail, counts, f"history index {i}")
        checks.that(v2.history[-1], detail["status"] == status, f"history index {i} ends {status}")
        expected[detail["id"]], statuses[detail["id"]] = counts, status
    yield History(name, expected, statuses)
    v2.call("service.delete", path={"serviceName": name})


def listing(v2, service: str, **params):
    return v2.call("index.list", path={"serviceName": service}, params=params)


def ids(ex) -> list[str]:
    return [it["id"] for it in checks.success(ex)["items"]]


@pytest.fixture(scope="module")
def history_listing(v2, history):
    """The whole list of the history service (the list-content tests share it)."""
    return listing(v2, history.service, start=0, limit=LIMIT.max)


@pytest.mark.req(
    "V2-INDEX-LIST-CONTAINS-CREATED",
    "V2-INDEX-LIST-TOTAL",
    "V2-INDEX-COUNTS-VALUES",
    "V2-INDEX-FINISHED-VS-FAILED",
    "V2-INDEX-FILENAME",
)
def test_index_list_holds_the_service_indexes(v2, history, catalog, history_listing):
    ex = history_listing
    data = checks.success(ex)
    checks.that(
        ex, data["total"] == len(history.expected), f"total counts the {len(history.expected)} indexes"
    )
    checks.that(
        ex, sorted(ids(ex)) == sorted(history.expected), "the list holds exactly the indexes requested"
    )
    for it in data["items"]:
        counts = history.expected[it["id"]]
        for kind in h.COUNT_KINDS:
            checks.that(
                ex, it[f"{kind}Count"] == len(counts.get(kind, ())), f"{kind}Count of {it['id']} is known"
            )
        checks.that(ex, it["status"] == history.statuses[it["id"]], f"status of {it['id']}")
        checks.that(ex, it["filename"].startswith("history-"), "filename is the uploaded file's name")
    other = ids(listing(v2, catalog.service, start=0, limit=LIMIT.max))
    checks.that(
        v2.history[-1], not set(other) & set(history.expected), "an index appears only in its service's list"
    )


@pytest.mark.req("V2-INDEX-LIST-ITEM-FIELDS", "V2-INDEX-COUNTS-SUM", "V2-INDEX-TIMESTAMPS")
def test_index_list_items_as_read(history, history_listing):
    """The readings: the item names its service (service or serviceName, E6), totalCount is the sum (E9), the
    times are in order (E212)."""
    ex = history_listing
    for it in checks.success(ex)["items"]:
        checks.that(
            ex,
            it.get("serviceName", it.get("service")) == history.service,
            "every item names its service (service or serviceName, E6)",
        )
        checks.that(
            ex, it["totalCount"] == sum(it[f"{k}Count"] for k in h.COUNT_KINDS), "totalCount is the sum (E9)"
        )
        checks.that(
            ex, 0 < it["requestedTime"] <= it["startTime"] <= it["finishTime"], "times in order (E212)"
        )


@pytest.mark.req("V2-INDEX-LIST-PAGING", "V2-INDEX-LIST-TOTAL", "V2-INDEX-LIST-START", "V2-INDEX-LIST-LIMIT")
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start=st.integers(0, 7),
    limit=st.integers(1, 6),
    order=st.sampled_from(["requestedTime:asc", "totalCount:desc"]),
)
def test_index_list_paging_windows(v2, history, start, limit, order):
    everything = ids(listing(v2, history.service, start=0, limit=LIMIT.max, order=order))
    ex = listing(v2, history.service, start=start, limit=limit, order=order)
    checks.that(
        ex, checks.success(ex)["total"] == len(history.expected), "total does not depend on start and limit"
    )
    checks.that(
        ex,
        ids(ex) == everything[start : start + limit],
        f"the page holds entries {start + 1}..{start + limit} of the ordered list {everything}",
    )


@pytest.mark.req("V2-INDEX-LIST-PAGING")
def test_index_list_pages_neither_overlap_nor_skip(v2, history):
    for order in ("requestedTime:desc", "addedCount:asc", "failedCount:desc"):
        pages = [ids(listing(v2, history.service, start=s, limit=2, order=order)) for s in range(0, 6, 2)]
        joined = [i for page in pages for i in page]
        checks.that(
            v2.history[-1],
            sorted(joined) == sorted(history.expected) and len(joined) == len(set(joined)),
            f"pages of 2 under {order} cover every index once: {pages}",
        )


@pytest.mark.parametrize("field", ORDER_FIELDS)
@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.req("V2-INDEX-LIST-ORDER")
def test_index_list_order(v2, history, field, direction):
    ex = listing(v2, history.service, start=0, limit=LIMIT.max, order=f"{field}:{direction}")
    values = [it[field] for it in checks.success(ex)["items"]]
    checks.that(
        ex, values == sorted(values, reverse=direction == "desc"), f"items sorted by {field} {direction}"
    )
    if field in TIME_FIELDS:
        checks.that(ex, len(set(values)) == len(values), f"the indexes ran over a second apart: {field} {values}")
        in_order = list(history.expected) if direction == "asc" else list(history.expected)[::-1]
        checks.that(ex, ids(ex) == in_order, f"{field}:{direction} lists the indexes in (reverse) request order")


@pytest.mark.req("V2-INDEX-LIST-ORDER-DEFAULT")
def test_index_list_default_order(v2, history):
    ex = listing(v2, history.service, start=0, limit=LIMIT.max)
    times = [it["requestedTime"] for it in checks.success(ex)["items"]]
    checks.that(
        ex, times == sorted(times, reverse=True), f"without order: requestedTime descending ({times})"
    )
    checks.that(ex, ids(ex) == list(history.expected)[::-1], "without order: the newest index first")


@pytest.mark.req("V2-INDEX-LIST-ORDER-INVALID")
@pytest.mark.parametrize(
    "order",
    [
        "requestedTime",
        "requestedTime:up",
        "name:asc",
        "reservedTime:asc",
        ":asc",
        "requestedTime:asc:x",
        "REQUESTEDTIME:asc",
    ],
)
def test_index_list_order_invalid(v2, history, order):
    checks.error(listing(v2, history.service, start=0, limit=10, order=order), INVALID)


@pytest.mark.req("V2-INDEX-LIST-STATUSES")
@pytest.mark.parametrize(
    "wanted", [["failed"], ["finished"], ["finished", "failed"], ["running", "reserved"]]
)
def test_index_list_statuses_filter(v2, history, wanted):
    ex = listing(v2, history.service, start=0, limit=LIMIT.max, **{STATUSES_PARAM: ",".join(wanted)})
    data = checks.success(ex)
    expected = sorted(i for i, s in history.statuses.items() if s in wanted)
    checks.that(ex, sorted(ids(ex)) == expected, f"statuses={','.join(wanted)} returns exactly {expected}")
    checks.that(ex, data["total"] == len(expected), "total counts the indexes matching the filter")


@pytest.mark.req("V2-INDEX-LIST-STATUS-VALUES")
def test_index_list_status_values(v2, history):
    for status in STATUSES:
        checks.success(listing(v2, history.service, start=0, limit=10, **{STATUSES_PARAM: status}))
    for bad in ("done", "FINISHED", "finished,done", ""):
        checks.error(listing(v2, history.service, start=0, limit=10, **{STATUSES_PARAM: bad}), INVALID)


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"start": START.min, "limit": LIMIT.min},
                     marks=pytest.mark.req("V2-INDEX-LIST-START", "V2-INDEX-LIST-LIMIT"), id="start-0-limit-1"),
        pytest.param({"start": 0, "limit": LIMIT.max},
                     marks=pytest.mark.req("V2-INDEX-LIST-START", "V2-INDEX-LIST-LIMIT"), id="start-0-limit-100"),
        pytest.param({"start": WINDOW - LIMIT.max, "limit": LIMIT.max},
                     marks=pytest.mark.req("V2-INDEX-LIST-WINDOW"), id="window-900+100"),
        pytest.param({"start": WINDOW - 1, "limit": 1},
                     marks=pytest.mark.req("V2-INDEX-LIST-WINDOW"), id="window-999+1"),
    ],
)
def test_index_list_paging_accepted(v2, history, params):
    checks.success(listing(v2, history.service, **params))


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"limit": 10}, marks=pytest.mark.req(*START_REFUSED), id="start-missing"),
        pytest.param({"start": -1, "limit": 10}, marks=pytest.mark.req(*START_REFUSED), id="start-negative"),
        pytest.param({"start": "x", "limit": 10}, marks=pytest.mark.req(*START_REFUSED), id="start-text"),
        pytest.param({"start": 0}, marks=pytest.mark.req(*LIMIT_REFUSED), id="limit-missing"),
        pytest.param({"start": 0, "limit": LIMIT.min - 1}, marks=pytest.mark.req(*LIMIT_REFUSED), id="limit-0"),
        pytest.param({"start": 0, "limit": LIMIT.max + 1}, marks=pytest.mark.req(*LIMIT_REFUSED), id="limit-101"),
        pytest.param(
            {"start": WINDOW - LIMIT.max + 1, "limit": LIMIT.max},
            marks=pytest.mark.req("V2-INDEX-LIST-WINDOW"),
            id="window-901+100",
        ),
        pytest.param(
            {"start": WINDOW, "limit": 1}, marks=pytest.mark.req("V2-INDEX-LIST-WINDOW"), id="window-1000+1"
        ),
    ],
)
def test_index_list_paging_refused(v2, history, params):
    checks.error(listing(v2, history.service, **params), INVALID)


@pytest.fixture(scope="module")
def history_details(v2, history, history_listing):
    """(list entry, index.get exchange) of every history index (the detail tests share them)."""
    listed = {it["id"]: it for it in checks.success(history_listing)["items"]}
    return {
        index_id: (listed.get(index_id),
                   v2.call("index.get", path={"serviceName": history.service, "indexId": index_id}))
        for index_id in history.expected
    }


@pytest.mark.req("V2-INDEX-GET-FIELDS", "V2-INDEX-GET-MATCHES-LIST")
def test_index_get_matches_list(history, history_details):
    for index_id, (entry, ex) in history_details.items():
        data = checks.success(ex)
        detail = next((it for it in data["items"] if it.get("id") == index_id), None)
        checks.that(ex, detail is not None, f"the detail holds the requested index {index_id}")
        checks.that(ex, detail["serviceName"] == history.service, "the detail names its service")
        checks.that(ex, entry is not None, f"{index_id} is in the list")
        for f in SHARED:
            checks.that(
                ex, detail[f] == entry[f], f"detail and list agree on {f}: {detail[f]!r} vs {entry[f]!r}"
            )
        for kind in h.COUNT_KINDS:
            checks.that(ex, isinstance(detail[f"{kind}ProductIds"], list), f"the detail has {kind}ProductIds")


@pytest.mark.req("V2-INDEX-GET-ONE-ITEM", "V2-INDEX-COUNTS-LISTS")
def test_index_get_one_item_with_count_lists(history, history_details):
    """The readings: the detail holds exactly the requested index (E8); each count is the length of its id list
    and the lists name the right products (E9)."""
    for index_id, (_, ex) in history_details.items():
        data = checks.success(ex)
        checks.that(
            ex,
            len(data["items"]) == 1 and data["items"][0]["id"] == index_id,
            "the detail holds exactly the requested index (E8)",
        )
        detail = data["items"][0]
        counts = history.expected[index_id]
        for kind in h.COUNT_KINDS:
            checks.that(
                ex,
                sorted(detail[f"{kind}ProductIds"]) == sorted(counts.get(kind, ())),
                f"{kind}ProductIds names {sorted(counts.get(kind, ()))}",
            )
            checks.that(
                ex,
                detail[f"{kind}Count"] == len(detail[f"{kind}ProductIds"]),
                f"{kind}Count equals the length of its id list (E9)",
            )


@pytest.mark.req("V2-INDEX-GET-NOT-FOUND-INDEX-40090")
def test_index_get_unknown_id(v2, history, catalog):
    checks.error(
        v2.call("index.get", path={"serviceName": history.service, "indexId": str(uuid.uuid4())}),
        NOT_FOUND_INDEX,
    )
    checks.error(
        v2.call("index.get", path={"serviceName": history.service, "indexId": catalog.index_id}),
        NOT_FOUND_INDEX,
    )
    theirs = next(iter(history.expected))
    checks.error(
        v2.call("index.get", path={"serviceName": catalog.service, "indexId": theirs}), NOT_FOUND_INDEX
    )


@pytest.mark.req("V2-INDEX-GET-INVALID-40000")
@pytest.mark.parametrize("index_id", ["not an id", "x" * 300, "../indexes", "%00"])
def test_index_get_malformed_id(v2, history, index_id):
    ex = v2.call("index.get", path={"serviceName": history.service, "indexId": index_id})
    h.expect_code_in(ex, [INVALID, NOT_FOUND_INDEX], "a malformed indexId: -40000 or -40090")
