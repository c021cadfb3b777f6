"""AI Fashion Maker v1.0 index status list: fields, times, paging window, order, status filter, errors; checked
against a service whose four index requests the suite made itself (fixture `history`)."""

from __future__ import annotations

import maker_kit as mk
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fashion_conformance import checks

CODE = mk.CODE
LIMIT = mk.limit("index.list.limit")
WINDOW = mk.limit("index.list.window").value
ORDER_FIELDS = mk.limit("index.list.order_fields").value
DIRECTIONS = mk.limit("index.list.order_directions").value
DEFAULT_FIELD, _, DEFAULT_DIRECTION = mk.limit("index.list.order_default").value.partition(":")
COUNTS = ("addCnt", "failCnt", "deleteCnt", "updateCnt", "totalCnt")
TIMES = ("reservedTime", "startTime", "finishTime")
HYPO = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _list(maker, service: str, **params):
    return maker.call("index.list", path={"serviceID": service}, params=params)


def _items(ex) -> list[dict]:
    return checks.success(ex)["items"]


@pytest.mark.req("MAKER-INDEX-LIST-FIELDS", "MAKER-INDEX-LIST-SERVICE", "MAKER-INDEX-ACCEPTED")
def test_index_list_fields(maker, history):
    ex = _list(maker, history.service, start=0, limit=LIMIT.max)
    data = checks.success(ex)
    checks.that(ex, data["total"] == len(history.ids), f"total must count the service's {len(history.ids)} indexes")
    checks.that(ex, sorted(it["id"] for it in data["items"]) == sorted(history.ids),
                "exactly the index requests of this service must be listed")
    for item in data["items"]:
        checks.that(ex, item["service"] == history.service, f"item {item['id']}: service must be the path's ID")
        for name in ("id", "filename", "status"):
            checks.that(ex, isinstance(item[name], str), f"item {item['id']}: {name} must be a string")
        checks.that(ex, all(type(item[c]) is int and item[c] >= 0 for c in COUNTS + TIMES),
                    f"item {item['id']}: counts and times must be non-negative integers")
        expected = history.expected[history.ids.index(item["id"])]
        checks.that(ex, {k: item[k] for k in expected} == expected, f"item {item['id']}: expected {expected}")


@pytest.mark.req("MAKER-INDEX-LIST-TIMES", "MAKER-INDEX-COUNTS-SUM")
def test_index_list_ended_counts_and_times(maker, history):
    """E108: totalCnt is the sum of the four counts; E106: times of an ended index are set and in order."""
    ex = _list(maker, history.service, start=0, limit=LIMIT.max)
    for item in checks.success(ex)["items"]:
        checks.that(ex, item["totalCnt"] == sum(item[c] for c in COUNTS[:-1]),
                    f"item {item['id']}: totalCnt must equal addCnt + failCnt + deleteCnt + updateCnt (E108)")
        times = [item[t] for t in TIMES if item[t]]
        checks.that(ex, times == sorted(times), f"item {item['id']}: reservedTime <= startTime <= finishTime")
        checks.that(ex, item["startTime"] > 0 and item["finishTime"] > 0,
                    f"item {item['id']} has ended: startTime and finishTime must be set (E106)")


@pytest.mark.req("MAKER-INDEX-LIST-SERVICE")
def test_index_list_other_service(maker, history, idle_service):
    ex = _list(maker, idle_service, start=0, limit=LIMIT.max)
    checks.that(ex, checks.success(ex)["total"] == 0 and _items(ex) == [],
                "a never-indexed service ID lists no index request (not those of another service)")


