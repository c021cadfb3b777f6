"""Tagger: the x-api-key header (612 missing, 609 wrong; E19) and the request line (623)."""

from __future__ import annotations

import secrets

import pytest
import tagger_support as ts

from fashion_conformance import checks, contracts


def _never_tagged(ex, what: str) -> None:
    """E19: whatever the status, a request without the account's x-api-key never gets status ok."""
    body = ex.json if isinstance(ex.json, dict) else {}
    checks.that(ex, body.get("status") != "ok", f"tagger tags: a request {what} must never be tagged")


WRONG_KEYS = pytest.mark.parametrize("key", ["wrong-" + secrets.token_hex(8), "x"], ids=["random", "one-char"])


@pytest.mark.req("TAGGER-AUTH-KEY-REQUIRED")
def test_tags_post_without_api_key_is_not_tagged(keyless, product_url):
    _never_tagged(ts.post(keyless, ts.body(ts.url_image(product_url))), "without x-api-key")


@pytest.mark.req("TAGGER-TAGS-APIKEY-MISSING-612")
def test_tags_post_without_api_key_is_refused(keyless, product_url):
    """Our reading (E301, E19): the fail envelope with 612, or HTTP 401/403."""
    ex = ts.post(keyless, ts.body(ts.url_image(product_url)))
    ts.auth_refused(ex, 612)


@pytest.mark.req("TAGGER-AUTH-KEY-REQUIRED")
@WRONG_KEYS
def test_tags_post_with_wrong_api_key_is_not_tagged(tagger, product_url, key):
    _never_tagged(ts.post(tagger, ts.body(ts.url_image(product_url)), headers={"x-api-key": key}), "with a wrong key")


@pytest.mark.req("TAGGER-TAGS-APIKEY-WRONG-609")
@WRONG_KEYS
def test_tags_post_with_wrong_api_key_is_refused(tagger, product_url, key):
    """Our reading (E301, E19): the fail envelope with 609, or HTTP 401/403."""
    ex = ts.post(tagger, ts.body(ts.url_image(product_url)), headers={"x-api-key": key})
    ts.auth_refused(ex, 609)


@pytest.mark.req("TAGGER-AUTH-KEY-REQUIRED")
def test_tags_post_without_api_key_and_broken_body_is_not_tagged(keyless):
    ex = ts.post(keyless, content=b"{not json")
    body = ex.json if isinstance(ex.json, dict) else {}
    checks.that(ex, body.get("status") != "ok" and (ex.status not in (200, 201) or body.get("status") == "fail"),
                "tagger tags: a request without x-api-key must never be tagged (a 2xx answer carries status fail; E19)")


@pytest.mark.req("TAGGER-TAGS-METHOD-PATH")
def test_tags_post_json_to_documented_path_is_tagged(tagger, product_url):
    ex = ts.post(tagger, ts.body(ts.url_image(product_url)), headers={"content-type": "application/json"})
    checks.success(ex)


@pytest.mark.req("TAGGER-TAGS-URI-METHOD-623")
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "QUERY", "PROPFIND"])
def test_tags_other_method_is_refused_with_623(tagger, method):
    ex = tagger.call("tags", method=method)
    checks.error(ex, 623)


@pytest.mark.req("TAGGER-TAGS-URI-METHOD-623")
@pytest.mark.parametrize("suffix", ["/tag", "/tags/extra", "/nonexistent"])
def test_tags_unknown_path_is_refused_with_623(tagger, product_url, suffix):
    raw = contracts.api_info("tagger")["prefix"] + suffix
    ex = tagger.call("tags", raw_path=raw, json=ts.body(ts.url_image(product_url)))
    checks.error(ex, 623)
