"""Tagger: a schema-driven positive run (Schemathesis) over contracts/tagger/openapi.json against the target.

Schemathesis generates valid headers (accept-language) and bodies (context fields, detection lists, extra
members); the image is replaced by one the suite's image host serves (by URL or as prefixed base64), so nothing
outside the suite is ever fetched. Every response must be tagged and conform to the response schema.
"""

from __future__ import annotations

import zlib

import pytest
import schemathesis
import tagger_support as ts
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from fashion_conformance import contracts
from fashion_conformance.imagehost.factory import product_image

schema = schemathesis.openapi.from_path(contracts.openapi_path("tagger"))
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE], max_examples=15,
                                with_security_parameters=False)
SEEDS = 12


def own_image(case_body, image_host) -> dict[str, str]:
    """An image of the suite for this case: by URL or as base64, picked from the generated body."""
    seed = zlib.crc32(repr(case_body).encode()) % SEEDS
    if seed % 2:
        return ts.b64_image(product_image(seed, fmt="jpeg"), "jpeg")
    return ts.url_image(image_host.generated(seed, "jpeg"))


@pytest.mark.req("TAGGER-RESPONSE-SUCCESS-ENVELOPE", "TAGGER-RESPONSE-SUCCESS-HTTP-STATUS", "TAGGER-TAGS-INTERNAL-500",
                 "TAGGER-REQ-CONTEXT-FIELDS", "TAGGER-DETECTION-VALUES", "TAGGER-LANG-VALUES")
@settings(deadline=None, suppress_health_check=list(HealthCheck))
@schema.parametrize()
def test_tags_schema_driven_valid_requests_are_tagged(case, target, tagger, image_host):
    case.body["image"] = own_image(case.body, image_host)
    case.headers = {**(case.headers or {}), "x-api-key": target.get("tagger")["api_key"]}
    response = case.call(base_url=tagger.base_url)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
    assert response.status_code in (200, 201), (
        f"a valid request (schema-generated context and headers, the suite's image) is tagged with HTTP 201 or 200; "
        f"got HTTP {response.status_code}: {response.text[:500]}")
