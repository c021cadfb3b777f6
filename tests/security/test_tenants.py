"""SEC-TENANT-*: another tenant's appKey, a wrong secret key or no secret key never reaches the suite's services:
their names stay out of service lists, no index request lands in them and no search runs in them.

These run against the suite's own target (whose image host the target may use), on services that hold one
product, so that the same request with the suite's own keys succeeds."""

from __future__ import annotations

import secrets as pysecrets
from collections.abc import Iterator

import pytest

from fashion_conformance import checks
from fashion_conformance.clients import ApiClient

from . import probes

pytestmark = [pytest.mark.security, pytest.mark.destructive]
PRODUCT = "sec-own"
V2_KINDS = ("other-tenant", "wrong-secret", "no-secret")
APPKEY_KINDS = ("other-tenant",)  # v1 and Maker authenticate by the appKey alone (E16)


def foreign(client: ApiClient, kind: str) -> ApiClient:
    """`client` with keys that are not the suite's: a random appKey, a random secret key, or no secret key."""
    own_secret = client.http.headers.get("Authorization")
    appkey = client.appkey
    if kind == "other-tenant":
        appkey = "fcother" + pysecrets.token_hex(8)
    elif kind == "wrong-secret":
        own_secret = "fcwrong" + pysecrets.token_hex(8)
    elif kind == "no-secret":
        own_secret = None
    extra = {"Authorization": own_secret} if client.api == "v2" and own_secret else {}
    return ApiClient(client.api, client.base_url, appkey=appkey, headers=extra, secrets=client.secrets)


@pytest.fixture
def stranger() -> Iterator:
    """stranger(client, kind): a foreign-key client, closed after the test."""
    made: list[ApiClient] = []

    def make(client: ApiClient, kind: str) -> ApiClient:
        made.append(foreign(client, kind))
        return made[-1]

    yield make
    for c in made:
        c.close()


@pytest.fixture(scope="module")
def own_v2(request, v2, services, image_host) -> Iterator[str]:
    """A v2 service of the suite holding one product."""
    probes.need_destructive(request)
    name = probes.create_service(v2, services, "secown")
    try:
        line = probes.index_line("v2", PRODUCT, image_host.generated(41))
        ex = probes.submit_index(v2, name, data=probes.jsonl([line]))
        item = probes.wait_index(v2, name, probes.index_id(v2, ex))
        checks.that(v2.history[-1], probes.added(v2, item) == 1, "the suite's own product is indexed")
        yield name
    finally:
        probes.delete_service(v2, name)


@pytest.fixture(scope="module")
def own_v1(request, v1, maker, services, image_host) -> Iterator[str]:
    """A v1 service ID of the suite holding one product (indexed through Maker)."""
    probes.need_destructive(request)
    name = probes.create_service(v1, services, "secown")
    try:
        line = probes.index_line("maker", PRODUCT, image_host.generated(42))
        ex = probes.submit_index(maker, name, data=probes.jsonl([line]))
        item = probes.wait_index(maker, name, probes.index_id(maker, ex))
        checks.that(maker.history[-1], probes.added(maker, item) == 1, "the suite's own product is indexed")
        yield name
    finally:
        probes.delete_service(v1, name)


def _params(apis_kinds: dict[str, tuple[str, ...]]) -> list:
    return [pytest.param(api, kind, id=f"{api}-{kind}") for api, kinds in apis_kinds.items() for kind in kinds]


def _own(request, api: str) -> tuple[ApiClient, str]:
    """The suite's client of `api` and its own service there."""
    service = request.getfixturevalue("own_v2" if api == "v2" else "own_v1")
    return request.getfixturevalue(api), service


@pytest.mark.req("SEC-TENANT-SERVICE-LIST")
@pytest.mark.parametrize("api,kind", _params({"v1": APPKEY_KINDS, "v2": V2_KINDS, "maker": APPKEY_KINDS}))
def test_service_list_foreign_keys_hide_suite_services(request, stranger, api, kind):
    client, service = _own(request, api)
    mine = client.call("service.list")
    checks.that(mine, service in mine.response_text, f"the suite's own keys list its service {service}")
    ex = stranger(client, kind).call("service.list")
    checks.that(ex, service not in ex.response_text,
                f"a service list asked with {kind} keys must not show the suite's service {service}")


@pytest.mark.req("SEC-TENANT-INDEX")
@pytest.mark.parametrize("api,kind", _params({"v2": V2_KINDS, "maker": APPKEY_KINDS}))
def test_index_create_foreign_keys_refused(request, stranger, image_host, api, kind):
    client, service = _own(request, api)
    before = probes.index_total(client, service)
    line = probes.index_line(api, "sec-foreign", image_host.generated(43))
    ex = probes.submit_index(stranger(client, kind), service, data=probes.jsonl([line]))
    probes.refused(ex, f"an index request with {kind} keys")
    after = probes.index_total(client, service)
    checks.that(ex, after == before,
                f"the suite's service {service} must keep its index history ({before} requests), has {after}")


@pytest.mark.req("SEC-TENANT-SEARCH")
@pytest.mark.parametrize("api,kind", _params({"v1": APPKEY_KINDS, "v2": V2_KINDS}))
def test_search_product_foreign_keys_refused(request, stranger, api, kind):
    client, service = _own(request, api)
    path = {"serviceName": service, "productId": PRODUCT} if api == "v2" else {"serviceID": service,
                                                                              "productID": PRODUCT}
    checks.success(client.call("search.product", path=path, params={"limit": 5}))
    ex = stranger(client, kind).call("search.product", path=path, params={"limit": 5})
    probes.refused(ex, f"a product search with {kind} keys")
