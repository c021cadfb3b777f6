"""AI Fashion v1.0 response envelope on every endpoint (success and error), appKey-only auth, unknown paths."""

from __future__ import annotations

import pytest
import v1_kit as kit

from fashion_conformance import checks

CODE = kit.CODE
ENVELOPE = ("V1-ENVELOPE-HTTP-200", "V1-ENVELOPE-HEADER-TYPES", "V1-ENVELOPE-SUCCESS", "V1-ENVELOPE-ERROR",
            "V1-ENVELOPE-CODES-PER-ENDPOINT")


@pytest.mark.req("V1-AUTH-APPKEY-ONLY")
def test_service_list_with_appkey_only_succeeds(v1):
    """E16: the appKey in the path is the only credential; no secret-key header is sent."""
    ex = v1.call("service.list")
    checks.that(ex, not any(h.lower() == "authorization" for h in v1.http.headers),
                "the v1 client must send no secret key (E16)")
    checks.success(ex)


@pytest.mark.destructive
@pytest.mark.req(*ENVELOPE)
def test_envelope_every_endpoint(v1, bad_v1, services, catalog, catalog_link, image_host):
    """The successes rest on appKey-only auth (E16, V1-AUTH-APPKEY-ONLY, tested on its own); only the envelope is
    attributed here."""
    image = image_host.generated(3)
    product = {"serviceID": catalog.service, "productID": catalog.query_id}
    with kit.temp_service(v1, services, "env") as existing:
        fresh = services.name("env")
        services.track(v1, fresh)
        pairs = [
            (v1.call("service.create", path={"serviceID": fresh}),
             v1.call("service.create", path={"serviceID": existing})),
            (v1.call("service.list"), bad_v1.call("service.list")),
            (v1.call("search.product", path=product, params={"limit": 3}),
             v1.call("search.product", path=product, params={"limit": 0})),
            (v1.call("detect", path={"serviceID": catalog.service}, params={"path": image}),
             v1.call("detect", path={"serviceID": catalog.service}, params={"path": image_host.status_url(404)})),
            (v1.call("search.image", path={"serviceID": catalog.service}, params={"link": catalog_link, "limit": 3}),
             v1.call("search.image", path={"serviceID": catalog.service}, params={"link": "forged", "limit": 3})),
            (v1.call("tag", path={"serviceID": catalog.service}, params={"path": image}),
             v1.call("tag", path={"serviceID": catalog.service}, params={"path": image, "lang": "fr"})),
            (v1.call("service.delete", path={"serviceID": fresh}),
             v1.call("service.delete", path={"serviceID": services.name("nosuch")})),
        ]
    for ok, refused in pairs:
        kit.envelope_ok(ok)
        checks.success(ok)
        kit.envelope_ok(refused)
        checks.not_success(refused)


@pytest.mark.parametrize("method, suffix", [
    ("GET", "/nothing"),
    ("GET", "/service"),
    ("PUT", "/services"),
    ("PATCH", "/service/{service}"),
    ("POST", "/service/{service}/detect"),
    ("GET", "/service/{service}/product"),
])
@pytest.mark.req("V1-ENVELOPE-UNKNOWN-PATH")
def test_unknown_path(v1, v1_service, method, suffix):
    path = "/nhn-ai-fashion/v1.0/appkeys/" + v1.appkey + suffix.format(service=v1_service)
    ex = v1.call("service.list", method=method, raw_path=path)
    checks.that(ex, ex.header.get("isSuccessful") is not True, "a path that names no API must not succeed")
    checks.that(ex, ex.header.get("resultCode") == CODE["InvalidParam"],
                "expected isSuccessful false with -40000 InvalidParam (E13)")
