"""The emulated Omnious Tagger v2.12 over real HTTP: uvicorn serving only the Tagger routes, images from an ImageHost."""

from __future__ import annotations

import base64
import socket
import threading
import time
from types import SimpleNamespace

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from fashion_conformance import contracts
from fashion_conformance.emulator import fetch, tagger
from fashion_conformance.emulator.config import EmulatorConfig
from fashion_conformance.emulator.tagger_labels import COLOR_RGB, LABELS, LANGS
from fashion_conformance.imagehost.factory import ItemSpec, encode, pad_to_size, render
from fashion_conformance.imagehost.server import ImageHost

API_KEY = "selftest-tagger-key"
PATH = contracts.endpoint("tagger", "tags").path
MAX_BYTES = contracts.limit("tagger", "image.max_bytes").value
W, H = 520, 400
SHIRT = ItemSpec("shirt", (20, 20, 180, 200), (200, 30, 30))
PANTS = ItemSpec("pants", (220, 20, 360, 300), (30, 60, 180), "stripe")
BAG = ItemSpec("bag", (400, 40, 500, 160), (150, 100, 50), "check")
SHOE_A1 = ItemSpec("shoe", (20, 320, 140, 380), (30, 30, 30))
SHOE_A2 = ItemSpec("shoe", (160, 320, 280, 380), (30, 30, 30))
SHOE_B = ItemSpec("shoe", (320, 320, 440, 380), (240, 130, 30))
SCENE = encode(render(W, H, [SHIRT, PANTS, BAG, SHOE_A1, SHOE_A2, SHOE_B]), "png")


def data_url(data: bytes, fmt: str = "png") -> str:
    return f"data:image/{fmt};base64," + base64.b64encode(data).decode("ascii")


def plain(width: int, height: int, fmt: str = "png") -> bytes:
    return encode(render(width, height, [ItemSpec("rect", (2, 2, width - 2, height - 2), (40, 90, 160))]), fmt)


@pytest.fixture(scope="module")
def host():
    with ImageHost() as image_host:
        yield image_host


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    config = EmulatorConfig(data_dir=tmp_path_factory.mktemp("tagger"), tagger_api_key=API_KEY,
                            allow_private_image_hosts=True, fetch_deadline_s=1.0)
    app = Starlette(routes=tagger.routes(SimpleNamespace(config=config, fetch=fetch.fetch)))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    with httpx.Client(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=30, trust_env=False) as c:
        yield c
    server.should_exit = True
    thread.join(10)
    sock.close()


def post(client, body, *, lang: str | None = None, key: str | None = API_KEY, content: bytes | None = None):
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["x-api-key"] = key
    if lang is not None:
        headers["accept-language"] = lang
    if content is not None:
        return client.post(PATH, content=content, headers=headers)
    return client.post(PATH, json=body, headers=headers)


def tag(client, data: bytes = SCENE, *, detection=None, lang: str | None = None, **context) -> dict:
    body = {"image": {"type": "base64", "content": data_url(data)}}
    if detection is not None or context:
        body["context"] = {"detection": detection, **context}
    response = post(client, body, lang=lang)
    assert response.status_code == 201, response.text
    payload = response.json()
    assert contracts.validate("tagger", "tags", "success", payload) == []
    return payload["data"]


def tags_of(data: dict, member: str = "objects") -> dict[str, list[dict]]:
    return {obj["type"]: obj["tags"] for obj in data.get(member, [])}


def categories(data: dict, member: str = "objects") -> set[str]:
    return {t["category"]["name"] for tags in tags_of(data, member).values() for t in tags}


def collect(value, field: str) -> list:
    """Every value of `field` in a response part, in document order."""
    if isinstance(value, dict):
        own = [value[field]] if field in value else []
        return own + [x for k, v in value.items() if k != field for x in collect(v, field)]
    if isinstance(value, list):
        return [x for v in value for x in collect(v, field)]
    return []


# ---------------------------------------------------------------- success

def test_url_image_is_tagged_with_201_and_positions_inside_the_drawn_items(client, host):
    url = host.put("scene.png", SCENE)
    response = post(client, {"image": {"type": "url", "content": url}, "context": {"detection": ["TOP", "BOTTOM"]}})
    assert response.status_code == 201
    payload = response.json()
    assert contracts.validate("tagger", "tags", "success", payload) == []
    assert payload["status"] == "ok" and payload["error"] is None
    clothing = tags_of(payload["data"])["CLOTHING"]
    for spec in (SHIRT, PANTS):
        x0, y0, x1, y1 = spec.box
        assert any(x0 / W <= t["position"]["x"] <= x1 / W and y0 / H <= t["position"]["y"] <= y1 / H for t in clothing)
    assert payload["data"]["imageInfo"] and payload["data"]["genderInfo"]["name"] == "unknown"


