"""AI Fashion v1.0 on a running emulator over real HTTP: every endpoint's success path and every error code that
input can reach; products come from a Maker index into the v1 service ID (the namespace both share)."""

from __future__ import annotations

import pytest

from fashion_conformance import contracts
from fashion_conformance.imagehost.factory import ItemSpec, encode, render

SEEDS = range(1, 9)
SCENE = render(400, 300, [ItemSpec("shirt", (20, 20, 180, 200), (200, 30, 30)),
                          ItemSpec("bag", (220, 40, 360, 200), (30, 160, 60), "check")])
BLANK = render(120, 120, [])


def category(seed: int) -> str:
    return "top" if seed % 2 == 0 else "bottom"


@pytest.fixture(scope="module")
def catalog(v1, maker, image_host):
    """A v1 service ID with products p1..p8 indexed through Maker (category by parity, s1 = seed % 3)."""
    name = v1.create_service()
    records = [maker.line(f"p{s}", image_host.generated(s), category=category(s), s1="abc"[s % 3]) for s in SEEDS]
    index_id = maker.ok("index.create", path={"serviceID": name}, params={"format": "jsonl"},
                        files={"file": ("catalog.jsonl", maker.jsonl(records))})["indexID"]
    done = maker.wait_index(name, index_id)
    assert done["status"] == "finished" and done["addCnt"] == len(records), done
    yield name
    v1.delete_service(name)


def test_service_lifecycle(v1):
    name = v1.new_name()
    assert v1.ok("service.create", path={"serviceID": name}) is None
    assert {"serviceID": name} in v1.ok("service.list")["items"]
    assert v1.code("service.create", path={"serviceID": name}) == -42010
    v1.ok("service.delete", path={"serviceID": name})
    assert v1.code("service.delete", path={"serviceID": name}) == -42000
    assert {"serviceID": name} not in v1.ok("service.list")["items"]


@pytest.mark.parametrize("name", ["Upper", "a", "a" * 33, "1abc", "ab.c", "ab%20c"])
def test_service_create_invalid(v1, name):
    assert v1.code("service.create", path={"serviceID": name}) == -40000


def test_service_quota(v1):
    cap = contracts.limit("v1", "service.max_per_appkey").value
    existing = v1.ok("service.list")["totalCount"]
    names = [v1.new_name() for _ in range(cap - existing)]
    try:
        for name in names:
            v1.ok("service.create", path={"serviceID": name})
        assert v1.code("service.create", path={"serviceID": v1.new_name()}) == -42030
    finally:
        for name in names:
            v1.call("service.delete", path={"serviceID": name})


@pytest.mark.parametrize("endpoint", [ep.id for ep in contracts.endpoints("v1")])
def test_auth(v1, endpoint):
    ep = contracts.endpoint("v1", endpoint)
    path = v1.client.path(endpoint, **{k: "x1" for k in ep.path_params if k != "appKey"})
    path = path.replace(v1.emu.keys["appkey"], "wrong-appkey")
    assert v1.code(endpoint, raw_path=path, params={"limit": 1}) == -41000


def test_secret_key_is_ignored(v1):
    """E16: v1 authenticates by appKey alone; an Authorization header changes nothing."""
    assert v1.code("service.list", headers={"Authorization": "anything"}) == 0


@pytest.mark.parametrize("endpoint", ["service.delete", "search.product", "detect", "search.image", "tag"])
def test_unknown_service(v1, image_host, endpoint):
    path = {k: "nosuchservice" if k == "serviceID" else "p1"
            for k in contracts.endpoint("v1", endpoint).path_params if k != "appKey"}
    params = {"limit": 1, "path": image_host.generated(1), "link": "x"}
    assert v1.code(endpoint, path=path, params=params) == -42000


def search(v1, catalog, product="p2", **params):
    return v1.call("search.product", path={"serviceID": catalog, "productID": product}, params=params)


def test_search_product(v1, catalog):
    data = search(v1, catalog, limit=4).data
    assert data["totalCount"] == len(data["items"]) == 4
    assert data["items"][0] == {"similarity": 1.0, "productID": "p2"}
    sims = [i["similarity"] for i in data["items"]]
    assert sims == sorted(sims, reverse=True)
    cut = sims[2]
    above = search(v1, catalog, limit=200, threshold=cut).data["items"]
    assert len(above) >= 3 and all(i["similarity"] >= cut for i in above)
    assert "productID=p2" in data["query"]


