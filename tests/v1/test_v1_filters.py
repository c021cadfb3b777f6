"""AI Fashion v1.0 search filters (filter.category1_id ... filter.s2), checked against a catalog the suite indexed:
filters.matches over the known product fields is the oracle (semantics of E10/E102)."""

from __future__ import annotations

import pytest
import v1_kit as kit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fashion_conformance import checks, filters

CODE = kit.CODE
LIMIT = kit.limit("search.limit").max
SEARCHES = ["search.product", "search.image"]
ABSENT = "absent"  # a value no catalog product has
LIST_ORDERS = ("other-first", "query-first", "absent-first")
HYPO = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def filtered(search):
    """filtered(endpoint, [(name, value), ...]) -> (exchange, answered product IDs)."""
    def call(endpoint: str, pairs: list[tuple[str, str]]):
        ex = search(endpoint, [("limit", str(LIMIT)), *pairs])
        return ex, [it["productID"] for it in checks.success(ex)["items"]]
    return call


def _agrees(ex, found: list[str], catalog: kit.Catalog, clauses: list[filters.Clause]) -> None:
    """Every answered product matches; when some catalog product matches, the answer is not empty; and a search by
    the link of the query product's own image returns that product (its best match) whenever the filter admits it."""
    wrong = [pid for pid in found if not filters.matches(clauses, catalog.records.get(pid, {}))]
    checks.that(ex, not wrong, f"products {wrong} do not satisfy the filter {[c.render() for c in clauses]}")
    expected = [pid for pid, rec in catalog.records.items() if filters.matches(clauses, rec)]
    checks.that(ex, bool(found) or not expected,
                f"{len(expected)} catalog products satisfy the filter, but none was answered")
    if ex.endpoint == "search.image" and catalog.query_id in expected:
        checks.that(ex, catalog.query_id in found,
                    f"the filter admits {catalog.query_id}, the best match of its own image's link, "
                    "so it must be answered")


def _list_values(catalog: kit.Catalog, name: str, order: str) -> tuple[str, ...]:
    """A value list for field `name` holding the query product's value q: after another catalog value o
    ("other-first"), before it ("query-first"), or after a value no product has ("absent-first")."""
    q = catalog.records[catalog.query_id][name]
    o = next((v for v in catalog.values(name) if v != q), None)
    if not q or o is None:
        pytest.skip(f"the catalog holds no two {name} values (the query product's and another)")
    return {"other-first": (o, q), "query-first": (q, o), "absent-first": (ABSENT, q)}[order]


@st.composite
def clause_sets(draw, catalog: kit.Catalog, *, reading: bool) -> list[filters.Clause]:
    """As the text has it (reading False): one field, equal with one or more values or !equal with one; with the
    readings (True): two or three fields (E10 AND), a !equal clause may list several values."""
    fields = draw(st.lists(st.sampled_from(kit.FILTER_FIELDS), min_size=2 if reading else 1,
                           max_size=3 if reading else 1, unique=True))
    out = []
    for name in fields:
        pool = [*catalog.values(name), ABSENT]
        negate = draw(st.booleans())
        values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=2 if reading or not negate else 1,
                               unique=True))
        out.append(filters.Clause(name, negate, tuple(values)))
    return out


def _generated(filtered, catalog, data, reading: bool) -> None:
    clauses = data.draw(clause_sets(catalog, reading=reading))
    for endpoint in SEARCHES:
        ex, found = filtered(endpoint, [c.render() for c in clauses])
        _agrees(ex, found, catalog, clauses)


@pytest.mark.req("V1-SEARCH-FILTER-FIELDS", "V1-SEARCH-FILTER-EQUAL", "V1-SEARCH-FILTER-EQUAL-LIST",
                 "V1-SEARCH-FILTER-NOT-EQUAL")
@HYPO
@given(data=st.data())
def test_search_filter_generated(filtered, catalog, data):
    _generated(filtered, catalog, data, reading=False)