def test_base64_with_and_without_prefix_and_url_agree(client, host):
    prefixed = tag(client)
    bare = post(client, {"image": {"type": "base64", "content": base64.b64encode(SCENE).decode()}})
    assert bare.status_code == 201 and bare.json()["data"] == prefixed
    by_url = post(client, {"image": {"type": "url", "content": host.put("scene2.png", SCENE)}})
    assert by_url.json()["data"] == prefixed


def test_languages_change_names_not_ids(client):
    by_lang = {lang: tag(client, detection=["TOP", "BOTTOM", "SHOES"], lang=lang) for lang in LANGS}
    assert tag(client, detection=["TOP", "BOTTOM", "SHOES"]) == by_lang["en"]
    en_names = collect(by_lang["en"]["objects"], "name")
    for lang in ("ko", "zh", "ja"):
        assert collect(by_lang[lang], "id") == collect(by_lang["en"], "id")
        other = collect(by_lang[lang]["objects"], "name")
        assert len(other) == len(en_names) and all(a != b for a, b in zip(other, en_names, strict=True))


def test_detection_filter_and_not_matched_objects(client):
    shoes = tag(client, detection=["SHOES"])
    assert set(tags_of(shoes)) == {"SHOES"} and len(shoes["objects"][0]["tags"]) == 3
    assert set(tags_of(shoes, "notMatchedObject")) == {"CLOTHING", "BAGS"}
    bottom = tag(client, detection=["BOTTOM"])
    assert categories(bottom) == {"pants"}
    assert "shirt" in categories(bottom, "notMatchedObject")
    defaults = [tag(client), tag(client, detection=None, id="A1"), tag(client, detection=[])]
    assert defaults[0] == defaults[1] == defaults[2]
    assert "SHOES" not in tags_of(defaults[0]) and "notMatchedObject" not in defaults[0]  # E303: shoes opt in
    assert set(tags_of(defaults[0])) == {"CLOTHING", "BAGS"}


def test_nothing_detected_gives_nodetc(client):
    blank = encode(render(200, 200, []), "png")
    data = tag(client, blank)
    assert data["imageInfo"] == [] and data["objects"] == [{"type": "NODETC", "tags": []}]
    no_dress = tag(client, detection=["WHOLEBODY"])
    assert no_dress["objects"] == [{"type": "NODETC", "tags": []}] and no_dress["imageInfo"]


def test_pair_index_joins_identical_shoes(client):
    shoes = sorted(tags_of(tag(client, detection=["SHOES"]))["SHOES"], key=lambda t: t["position"]["x"])
    assert [s["colors"][0]["name"] for s in shoes] == ["black", "black", "orange"]
    a1, a2, b = (s["pairIndex"] for s in shoes)
    assert a1 == a2 != b
    assert all(set(s) >= {"heelHeight", "toeType", "heelShape", "soleType"} for s in shoes)


def test_colours_and_prints_come_from_the_pixels(client):
    clothing = {t["category"]["name"]: t for t in tags_of(tag(client))["CLOTHING"]}
    shirt, pants = clothing["shirt"], clothing["pants"]
    assert shirt["colors"][0]["name"] == "red" and shirt["prints"][0]["name"] == "solid"
    assert shirt["colorDetails"][0]["code"] == "#c81e1e"
    assert pants["prints"][0]["name"] == "stripe" and pants["colors"][0]["name"] in ("blue", "sky-blue")
    for t in clothing.values():
        confidences = [c["confidence"] for c in t["colors"]]
        assert confidences == sorted(confidences, reverse=True) and len(confidences) <= 3
        assert sum(d["pixelFraction"] for d in t["colorDetails"]) <= 1.0 + 1e-6


def test_context_fields_and_numeric_price_are_accepted(client):
    context = {"id": "A111", "gender": "male", "brand": "B", "currency": "USD", "price": 299.99, "age": "early20s",
               "keywords": "k", "productContentName": "p", "season": "19SS", "detection": ["TOP"]}
    assert tag(client, **context)["objects"][0]["type"] == "CLOTHING"


def test_largest_accepted_file_by_url(client, host):
    url = host.put("max.png", pad_to_size(plain(64, 64), "png", MAX_BYTES))
    assert post(client, {"image": {"type": "url", "content": url}}).status_code == 201


# ---------------------------------------------------------------- errors

def expect(response: httpx.Response, code: int) -> None:
    assert 400 <= response.status_code < 500, response.status_code
    payload = response.json()
    assert contracts.validate("tagger", "tags", "error", payload) == []
    assert payload["error"]["code"] == code


@pytest.mark.parametrize(("key", "code"), [(None, 612), ("", 612), ("wrong-key", 609)])
def test_api_key(client, key, code):
    response = post(client, {"image": {"type": "base64", "content": data_url(SCENE)}}, key=key)
    expect(response, code)
    assert response.status_code == 401 and API_KEY not in response.text and "wrong-key" not in response.text


