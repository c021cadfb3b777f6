"""AI Fashion v2.0 on a running emulator over real HTTP: every endpoint's success path and every error code that
input can reach; every answer is checked against the endpoint's contract by the `v2` client (conftest.Nhn)."""

from __future__ import annotations

import json
import time

import pytest

from fashion_conformance import contracts
from fashion_conformance.imagehost.factory import ItemSpec, encode, product_image, render

SEEDS = range(1, 13)
MAX_DOCS = contracts.limit("v2", "index.max_docs_per_service").value
MAX_LINES = contracts.limit("v2", "index.max_lines").value
REJECT_FILE = contracts.limit("v2", "index.max_file_bytes").extra["reject_from"]
SCENE = render(400, 300, [ItemSpec("shirt", (20, 20, 180, 200), (200, 30, 30)),
                          ItemSpec("pants", (220, 20, 360, 280), (30, 60, 180), "stripe")])
BLANK = render(200, 200, [])


def category(seed: int) -> str:
    return "top" if seed % 2 == 0 else "bottom"


def s1(seed: int) -> str:
    return "abc"[seed % 3]


@pytest.fixture(scope="module")
def catalog(v2, image_host):
    """A service with products p1..p12 (categories by parity, s1 by seed % 3) and p1dup (p1's image)."""
    name = v2.new_name()
    v2.ok("service.create", json={"serviceName": name})
    records = [v2.line(f"p{s}", image_host.generated(s), category=category(s), s1=s1(s)) for s in SEEDS]
    records.append(v2.line("p1dup", image_host.generated(1), category=category(1), s1=s1(1)))
    index_id = v2.ok("index.create", path={"serviceName": name}, data={"format": "jsonl"},
                     files={"file": ("catalog.jsonl", v2.jsonl(records))})["indexId"]
    done = v2.wait_index(name, index_id)
    assert done["status"] == "finished" and done["addedCount"] == len(records), done
    yield name
    v2.ok("service.delete", path={"serviceName": name})


def search(v2, catalog, **params):
    return v2.call("search.product", path={"serviceName": catalog, "productId": params.pop("productId", "p2")},
                   params=params)


# -- services ------------------------------------------------------------------------------------------------


def test_service_lifecycle(v2):
    name = v2.new_name()
    assert v2.ok("service.create", json={"serviceName": name}) is None
    listed = {i["serviceName"]: i for i in v2.ok("service.list")["items"]}
    assert listed[name] == {"serviceName": name, "documentCount": 0, "remainInsertCount": MAX_DOCS}
    assert v2.ok("service.get", path={"serviceName": name}) == listed[name]
    assert v2.code("service.create", json={"serviceName": name}) == -42010
    v2.ok("service.delete", path={"serviceName": name})
    assert v2.code("service.get", path={"serviceName": name}) == -42000
    assert v2.code("service.delete", path={"serviceName": name}) == -42000
    assert name not in {i["serviceName"] for i in v2.ok("service.list")["items"]}


@pytest.mark.parametrize("body", [
    {"serviceName": "Upper"}, {"serviceName": "a"}, {"serviceName": "a" * 33}, {"serviceName": "1abc"},
    {"serviceName": "ab.c"}, {"serviceName": 12}, {}, {"serviceName": "abc", "extra": 1}, [], "abc",
])
def test_service_create_invalid(v2, body):
    assert v2.code("service.create", json=body) == -40000


@pytest.mark.parametrize("content", [b"", b"{", b"\xff\xfe", b"null"])
def test_service_create_malformed_body(v2, content):
    assert v2.code("service.create", content=content, headers={"content-type": "application/json"}) == -40000


def test_service_name_boundaries(v2):
    for name in ("ab", "a" + "-_0" * 10 + "b"):
        v2.ok("service.create", json={"serviceName": name})
        v2.ok("service.delete", path={"serviceName": name})