@pytest.mark.req("V1-SEARCH-FILTER-NOT-EQUAL-LIST", "V1-SEARCH-FILTER-AND")
@HYPO
@given(data=st.data())
def test_search_filter_generated_combined(filtered, catalog, data):
    """The readings: several filter parameters all hold (AND), !equal:a,b excludes every listed value."""
    _generated(filtered, catalog, data, reading=True)


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.parametrize("field", kit.FILTER_FIELDS)
@pytest.mark.req("V1-SEARCH-FILTER-FIELDS", "V1-SEARCH-FILTER-EQUAL", "V1-SEARCH-FILTER-NOT-EQUAL")
def test_search_filter_each_field(filtered, catalog, endpoint, field):
    if not catalog.values(field):
        pytest.skip(f"no product of the catalog has a {field} value")
    value = catalog.values(field)[0]
    for negate in (False, True):
        clause = filters.Clause(field, negate, (value,))
        ex, found = filtered(endpoint, [clause.render()])
        _agrees(ex, found, catalog, [clause])


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.req("V1-SEARCH-FILTER-DEFAULT-OPERATOR", "V1-SEARCH-FILTER-EQUAL-LIST")
def test_search_filter_default_operator(filtered, catalog, endpoint):
    name = "category2_id"
    if not catalog.values(name):
        pytest.skip(f"no product of the catalog has a {name} value")
    for values in ([catalog.values(name)[0]], catalog.values(name)[:2]):
        joined = ",".join(values)
        ex, bare = filtered(endpoint, [(f"{filters.PREFIX}{name}", joined)])
        _agrees(ex, bare, catalog, [filters.Clause(name, False, tuple(values))])
        ex, explicit = filtered(endpoint, [(f"{filters.PREFIX}{name}", f"equal:{joined}")])
        checks.that(ex, sorted(bare) == sorted(explicit),
                    f"filter value {joined!r} must answer the same products as 'equal:{joined}'")


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.req("V1-SEARCH-FILTER-NOT-EQUAL-LIST")
def test_search_filter_not_equal_list(filtered, catalog, endpoint):
    name = "s1"
    if len(catalog.values(name)) < 3:
        pytest.skip(f"the catalog holds fewer than three {name} values (two to exclude, one to find)")
    excluded = catalog.values(name)[:2]
    clause = filters.Clause(name, True, tuple(excluded))
    ex, found = filtered(endpoint, [clause.render()])
    _agrees(ex, found, catalog, [clause])
    checks.that(ex, bool(found), f"products whose {name} is none of {excluded} exist and must be found")


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.parametrize("bare", [False, True], ids=["equal", "bare"])
@pytest.mark.parametrize("name", ["s1", "category2_id"])
@pytest.mark.parametrize("order", LIST_ORDERS)
@pytest.mark.req("V1-SEARCH-FILTER-EQUAL-LIST", "V1-SEARCH-FILTER-DEFAULT-OPERATOR")
def test_search_filter_equal_list_each_value(filtered, catalog, endpoint, bare, name, order):
    """Every value of an equal list applies, whatever its place (E10): a server reading only the first or the
    last value misses the query product or answers nothing."""
    clause = filters.Clause(name, False, _list_values(catalog, name, order))
    key, value = clause.render()
    ex, found = filtered(endpoint, [(key, value.removeprefix("equal:") if bare else value)])
    _agrees(ex, found, catalog, [clause])


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.parametrize("name", ["s1", "category2_id"])
@pytest.mark.parametrize("order", LIST_ORDERS)
@pytest.mark.req("V1-SEARCH-FILTER-NOT-EQUAL-LIST")
def test_search_filter_not_equal_list_each_value(filtered, catalog, endpoint, name, order):
    """Every value of a !equal list is excluded, whatever its place (E10)."""
    clause = filters.Clause(name, True, _list_values(catalog, name, order))
    ex, found = filtered(endpoint, [clause.render()])
    _agrees(ex, found, catalog, [clause])


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.req("V1-SEARCH-FILTER-AND")
def test_search_filter_and(filtered, catalog, endpoint):
    clauses = [filters.Clause("category1_id", False, ("top",)), filters.Clause("s2", True, ("y",))]
    ex, found = filtered(endpoint, [c.render() for c in clauses])
    _agrees(ex, found, catalog, clauses)


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.parametrize("name, value", [
    ("filter.name", "equal:x"),  # not a filter field
    ("filter.category1Id", "equal:top"),  # v2's spelling, not v1's
    ("filter.category1_id", "like:top"),  # unknown operator
    ("filter.category1_id", ""),  # empty value
    ("filter.category1_id", "equal:"),  # empty value after the operator
    ("filter.s1", "red,"),  # an empty value in the list
])
@pytest.mark.req("V1-SEARCH-FILTER-INVALID")
def test_search_filter_invalid(search, endpoint, name, value):
    checks.error(search(endpoint, {"limit": 10, name: value}), CODE["InvalidParam"])
