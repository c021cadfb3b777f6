"""v2 services: create, list, get, delete; the name rule; the quota of 5; duplicates and unknown names.

Source: nhn-ai-fashion-v2.0-api-guide.ko.txt / 서비스 관리 (errata E3, E4, E5).
"""

from __future__ import annotations

import random
import re
import string
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fashion_conformance import checks

from . import helpers as h

pytestmark = pytest.mark.destructive

NAME_RE = re.compile(h.lim("service.name_pattern").value)
NAME_MIN, NAME_MAX = h.lim("service.name_length").min, h.lim("service.name_length").max
MAX_SERVICES = h.lim("service.max_per_appkey").value
INVALID, NOT_EXIST = h.code("InvalidParam"), h.code("NotExistService")
DUPLICATE, QUOTA = h.code("DuplicateServiceName"), h.code("ServiceQuotaExceededException")
TAIL = string.ascii_lowercase + string.digits + "-_"
HYPO = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def listed(v2) -> dict[str, dict]:
    ex = v2.call("service.list")
    data = checks.success(ex)
    return {it["serviceName"]: it for it in data["items"]}


def create(v2, name: str):
    return v2.call("service.create", json={"serviceName": name})


def delete(v2, name: str):
    return v2.call("service.delete", path={"serviceName": name})


def refused_and_absent(v2, name: str) -> None:
    ex = create(v2, name)
    if ex.header.get("isSuccessful") is True:  # do not leave it behind, then report
        delete(v2, name)
    checks.error(ex, INVALID)
    checks.that(ex, name not in listed(v2), f"a refused name ({name!r}) creates no service")


@pytest.mark.req(
    "V2-SERVICE-CREATE-VISIBLE",
    "V2-SERVICE-NAME-ACCEPTED",
    "V2-SERVICE-CREATE-BODY",
    "V2-SERVICE-LIST-FIELDS",
    "V2-SERVICE-GET-FIELDS",
    "V2-SERVICE-LIST-SAME-AS-GET",
    "V2-SERVICE-LIST-COMPLETE",
    "V2-SERVICE-DELETE-REMOVES",
)
def test_service_create_visible_in_list_and_get_then_deleted(v2, services):
    """서비스 관리: a created service is listed once and looked up with documentCount 0, list and lookup agree; once
    deleted it is no longer listed and a search in it answers -42000 (the lookup's -42000 rests on E5)."""
    name = services.name("vis")
    checks.success(create(v2, name))
    services.track(v2, name)
    ex_list = v2.call("service.list")
    data = checks.success(ex_list)
    names = [it["serviceName"] for it in data["items"]]
    checks.that(ex_list, names.count(name) == 1, f"the new service {name} appears once in the list")
    checks.that(ex_list, len(set(names)) == len(names), "each service name appears once")
    checks.that(
        ex_list, len(names) <= MAX_SERVICES, f"the list never shows more than {MAX_SERVICES} services"
    )
    item = next(it for it in data["items"] if it["serviceName"] == name)
    checks.that(ex_list, int(item["documentCount"]) == 0, "a new service has documentCount 0")
    ex_get = v2.call("service.get", path={"serviceName": name})
    got = checks.success(ex_get)
    checks.that(ex_get, got["serviceName"] == name, "the lookup names the requested service")
    checks.that(ex_get, int(got["documentCount"]) == 0, "a new service has documentCount 0")
    checks.that(
        ex_get,
        int(got["documentCount"]) == int(item["documentCount"])
        and got["remainInsertCount"] == item.get("remainInsertCount", got["remainInsertCount"]),
        f"list and lookup agree on documentCount and remainInsertCount (list item: {item})",
    )
    checks.success(delete(v2, name))
    ex_list = v2.call("service.list")
    checks.that(
        ex_list,
        name not in [it["serviceName"] for it in checks.success(ex_list)["items"]],
        "a deleted service disappears from the list",
    )
    checks.error(
        v2.call("search.product", path={"serviceName": name, "productId": "p0"}, params={"limit": 1}),
        NOT_EXIST,
    )


