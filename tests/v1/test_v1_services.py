"""AI Fashion v1.0 service IDs: register, list, delete; naming rule, quota, duplicates, unknown IDs, auth."""

from __future__ import annotations

import re
import string

import pytest
import v1_kit as kit
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fashion_conformance import checks

CODE = kit.CODE
PATTERN = kit.limit("service.name_pattern").value
LENGTH = kit.limit("service.name_length")
MAX_SERVICES = kit.limit("service.max_per_appkey").value
HYPO = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# The rule's character sets, read off the contract pattern: FIRST may start an ID, TAIL may follow.
FIRST = "".join(c for c in string.printable if re.fullmatch(PATTERN, c + "a"))
TAIL = "".join(c for c in string.printable if re.fullmatch(PATTERN, "a" + c))
OUTSIDE = "".join(c for c in string.ascii_uppercase + ".!*~+@ :\u00e9" if c not in TAIL)
tail = st.text(TAIL, min_size=LENGTH.min - 1, max_size=LENGTH.max - 1)
INVALID_NAMES = st.one_of(
    st.sampled_from(FIRST),  # one character
    st.text(TAIL, min_size=LENGTH.max, max_size=LENGTH.max).map(lambda t: FIRST[0] + t),  # one too long
    st.tuples(st.sampled_from("".join(c for c in TAIL if c not in FIRST)), tail).map("".join),  # bad first
    st.tuples(st.sampled_from(FIRST), tail, st.sampled_from(OUTSIDE))
    .map(lambda p: p[0] + p[2] + p[1][: LENGTH.max - 2]),  # an upper-case letter or another character
)


def _created_and_deleted(v1, services, name: str) -> None:
    ex = v1.call("service.create", path={"serviceID": name})
    checks.success(ex)
    services.track(v1, name)
    listed = kit.service_names(v1)
    checks.that(ex, listed.count(name) == 1, f"{name!r} must be listed exactly once after registering, got {listed}")
    ex = v1.call("service.delete", path={"serviceID": name})
    checks.success(ex)
    checks.that(ex, name not in kit.service_names(v1), f"{name!r} must not be listed after its deletion")


@pytest.mark.destructive
@pytest.mark.req("V1-SERVICE-NAME-VALID", "V1-SERVICE-LIST-CONTENT")
@HYPO
@given(name=st.from_regex(PATTERN, fullmatch=True))
def test_service_create_valid_name(v1, services, name):
    assume(name not in kit.service_names(v1))
    _created_and_deleted(v1, services, name)


@pytest.mark.destructive
@pytest.mark.req("V1-SERVICE-NAME-VALID")
@pytest.mark.parametrize("length", [LENGTH.min, LENGTH.max])
def test_service_create_boundary_length(v1, services, run_prefix, length):
    name = (run_prefix + "-z9_" * 8)[:length]
    if name in kit.service_names(v1):
        pytest.skip(f"{name!r} is already registered on the target")
    _created_and_deleted(v1, services, name)


@pytest.mark.req("V1-SERVICE-CREATE-INVALID-40000")
@HYPO
@given(name=INVALID_NAMES)
def test_service_create_invalid_name(v1, services, name):
    ex = v1.call("service.create", path={"serviceID": name})
    if ex.header.get("isSuccessful"):
        services.track(v1, name)
    checks.error(ex, CODE["InvalidParam"])
    checks.that(ex, name not in kit.service_names(v1), f"the refused ID {name!r} must not be registered")


@pytest.mark.destructive
@pytest.mark.req("V1-SERVICE-CREATE-DUPLICATE-42010", "V1-SERVICE-LIST-CONTENT")
def test_service_create_duplicate(v1, services):
    with kit.temp_service(v1, services, "dup") as name:
        ex = v1.call("service.create", path={"serviceID": name})
        checks.error(ex, CODE["DuplicateServiceID"])
        checks.that(ex, kit.service_names(v1).count(name) == 1, f"{name!r} must stay listed exactly once")


@pytest.mark.destructive
@pytest.mark.req("V1-SERVICE-CREATE-QUOTA-42030", "V1-SERVICE-DELETE-FREES-QUOTA", "V1-SERVICE-LIST-CONTENT")
def test_service_create_quota(v1, services):
    created = []
    try:
        for _ in range(MAX_SERVICES - len(kit.service_names(v1))):
            created.append(kit.create_service(v1, services, "quota"))
        extra = services.name("quota")
        ex = v1.call("service.create", path={"serviceID": extra})
        if ex.header.get("isSuccessful"):
            services.track(v1, extra)
        checks.error(ex, CODE["ServiceIDQuotaExceededException"])
        listed = kit.service_names(v1)
        checks.that(ex, len(listed) == MAX_SERVICES and extra not in listed,
                    f"the list must still hold {MAX_SERVICES} IDs without {extra!r}, got {listed}")
        if not created:
            pytest.skip(f"the appKey already holds {MAX_SERVICES} IDs of others; cannot free one")
        checks.success(kit.delete_service(v1, created.pop()))
        ex = v1.call("service.create", path={"serviceID": extra})
        checks.success(ex)
        services.track(v1, extra)
        created.append(extra)
    finally:
        for name in created:
            kit.delete_service(v1, name)


