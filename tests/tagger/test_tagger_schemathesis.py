"""Tagger: schema-driven runs (Schemathesis) over contracts/tagger/openapi.json against the target.

Positive: Schemathesis generates valid headers (accept-language) and bodies (context fields, detection lists,
extra members); the image is replaced by one the suite's image host serves (by URL or as prefixed base64), so
nothing outside the suite is ever fetched. Every response must be tagged and conform to the response schema.
Negative: schema-violating requests (bodies, headers, also unexpected methods); a url image is again the
suite's. Every answer must conform to the response schema (success or fail envelope) and never be a 5xx or 500.
"""

from __future__ import annotations

import re
import zlib

import pytest
import schemathesis
import tagger_support as ts
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from fashion_conformance import contracts
from fashion_conformance.imagehost.factory import product_image

SEEDS = 12
CHECKS = [not_a_server_error, response_schema_conformance]


def load(mode: schemathesis.GenerationMode):
    schema = schemathesis.openapi.from_path(contracts.openapi_path("tagger"))
    schema.config.generation.update(modes=[mode], max_examples=15, with_security_parameters=False)
    return schema


positive = load(schemathesis.GenerationMode.POSITIVE)
negative = load(schemathesis.GenerationMode.NEGATIVE)


def own_image(case_body, image_host) -> dict[str, str]:
    """An image of the suite for this case: by URL or as base64, picked from the generated body."""
    seed = zlib.crc32(repr(case_body).encode()) % SEEDS
    if seed % 2:
        return ts.b64_image(product_image(seed, fmt="jpeg"), "jpeg")
    return ts.url_image(image_host.generated(seed, "jpeg"))


def _valid_http_fields(case) -> bool:
    """Whether every header value of the case is a valid HTTP field value (no control character but HTAB)."""
    return all(not re.search(r"[\x00-\x08\x0a-\x1f\x7f]", str(v)) for v in (case.headers or {}).values())


def with_key(case, target) -> None:
    case.headers = {**(case.headers or {}), "x-api-key": target.get("tagger")["api_key"]}


@pytest.mark.req("TAGGER-RESPONSE-SUCCESS-ENVELOPE", "TAGGER-REQ-CONTEXT-FIELDS", "TAGGER-DETECTION-VALUES",
                 "TAGGER-LANG-VALUES")
@settings(deadline=None, suppress_health_check=list(HealthCheck))
@positive.parametrize()
def test_tags_schema_driven_valid_requests_are_tagged(case, target, tagger, image_host):
    case.body["image"] = own_image(case.body, image_host)
    with_key(case, target)
    response = case.call(base_url=tagger.base_url)
    case.validate_response(response, checks=CHECKS)
    assert response.json().get("status") == "ok", (
        f"a valid request (schema-generated context and headers, the suite's image) is tagged (status ok; its HTTP "
        f"status, E21, is test_tags_success_comes_with_http_201_or_200's); got HTTP {response.status_code}: "
        f"{response.text[:500]}")


def call_negative(case, target, tagger, image_host):
    image = case.body.get("image") if isinstance(case.body, dict) else None
    if isinstance(image, dict) and image.get("type") == "url":
        case.body["image"] = own_image(case.body, image_host)
    with_key(case, target)
    return case.call(base_url=tagger.base_url)


@pytest.mark.req("TAGGER-RESPONSE-ERROR-ENVELOPE")
@settings(deadline=None, suppress_health_check=list(HealthCheck))
@negative.parametrize()
def test_tags_schema_driven_invalid_post_refusal_is_fail_envelope(case, target, tagger, image_host):
    """Response; error example: a POST /tags the service does not tag is answered with the fail envelope (status
    fail, data {}, error {code - a number, message}); which code, other methods and the HTTP status rest on E301/E19."""
    if case.method != "POST" or not _valid_http_fields(case):
        return  # other methods (623) and malformed HTTP fields: the vendor's page and the HTTP layer, not the document
    response = call_negative(case, target, tagger, image_host)
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("status") == "ok":
        return  # tagged: not a refusal
    errors = [e for e in contracts.validate("tagger", "tags", "error", body) if not e.startswith(ts.CODE_PATH)]
    code = body.get("error", {}).get("code") if not errors else None
    assert not errors and isinstance(code, int) and not isinstance(code, bool), (
        f"a POST that is not tagged is refused with the fail envelope; got HTTP {response.status_code}: "
        f"{response.text[:500]} ({'; '.join(errors[:3])})")


@pytest.mark.req("TAGGER-TAGS-INTERNAL-500", "TAGGER-RESPONSE-ERROR-CODE-LIST", "TAGGER-TAGS-URI-METHOD-623")
@settings(deadline=None, suppress_health_check=list(HealthCheck))
@negative.parametrize()
def test_tags_schema_driven_invalid_requests_conform_with_vendor_codes(case, target, tagger, image_host):
    """E301, E19, E302: every answer conforms to the response schema with the vendor's codes, never a 5xx or 500."""
    response = call_negative(case, target, tagger, image_host)
    case.validate_response(response, checks=CHECKS)
    if case.method == "HEAD" or response.status_code in (200, 201):
        return  # HEAD answers carry no body; a success was judged by the checks
    if not _valid_http_fields(case):
        assert 400 <= response.status_code < 500, (
            f"a header value with control characters is no valid HTTP message (RFC 9110 field-value): the HTTP layer "
            f"may refuse it with its own 4xx; got HTTP {response.status_code}: {response.text[:200]}")
        return
    body = response.json() if response.content else None
    errors = contracts.validate("tagger", "tags", "error", body)
    assert not errors and body["error"]["code"] != 500, (
        f"a request that breaks the schema ({case.method} {case.path}) is refused with the fail envelope, never "
        f"code 500; got HTTP {response.status_code}: {response.text[:500]} ({'; '.join(errors[:3])})")
