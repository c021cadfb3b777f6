"""Tagger: the request body - JSON (824), image.type (804), base64 (E20, 801, 802), url (803), formats (805),
context fields (optional; price as a number, E18)."""

from __future__ import annotations

import base64
import random
import re
import socket

import pytest
import tagger_support as ts
from hypothesis import given
from hypothesis import strategies as st

from fashion_conformance import checks
from fashion_conformance.imagehost.factory import encode, render
from fashion_conformance.imagehost.server import fetchable_ports

PRODUCT = ts.single(ts.SOLID_TOP)
PRODUCT_B64 = base64.b64encode(PRODUCT).decode("ascii")
PREFIX = "data:image/png;base64,"
NOT_BASE64 = "!#$%&*()[]{}<>?,;:~`|\\\"'é한"  # outside every base64 alphabet and not whitespace
TEXT = b"This is a note, not a picture.\n" * 8
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def closed_port() -> int:
    """A loopback port nothing listens on, inside the image guide's range (so only the connection can fail)."""
    for port in random.sample(fetchable_ports(), 64):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in the image guide's range")


# ---------------------------------------------------------------- body and image object

@pytest.mark.req("TAGGER-TAGS-INVALID-JSON-824")
@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"image": {"type": "url",', b"", b"[1, 2]", b'"text"', b"null",
                                 b"42"], ids=["brace", "words", "truncated", "empty", "array", "string", "null", "number"])
def test_tags_post_body_not_json_object_is_refused_with_824(tagger, raw):
    checks.error(ts.post(tagger, content=raw), 824)


NO_IMAGE = pytest.mark.parametrize("payload", [
    {}, {"context": {"id": "A111"}}, {"image": None}, {"image": {}}, {"image": "url"},
    {"image": {"type": "url"}}, {"image": {"type": "base64"}}, {"image": {"content": "data:image/png;base64,AAAA"}},
], ids=["empty", "context-only", "image-null", "image-empty", "image-string", "no-content-url", "no-content-b64",
        "no-type"])


@pytest.mark.req("TAGGER-REQ-IMAGE-REQUIRED")
@NO_IMAGE
def test_tags_post_without_image_type_or_content_is_refused(tagger, payload):
    """Request body table: image, image.type and image.content are required; the refusal is the fail envelope."""
    ts.fail_envelope(ts.post(tagger, payload))


@pytest.mark.req("TAGGER-RESPONSE-ERROR-CODE-LIST", "TAGGER-TAGS-INTERNAL-500")
@NO_IMAGE
def test_tags_post_without_image_type_or_content_is_refused_with_listed_code(tagger, payload):
    """E301: the refusal's code is one of the vendor's codes, and not 500 nor an HTTP 5xx (E19)."""
    ex = ts.post(tagger, payload)
    code = ts.fail_envelope(ex)
    ts.listed_code(ex, code)
    ts.not_5xx(ex)
    checks.that(ex, code != 500, "a request without image is the client's fault, never code 500")


@pytest.mark.req("TAGGER-TAGS-IMAGE-TYPE-804")
@pytest.mark.parametrize("image_type", ["file", "image", "uri", "", "base-64", 1, None, True, ["url"]],
                         ids=["file", "image", "uri", "blank", "base-64", "int", "null", "bool", "list"])
def test_tags_post_image_type_not_url_or_base64_is_refused_with_804(tagger, product_url, image_type):
    checks.error(ts.post(tagger, {"image": {"type": image_type, "content": product_url}}), 804)


@pytest.mark.req("TAGGER-TAGS-IMAGE-TYPE-804")
def test_tags_post_image_type_missing_is_refused_with_804(tagger, product_url):
    checks.error(ts.post(tagger, {"image": {"content": product_url}}), 804)


@pytest.mark.req("TAGGER-TAGS-IMAGE-TYPE-804")
@ts.FUZZ
@given(image_type=st.text(min_size=1, max_size=12).filter(lambda s: s.strip().lower() not in ts.IMAGE_TYPES))
def test_tags_post_any_other_image_type_is_refused_with_804(tagger, product_url, image_type):
    checks.error(ts.post(tagger, {"image": {"type": image_type, "content": product_url}}), 804)


# ---------------------------------------------------------------- base64