def _list_total(v2, name: str) -> None:
    ex = v2.call("service.list")
    data = checks.success(ex)
    checks.that(ex, data["totalCount"] == len(data["items"]), "totalCount equals the number of items")


def _remain_insert_count(v2, name: str) -> None:
    ex = v2.call("service.list")
    for it in checks.success(ex)["items"]:
        checks.that(ex, "remainInsertCount" in it, "every list item carries remainInsertCount (E3)")
    ex = v2.call("service.get", path={"serviceName": name})
    remain = checks.success(ex)["remainInsertCount"]
    top = h.lim("index.max_docs_per_service").value
    checks.that(ex, isinstance(remain, int) and 0 <= remain <= top,
                f"remainInsertCount is an integer in 0..{top} (E4), got {remain!r}")


def _document_count_type(v2, name: str) -> None:
    ex = v2.call("service.list")
    counts = [it["documentCount"] for it in checks.success(ex)["items"]]
    ex_get = v2.call("service.get", path={"serviceName": name})
    counts.append(checks.success(ex_get)["documentCount"])
    checks.that(ex_get, all((isinstance(c, int) and not isinstance(c, bool)) or (isinstance(c, str) and c.isdigit())
                            for c in counts), f"documentCount is an integer or a digit string (E3): {counts}")


@pytest.mark.parametrize("check", [
    pytest.param(_list_total, marks=pytest.mark.req("V2-SERVICE-LIST-TOTAL-COUNT"), id="totalCount"),
    pytest.param(_remain_insert_count, marks=pytest.mark.req("V2-SERVICE-REMAIN-INSERT-COUNT"), id="remainInsertCount"),
    pytest.param(_document_count_type, marks=pytest.mark.req("V2-SERVICE-DOCUMENT-COUNT-TYPE"), id="documentCount"),
])
def test_service_list_and_get_counts_as_read(v2, fresh_service, check):
    """The readings of the service tables: totalCount counts the items, remainInsertCount in the list as well
    (E3, E4), documentCount a number or a digit string (E3)."""
    check(v2, fresh_service)


@pytest.mark.req("V2-SERVICE-GET-NOT-EXIST-42000")
def test_service_get_deleted_is_42000(v2, services):
    """E5: the lookup's table leaves -42000 out; a deleted service is looked up with the API-wide -42000."""
    name = services.name("gone")
    checks.success(create(v2, name))
    services.track(v2, name)
    checks.success(delete(v2, name))
    checks.error(v2.call("service.get", path={"serviceName": name}), NOT_EXIST)


@pytest.mark.req("V2-SERVICE-NAME-LENGTH", "V2-SERVICE-NAME-ACCEPTED")
@pytest.mark.parametrize("length", [NAME_MIN, NAME_MAX])
def test_service_create_boundary_length_accepted(v2, services, run_prefix, length):
    existing = set(listed(v2))
    rng = random.Random()
    for _ in range(20):
        base = run_prefix if length >= len(run_prefix) + 1 else rng.choice(string.ascii_lowercase)
        name = (base + "".join(rng.choice(TAIL) for _ in range(length)))[:length]
        if name not in existing:
            break
    assert NAME_RE.fullmatch(name) and len(name) == length
    ex = create(v2, name)
    checks.success(ex)
    services.track(v2, name)
    checks.success(delete(v2, name))


@pytest.mark.req("V2-SERVICE-NAME-ACCEPTED", "V2-SERVICE-NAME-CHARSET")
@HYPO
@given(tail=st.text(alphabet=TAIL, min_size=1, max_size=NAME_MAX - 10))
def test_service_create_valid_names_accepted(v2, services, run_prefix, tail):
    name = f"{run_prefix}-{tail}"[:NAME_MAX]
    assert NAME_RE.fullmatch(name)
    ex = create(v2, name)
    checks.success(ex)
    services.track(v2, name)
    checks.success(delete(v2, name))