@pytest.mark.req("MAKER-INDEX-LIST-PAGING", "MAKER-INDEX-LIST-LIMIT-RANGE", "MAKER-INDEX-LIST-START-RANGE")
@HYPO
@given(start=st.integers(0, 6), limit=st.integers(LIMIT.min, 5))
def test_index_list_paging(maker, history, start, limit):
    full = _items(_list(maker, history.service, start=0, limit=LIMIT.max, order="totalCnt:asc"))
    ex = _list(maker, history.service, start=start, limit=limit, order="totalCnt:asc")
    data = checks.success(ex)
    checks.that(ex, data["total"] == len(full), "total counts every matching index request, not the page")
    checks.that(ex, [it["id"] for it in data["items"]] == [it["id"] for it in full[start:start + limit]],
                f"the page must hold positions {start + 1}..{start + limit} of the ordered list")


@pytest.mark.parametrize("start, limit", [
    pytest.param(0, LIMIT.min, marks=pytest.mark.req("MAKER-INDEX-LIST-LIMIT-RANGE", "MAKER-INDEX-LIST-START-RANGE")),
    pytest.param(0, LIMIT.max, marks=pytest.mark.req("MAKER-INDEX-LIST-LIMIT-RANGE", "MAKER-INDEX-LIST-START-RANGE")),
    pytest.param(WINDOW - LIMIT.max, LIMIT.max, marks=pytest.mark.req("MAKER-INDEX-LIST-WINDOW")),
    pytest.param(WINDOW - 1, 1, marks=pytest.mark.req("MAKER-INDEX-LIST-WINDOW")),
])
def test_index_list_window_valid(maker, history, start, limit):
    ex = _list(maker, history.service, start=start, limit=limit)
    data = checks.success(ex)
    checks.that(ex, len(data["items"]) == min(limit, max(0, len(history.ids) - start)), "page size")


@pytest.mark.parametrize("start, limit", [
    pytest.param(0, LIMIT.min - 1, marks=pytest.mark.req("MAKER-INDEX-LIST-LIMIT-RANGE")),
    pytest.param(0, LIMIT.max + 1, marks=pytest.mark.req("MAKER-INDEX-LIST-LIMIT-RANGE")),
    pytest.param(0, -1, marks=pytest.mark.req("MAKER-INDEX-LIST-LIMIT-RANGE")),
    pytest.param(0, "ten", marks=pytest.mark.req("MAKER-INDEX-LIST-LIMIT-RANGE")),
    pytest.param(-1, 10, marks=pytest.mark.req("MAKER-INDEX-LIST-START-RANGE")),
    pytest.param("first", 10, marks=pytest.mark.req("MAKER-INDEX-LIST-START-RANGE")),
    pytest.param(WINDOW - LIMIT.max + 1, LIMIT.max, marks=pytest.mark.req("MAKER-INDEX-LIST-WINDOW")),
    pytest.param(WINDOW, 1, marks=pytest.mark.req("MAKER-INDEX-LIST-WINDOW")),
])
def test_index_list_window_invalid(maker, history, start, limit):
    checks.error(_list(maker, history.service, start=start, limit=limit), CODE["InvalidParam"])


@pytest.mark.parametrize("params", [{"start": 0}, {"limit": 10}, {}])
@pytest.mark.req("MAKER-INDEX-LIST-INVALID-40000")
def test_index_list_missing_paging(maker, history, params):
    checks.error(_list(maker, history.service, **params), CODE["InvalidParam"])


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("field", ORDER_FIELDS)
@pytest.mark.req("MAKER-INDEX-LIST-ORDER")
def test_index_list_order(maker, history, field, direction):
    ex = _list(maker, history.service, start=0, limit=LIMIT.max, order=f"{field}:{direction}")
    values = [it[field] for it in _items(ex)]
    checks.that(ex, len(values) == len(history.ids) and values == sorted(values, reverse=direction == "desc"),
                f"items must be sorted by {field} {direction}: {values}")
    if field in TIMES:
        checks.that(ex, len(set(values)) == len(values),
                    f"the history's jobs ran more than a second apart: their {field} values differ: {values}")
        in_order = history.ids if direction == "asc" else history.ids[::-1]
        checks.that(ex, [it["id"] for it in _items(ex)] == in_order,
                    f"{field}:{direction} lists the jobs in {'request' if direction == 'asc' else 'reverse'} order")