@pytest.mark.req("TAGGER-REQ-IMAGE-BASE64-PREFIX", "TAGGER-REQ-IMAGE-URL")
@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_tags_post_base64_with_prefix_tags_like_the_url(tagger, image_host, fmt):
    data = ts.single(ts.SOLID_TOP, fmt)
    image = ts.b64_image(data, fmt)
    assert re.match(ts.limit("tag.base64_prefix").value, image["content"]), "the suite sends the documented prefix"
    ex, by_b64 = ts.tagged(tagger, ts.body(image))
    _, by_url = ts.tagged(tagger, ts.body(ts.url_image(image_host.put(f"tagger-solid.{fmt}", data))))
    checks.that(ex, by_b64["objects"] == by_url["objects"],
                f"base64 with the data:image/{fmt};base64, prefix gives the same objects as the same image by URL:\n"
                f"  base64: {by_b64['objects']}\n  url: {by_url['objects']}")


@pytest.mark.req("TAGGER-TAGS-BASE64-HEADER-801")
def test_tags_post_base64_without_prefix_is_tagged_or_refused_with_801(tagger):
    ex = ts.post(tagger, {"image": {"type": "base64", "content": PRODUCT_B64}})
    body = ex.json if isinstance(ex.json, dict) else {}
    if body.get("status") == "ok":
        checks.success(ex)
    else:
        checks.error(ex, 801)


@pytest.mark.req("TAGGER-TAGS-BASE64-UNDECODABLE-802")
@ts.FUZZ
@given(at=st.integers(min_value=0, max_value=len(PRODUCT_B64)), bad=st.text(NOT_BASE64, min_size=1, max_size=4))
def test_tags_post_base64_with_foreign_characters_is_refused_with_802(tagger, at, bad):
    content = PREFIX + PRODUCT_B64[:at] + bad + PRODUCT_B64[at:]
    checks.error(ts.post(tagger, {"image": {"type": "base64", "content": content}}), 802)


@pytest.mark.req("TAGGER-TAGS-BASE64-UNDECODABLE-802")
@pytest.mark.parametrize("content", [PREFIX + PRODUCT_B64 + "A", PREFIX + "abc", PREFIX + "A", PREFIX + "=AAA"],
                         ids=["one-extra", "three", "one", "leading-pad"])
def test_tags_post_base64_with_broken_padding_is_refused_with_802(tagger, content):
    checks.error(ts.post(tagger, {"image": {"type": "base64", "content": content}}), 802)


# ---------------------------------------------------------------- url

@pytest.mark.req("TAGGER-REQ-IMAGE-URL", "TAGGER-REQ-CONTEXT-OPTIONAL")
@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_tags_post_url_of_reachable_image_is_tagged(tagger, image_host, fmt):
    ex, data = ts.tagged(tagger, ts.body(ts.url_image(image_host.generated(5, fmt))))
    checks.that(ex, any(obj["type"] != ts.NODETC for obj in data["objects"]),
                "a catalogue photo of one garment fetched by URL is tagged with at least one item")


@pytest.mark.req("TAGGER-TAGS-URL-FETCH-803")
@pytest.mark.parametrize("status", [404, 403, 500, 503])
def test_tags_post_url_answering_error_status_is_refused_with_803(tagger, image_host, status):
    checks.error(ts.post(tagger, ts.body(ts.url_image(image_host.status_url(status)))), 803)


@pytest.mark.req("TAGGER-TAGS-URL-FETCH-803")
@pytest.mark.parametrize("url", ["not a url", "http://", "image.png", "ftp://127.0.0.1/image.png", "http://[::1"],
                         ids=["words", "no-host", "relative", "ftp", "broken-ipv6"])
def test_tags_post_malformed_url_is_refused_with_803(tagger, url):
    checks.error(ts.post(tagger, ts.body(ts.url_image(url))), 803)


@pytest.mark.req("TAGGER-TAGS-URL-FETCH-803")
def test_tags_post_url_of_unreachable_host_is_refused_with_803(tagger, embedded_only):
    checks.error(ts.post(tagger, ts.body(ts.url_image(f"http://127.0.0.1:{closed_port()}/image.png"))), 803)


@pytest.mark.req("TAGGER-TAGS-URL-FETCH-803")
def test_tags_post_url_of_missing_file_is_refused_with_803(tagger, image_host):
    checks.error(ts.post(tagger, ts.body(ts.url_image(image_host.url("tagger-no-such-file.png")))), 803)


