"""AI Fashion Maker v1.0 services info, response envelope, appKey-only auth, prefixes (E12), undefined APIs (E13)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import maker_kit as mk
import pytest
import v1_kit

from fashion_conformance import checks, contracts

CODE = mk.CODE
QUOTA_LIMIT = mk.limit("index.daily_quota")
QUOTA = QUOTA_LIMIT.value
RESET_MARGIN_S = 120  # index times this close to the daily reset are not attributed to a day (clock skew)
MAX_DOCS = mk.limit("index.max_docs_per_service").value
PREFIX = contracts.api_info("maker")["prefix"]
ALIASES = contracts.api_info("maker").get("prefix_aliases", [])
ENVELOPE = ("MAKER-ENVELOPE-HTTP-200", "MAKER-ENVELOPE-HEADER-TYPES", "MAKER-ENVELOPE-SUCCESS",
            "MAKER-ENVELOPE-ERROR", "MAKER-ENVELOPE-CODES-PER-ENDPOINT")


@pytest.mark.req("MAKER-SERVICE-LIST-FIELDS", "MAKER-SERVICE-LIST-REMAIN-RANGE", "MAKER-SERVICE-LIST-DOCUMENT-RANGE")
def test_service_list_fields(maker):
    """サービス情報: totalService; per item service, documentCnt in 0..100,000 and remainInsertCnt in 0..4."""
    ex = maker.call("service.list")
    data = checks.success(ex)
    checks.that(ex, type(data["totalService"]) is int, "totalService must be an integer")
    for item in data["items"]:
        checks.that(ex, isinstance(item["service"], str), f"{item['service']!r}: service must be a string")
        checks.that(ex, type(item["remainInsertCnt"]) is int and 0 <= item["remainInsertCnt"] <= QUOTA,
                    f"{item['service']}: remainInsertCnt must be an integer in 0..{QUOTA}")
        checks.that(ex, type(item["documentCnt"]) is int and 0 <= item["documentCnt"] <= MAX_DOCS,
                    f"{item['service']}: documentCnt must be an integer in 0..{MAX_DOCS}")


@pytest.mark.req("MAKER-SERVICE-LIST-CONTENT", "MAKER-SHARED-SERVICE-IDS", "MAKER-INDEX-REMAIN-COUNT")
def test_service_list_holds_the_v1_service_ids(v1, maker, idle_service):
    """Our readings: Maker lists the appKey's v1 service IDs, each once, totalService counting them; a never-indexed
    one has documentCnt 0 and all its daily index requests left."""
    ex = maker.call("service.list")
    data = checks.success(ex)
    names = [it["service"] for it in data["items"]]
    checks.that(ex, data["totalService"] == len(names), "totalService must equal the number of items")
    checks.that(ex, sorted(names) == sorted(v1_kit.service_names(v1)),
                "every v1 service ID of the appKey must be listed exactly once")
    idle = next(it for it in data["items"] if it["service"] == idle_service)
    checks.that(ex, idle["documentCnt"] == 0 and idle["remainInsertCnt"] == QUOTA,
                f"the never-indexed {idle_service} must have documentCnt 0 and remainInsertCnt {QUOTA}")


def _last_reset(now: float) -> float:
    """The last daily quota reset (index.daily_quota: 00:00 Asia/Tokyo) at or before `now`, as a Unix time."""
    hour, minute = (int(x) for x in QUOTA_LIMIT.extra["reset"].split(":"))
    local = datetime.fromtimestamp(now, ZoneInfo(QUOTA_LIMIT.extra["timezone"]))
    reset = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return (reset if reset <= local else reset - timedelta(days=1)).timestamp()


@pytest.mark.req("MAKER-INDEX-REMAIN-COUNT")
def test_service_list_remain_insert_count(maker, history):
    """サービス情報: remainInsertCnt is 4 minus the index requests accepted since the last 00:00 Asia/Tokyo, which
    the index list shows (it lists accepted requests only; failed jobs were accepted too)."""
    reset = _last_reset(time.time())
    remain = mk.service_info(maker, history.service)["remainInsertCnt"]
    items = checks.success(mk.index_list(maker, history.service, order="reservedTime:desc"))["items"]
    times = [it["reservedTime"] for it in items]
    if _last_reset(time.time()) != reset or any(abs(t - reset) < RESET_MARGIN_S for t in times):
        pytest.skip("too close to the daily reset (00:00 Asia/Tokyo) to tell which requests count")
    today = sum(1 for t in times if t >= reset)
    mk.expect(maker, remain == QUOTA - today, f"{history.service}: {today} index requests were accepted since "
                                              f"00:00 Asia/Tokyo, so remainInsertCnt must be {QUOTA - today}, "
                                              f"not {remain}")


@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT"])
@pytest.mark.req("MAKER-SERVICE-LIST-NO-API-40400", "MAKER-SERVICE-LIST-URL-NOT-FOUND-4041007")
def test_service_list_undefined_method(maker, method):
    mk.no_api(maker.call("service.list", method=method))


@pytest.mark.req("MAKER-SERVICE-LIST-UNAUTHORIZED-41000")
def test_service_list_unauthorized(bad_maker):
    checks.error(bad_maker.call("service.list"), CODE["UnauthorizedAppKey"])


@pytest.mark.parametrize("suffix", ["/nothing", "/service", "/service/{service}", "/service/{service}/index/x",
                                    "/indexes"])
@pytest.mark.req("MAKER-UNKNOWN-PATH")
def test_unknown_path(maker, idle_service, suffix):
    path = PREFIX.replace("{appKey}", maker.appkey) + suffix.format(service=idle_service)
    mk.no_api(maker.call("service.list", raw_path=path))


@pytest.mark.req("MAKER-AUTH-APPKEY-ONLY", "MAKER-PATH-PREFIX")
def test_endpoints_under_prefix_with_appkey_only_served(maker, history, idle_service):
    """E16, E12: with the appKey in the path as the only credential, all three APIs answer under the one prefix
    (the index request too: an empty file is refused as NoDataError, not as an unknown API)."""
    ex = maker.call("service.list")
    checks.that(ex, not any(h.lower() == "authorization" for h in maker.http.headers),
                "the Maker client must send no secret key (E16)")
    checks.success(ex)
    checks.success(mk.index_list(maker, history.service))
    checks.error(v1_kit.submit_index(maker, idle_service, b""), CODE["NoDataError"])


@pytest.mark.destructive
@pytest.mark.req(*ENVELOPE)
def test_envelope_every_endpoint(v1, maker, bad_maker, services, history, idle_service, image_host):
    """The calls rest on appKey-only auth and the one prefix (E16, E12; tested on their own); only the envelope is
    attributed here."""
    with v1_kit.temp_service(v1, services, "env") as service:
        line = v1_kit.product("e1", image_host.generated(111))
        pairs = [
            (v1_kit.submit_index(maker, service, v1_kit.jsonl([line])), v1_kit.submit_index(maker, idle_service, b"")),
            (maker.call("service.list"), bad_maker.call("service.list")),
            (mk.index_list(maker, history.service), mk.index_list(maker, history.service, limit=0)),
        ]
        for ok, refused in pairs:
            v1_kit.envelope_ok(ok)
            checks.success(ok)
            v1_kit.envelope_ok(refused)
            checks.not_success(refused)


@pytest.mark.parametrize("alias", ALIASES)
@pytest.mark.req("MAKER-PATH-PREFIX")
def test_alias_prefix_served(maker, history, idle_service, target, alias):
    """E12: the index URI table's prefix is answered like the normative one (the emulator's decision)."""
    v1_kit.need_embedded(target)
    real, other = PREFIX.replace("{appKey}", maker.appkey), alias.replace("{appKey}", maker.appkey)
    ex = maker.call("index.list", raw_path=maker.path("index.list", serviceID=history.service).replace(real, other),
                    params={"start": 0, "limit": 10})
    checks.that(ex, checks.success(ex)["total"] == len(history.ids), "the alias must list the same indexes")
    checks.success(maker.call("service.list", raw_path=maker.path("service.list").replace(real, other)))
    ex = maker.call("index.create", raw_path=maker.path("index.create", serviceID=idle_service).replace(real, other),
                    params={"format": "jsonl"}, files={"file": ("empty.jsonl", b"")})
    checks.error(ex, CODE["NoDataError"])