@pytest.mark.parametrize(("method", "path"), [("GET", PATH), ("PUT", PATH), ("POST", "/tagger/v2.12/other"),
                                              ("POST", "/tagger"), ("DELETE", "/tagger/v2.11/tags")])
def test_unknown_uri_or_method(client, method, path):
    expect(client.request(method, path, headers={"x-api-key": API_KEY}), 623)


@pytest.mark.parametrize("lang", ["fr", "en-US", "KOR"])
def test_unsupported_language(client, lang):
    expect(post(client, {"image": {"type": "base64", "content": data_url(SCENE)}}, lang=lang), 826)


@pytest.mark.parametrize("content", [b"{not json", b"", b"[]", b'"image"', b"[" * 100_000, b"\xff\xfe"])
def test_invalid_json(client, content):
    expect(post(client, None, content=content), 824)


@pytest.mark.parametrize("body", [
    {"image": {"type": "url", "content": "http://x"}, "context": "TOP"},
    {"image": {"type": "url", "content": "http://x"}, "context": {"gender": 1}},
    {"image": {"type": "url", "content": "http://x"}, "context": {"price": True}},
])
def test_context_of_the_wrong_shape(client, body):
    expect(post(client, body), 824)


@pytest.mark.parametrize("body", [{}, {"image": "x"}, {"image": {"content": "x"}}, {"image": {"type": "file", "content": "x"}},
                                  {"image": {"type": 1, "content": "x"}}])
def test_image_type(client, body):
    expect(post(client, body), 804)


@pytest.mark.parametrize("detection", [["HAT"], ["TOP", "top"], "TOP", [1], {"TOP": 1}])
def test_detection_values(client, detection):
    expect(post(client, {"image": {"type": "base64", "content": data_url(SCENE)}, "context": {"detection": detection}}), 825)


@pytest.mark.parametrize("content", ["", "data:image/png;base64,", "not base64 at all!", "QU=JD", "QUJDRA", "===="])
def test_undecodable_base64(client, content):
    expect(post(client, {"image": {"type": "base64", "content": content}}), 802)


def test_url_failures(client, host):
    host.put("slow.png", SCENE)
    host.put("truncated.png", SCENE[: len(SCENE) // 2])
    for url in ("", "not a url", "ftp://127.0.0.1/x.png", host.status_url(404), host.reset_url(),
                host.url("slow.png", delay=2.0), host.url("truncated.png")):
        expect(post(client, {"image": {"type": "url", "content": url}}), 803)


@pytest.mark.parametrize("data", [plain(64, 64, "webp"), plain(64, 64, "bmp"), b"plain text, not an image"])
def test_unsupported_format(client, data):
    expect(post(client, {"image": {"type": "base64", "content": data_url(data)}}), 805)


@pytest.mark.parametrize(("size", "code"), [((400, 40), 806), ((40, 400), 806), ((20, 20), 807), ((31, 64), 807),
                                             ((6001, 1600), 808)])
def test_dimensions(client, size, code):
    expect(post(client, {"image": {"type": "base64", "content": data_url(plain(*size))}}), code)


def test_file_size(client, host):
    too_big = pad_to_size(plain(64, 64), "png", MAX_BYTES + 1)
    expect(post(client, {"image": {"type": "base64", "content": data_url(too_big)}}), 809)
    expect(post(client, {"image": {"type": "url", "content": host.put("big.png", too_big)}}), 809)
    expect(post(client, None, content=b'{"image": {"type": "base64", "content": "' + b"A" * (2 * MAX_BYTES) + b'"}}'), 809)


# ---------------------------------------------------------------- label tables

def test_label_tables_match_the_contracts():
    all_ids = [entry[0] for values in LABELS.values() for entry in values.values()]
    assert len(all_ids) == len(set(all_ids))
    for values in LABELS.values():
        for entry in values.values():
            assert all(name and name != entry[1] for name in entry[2:]), entry
    assert set(COLOR_RGB) == set(LABELS["color"])
    assert len(LABELS["color"]) == contracts.limit("tagger", "tag.color_palette_size").value
    object_types = set(contracts.limit("tagger", "tag.object_types").value)
    assert {*tagger._OTHER_TYPES.values(), tagger._OTHER_DEFAULT} <= object_types
    assert set(tagger._DETECTION.values()) <= set(contracts.limit("tagger", "tag.detection").value)
    assert set(tagger.HTTP_STATUS) <= set(contracts.codes("tagger"))


def test_usage_exceeded_823_is_admitted_by_the_error_schema():
    """TAGGER-TAGS-USAGE-823: the suite never spends a usage count to provoke 823 (tests/untested.golden); an 823
    refusal in the documented fail envelope must still be judged conformant by the contracts."""
    code = 823
    envelope = {"data": {}, "status": "fail", "error": {"code": code, "message": contracts.code_message("tagger", code)}}
    assert code in contracts.codes("tagger")
    assert contracts.validate("tagger", "tags", "error", envelope) == []
