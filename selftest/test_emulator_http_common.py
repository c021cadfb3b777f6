"""What all NHN APIs of the emulator share: unknown paths and methods under an API prefix (E13, E1), and answers
outside the documented envelope never happen (no 5xx, no traceback) for odd requests."""

from __future__ import annotations

import httpx
import pytest

from fashion_conformance import contracts

# E13: the code an unknown path or method under the API's prefix answers.
UNKNOWN_CODE = {"v1": -40000, "v2": -40000, "maker": -40400}


@pytest.fixture(scope="module")
def http(emulator):
    with httpx.Client(base_url=emulator.base_url, trust_env=False, timeout=30) as client:
        yield client


def prefix(api: str, appkey: str) -> str:
    return contracts.api_info(api)["prefix"].replace("{appKey}", appkey)


def assert_unknown(api: str, response: httpx.Response) -> None:
    assert response.status_code == 200, response.text
    header = response.json()["header"]
    assert header == {"isSuccessful": False, "resultCode": UNKNOWN_CODE[api],
                      "resultMessage": contracts.code_message(api, UNKNOWN_CODE[api])}
    assert not contracts.validate_ref(api, "common.schema.json#/$defs/errorHeader", header)


@pytest.mark.parametrize("api", ["v1", "v2", "maker"])
@pytest.mark.parametrize(("method", "tail"), [
    ("GET", ""), ("GET", "/nothing"), ("GET", "/service/abc/unknown"), ("GET", "/services/abc/products"),
    ("PUT", "/services"), ("PATCH", "/service/abc"), ("DELETE", "/services"), ("POST", "/services/abc/indexes/x"),
    ("GET", "/services/abc/image"),  # E1: v2 serves no /image
])
def test_unknown_path_or_method(http, emulator, api, method, tail):
    for appkey in (emulator.keys["appkey"], "other-appkey"):
        response = http.request(method, prefix(api, appkey) + tail, headers={"Authorization": emulator.keys["secret_key"]})
        assert_unknown(api, response)


def test_unknown_path_alt_maker_prefix(http, emulator):
    alias = contracts.api_info("maker")["prefix_aliases"][0].replace("{appKey}", emulator.keys["appkey"])
    assert_unknown("maker", http.get(alias + "/nothing"))


@pytest.mark.parametrize("path", ["/", "/nothing", "/nhn-ai-fashion", "/v2.0", "/tagger/v2.12/unknown"])
def test_outside_the_prefixes(http, path):
    assert http.get(path).status_code < 500


@pytest.mark.parametrize("api", ["v1", "v2", "maker"])
@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
def test_other_methods_never_fail(http, emulator, api, method):
    assert http.request(method, prefix(api, emulator.keys["appkey"]) + "/services").status_code < 500


@pytest.mark.parametrize("tail", [
    "/services/%2e%2e", "/services/a%2Fb", "/services/" + "x" * 5000, "/services/%00", "/services/%ff%fe",
    "/services/abc/products/%20/search?limit=1", "/services/abc/detect?path=%00", "/services/abc/search?link=%ff&limit=1",
])
def test_odd_paths_keep_the_envelope(http, emulator, tail):
    response = http.get(prefix("v2", emulator.keys["appkey"]) + tail,
                        headers={"Authorization": emulator.keys["secret_key"]})
    assert response.status_code == 200 and response.json()["header"]["isSuccessful"] is False


def test_odd_queries_keep_the_envelope(http, emulator):
    """Many repeated, huge or non-UTF-8 query parameters still get the envelope."""
    base = prefix("v1", emulator.keys["appkey"]) + "/service/nosuch/product/p1"
    for query in ("limit=1&limit=2&limit=3", "limit=" + "9" * 400, "limit=%ff", "filter.s1=" + "a," * 2000 + "a&limit=1"):
        response = http.get(f"{base}?{query}")
        assert response.status_code == 200 and response.json()["header"]["resultCode"] in (-40000, -42000)
