"""v2 authentication (-41005 on every endpoint) and the response envelope of every endpoint.

Sources: nhn-ai-fashion-v2.0-api-guide.ko.txt / API 공통 정보 > 요청 공통 정보, 응답 공통 정보; each endpoint's
오류 코드 table (E1, E5, E13, E201, E206).
"""

from __future__ import annotations

import secrets as pysecrets
from collections.abc import Callable, Iterator

import pytest

from fashion_conformance import checks, contracts
from fashion_conformance.clients import ApiClient, Exchange

from . import helpers as h

pytestmark = pytest.mark.destructive

UNAUTHORIZED, INVALID, NOT_EXIST = (
    h.code("UnauthorizedAppKeyOrSecretKey"),
    h.code("InvalidParam"),
    h.code("NotExistService"),
)
ENDPOINTS = [e.id for e in contracts.endpoints("v2")]
AUTH_REQ = {
    "service.create": "V2-SERVICE-CREATE-UNAUTHORIZED-41005",
    "service.delete": "V2-SERVICE-DELETE-UNAUTHORIZED-41005",
    "service.list": "V2-SERVICE-LIST-UNAUTHORIZED-41005",
    "service.get": "V2-SERVICE-GET-UNAUTHORIZED-41005",
    "search.product": "V2-SEARCH-PRODUCT-UNAUTHORIZED-41005",
    "detect": "V2-DETECT-UNAUTHORIZED-41005",
    "search.link": "V2-SEARCH-LINK-UNAUTHORIZED-41005",
    "search.image": "V2-SEARCH-IMAGE-UNAUTHORIZED-41005",
    "tag": "V2-TAG-UNAUTHORIZED-41005",
    "index.create": "V2-INDEX-CREATE-UNAUTHORIZED-41005",
    "index.list": "V2-INDEX-LIST-UNAUTHORIZED-41005",
    "index.get": "V2-INDEX-GET-UNAUTHORIZED-41005",
}
Request = Callable[[ApiClient], Exchange]


def requests_for(
    catalog, query_link: str, service: str | None = None, victim: str | None = None
) -> dict[str, Request]:
    """One well-formed request per endpoint (on `service`, default the catalog; delete on `victim`)."""
    svc = service or catalog.service
    pid, image = catalog.query.productId, catalog.query.imageUrl
    line = h.jsonl([h.Product("auth-probe", image)])
    return {
        "service.create": lambda c: c.call(
            "service.create", json={"serviceName": victim or f"{svc[:20]}-new"}
        ),
        "service.delete": lambda c: c.call("service.delete", path={"serviceName": victim or svc}),
        "service.list": lambda c: c.call("service.list"),
        "service.get": lambda c: c.call("service.get", path={"serviceName": svc}),
        "search.product": lambda c: c.call(
            "search.product", path={"serviceName": svc, "productId": pid}, params={"limit": 3}
        ),
        "detect": lambda c: c.call("detect", path={"serviceName": svc}, params={"path": image}),
        "search.link": lambda c: c.call(
            "search.link", path={"serviceName": svc}, params={"link": query_link, "limit": 3}
        ),
        "search.image": lambda c: c.call(
            "search.image", path={"serviceName": svc}, files=h.form(imageUrl=image, limit="3")
        ),
        "tag": lambda c: c.call("tag", path={"serviceName": svc}, params={"path": image}),
        "index.create": lambda c: h.submit(c, svc, line),
        "index.list": lambda c: c.call(
            "index.list", path={"serviceName": svc}, params={"start": 0, "limit": 10}
        ),
        "index.get": lambda c: c.call("index.get", path={"serviceName": svc, "indexId": catalog.index_id}),
    }


@pytest.fixture(scope="module")
def bad_clients(target, v2) -> Iterator[dict[str, ApiClient]]:
    """Clients that differ from the configured one only in their credentials."""
    section = target.get("v2")
    secret = section["secret_key"]
    made = {
        "no secret key": ApiClient("v2", section["base_url"], appkey=section["appkey"], secrets=v2.secrets),
        "wrong secret key": ApiClient(
            "v2",
            section["base_url"],
            appkey=section["appkey"],
            headers={"Authorization": "wrong-" + pysecrets.token_hex(8)},
            secrets=v2.secrets,
        ),
        "unknown appKey": ApiClient(
            "v2",
            section["base_url"],
            appkey="fc-unknown-" + pysecrets.token_hex(6),
            headers={"Authorization": secret},
            secrets=v2.secrets,
        ),
    }
    yield made
    for c in made.values():
        c.close()


WHO = {
    "no secret key": "V2-AUTH-SECRET-KEY-HEADER",
    "wrong secret key": "V2-AUTH-WRONG-SECRET-KEY",
    "unknown appKey": "V2-AUTH-WRONG-APPKEY",
}
AUTH_CASES = [
    pytest.param(ep, who, marks=pytest.mark.req(req, AUTH_REQ[ep]), id=f"{ep}-{who.replace(' ', '-')}")
    for ep in ENDPOINTS
    for who, req in WHO.items()
]