@pytest.mark.req("V1-SERVICE-LIST-FIELDS", "V1-SERVICE-LIST-CONTENT")
def test_service_list_fields(v1):
    ex = v1.call("service.list")
    data = checks.success(ex)
    names = [item["serviceID"] for item in data["items"]]
    total = data["totalCount"]
    checks.that(ex, isinstance(total, int) and not isinstance(total, bool) and total >= 0,
                f"totalCount must be a non-negative count, got {total!r}")
    checks.that(ex, len(set(names)) == len(names), "every service ID must be listed once")
    checks.that(ex, all(isinstance(n, str) and n for n in names), "every serviceID must be a non-empty string")


@pytest.mark.req("V1-SERVICE-LIST-TOTAL-COUNT")
def test_service_list_total_count_is_items(v1):
    """Our reading: the list is not paged, so totalCount counts its items."""
    ex = v1.call("service.list")
    data = checks.success(ex)
    checks.that(ex, data["totalCount"] == len(data["items"]), "totalCount must equal the number of items")


@pytest.mark.destructive
@pytest.mark.req("V1-SERVICE-DELETE-REMOVES", "V1-SERVICE-LIST-CONTENT")
def test_service_delete_removes(v1, services, image_host):
    with kit.temp_service(v1, services, "del") as name:
        checks.that(v1.call("service.list"), name in kit.service_names(v1), f"{name!r} must be listed")
        checks.success(v1.call("service.delete", path={"serviceID": name}))
        ex = v1.call("service.list")
        checks.that(ex, name not in kit.service_names(v1), f"{name!r} must be gone from the list")
        ex = v1.call("detect", path={"serviceID": name}, params={"path": image_host.generated(1)})
        checks.error(ex, CODE["NotExistServiceID"])
        ex = v1.call("service.delete", path={"serviceID": name})
        checks.error(ex, CODE["NotExistServiceID"])


@pytest.mark.req("V1-SERVICE-DELETE-NOT-FOUND-42000")
def test_service_delete_unknown(v1, services):
    ex = v1.call("service.delete", path={"serviceID": services.name("nosuch")})
    checks.error(ex, CODE["NotExistServiceID"])


@pytest.mark.req("V1-SERVICE-DELETE-INVALID-40000")
@HYPO
@given(name=INVALID_NAMES)
def test_service_delete_invalid_name(v1, name):
    kit.error_in(v1.call("service.delete", path={"serviceID": name}),
                 [CODE["InvalidParam"], CODE["NotExistServiceID"]])


@pytest.mark.req("V1-SERVICE-CREATE-UNAUTHORIZED-41000", "V1-SERVICE-LIST-UNAUTHORIZED-41000",
                 "V1-SERVICE-DELETE-UNAUTHORIZED-41000")
def test_service_unauthorized(v1, bad_v1, v1_service, services):
    name = services.name("auth")
    checks.error(bad_v1.call("service.create", path={"serviceID": name}), CODE["UnauthorizedAppKey"])
    checks.error(bad_v1.call("service.list"), CODE["UnauthorizedAppKey"])
    checks.error(bad_v1.call("service.delete", path={"serviceID": v1_service}), CODE["UnauthorizedAppKey"])


@pytest.mark.req("V1-AUTH-NO-EFFECT")
def test_service_unauthorized_changes_nothing(v1, bad_v1, v1_service, services):
    """Our reading: a registration or deletion refused with -41000 registers or deletes nothing."""
    name = services.name("auth")
    checks.error(bad_v1.call("service.create", path={"serviceID": name}), CODE["UnauthorizedAppKey"])
    checks.error(bad_v1.call("service.delete", path={"serviceID": v1_service}), CODE["UnauthorizedAppKey"])
    ex = v1.call("service.list")
    listed = kit.service_names(v1)
    checks.that(ex, name not in listed, "a refused registration must register nothing")
    checks.that(ex, v1_service in listed, "a refused deletion must delete nothing")


@pytest.mark.destructive
@pytest.mark.req("V1-SERVICE-DELETE-INDEX-RUNNING-42020")
def test_service_delete_while_indexing(v1, maker, services, image_host):
    slow = [kit.product(f"slow{i}", image_host.generated(100 + i, delay=2)) for i in range(3)]
    with kit.temp_service(v1, services, "busy") as name:
        index_id = checks.success(kit.submit_index(maker, name, kit.jsonl(slow)))["indexID"]
        ex = v1.call("service.delete", path={"serviceID": name})
        status = (kit.find_index(maker, name, index_id) or {}).get("status")
        if status in kit.FINAL:
            pytest.fail(f"the slow index request ended ({status}) before the check; the target is too fast for it")
        checks.error(ex, CODE["CannotDeletedOnIndexRunning"])
        checks.that(ex, name in kit.service_names(v1), "the service ID must stay registered")
        kit.wait_index(maker, name, index_id)
        checks.success(v1.call("service.delete", path={"serviceID": name}))