@pytest.mark.req("V2-SERVICE-NAME-FIRST-CHAR", "V2-SERVICE-CREATE-INVALID-40000")
@HYPO
@given(
    first=st.sampled_from(string.digits + "-_" + string.ascii_uppercase),
    tail=st.text(alphabet=TAIL, min_size=1, max_size=8),
)
def test_service_create_bad_first_char_refused(v2, first, tail):
    refused_and_absent(v2, first + tail)


@pytest.mark.req("V2-SERVICE-NAME-CHARSET", "V2-SERVICE-CREATE-INVALID-40000")
@HYPO
@given(
    bad=st.characters(blacklist_characters=TAIL, blacklist_categories=["Cs"]),
    head=st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=6),
    tail=st.text(alphabet=TAIL, max_size=6),
)
def test_service_create_bad_char_refused(v2, bad, head, tail):
    refused_and_absent(v2, head + bad + tail)


@pytest.mark.req("V2-SERVICE-NAME-LENGTH", "V2-SERVICE-CREATE-INVALID-40000")
@pytest.mark.parametrize("length", [NAME_MIN - 1, NAME_MAX + 1, NAME_MAX + 20])
def test_service_create_bad_length_refused(v2, length):
    refused_and_absent(v2, "a" * length)


@pytest.mark.req("V2-SERVICE-CREATE-INVALID-40000", "V2-SERVICE-CREATE-BODY")
@pytest.mark.parametrize("body", [{}, {"serviceName": None}, {"name": "abc"}, {"serviceName": 12345}])
def test_service_create_body_without_name_refused(v2, body):
    checks.error(v2.call("service.create", json=body), INVALID)


@pytest.mark.req("V2-SERVICE-CREATE-DUPLICATE-42010")
def test_service_create_duplicate_refused(v2, fresh_service):
    before = listed(v2)
    checks.error(create(v2, fresh_service), DUPLICATE)
    checks.that(v2.history[-1], listed(v2) == before, "a refused duplicate changes nothing")


@pytest.mark.req("V2-SERVICE-MAX-PER-APPKEY", "V2-SERVICE-CREATE-QUOTA-42030")
def test_service_create_quota_of_five(v2, services):
    free = MAX_SERVICES - len(listed(v2))
    names = [services.name("q") for _ in range(free + 2)]
    for n in names:
        services.track(v2, n)
    created: list[str] = []
    try:
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            answers = list(pool.map(lambda n: create(v2, n), names))
        for n, ex in zip(names, answers, strict=True):
            if ex.header.get("isSuccessful") is True:
                created.append(n)
            else:
                checks.error(ex, QUOTA)
        last = answers[-1]
        checks.that(
            last,
            len(created) <= free,
            f"of {len(names)} parallel creates with {free} free slots at most "
            f"{free} succeed; {len(created)} did",
        )
        while len(created) < free:  # parallel creates may lose to each other; fill the rest one by one
            n = services.name("q")
            services.track(v2, n)
            checks.success(create(v2, n))
            created.append(n)
        checks.that(last, len(listed(v2)) == MAX_SERVICES, f"the appKey now holds {MAX_SERVICES} services")
        extra = services.name("q")
        services.track(v2, extra)
        ex = create(v2, extra)
        checks.error(ex, QUOTA)
        checks.that(
            ex,
            extra not in listed(v2) and len(listed(v2)) == MAX_SERVICES,
            f"the list never shows more than {MAX_SERVICES} services",
        )
    finally:
        for n in created:
            delete(v2, n)


@pytest.mark.req("V2-SERVICE-QUOTA-FREED")
def test_service_create_after_delete_at_quota(v2, services):
    """Our reading: the limit counts existing services, so with 5 services a delete frees a slot."""
    created: list[str] = []
    try:
        while len(listed(v2)) < MAX_SERVICES:
            checks.that(v2.history[-1], len(created) < MAX_SERVICES,  # bounded: a list that never grows ends it
                        f"after {len(created)} successful creates the service list must hold {MAX_SERVICES} services")
            n = services.name("f")
            services.track(v2, n)
            checks.success(create(v2, n))
            created.append(n)
        if not created:
            pytest.skip(f"the appKey already holds {MAX_SERVICES} services of others; none of them is deleted")
        checks.success(delete(v2, created.pop()))
        extra = services.name("f")
        services.track(v2, extra)
        checks.success(create(v2, extra))
        created.append(extra)
    finally:
        for n in created:
            delete(v2, n)