@pytest.mark.parametrize(("endpoint", "who"), AUTH_CASES)
def test_auth_refused(request, v2, catalog, query_link, bad_clients, services, endpoint, who):
    if endpoint in (
        "service.delete",
        "index.create",
    ):  # should the target wrongly accept, only a scratch service suffers
        scratch = request.getfixturevalue("fresh_service")
        probe = requests_for(catalog, query_link, service=scratch, victim=scratch)[endpoint]
    else:
        newcomer = services.name("ghost") if endpoint == "service.create" else None
        if newcomer:
            services.track(v2, newcomer)
        probe = requests_for(catalog, query_link, victim=newcomer)[endpoint]
    checks.error(probe(bad_clients[who]), UNAUTHORIZED)


@pytest.mark.req("V2-AUTH-NO-EFFECT")
def test_auth_refused_request_changes_nothing(v2, catalog, query_link, bad_clients, fresh_service, services):
    newcomer = services.name("ghost")
    services.track(v2, newcomer)
    probes = requests_for(catalog, query_link, service=fresh_service, victim=fresh_service)
    create = requests_for(catalog, query_link, victim=newcomer)["service.create"]
    for client in bad_clients.values():
        checks.error(create(client), UNAUTHORIZED)
        checks.error(probes["service.delete"](client), UNAUTHORIZED)
        checks.error(probes["index.create"](client), UNAUTHORIZED)
    ex = v2.call("service.list")
    names = [it["serviceName"] for it in checks.success(ex)["items"]]
    checks.that(ex, newcomer not in names, "a refused create creates no service")
    checks.that(ex, fresh_service in names, "a refused delete deletes nothing")
    checks.that(
        v2.history[-1], h.index_total(v2, fresh_service) == 0, "a refused index request queues no index"
    )


def error_requests(catalog, query_link: str, anonymous: ApiClient) -> dict[str, Request]:
    """One request per endpoint that its error table answers (unknown service, bad name, no secret key)."""
    ghost = "fc-ghost-" + pysecrets.token_hex(4)
    bad = requests_for(catalog, query_link, service=ghost, victim=ghost)
    bad["service.create"] = lambda c: c.call("service.create", json={"serviceName": "Bad Name"})
    bad["service.list"] = lambda c: anonymous.call("service.list")
    return bad


def envelope_pair(v2, catalog, query_link, fresh_service, services, bad_clients, endpoint):
    """One success and one error answer of `endpoint` (a created service is deleted again)."""
    good = requests_for(catalog, query_link, service=catalog.service, victim=fresh_service)
    if endpoint == "index.create":
        good[endpoint] = requests_for(catalog, query_link, service=fresh_service)[endpoint]
    name = None
    if endpoint == "service.create":
        name = services.name("env")
        services.track(v2, name)
        good[endpoint] = requests_for(catalog, query_link, victim=name)[endpoint]
    ok = good[endpoint](v2)
    if name:
        v2.call("service.delete", path={"serviceName": name})
    return ok, error_requests(catalog, query_link, bad_clients["no secret key"])[endpoint](v2)


@pytest.mark.req(
    "V2-ENVELOPE-HTTP-200",
    "V2-ENVELOPE-JSON-HEADER",
    "V2-ENVELOPE-SUCCESS",
    "V2-ENVELOPE-ERROR",
    "V2-ENVELOPE-CODE-TABLE",
    "V2-ENVELOPE-SUCCESS-SCHEMA",
)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_envelope_success_and_error(v2, catalog, query_link, fresh_service, services, bad_clients, endpoint):
    ex, refused = envelope_pair(v2, catalog, query_link, fresh_service, services, bad_clients, endpoint)
    h.envelope_shape(ex)
    checks.that(  # API 공통 정보 > 응답 공통 정보 lists what a header carries; an unlisted field is no failure
        ex, {"isSuccessful", "resultCode", "resultMessage"} <= set(ex.header),
        "header carries isSuccessful, resultCode and resultMessage",
    )
    checks.success(ex)
    ex = refused
    h.envelope_shape(ex)
    got = ex.header["resultCode"]
    checks.that(
        ex,
        got in contracts.endpoint("v2", endpoint).codes,
        f"{endpoint} answers only codes of its own table {contracts.endpoint('v2', endpoint).codes}",
    )
    checks.not_success(ex)
    checks.error(ex, got)


@pytest.mark.req("V2-ENVELOPE-PARTIAL-SUCCESS")
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_envelope_result_code_not_positive(v2, catalog, query_link, fresh_service, services, bad_clients, endpoint):
    """E201: the header table allows a positive resultCode (partial success), no endpoint documents one."""
    for ex in envelope_pair(v2, catalog, query_link, fresh_service, services, bad_clients, endpoint):
        header = ex.header if isinstance(ex.header, dict) else {}
        code = header.get("resultCode")
        checks.that(ex, not (isinstance(code, int) and code > 0),
                    f"a positive resultCode (partial success) is documented nowhere (E201), got {code}")


@pytest.mark.req("V2-ENVELOPE-UNKNOWN-PATH", "V2-SEARCH-LINK-PATH")
def test_envelope_unknown_path_from_curl_example(v2, catalog, query_link):
    raw = v2.path("search.link", serviceName=catalog.service).rsplit("/", 1)[0] + "/image"
    ex = v2.call("search.link", raw_path=raw, params={"link": query_link, "limit": 3})
    checks.that(
        ex,
        ex.header.get("isSuccessful") is False and ex.header.get("resultCode") == INVALID,
        "GET .../image (the curl example, E1) is no v2 endpoint: isSuccessful false with -40000",
    )