def test_service_quota(v2):
    cap = contracts.limit("v2", "service.max_per_appkey").value
    existing = v2.ok("service.list")["totalCount"]
    names = [v2.new_name() for _ in range(cap - existing)]
    try:
        for name in names:
            v2.ok("service.create", json={"serviceName": name})
        assert v2.ok("service.list")["totalCount"] == cap
        assert v2.code("service.create", json={"serviceName": v2.new_name()}) == -42030
    finally:
        for name in names:
            v2.call("service.delete", path={"serviceName": name})


PATH_VARS = {"serviceName": "nosuchservice", "productId": "p1", "indexId": "x"}


@pytest.mark.parametrize("endpoint", [ep.id for ep in contracts.endpoints("v2")])
@pytest.mark.parametrize("auth", ["wrong-secret", "no-secret", "wrong-appkey"])
def test_auth(v2, endpoint, auth):
    ep = contracts.endpoint("v2", endpoint)
    path = v2.client.path(endpoint, **{k: v for k, v in PATH_VARS.items() if k in ep.path_params})
    headers = {"Authorization": "wrong"} if auth == "wrong-secret" else {}
    if auth == "no-secret":
        v2.client.http.headers.pop("Authorization")
    elif auth == "wrong-appkey":
        path = path.replace(v2.emu.keys["appkey"], "wrong-appkey")
    try:
        assert v2.code(endpoint, raw_path=path, headers=headers, params={"limit": 1}) == -41005
    finally:
        v2.client.http.headers["Authorization"] = v2.emu.keys["secret_key"]


@pytest.mark.parametrize("endpoint", ["service.get", "service.delete", "search.product", "detect", "search.link",
                                      "search.image", "tag", "index.create", "index.list", "index.get"])
def test_unknown_service(v2, image_host, endpoint):
    path = {k: v for k, v in PATH_VARS.items() if k in contracts.endpoint("v2", endpoint).path_params}
    params = {"limit": 1, "start": 0, "path": image_host.generated(1), "link": "x"}
    assert v2.code(endpoint, path=path, params=params, data={"limit": "1"}) == -42000


# -- search by product -----------------------------------------------------------------------------------------


def test_search_product(v2, catalog):
    data = search(v2, catalog, productId="p2", limit=5).data
    items = data["items"]
    assert data["totalCount"] == len(items) == 5
    assert items[0]["productId"] == "p2" and items[0]["similarity"] == 1.0
    sims = [i["similarity"] for i in items]
    assert sims == sorted(sims, reverse=True) and all(0 < s <= 1 for s in sims)
    assert items[0]["category1Id"] == "top" and items[0]["s1"] == s1(2) and items[0]["name"] == "name p2"
    assert "productId=p2" in data["query"] and "limit=5" in data["query"]