@pytest.mark.req("MAKER-INDEX-LIST-ORDER")
def test_index_list_order_distinct_totals(maker, history):
    ex = _list(maker, history.service, start=0, limit=LIMIT.max, order="totalCnt:desc")
    by_total = sorted(history.ids, key=lambda i: -history.expected[history.ids.index(i)]["totalCnt"])
    checks.that(ex, [it["id"] for it in _items(ex)] == by_total, "distinct totalCnt values fix the order")


@pytest.mark.req("MAKER-INDEX-LIST-ORDER-DEFAULT")
def test_index_list_order_default(maker, history):
    ex = _list(maker, history.service, start=0, limit=LIMIT.max)
    values = [it[DEFAULT_FIELD] for it in _items(ex)]
    checks.that(ex, values == sorted(values, reverse=DEFAULT_DIRECTION == "desc"),
                f"without order the items must be sorted by {DEFAULT_FIELD} {DEFAULT_DIRECTION}: {values}")
    in_order = history.ids if DEFAULT_DIRECTION == "asc" else history.ids[::-1]
    checks.that(ex, [it["id"] for it in _items(ex)] == in_order,
                f"the jobs ran more than a second apart: {DEFAULT_FIELD} {DEFAULT_DIRECTION} fixes their order")


@pytest.mark.parametrize("order", ["name:asc", "totalCnt:up", "totalCnt", "totalCnt:asc,addCnt:desc",
                                   "totalcnt:asc", ":asc", "totalCnt:"])
@pytest.mark.req("MAKER-INDEX-LIST-ORDER-INVALID")
def test_index_list_order_invalid(maker, history, order):
    checks.error(_list(maker, history.service, start=0, limit=10, order=order), CODE["InvalidParam"])


@pytest.mark.parametrize("status", mk.STATUSES)
@pytest.mark.req("MAKER-INDEX-LIST-STATUS-FILTER")
def test_index_list_status_filter(maker, history, status):
    ex = _list(maker, history.service, start=0, limit=LIMIT.max, status=status)
    data = checks.success(ex)
    expected = sorted(i for i, e in zip(history.ids, history.expected, strict=True) if e["status"] == status)
    checks.that(ex, sorted(it["id"] for it in data["items"]) == expected and data["total"] == len(expected),
                f"status={status}: exactly the {len(expected)} index requests in that status, counted by total")


@pytest.mark.parametrize("status", ["done", "FINISHED", "finished,failed", "waiting"])
@pytest.mark.req("MAKER-INDEX-LIST-STATUS-INVALID")
def test_index_list_status_invalid(maker, history, status):
    checks.error(_list(maker, history.service, start=0, limit=10, status=status), CODE["InvalidParam"])


@pytest.mark.parametrize("method, suffix", [("POST", ""), ("DELETE", ""), ("GET", "/{index}")])
@pytest.mark.req("MAKER-INDEX-LIST-NO-API-40400", "MAKER-INDEX-LIST-URL-NOT-FOUND-4041007")
def test_index_list_undefined_api(maker, history, method, suffix):
    path = maker.path("index.list", serviceID=history.service) + suffix.format(index=history.ids[0])
    mk.no_api(maker.call("index.list", method=method, raw_path=path, params={"start": 0, "limit": 10}))


@pytest.mark.req("MAKER-INDEX-LIST-UNAUTHORIZED-41000")
def test_index_list_unauthorized(bad_maker, history):
    checks.error(_list(bad_maker, history.service, start=0, limit=10), CODE["UnauthorizedAppKey"])


@pytest.mark.req("MAKER-INDEX-LIST-SERVICE-42000")
def test_index_list_unknown_service(maker, services):
    checks.error(_list(maker, services.name("nosuch"), start=0, limit=10), CODE["NotExistServiceID"])
