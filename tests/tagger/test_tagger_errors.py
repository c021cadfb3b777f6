"""Tagger: every refusal - the fail envelope {data {}, status fail, error {code, message}}, an HTTP 4xx status
(E19), never 5xx or code 500; arbitrary bodies never break the service."""

from __future__ import annotations

import pytest
import tagger_support as ts
from hypothesis import given
from hypothesis import strategies as st

from fashion_conformance import checks

PREFIX_ONLY = "data:image/png;base64,"


def refusals(image_host, product_url) -> dict[str, tuple[int, dict]]:
    """name -> (expected code, keyword arguments of ts.post) for one request of every refusal class."""
    image = ts.url_image(product_url)
    return {
        "invalid json": (824, {"content": b"{"}),
        "image.type": (804, {"payload": {"image": {"type": "file", "content": product_url}}}),
        "base64": (802, {"payload": {"image": {"type": "base64", "content": PREFIX_ONLY + "!!!!"}}}),
        "url": (803, {"payload": ts.body(ts.url_image(image_host.status_url(404)))}),
        "format": (805, {"payload": ts.body(ts.url_image(image_host.put("tagger-err.txt", b"no picture\n")))}),
        "detection": (825, {"payload": ts.body(image, detection=["HATS"])}),
        "language": (826, {"payload": ts.body(image), "lang": "jp"}),
        "wrong key": (609, {"payload": ts.body(image), "headers": {"x-api-key": "not-the-key"}}),
    }


CASES = ["invalid json", "image.type", "base64", "url", "format", "detection", "language"]
CASE_REQ = {"invalid json": "TAGGER-TAGS-INVALID-JSON-824", "image.type": "TAGGER-TAGS-IMAGE-TYPE-804",
            "base64": "TAGGER-TAGS-BASE64-UNDECODABLE-802", "url": "TAGGER-TAGS-URL-FETCH-803",
            "format": "TAGGER-TAGS-FORMAT-805", "detection": "TAGGER-TAGS-DETECTION-825",
            "language": "TAGGER-TAGS-LANGUAGE-826"}  # the code each case expects (E301: the vendor's error page)


@pytest.mark.req("TAGGER-RESPONSE-ERROR-ENVELOPE")
@pytest.mark.parametrize("case", CASES)
def test_tags_refusal_body_is_fail_envelope(tagger, image_host, product_url, case):
    """Response; error example: a refusal is {data {}, status fail, error {code, message}}. Whether this request is
    refused at all, and with which code, rests on the vendor's page (E301): test_tags_refusal_code_is_the_vendors."""
    _, kwargs = refusals(image_host, product_url)[case]
    ex = ts.post(tagger, **kwargs)
    if isinstance(ex.json, dict) and ex.json.get("status") == "ok":
        return  # tagged, not refused: no refusal body to judge here
    ts.fail_envelope(ex)


@pytest.mark.req("TAGGER-RESPONSE-ERROR-CODE-LIST", "TAGGER-TAGS-INTERNAL-500")
@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.req(CASE_REQ[c]), id=c) for c in CASES])
def test_tags_refusal_code_is_the_vendors(tagger, image_host, product_url, case):
    """E301: each refusal the suite provokes carries the code the vendor's error page gives for its cause (E19: no 5xx)."""
    code, kwargs = refusals(image_host, product_url)[case]
    checks.error(ts.post(tagger, **kwargs), code)


def client_error_status(ex, what: str) -> None:
    """E19: the document gives no HTTP status for a refusal: any 4xx, or HTTP 200 with the fail body; never 5xx."""
    body = ex.json if isinstance(ex.json, dict) else {}
    checks.that(ex, 400 <= ex.status < 500 or (ex.status == 200 and body.get("status") == "fail"),
                f"{what} comes with HTTP 4xx, or 200 with status fail (E19)")


@pytest.mark.req("TAGGER-RESPONSE-ERROR-HTTP-STATUS")
@pytest.mark.parametrize("case", [*CASES, "wrong key"])
def test_tags_refusal_comes_with_client_error_status(tagger, image_host, product_url, case):
    _, kwargs = refusals(image_host, product_url)[case]
    client_error_status(ts.post(tagger, **kwargs), f"a refusal caused by the request ({case})")


@pytest.mark.req("TAGGER-RESPONSE-ERROR-HTTP-STATUS")
def test_tags_refusal_without_key_comes_with_client_error_status(keyless, product_url):
    client_error_status(ts.post(keyless, ts.body(ts.url_image(product_url))), "a request without x-api-key")


_SCALAR = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
_JSON = st.recursive(_SCALAR, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                            max_size=4), max_leaves=12)
_IMAGE = st.fixed_dictionaries({}, optional={"type": st.sampled_from([*ts.IMAGE_TYPES, "file"]) | _SCALAR,
                                             "content": _JSON})
_BODY = st.fixed_dictionaries({}, optional={"image": _IMAGE | _JSON, "context": _JSON | st.fixed_dictionaries(
    {}, optional={"detection": st.lists(st.sampled_from([*ts.DETECTION, "HATS"])) | _JSON, "price": _JSON})})


def _safe(payload, product_url):
    """The generated body with any url content pointed at the image host (the suite fetches nothing else)."""
    image = payload.get("image") if isinstance(payload, dict) else None
    if isinstance(image, dict) and image.get("type") == "url" and "content" in image:
        image["content"] = product_url if isinstance(image["content"], str) else image["content"]
    return payload


@pytest.mark.req("TAGGER-RESPONSE-ERROR-ENVELOPE", "TAGGER-RESPONSE-SUCCESS-ENVELOPE")
@ts.FUZZ
@given(payload=_BODY | _JSON)
def test_tags_post_arbitrary_json_is_tagged_or_refused_in_envelope(tagger, product_url, payload):
    """Response: any body is answered with the success envelope or the fail envelope."""
    ex = ts.post(tagger, _safe(payload, product_url))
    body = ex.json if isinstance(ex.json, dict) else {}
    if body.get("status") == "ok":
        checks.success(ex)
        return
    ts.fail_envelope(ex)


@pytest.mark.req("TAGGER-TAGS-INTERNAL-500", "TAGGER-RESPONSE-ERROR-CODE-LIST")
@ts.FUZZ
@given(payload=_BODY | _JSON)
def test_tags_post_arbitrary_json_refusal_is_listed_code_never_broken(tagger, product_url, payload):
    """E301, E19: a refusal of any body carries one of the vendor's codes, never 500 nor an HTTP 5xx."""
    ex = ts.post(tagger, _safe(payload, product_url))
    body = ex.json if isinstance(ex.json, dict) else {}
    if body.get("status") == "ok":
        return  # tagged: the success envelope is the other test's
    code = ts.fail_envelope(ex)
    ts.listed_code(ex, code)
    ts.not_5xx(ex)
    checks.that(ex, code != 500, "a malformed request is the client's fault, never code 500")