def test_search_product_limit_and_threshold(v2, catalog):
    assert search(v2, catalog, limit=1).data["totalCount"] == 1
    everything = search(v2, catalog, limit=200, includeDuplicates="true").data["items"]
    assert len(everything) == len(SEEDS) + 1
    cut = everything[len(everything) // 2]["similarity"]
    above = search(v2, catalog, limit=200, minSimilarity=cut, includeDuplicates="true").data["items"]
    assert above and all(i["similarity"] >= cut for i in above)
    assert len(above) == sum(1 for i in everything if i["similarity"] >= cut)
    assert search(v2, catalog, limit=200, minSimilarity=1).data["items"][0]["productId"] == "p2"


def test_search_product_duplicates(v2, catalog):
    with_dups = [i["productId"] for i in search(v2, catalog, productId="p1", limit=200,
                                                  includeDuplicates="true").data["items"]]
    assert {"p1", "p1dup"} <= set(with_dups)
    without = [i["productId"] for i in search(v2, catalog, productId="p1", limit=200).data["items"]]
    assert len(without) == len(set(without)) and len({"p1", "p1dup"} & set(without)) == 1
    assert len(without) == len(with_dups) - 1


@pytest.mark.parametrize(("filters", "keep"), [
    ({"filter.category1Id": "top"}, lambda s: category(s) == "top"),
    ({"filter.category1Id": "equal:top"}, lambda s: category(s) == "top"),
    ({"filter.category1Id": "!equal:top"}, lambda s: category(s) != "top"),
    ({"filter.s1": "a,b"}, lambda s: s1(s) in "ab"),
    ({"filter.s1": "!equal:a,b"}, lambda s: s1(s) == "c"),
    ({"filter.category1Id": "top", "filter.s1": "b"}, lambda s: category(s) == "top" and s1(s) == "b"),
    ({"filter.category2Id": "c2"}, lambda s: True),
    ({"filter.category3Id": "none"}, lambda s: False),
])
def test_search_product_filters(v2, catalog, filters, keep):
    found = {i["productId"] for i in search(v2, catalog, limit=200, includeDuplicates="true", **filters).data["items"]}
    expected = {f"p{s}" for s in SEEDS if keep(s)} | ({"p1dup"} if keep(1) else set())
    assert found == expected


@pytest.mark.parametrize("params", [
    {}, {"limit": 0}, {"limit": 201}, {"limit": "x"}, {"limit": 1.5}, {"limit": 5, "minSimilarity": 0},
    {"limit": 5, "minSimilarity": 1.01}, {"limit": 5, "minSimilarity": "nan"}, {"limit": 5, "includeDuplicates": "yes"},
    {"limit": 5, "filter.category1_id": "top"}, {"limit": 5, "filter.color": "red"},
    {"limit": 5, "filter.s1": ""}, {"limit": 5, "filter.s1": "like:a"}, {"limit": 5, "filter.s1": "a,,b"},
])
def test_search_product_invalid(v2, catalog, params):
    assert search(v2, catalog, **params).header["resultCode"] == -40000


def test_search_product_unknown_product(v2, catalog):
    assert search(v2, catalog, productId="nope", limit=5).header["resultCode"] == -40050


# -- detect, search by link, search by image ---------------------------------------------------------------------


def test_detect_and_search_link(v2, catalog, image_host):
    url = image_host.put("v2-scene.png", encode(SCENE, "png"))
    data = v2.ok("detect", path={"serviceName": catalog}, params={"path": url})
    assert data["totalCount"] == len(data["items"]) == 2 and isinstance(data["query"], str)
    for item in data["items"]:
        for axis in (0, 1):
            assert 0 <= item["b0"][axis] < item["b1"][axis] <= 1
            assert item["center"][axis] == pytest.approx((item["b0"][axis] + item["b1"][axis]) / 2, abs=1e-4)
        assert 0 < item["score"] <= 1
    link = data["items"][0]["link"]
    found = v2.ok("search.link", path={"serviceName": catalog}, params={"link": link, "limit": 3})
    assert 0 < found["totalCount"] == len(found["items"]) <= 3
    filtered = v2.ok("search.link", path={"serviceName": catalog},
                     params={"link": link, "limit": 200, "filter.category1Id": "top", "minSimilarity": 0.01})
    assert all(i["category1Id"] == "top" and i["similarity"] >= 0.01 for i in filtered["items"])


def test_detect_nothing(v2, catalog, image_host):
    url = image_host.put("v2-blank.png", encode(BLANK, "png"))
    data = v2.ok("detect", path={"serviceName": catalog}, params={"path": url})  # E214: success, no items
    assert data["totalCount"] == 0 and data["items"] == [] and "path=" in data["query"]


@pytest.mark.parametrize("params", [{}, {"path": ""}, {"path": "not a url"}])
def test_detect_invalid(v2, catalog, params):
    assert v2.code("detect", path={"serviceName": catalog}, params=params) in (-40000, -45050)


def test_search_link_invalid(v2, catalog):
    assert v2.code("search.link", path={"serviceName": catalog}, params={"limit": 3}) == -40000
    assert v2.code("search.link", path={"serviceName": catalog}, params={"link": "abc", "limit": 3}) == -40000


def test_search_image(v2, catalog, image_host):
    url = image_host.generated(4)
    by_url = v2.ok("search.image", path={"serviceName": catalog}, data={"imageUrl": url, "limit": "3"})
    assert by_url["items"][0]["productId"] == "p4" and by_url["items"][0]["similarity"] == 1.0
    image = product_image(4)  # the bytes the image host serves for seed 4
    by_file = v2.ok("search.image", path={"serviceName": catalog}, data={"limit": "3", "filter.s1": s1(4)},
                    files={"imageFile": ("q.jpg", image, "image/jpeg")})
    assert by_file["items"][0]["productId"] == "p4" and all(i["s1"] == s1(4) for i in by_file["items"])
    both = v2.ok("search.image", path={"serviceName": catalog}, data={"imageUrl": image_host.generated(5), "limit": "1"},
                 files={"imageFile": ("q.jpg", image, "image/jpeg")})
    assert both["items"][0]["productId"] == "p5"  # E15: imageUrl wins


@pytest.mark.parametrize(("data", "files", "code"), [
    ({"limit": "3"}, None, -40000),
    ({}, {"imageFile": ("q.png", encode(SCENE, "png"))}, -40000),
    ({"limit": "0"}, {"imageFile": ("q.png", encode(SCENE, "png"))}, -40000),
    ({"limit": "3", "minSimilarity": "2"}, {"imageFile": ("q.png", encode(SCENE, "png"))}, -40000),
    ({"limit": "3", "filter.bogus": "x"}, {"imageFile": ("q.png", encode(SCENE, "png"))}, -40000),
    ({"limit": "3"}, {"imageFile": ("q.png", encode(BLANK, "png"))}, -45070),
    ({"limit": "3"}, {"imageFile": ("q.bmp", encode(SCENE, "bmp"))}, -45040),
    ({"limit": "3"}, {"imageFile": ("q.png", b"not an image")}, -45040),
    ({"limit": "3"}, {"imageFile": ("q.png", encode(SCENE, "png")[:200])}, -45040),
    ({"limit": "3"}, {"imageFile": ("q.jpg", b"\xff\xd8" + bytes(REJECT_FILE))}, -45020),
])
def test_search_image_errors(v2, catalog, data, files, code):
    assert v2.code("search.image", path={"serviceName": catalog}, data=data, files=files) == code


def test_search_image_not_multipart(v2, catalog):
    for content, ctype in ((b"limit=3", "application/x-www-form-urlencoded"), (b"{}", "application/json"),
                           (b"--x\r\ngarbage", "multipart/form-data; boundary=x")):
        assert v2.code("search.image", path={"serviceName": catalog}, content=content,
                       headers={"content-type": ctype}) == -40000


def test_search_image_url_without_item(v2, catalog, image_host):
    url = image_host.put("v2-blank.png", encode(BLANK, "png"))
    assert v2.code("search.image", path={"serviceName": catalog}, data={"imageUrl": url, "limit": "3"}) == -45070


# -- tag -------------------------------------------------------------------------------------------------------


def test_tag(v2, catalog, image_host):
    url = image_host.put("v2-scene.png", encode(SCENE, "png"))
    labels = {}
    for lang in ("en", "ko", "ja"):
        data = v2.ok("tag", path={"serviceName": catalog}, params={"path": url, "lang": lang, "itemLimit": 4})
        assert data["totalCount"] == len(data["items"]) == 2
        widths = [i["b1"][0] - i["b0"][0] for i in data["items"]]
        assert widths == sorted(widths, reverse=True)
        labels[lang] = [lab["label"] for i in data["items"] for t in i["tags"] for lab in t["labels"]]
    assert labels["en"] != labels["ko"] != labels["ja"] != labels["en"]
    default = v2.ok("tag", path={"serviceName": catalog}, params={"path": url})
    assert default["totalCount"] == 1
    assert [lab["label"] for t in default["items"][0]["tags"] for lab in t["labels"]] == \
        [lab["label"] for t in v2.ok("tag", path={"serviceName": catalog},
                                     params={"path": url, "lang": "en"})["items"][0]["tags"] for lab in t["labels"]]


@pytest.mark.parametrize("params", [{"itemLimit": 0}, {"itemLimit": 5}, {"lang": "jp"}, {"lang": "zh"}, {}])
def test_tag_invalid(v2, catalog, image_host, params):
    if params:
        params["path"] = image_host.generated(1)
    assert v2.code("tag", path={"serviceName": catalog}, params=params) == -40000


# -- indexes ---------------------------------------------------------------------------------------------------


def submit(v2, service, content: bytes, fmt="jsonl", **extra):
    return v2.call("index.create", path={"serviceName": service}, data={"format": fmt, **extra},
                   files={"file": (f"f.{fmt}", content)})


def test_index_lifecycle(v2, v2_service, image_host):
    first = [v2.line(f"q{s}", image_host.generated(s)) for s in (1, 2, 3)]
    first.append(v2.line("qbad", image_host.status_url(404)))
    id1 = submit(v2, v2_service, v2.jsonl(first)).data["indexId"]
    done = v2.wait_index(v2_service, id1)
    assert done["status"] == "finished" and done["filename"] == "f.jsonl"
    assert (done["addedCount"], done["failedCount"], done["totalCount"]) == (3, 1, 4)
    assert done["addedProductIds"] == ["q1", "q2", "q3"] and done["failedProductIds"] == ["qbad"]
    assert done["requestedTime"] <= done["startTime"] <= done["finishTime"]
    assert v2.ok("service.get", path={"serviceName": v2_service})["documentCount"] == 3

    second = [v2.line("q1", image_host.generated(7)), v2.line("q2", "", status="disable"),
              v2.line("zz", "", status="disable")]
    csv = "".join(",".join(r.values()) + "\n" for r in second).encode()
    id2 = submit(v2, v2_service, csv, fmt="csv").data["indexId"]
    done = v2.wait_index(v2_service, id2)
    assert (done["updatedProductIds"], done["deletedProductIds"], done["failedProductIds"]) == (["q1"], ["q2"], ["zz"])
    assert done["totalCount"] == sum(done[f"{k}Count"] for k in ("added", "updated", "deleted", "failed", "exceeded"))
    assert v2.code("search.product", path={"serviceName": v2_service, "productId": "q2"}, params={"limit": 5}) == -40050
    found = v2.ok("search.product", path={"serviceName": v2_service, "productId": "q1"}, params={"limit": 5})
    assert {i["productId"] for i in found["items"]} == {"q1", "q3"}
    assert found["items"][0]["imageUrl"] == image_host.generated(7)

    listing = v2.ok("index.list", path={"serviceName": v2_service}, params={"start": 0, "limit": 10})
    assert listing["total"] == 2 and [i["id"] for i in listing["items"]] == [id2, id1]
    assert listing["items"][0]["serviceName"] == v2_service
    asc = v2.ok("index.list", path={"serviceName": v2_service},
                params={"start": 0, "limit": 10, "order": "addedCount:asc"})
    assert [i["id"] for i in asc["items"]] == [id2, id1]
    page = v2.ok("index.list", path={"serviceName": v2_service}, params={"start": 1, "limit": 1})
    assert page["total"] == 2 and [i["id"] for i in page["items"]] == [id1]
    for name in ("statuses", "status"):  # E7
        none = v2.ok("index.list", path={"serviceName": v2_service},
                     params={"start": 0, "limit": 10, name: "running,reserved"})
        assert none == {"total": 0, "items": []}
        both = v2.ok("index.list", path={"serviceName": v2_service}, params={"start": 0, "limit": 10, name: "finished"})
        assert both["total"] == 2
    assert v2.code("index.get", path={"serviceName": v2_service, "indexId": "nope"}) == -40090


def test_index_link_wins_over_file(v2, v2_service, image_host):
    url = image_host.put("v2-index.jsonl", v2.jsonl([v2.line("fromlink", image_host.generated(3))]))
    ex = submit(v2, v2_service, v2.jsonl([v2.line("fromfile", image_host.generated(3))]), link=url)
    done = v2.wait_index(v2_service, ex.data["indexId"])
    assert done["addedProductIds"] == ["fromlink"] and done["filename"] == "v2-index.jsonl"


def test_index_by_link_only(v2, v2_service, image_host):
    url = image_host.put("v2-index.csv", b"a1,enable,n,c,c,c," + image_host.generated(2).encode() + b",s,s\n")
    ex = v2.call("index.create", path={"serviceName": v2_service}, data={"format": "csv", "link": url})
    assert v2.wait_index(v2_service, ex.data["indexId"])["addedProductIds"] == ["a1"]


def test_index_busy_then_delete_while_running(v2, image_host):
    name = v2.new_name()
    v2.ok("service.create", json={"serviceName": name})
    slow = [v2.line(f"s{i}", image_host.generated(i, delay=2.0)) for i in range(20)]
    index_id = submit(v2, name, v2.jsonl(slow)).data["indexId"]
    assert submit(v2, name, v2.jsonl(slow[:1])).header["resultCode"] == -40080
    running = v2.ok("index.get", path={"serviceName": name, "indexId": index_id})["items"][0]
    assert running["status"] in ("reserved", "running")
    v2.ok("service.delete", path={"serviceName": name})  # E17: v2 deletes during indexing
    assert v2.code("index.get", path={"serviceName": name, "indexId": index_id}) == -42000


def _lines(n: int) -> bytes:
    """n well-formed JSONL lines (built before the fixtures exist, for parametrize)."""
    fields = contracts.limit("v2", "index.fields").value
    values = ["", "enable", "n", "c", "c", "c", "http://127.0.0.1:10000/x.jpg", "s", "s"]
    return b"".join(json.dumps(dict(zip(fields, [f"n{i}", *values[1:]], strict=True))).encode() + b"\n"
                    for i in range(n))


@pytest.mark.parametrize(("content", "fmt", "code"), [
    (b"", "jsonl", -40020),
    (b"\n", "jsonl", -40020),
    (b"{not json}\n", "jsonl", -40010),
    (b'{"productId": "a"}\n', "jsonl", -40010),
    (_lines(1) + b"\n" + _lines(1), "jsonl", -40010),
    (b"\xff\xfe" + _lines(1), "jsonl", -40010),
    (b"a,enable\n", "csv", -40010),
    (_lines(MAX_LINES + 1), "jsonl", -40030),
    (_lines(1) + b" " * REJECT_FILE, "jsonl", -40030),
    (_lines(1), "xml", -40000),
])
def test_index_file_errors(v2, v2_service, content, fmt, code):
    assert submit(v2, v2_service, content, fmt=fmt).header["resultCode"] == code


def test_index_request_errors(v2, v2_service, image_host):
    path = {"serviceName": v2_service}
    assert v2.code("index.create", path=path, data={"format": "jsonl"}) == -40000  # neither link nor file
    assert v2.code("index.create", path=path, files={"file": ("f.jsonl", _lines(1))}) == -40000  # no format
    assert v2.code("index.create", path=path, data={"format": "jsonl", "link": image_host.status_url(404)}) == -40010
    assert v2.code("index.create", path=path, content=b"{}", headers={"content-type": "application/json"}) == -40000


@pytest.mark.parametrize("params", [
    {"start": 0}, {"limit": 10}, {"start": -1, "limit": 10}, {"start": 0, "limit": 0}, {"start": 0, "limit": 101},
    {"start": 901, "limit": 100}, {"start": 0, "limit": 10, "order": "name:asc"},
    {"start": 0, "limit": 10, "order": "totalCount"}, {"start": 0, "limit": 10, "order": "totalCount:up"},
    {"start": 0, "limit": 10, "statuses": "done"}, {"start": 0, "limit": 10, "statuses": ""},
])
def test_index_list_invalid(v2, v2_service, params):
    assert v2.code("index.list", path={"serviceName": v2_service}, params=params) == -40000


def test_index_list_window_edge(v2, v2_service):
    assert v2.ok("index.list", path={"serviceName": v2_service}, params={"start": 900, "limit": 100}) == {
        "total": 0, "items": []}


def test_index_times_are_ordered(v2, v2_service, image_host):
    before = int(time.time())
    index_id = submit(v2, v2_service, v2.jsonl([v2.line("t1", image_host.generated(1))])).data["indexId"]
    done = v2.wait_index(v2_service, index_id)
    assert before <= done["requestedTime"] <= done["startTime"] <= done["finishTime"] <= time.time() + 1