# ---------------------------------------------------------------- formats

@pytest.mark.req("TAGGER-TAGS-FORMAT-805")
@pytest.mark.parametrize("name,data", [("tagger-note.txt", TEXT), ("tagger-doc.pdf", PDF)], ids=["text", "pdf"])
def test_tags_post_url_of_non_image_is_refused_with_805(tagger, image_host, name, data):
    checks.error(ts.post(tagger, ts.body(ts.url_image(image_host.put(name, data)))), 805)


@pytest.mark.req("TAGGER-TAGS-FORMAT-805")
@pytest.mark.parametrize("data", [TEXT, PDF], ids=["text", "pdf"])
def test_tags_post_base64_of_non_image_is_refused_with_805(tagger, data):
    checks.error(ts.post(tagger, ts.body(ts.b64_image(data))), 805)


@pytest.mark.req("TAGGER-TAGS-FORMAT-805")
@pytest.mark.parametrize("fmt", ["webp", "bmp", "tiff"])
def test_tags_post_image_in_format_outside_emulator_list_is_refused_with_805(tagger, image_host, embedded_only, fmt):
    assert fmt not in ts.limit("image.formats").value
    data = encode(render(320, 320, [ts.SOLID_TOP]), fmt)
    checks.error(ts.post(tagger, ts.body(ts.url_image(image_host.put(f"tagger-solid.{fmt}", data)))), 805)
    checks.error(ts.post(tagger, ts.body(ts.b64_image(data, fmt))), 805)


@pytest.mark.req("TAGGER-TAGS-FORMAT-805")
@pytest.mark.parametrize("fmt", ts.limit("image.formats").value)
def test_tags_post_image_in_emulator_format_is_tagged(tagger, image_host, embedded_only, fmt):
    ts.tagged(tagger, ts.body(ts.url_image(image_host.generated(8, fmt))))


# ---------------------------------------------------------------- context

@pytest.mark.req("TAGGER-REQ-CONTEXT-OPTIONAL")
@pytest.mark.parametrize("payload_context", [None, {}], ids=["no-context", "empty-context"])
def test_tags_post_without_context_fields_is_tagged(tagger, product_url, payload_context):
    payload = {"image": ts.url_image(product_url)}
    if payload_context is not None:
        payload["context"] = payload_context
    ts.tagged(tagger, payload)


@pytest.mark.req("TAGGER-REQ-CONTEXT-PRICE-NUMBER")
def test_tags_post_with_documented_example_context_is_tagged(tagger, product_url):
    """The request example's context, price 299.99 a number although the table types it string (E18)."""
    ts.tagged(tagger, ts.body(ts.url_image(product_url), id="A111", detection=list(ts.DETECTION), gender="male",
                              brand="NIKE", currency="USD", price=299.99, age="early20s", keywords="bling bling",
                              productContentName="one-piece", season="19SS"))


_STRING_FIELDS = [f for f in ts.limit("tag.context_fields").value if f != "detection"]


@pytest.mark.req("TAGGER-REQ-CONTEXT-FIELDS", "TAGGER-REQ-CONTEXT-OPTIONAL")
@ts.FUZZ
@given(context=st.fixed_dictionaries({}, optional={f: st.text(max_size=20) for f in _STRING_FIELDS}))
def test_tags_post_with_any_string_context_fields_is_tagged(tagger, product_url, context):
    ts.tagged(tagger, {"image": ts.url_image(product_url), "context": context})


@pytest.mark.parametrize("price", [
    pytest.param(299.99, marks=pytest.mark.req("TAGGER-REQ-CONTEXT-PRICE-NUMBER"), id="float"),
    pytest.param(300, marks=pytest.mark.req("TAGGER-REQ-CONTEXT-PRICE-NUMBER"), id="int"),
    pytest.param(0, marks=pytest.mark.req("TAGGER-REQ-CONTEXT-PRICE-NUMBER"), id="zero"),
    pytest.param("299.99", marks=pytest.mark.req("TAGGER-REQ-CONTEXT-FIELDS"), id="string"),
])
def test_tags_post_with_price_as_number_or_string_is_tagged(tagger, product_url, price):
    ts.tagged(tagger, ts.body(ts.url_image(product_url), price=price, currency="USD"))
