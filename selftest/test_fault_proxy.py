"""Self-tests of the fault injector: the traffic model, each kind of rewrite, the catalog, and the proxy over
real HTTP (faithful pass-through, a fault applied, the relay)."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
import uvicorn
from PIL import Image

from fashion_conformance import contracts, embedded, targets
from fashion_conformance.faults import CATALOG, FaultProxy, fault
from fashion_conformance.faults import rewrites as rw
from fashion_conformance.faults.proxy import UNKNOWN_PATH, Context, Fault
from fashion_conformance.faults.run import paths_for, targets_toml
from fashion_conformance.faults.traffic import Req, Resp, build_multipart, endpoint_of, parse_multipart
from fashion_conformance.imagehost import factory
from fashion_conformance.imagehost.server import ImageHost

KEYS = embedded.DEFAULT_KEYS
APPKEY = KEYS["appkey"]
V2 = f"/v2.0/appkeys/{APPKEY}/services/svc"
V1 = f"/nhn-ai-fashion/v1.0/appkeys/{APPKEY}/service/svc"
MAKER = f"/nhn-ai-fashion-maker/v1.0/appkeys/{APPKEY}/service/svc"


def multipart(data: dict[str, str], files: dict[str, tuple[str, bytes, str]] | None = None) -> tuple[bytes, str]:
    request = httpx.Request("POST", "http://x/", data=data, files=files)
    return request.read(), request.headers["content-type"]


def req(method: str, path: str, query: str = "", headers: list[tuple[str, str]] | None = None,
        body: bytes = b"") -> Req:
    return Req.make(method, path, query, headers or [], body)


def ctx() -> Context:
    return Context(dict(KEYS), relay_base="http://127.0.0.1:10999")


def nhn(code: int, api: str = "v2", data=None) -> Resp:
    body = {"header": {"isSuccessful": code == 0, "resultCode": code, "resultMessage": contracts.code_message(api, code)}}
    if data is not None:
        body["data"] = data
    return Resp(200, [("content-type", "application/json")], json.dumps(body).encode())


# traffic model


def test_fault_endpoint_of_maps_method_and_path_to_the_contract():
    assert endpoint_of("GET", f"{V2}/search") == ("v2", "search.link")
    assert endpoint_of("POST", f"{V2}/search") == ("v2", "search.image")
    assert endpoint_of("GET", f"{V1}/product/p1") == ("v1", "search.product")
    assert endpoint_of("POST", "/tagger/v2.12/tags") == ("tagger", "tags")
    assert endpoint_of("GET", f"{V2}/image") == ("v2", None)
    assert endpoint_of("GET", "/elsewhere") == (None, None)


def test_fault_multipart_round_trip_keeps_fields_and_files():
    body, ctype = multipart({"limit": "5", "filter.s1": "a"}, {"imageFile": ("a.png", b"\x89PNG\r\n--x", "image/png")})
    boundary, parts = parse_multipart(body, ctype)
    assert [(p.name, p.filename) for p in parts] == [("limit", None), ("filter.s1", None), ("imageFile", "a.png")]
    assert parts[2].data == b"\x89PNG\r\n--x"
    assert build_multipart(boundary, parts) == body


def test_fault_edit_params_changes_query_and_form_fields_alike():
    body, ctype = multipart({"limit": "500", "filter.s1": "a"}, {"imageFile": ("a.png", b"img", "image/png")})
    r = req("POST", f"{V2}/search", "x=1&filter.s2=b", [("Content-Type", ctype)], body)
    r.edit_params(lambda k, v: None if k.startswith("filter.") else v)
    assert r.query == [("x", "1")]
    assert r.params() == {"x": "1", "limit": "500"}
    assert [p.name for p in r.form()[1]] == ["limit", "imageFile"]


# request rewrites


def test_fault_clamps_force_values_into_the_documented_range():
    r = req("GET", f"{V2}/products/p/search", "limit=201&minSimilarity=0")
    rw.clamp_int("limit", 1, 200)(r, ctx())
    rw.clamp_fraction("minSimilarity")(r, ctx())
    assert r.params() == {"limit": "200", "minSimilarity": "0.000001"}
    r = req("GET", f"{V2}/products/p/search", "limit=abc&minSimilarity=1.5")
    rw.clamp_int("limit", 1, 200)(r, ctx())
    rw.clamp_fraction("minSimilarity")(r, ctx())
    assert r.params() == {"limit": "abc", "minSimilarity": "1"}


@pytest.mark.parametrize("api, path", [("v2", f"{V2}/indexes"), ("maker", f"{MAKER}/indexes")])
def test_fault_window_keeps_paging_inside_the_window(api, path):
    size = contracts.limit(api, "index.list.window").value
    r = req("GET", path, f"start={size - 99}&limit=100")
    rw.window(api)(r, ctx())
    assert r.params() == {"start": str(size - 100), "limit": "100"}
    r = req("GET", path, "start=-1&limit=0")
    rw.window(api)(r, ctx())
    assert r.params() == {"start": "0", "limit": "1"}


def test_fault_image_urls_lose_their_delay_and_size():
    url = "http://127.0.0.1:10001/g/5.jpeg?size=5242881&delay=4.5&trickle=5"
    r = req("GET", f"{V2}/detect", httpx.QueryParams({"path": url}).__str__())
    rw.images(rw.without_delivery_delay)(r, ctx())
    assert dict(parse_qsl(urlsplit(r.params()["path"]).query)) == {"size": "5242881"}
    rw.images(rw.without_size)(r, ctx())
    assert r.params()["path"] == "http://127.0.0.1:10001/g/5.jpeg"


def test_fault_unsupported_formats_become_png():
    c = ctx()
    assert rw.as_png("http://h:10001/g/7.webp?w=64", c) == "http://h:10001/g/7.webp?w=64".replace(".webp", ".png")
    relayed = rw.as_png("http://h:10001/f/a.bmp", c)
    assert relayed.startswith(c.relay_base)
    url, transform = c.relayed(relayed.rsplit("/", 1)[1])
    assert url == "http://h:10001/f/a.bmp"
    data, ctype = transform(factory.product_image(1, 64, 64, "bmp"), "image/bmp")
    assert Image.open(io.BytesIO(data)).format == "PNG" and ctype == "image/png"
    jpeg = factory.product_image(1, 64, 64, "jpeg")
    assert rw.to_supported(jpeg) == jpeg


def test_fault_shrink_brings_a_padded_image_below_the_cap():
    png = factory.pad_to_size(factory.product_image(2, 64, 64, "png"), "png", 1_048_577)
    small = rw.shrink(png)
    assert len(small) <= contracts.limit("v2", "image.tag_max_bytes").value
    assert Image.open(io.BytesIO(small)).size == (64, 64)


def test_fault_allowed_port_relays_only_refused_ports():
    c = ctx()
    assert rw.allowed_port("http://h:10500/g/1.png", c) == "http://h:10500/g/1.png"
    assert rw.allowed_port("http://h/g/1.png", c) == "http://h/g/1.png"
    assert rw.allowed_port("http://h:9999/g/1.png", c).startswith(c.relay_base)


def test_fault_images_reach_uploads_and_tagger_bodies():
    bmp = factory.product_image(3, 64, 64, "bmp")
    body, ctype = multipart({"limit": "5"}, {"imageFile": ("a.bmp", bmp, "image/bmp")})
    r = req("POST", f"{V2}/search", "", [("content-type", ctype)], body)
    rw.images(rw.as_png, rw.to_supported)(r, ctx())
    part = next(p for p in r.form()[1] if p.name == "imageFile")
    assert Image.open(io.BytesIO(part.data)).format == "PNG"
    tagger = {"image": {"type": "base64", "content": "data:image/bmp;base64," + base64.b64encode(bmp).decode()}}
    r = req("POST", "/tagger/v2.12/tags", "", [("content-type", "application/json")], json.dumps(tagger).encode())
    rw.images(rw.as_png, rw.to_supported)(r, ctx())
    content = r.json()["image"]["content"]
    assert content.startswith("data:image/bmp;base64,")
    assert Image.open(io.BytesIO(base64.b64decode(content.split(",", 1)[1]))).format == "PNG"
    r = req("POST", "/tagger/v2.12/tags", "", [], json.dumps({"image": {"type": "url", "content":
                                                                        "http://h:10001/g/1.png?delay=4"}}).encode())
    rw.images(rw.without_delivery_delay)(r, ctx())
    assert r.json()["image"]["content"] == "http://h:10001/g/1.png"


def test_fault_index_files_are_rewritten_line_by_line():
    lines = [{"productId": "p1", "status": "disable", "name": "n, \"q\"", "category1Id": "a", "category2Id": "b",
              "category3Id": "c", "imageUrl": "http://h:9000/g/1.png", "s1": "", "s2": ""}]
    jsonl = ("\n".join(json.dumps(x) for x in lines) + "\n").encode()
    csv_text = b'p2,enable,"n, x",a,b,c,http://h:9000/g/2.png,,\np3,disable,n,a,b,c,http://h:10001/g/3.png,,\n'
    for data, name in ((jsonl, "a.jsonl"), (csv_text, "a.csv")):
        body, ctype = multipart({"format": name.rsplit(".", 1)[1]}, {"file": (name, data, "text/plain")})
        r = req("POST", f"{V2}/indexes", "", [("content-type", ctype)], body)
        catalog_fault = fault("v2-disable-ignored")
        catalog_fault.request(r, ctx())
        rw.images(rw.allowed_port)(r, ctx())
        text = next(p for p in r.form()[1] if p.name == "file").text
        assert "disable" not in text and "http://h:9000" not in text and "http://127.0.0.1:10999/__fault/relay/" in text
    untouched = b'p3,enable,n,a,b,c,http://h:10001/g/3.png,,\n'
    body, ctype = multipart({"format": "csv"}, {"file": ("a.csv", untouched, "text/csv")})
    r = req("POST", f"{V2}/indexes", "", [("content-type", ctype)], body)
    fault("v2-disable-ignored").request(r, ctx())
    assert r.body == body


def test_fault_index_link_is_relayed_with_the_file_rewrite():
    c = ctx()
    body, ctype = multipart({"link": "http://h:10001/f/data.csv"})
    r = req("POST", f"{MAKER}/index", "format=csv", [("content-type", ctype)], body)
    fault("maker-disable-ignored").request(r, c)
    link = r.params()["link"]
    url, transform = c.relayed(link.rsplit("/", 1)[1])
    assert url == "http://h:10001/f/data.csv"
    assert transform(b"p1,disable,n,a,b,c,http://h:10001/g/1.png,,\n", "text/csv")[0].startswith(b"p1,enable,")


def test_fault_auth_rewrites_put_the_right_keys_in():
    c = ctx()
    r = req("GET", "/v2.0/appkeys/WRONG/services", "", [("Authorization", "nope")])
    fault("v2-auth-ignored").request(r, c)
    assert r.path == f"/v2.0/appkeys/{APPKEY}/services" and r.header("authorization") == KEYS["secret_key"]
    r = req("GET", "/nhn-ai-fashion-maker/v1.0/appkeys/bad/services")
    fault("maker-auth-ignored").request(r, c)
    assert r.path == f"/nhn-ai-fashion-maker/v1.0/appkeys/{APPKEY}/services"
    r = req("POST", "/tagger/v2.12/tags")
    fault("tagger-auth-ignored").request(r, c)
    assert r.header("x-api-key") == KEYS["api_key"]


# response rewrites


@pytest.mark.parametrize("name, api, endpoint, code", [
    ("v2-service-quota-ignored", "v2", "service.create", -42030),
    ("v1-service-quota-ignored", "v1", "service.create", -42030),
    ("maker-index-quota-ignored", "maker", "index.create", -40040),
    ("v2-index-busy-ignored", "v2", "index.create", -40080),
    ("maker-index-busy-ignored", "maker", "index.create", -40080),
    ("v2-not-found-product-empty", "v2", "search.product", -40050),
    ("v1-not-found-product-empty", "v1", "search.product", -40050),
    ("v2-no-item-empty", "v2", "search.image", -45070),
])
def test_fault_turned_errors_are_schema_valid_successes(name, api, endpoint, code):
    """A fault that swallows an error answers a success the suite cannot tell from a real one by its shape."""
    resp = nhn(code, api)
    r = Req("POST", "/", [], [], b"", api, endpoint)
    fault(name).response(r, resp, ctx())
    assert not contracts.validate(api, endpoint, "success", resp.json()), resp.body


def test_fault_envelope_rewrites_break_the_types():
    resp = nhn(0, data={"totalCount": 0, "items": []})
    fault("v2-resultcode-string").response(req("GET", f"/v2.0/appkeys/{APPKEY}/services"), resp, ctx())
    assert resp.json()["header"]["resultCode"] == "0"
    resp = nhn(-42000)
    fault("v2-error-http-status").response(req("GET", V2), resp, ctx())
    assert resp.status == 404
    resp = nhn(-42010)
    fault("v2-duplicate-code-undocumented").response(req("POST", f"/v2.0/appkeys/{APPKEY}/services"), resp, ctx())
    assert resp.json()["header"]["resultCode"] == -42011


def test_fault_result_rewrites_change_items():
    data = {"query": "q", "totalCount": 2, "items": [{"similarity": 0.9, "productId": "a", "name": "a"},
                                                    {"similarity": 0.8, "productId": "b", "name": "b"}]}
    r = req("GET", f"{V2}/products/p/search", "limit=2&minSimilarity=0.7")
    resp = nhn(0, data=data)
    fault("v2-results-ascending").response(r, resp, ctx())
    assert [i["productId"] for i in resp.json()["data"]["items"]] == ["b", "a"]
    resp = nhn(0, data=data)
    fault("v2-similarity-below-threshold").response(r, resp, ctx())
    assert resp.json()["data"]["items"][-1]["similarity"] == pytest.approx(0.35)
    resp = nhn(0, data=data)
    fault("v2-search-over-limit").response(r, resp, ctx())
    assert len(resp.json()["data"]["items"]) == 3
    detect = {"query": "q", "totalCount": 1, "items": [{"link": "l", "score": 0.9, "center": [0.5, 0.5],
                                                        "b0": [0.2, 0.2], "b1": [0.8, 0.8]}]}
    resp = nhn(0, data=detect)
    fault("v2-detect-box-swapped").response(req("GET", f"{V2}/detect"), resp, ctx())
    assert resp.json()["data"]["items"][0]["b0"] == [0.8, 0.8]


def test_fault_tagger_rewrites():
    ok = {"status": "ok", "error": None, "data": {"objects": [{"type": "CLOTHING", "tags": [
        {"item": {"id": "i", "name": "n", "confidence": 0.5}, "position": {"x": 0.5, "y": 0.5}}]}]}}
    resp = Resp(201, [], json.dumps(ok).encode())
    fault("tagger-confidence-over-one").response(req("POST", "/tagger/v2.12/tags"), resp, ctx())
    assert resp.json()["data"]["objects"][0]["tags"][0]["item"]["confidence"] == 1.5
    failed = {"status": "fail", "data": {}, "error": {"code": 609, "message": "Auth failed"}}
    resp = Resp(401, [], json.dumps(failed).encode())
    fault("tagger-ok-on-auth-failure").response(req("POST", "/tagger/v2.12/tags"), resp, ctx())
    assert resp.status == 201 and resp.json()["status"] == "ok"


# the catalog


def test_fault_catalog_is_complete_and_consistent():
    assert len(CATALOG) >= 30
    assert len({f.name for f in CATALOG}) == len(CATALOG)
    assert {f.api for f in CATALOG} == set(contracts.APIS)
    by_id = {r.id: r for r in contracts.requirements()}
    for f in CATALOG:
        assert f.requirements and (f.request or f.response), f.name
        for rid in f.requirements:
            assert rid in by_id and by_id[rid].http, (f.name, rid)
        for ep in f.endpoints:
            assert ep == UNKNOWN_PATH or contracts.endpoint(f.api, ep), (f.name, ep)


def test_fault_applies_only_to_its_api_and_endpoints():
    f = fault("v2-search-limit-clamped")
    assert f.applies("v2", "search.link") and not f.applies("v2", "detect") and not f.applies("v1", "search.product")
    assert fault("v1-unknown-path-code").applies("v1", None)
    assert Fault("x", "v1", "", ("V1-SEARCH-SORT",)).applies("v1", "detect")


# the proxy over HTTP


class Echo:
    """An upstream that answers every request with what it received (JSON), or with a canned NHN error."""

    def __init__(self) -> None:
        self.server = uvicorn.Server(uvicorn.Config(self.app, port=embedded.free_port(), log_level="warning",
                                                    lifespan="off", interface="asgi3"))
        self.url = f"http://127.0.0.1:{self.server.config.port}"

    async def app(self, scope, receive, send) -> None:
        body = b""
        while True:
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        seen = {"method": scope["method"], "raw_path": scope["raw_path"].decode(), "query": scope["query_string"].decode(),
                "headers": {k.decode(): v.decode() for k, v in scope["headers"]}, "body": body.decode("latin-1")}
        out = json.dumps({"header": {"isSuccessful": False, "resultCode": -42030, "resultMessage": "x"}} if
                         scope["path"].endswith("/services") and scope["method"] == "POST" else seen).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": out})

    def __enter__(self) -> Echo:
        threading.Thread(target=self.server.run, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True


@pytest.fixture(scope="module")
def echo() -> Iterator[Echo]:
    with Echo() as e:
        yield e


def test_fault_proxy_faithful_path_forwards_bytes_unchanged(echo):
    body, ctype = multipart({"limit": "5"}, {"imageFile": ("a.png", b"\x00\x01binary", "image/png")})
    query = "path=http%3A%2F%2Fh%3A10001%2Fg%2F1.png%3Fw%3D64&x=a+b"
    with FaultProxy(echo.url, None, KEYS) as proxy:
        got = httpx.post(f"{proxy.base_url}{V2}/search?{query}", content=body,
                         headers={"content-type": ctype, "authorization": "s"}).json()
        assert proxy.base_url.rsplit(":", 1)[1].isdigit()
    assert got["query"] == query and got["body"].encode("latin-1") == body
    assert got["raw_path"] == f"{V2}/search" and got["headers"]["authorization"] == "s"


def test_fault_proxy_applies_the_fault_and_serves_the_relay(echo):
    with ImageHost() as host, FaultProxy(echo.url, fault("v2-port-rule-ignored"), KEYS) as proxy:
        port = int(proxy.base_url.rsplit(":", 1)[1])
        assert 10000 <= port <= 12000
        refused = "http://127.0.0.1:9/f/a.png"
        image = host.put("a.png", factory.product_image(4, 64, 64, "png"))
        proxy.context.state["unused"] = True
        got = httpx.get(f"{proxy.base_url}{V2}/detect", params={"path": refused}).json()
        relayed = dict(parse_qsl(got["query"]))["path"]
        assert relayed.startswith(proxy.base_url + "/__fault/relay/") and proxy.applied == 1
        token = relayed.rsplit("/", 1)[1]
        proxy.context._relays[token] = (image, None)
        served = httpx.get(relayed)
        assert served.status_code == 200 and served.content == factory.product_image(4, 64, 64, "png")
        assert httpx.get(f"{proxy.base_url}/__fault/relay/unknown").status_code == 404
    with FaultProxy(echo.url, fault("v2-service-quota-ignored"), KEYS) as proxy:
        got = httpx.post(f"{proxy.base_url}/v2.0/appkeys/{APPKEY}/services", json={"serviceName": "ab"}).json()
        assert got["header"] == {"isSuccessful": True, "resultCode": 0, "resultMessage": "SUCCESS"}


def _wire(**fields):
    def rewrite(req: Req, resp: Resp, ctx: Context) -> None:
        for name, value in fields.items():
            setattr(resp, name, value)

    return rewrite


def test_fault_proxy_honours_the_wire_fields_of_a_response(echo):
    """Resp.content_encoding / chunks / close / delay_s reach the wire: coded body, chunked without length, close."""
    wire = Fault("wire", "v2", "wire forms", (), response=_wire(content_encoding="gzip", chunks=3, close=True,
                                                                  delay_s=0.01))
    with FaultProxy(echo.url, wire, KEYS) as proxy, httpx.Client() as client:
        got = client.get(f"{proxy.base_url}{V2}/detect", params={"path": "x"}, headers={"accept-encoding": "gzip"})
        assert got.headers["content-encoding"] == "gzip" and got.headers["connection"] == "close"
        assert got.headers.get("transfer-encoding") == "chunked" and "content-length" not in got.headers
        assert got.json()["raw_path"] == f"{V2}/detect"
        plain = client.get(f"{proxy.base_url}/elsewhere")  # no API: the fault does not apply
        assert "content-encoding" not in plain.headers and plain.headers["content-length"] == str(len(plain.content))


def test_fault_proxy_composes_rewrites_in_order_and_counts_each(echo):
    """A sequence of rewrites: each applies where it applies, in the given order; applied/changed per name."""

    def mark(tag: str):
        def rewrite(req: Req, resp: Resp, ctx: Context) -> None:
            body = resp.json()
            body["marks"] = body.get("marks", "") + tag
            resp.set_json(body)

        return rewrite

    first = Fault("first", "v2", "", (), response=mark("1"))
    second = Fault("second", "v2", "", (), ("detect",), response=mark("2"))
    idle = Fault("idle", "v2", "", (), ("detect",), response=lambda req, resp, ctx: None)
    tagger = Fault("tagger-only", "tagger", "", (), response=mark("T"))
    with FaultProxy(echo.url, (first, second, idle, tagger), KEYS) as proxy:
        assert proxy.fault is None and len(proxy.faults) == 4
        assert httpx.get(f"{proxy.base_url}{V2}/detect").json()["marks"] == "12"
        assert httpx.get(f"{proxy.base_url}{V2}/services").json()["marks"] == "1"
        assert proxy.applied == 2
        assert proxy.applied_by == {"first": 2, "second": 1, "idle": 1, "tagger-only": 0}
        assert proxy.changed_by == {"first": 2, "second": 1, "idle": 0, "tagger-only": 0}


# running the suite through a proxy


def test_fault_run_paths_put_focused_tests_first_and_fall_back_to_the_suite():
    files = {"A": {"tests/v1/a.py": 3, "tests/maker/model.py": 17}, "B": {"tests/v1/b.py": 1}}
    assert paths_for(("A", "B"), files) == ["tests/v1/b.py", "tests/v1/a.py", "tests/maker/model.py"]
    assert paths_for(("C",), files) == ["tests"] and paths_for(("A",), None) == ["tests"]


def test_fault_run_targets_file_aims_every_api_at_the_proxy(tmp_path):
    emu = embedded.EmbeddedEmulator("http://127.0.0.1:1", tmp_path, process=None)  # type: ignore[arg-type]
    path = tmp_path / "targets.toml"
    path.write_text(targets_toml(emu, "http://127.0.0.1:10999"), encoding="utf-8")
    loaded = targets.load(path, environ={})
    assert {api: loaded.get(api)["base_url"] for api in contracts.APIS} == dict.fromkeys(contracts.APIS,
                                                                                         "http://127.0.0.1:10999")
    assert loaded.get("v2")["secret_key"] == KEYS["secret_key"] and loaded.get("image_host")["bind"] == "127.0.0.1:0"