@pytest.mark.parametrize(("filters", "keep"), [
    ({"filter.category1_id": "top"}, lambda s: category(s) == "top"),
    ({"filter.category1_id": "!equal:top"}, lambda s: category(s) != "top"),
    ({"filter.s1": "equal:a,c"}, lambda s: "abc"[s % 3] in "ac"),
    ({"filter.category1_id": "top", "filter.s1": "!equal:a"}, lambda s: category(s) == "top" and s % 3 != 0),
])
def test_search_product_filters(v1, catalog, filters, keep):
    found = {i["productID"] for i in search(v1, catalog, limit=200, **filters).data["items"]}
    assert found == {f"p{s}" for s in SEEDS if keep(s)}


@pytest.mark.parametrize("params", [
    {}, {"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"limit": 5, "threshold": 0}, {"limit": 5, "threshold": 2},
    {"limit": 5, "filter.category1Id": "top"}, {"limit": 5, "filter.s1": "!equal:"}, {"limit": 5, "filter.s2": "x:y"},
])
def test_search_product_invalid(v1, catalog, params):
    assert search(v1, catalog, **params).header["resultCode"] == -40000


def test_search_product_unknown_product(v1, catalog):
    assert search(v1, catalog, product="nope", limit=5).header["resultCode"] == -40050


def test_detect_and_search_image(v1, catalog, image_host):
    url = image_host.put("v1-scene.png", encode(SCENE, "png"))
    data = v1.ok("detect", path={"serviceID": catalog}, params={"path": url})
    assert data["totalCount"] == len(data["items"]) == 2
    for item in data["items"]:
        assert all(0 <= item["b0"][a] < item["b1"][a] <= 1 for a in (0, 1)) and 0 < item["score"] <= 1
    found = v1.ok("search.image", path={"serviceID": catalog}, params={"link": data["items"][0]["link"], "limit": 3})
    assert 0 < found["totalCount"] == len(found["items"]) <= 3
    tops = v1.ok("search.image", path={"serviceID": catalog},
                 params={"link": data["items"][1]["link"], "limit": 200, "filter.category1_id": "top"})
    assert {i["productID"] for i in tops["items"]} == {f"p{s}" for s in SEEDS if category(s) == "top"}


def test_detect_nothing(v1, catalog, image_host):
    url = image_host.put("v1-blank.png", encode(BLANK, "png"))
    data = v1.ok("detect", path={"serviceID": catalog}, params={"path": url})
    assert data["totalCount"] == 0 and data["items"] == []


@pytest.mark.parametrize("params", [{}, {"path": ""}, {"pathx": "http://127.0.0.1:10000/a.png"}])
def test_detect_invalid(v1, catalog, params):
    assert v1.code("detect", path={"serviceID": catalog}, params=params) == -40000


@pytest.mark.parametrize("params", [{"limit": 3}, {"link": "", "limit": 3}, {"link": "%%%", "limit": 3},
                                    {"link": "eyJwYXRoIjoiIn0", "limit": 3}])
def test_search_image_bad_link(v1, catalog, params):
    assert v1.code("search.image", path={"serviceID": catalog}, params=params) == -40000


def test_tag(v1, catalog, image_host):
    url = image_host.put("v1-scene.png", encode(SCENE, "png"))
    labels = {}
    for lang in ("en", "ko", "jp"):
        data = v1.ok("tag", path={"serviceID": catalog}, params={"path": url, "lang": lang, "item_limit": 2})
        assert data["totalCount"] == len(data["items"]) == 2
        labels[lang] = [lab["label"] for i in data["items"] for t in i["tags"] for lab in t["labels"]]
    assert len({tuple(v) for v in labels.values()}) == 3
    assert v1.ok("tag", path={"serviceID": catalog}, params={"path": url})["totalCount"] == 1


@pytest.mark.parametrize("params", [{"item_limit": 0}, {"item_limit": 5}, {"lang": "ja"}, {"itemLimit": 2, "lang": "x"}])
def test_tag_invalid(v1, catalog, image_host, params):
    assert v1.code("tag", path={"serviceID": catalog}, params={"path": image_host.generated(1), **params}) == -40000


def test_delete_refused_while_indexing(v1, maker, image_host):
    """E17: v1 refuses to delete a service ID with a reserved or running Maker index (-42020)."""
    name = v1.create_service()
    slow = [maker.line(f"s{i}", image_host.generated(i, delay=1.0)) for i in range(16)]
    index_id = maker.ok("index.create", path={"serviceID": name}, params={"format": "jsonl"},
                        files={"file": ("slow.jsonl", maker.jsonl(slow))})["indexID"]
    assert v1.code("service.delete", path={"serviceID": name}) == -42020
    assert maker.wait_index(name, index_id)["status"] == "finished"
    v1.ok("service.delete", path={"serviceID": name})