@pytest.mark.req("V2-SERVICE-GET-NOT-EXIST-42000")
def test_service_get_unknown(v2, run_prefix):
    """E5: the lookup's table leaves -42000 out; an unknown service is looked up with the API-wide -42000."""
    checks.error(v2.call("service.get", path={"serviceName": f"{run_prefix}-never"}), NOT_EXIST)


@pytest.mark.req("V2-SERVICE-DELETE-NOT-EXIST-42000")
def test_service_delete_unknown(v2, run_prefix):
    checks.error(delete(v2, f"{run_prefix}-never"), NOT_EXIST)


@pytest.mark.req("V2-SERVICE-DELETE-NOT-EXIST-42000")
def test_service_delete_twice(v2, services):
    name = services.name("twice")
    checks.success(create(v2, name))
    services.track(v2, name)
    checks.success(delete(v2, name))
    checks.error(delete(v2, name), NOT_EXIST)


@pytest.mark.req("V2-SERVICE-GET-INVALID-40000", "V2-SERVICE-DELETE-INVALID-40000")
@pytest.mark.parametrize("name", ["9starts-with-digit", "UPPER", "has.dot", "x" * (NAME_MAX + 1)])
def test_service_get_and_delete_bad_name(v2, name):
    h.expect_code_in(
        v2.call("service.get", path={"serviceName": name}),
        [INVALID, NOT_EXIST],
        "a name breaking the rule: -40000 (or -42000)",
    )
    h.expect_code_in(delete(v2, name), [INVALID, NOT_EXIST], "a name breaking the rule: -40000 (or -42000)")


@pytest.mark.req("V2-SERVICE-LIST-FIELDS", "V2-SERVICE-LIST-SAME-AS-GET", "V2-SERVICE-DOCUMENT-COUNT-VALUE")
def test_service_list_with_catalog(v2, catalog):
    """서비스 목록 조회, 서비스 조회: the catalog service is listed with documentCount the products indexed, as the
    lookup says (totalCount, the remainInsertCount range and the types: test_service_list_with_catalog_as_read)."""
    ex = v2.call("service.list")
    data = checks.success(ex)
    item = next((it for it in data["items"] if it["serviceName"] == catalog.service), None)
    checks.that(ex, item is not None, f"the catalog service {catalog.service} is listed")
    checks.that(
        ex,
        int(item["documentCount"]) == len(catalog.products),
        f"documentCount equals the {len(catalog.products)} products the suite indexed",
    )
    got = h.service_info(v2, catalog.service)
    checks.that(
        v2.history[-1],
        int(got["documentCount"]) == int(item["documentCount"])
        and got["remainInsertCount"] == item.get("remainInsertCount", got["remainInsertCount"]),
        "list and lookup agree",
    )


@pytest.mark.parametrize("check", [
    pytest.param(_list_total, marks=pytest.mark.req("V2-SERVICE-LIST-TOTAL-COUNT", "V2-SERVICE-LIST-INVALID-40000"),
                 id="totalCount"),
    pytest.param(_remain_insert_count, marks=pytest.mark.req("V2-SERVICE-REMAIN-INSERT-COUNT"), id="remainInsertCount"),
    pytest.param(_document_count_type, marks=pytest.mark.req("V2-SERVICE-DOCUMENT-COUNT-TYPE"), id="documentCount"),
])
def test_service_list_with_catalog_as_read(v2, catalog, check):
    """The readings of the service tables, for a service holding products (E3, E4; a plain list is never -40000)."""
    check(v2, catalog.service)
