"""Races over HTTP on a running emulator: parallel service creation against the five-services cap (v1 and v2,
each its own namespace; nhn-ai-fashion-v1.0-api-guide.en.txt / Service ID, nhn-ai-fashion-v2.0-api-guide.ko.txt
/ 서비스), parallel index requests on one service (one job at a time, -40080; v2 / 색인 요청, Maker /
インデックスリクエスト), and searches while an index job commits (no half-written product is ever seen)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from fashion_conformance import contracts

CREATES = 50
INDEX_REQUESTS = 20
SERVICE_CAP = contracts.limit("v2", "service.max_per_appkey").value
assert contracts.limit("v1", "service.max_per_appkey").value == SERVICE_CAP
ID_FIELD = {"v2": "indexId", "maker": "indexID"}
V2_ITEM_KEYS = {"similarity", "productId", "name", "imageUrl", "category1Id", "category2Id", "category3Id", "s1", "s2"}


def all_at_once(calls: list) -> list:
    """Run the zero-argument callables in parallel threads released together; their results in order."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def fresh(start_emulator, clients_for):
    """Clients of an emulator of its own (no service yet)."""
    return clients_for(start_emulator())


@pytest.fixture(scope="module")
def shared(start_emulator, clients_for):
    """Clients of an emulator shared by the index tests (each makes one service)."""
    return clients_for(start_emulator())


def test_parallel_creates_leave_exactly_the_cap(fresh):
    """50 creates per API at once (the same names on v1 and v2): five succeed per API, the rest -42030."""
    v1, v2, maker = fresh["v1"], fresh["v2"], fresh["maker"]
    names = [v1.new_name() for _ in range(CREATES)]
    calls = [lambda n=n: v1.code("service.create", path={"serviceID": n}) for n in names]
    calls += [lambda n=n: v2.code("service.create", json={"serviceName": n}) for n in names]
    codes = all_at_once(calls)
    v1_won = {n for n, code in zip(names, codes[:CREATES], strict=True) if code == 0}
    v2_won = {n for n, code in zip(names, codes[CREATES:], strict=True) if code == 0}
    assert sorted(codes[:CREATES]) == sorted(codes[CREATES:]) == [-42030] * (CREATES - SERVICE_CAP) + [0] * SERVICE_CAP
    v1_list = v1.ok("service.list")
    assert v1_list["totalCount"] == SERVICE_CAP and {i["serviceID"] for i in v1_list["items"]} == v1_won
    v2_list = v2.ok("service.list")
    assert v2_list["totalCount"] == SERVICE_CAP and {i["serviceName"] for i in v2_list["items"]} == v2_won
    assert {i["service"] for i in maker.ok("service.list")["items"]} == v1_won  # Maker indexes v1's service IDs


def test_parallel_creates_of_one_name(fresh):
    """The same name created 20 times at once: one success, the rest -42010 (per API)."""
    v1, v2 = fresh["v1"], fresh["v2"]
    name = v1.new_name()
    codes = all_at_once([lambda: v1.code("service.create", path={"serviceID": name})] * INDEX_REQUESTS
                        + [lambda: v2.code("service.create", json={"serviceName": name})] * INDEX_REQUESTS)
    assert sorted(codes[:INDEX_REQUESTS]) == sorted(codes[INDEX_REQUESTS:]) == [-42010] * (INDEX_REQUESTS - 1) + [0]


def submit(nhn, service: str, content: bytes):
    if nhn.api == "v2":
        return nhn.call("index.create", path={"serviceName": service}, data={"format": "jsonl"},
                        files={"file": ("f.jsonl", content)})
    return nhn.call("index.create", path={"serviceID": service}, params={"format": "jsonl"},
                    files={"file": ("f.jsonl", content)})


@pytest.mark.parametrize("api", ["v2", "maker"])
def test_parallel_index_requests_accept_one(shared, image_host, api):
    """20 index requests on one service at once: one accepted, 19 -40080; the accepted job runs to the end."""
    client = shared[api]
    service = (shared["v2"] if api == "v2" else shared["v1"]).create_service()
    content = client.jsonl([client.line(f"r{i}", image_host.generated(i, delay=1.5)) for i in range(4)])
    exchanges = all_at_once([lambda: submit(client, service, content)] * INDEX_REQUESTS)
    codes = sorted(ex.header["resultCode"] for ex in exchanges)
    assert codes == [-40080] * (INDEX_REQUESTS - 1) + [0]
    accepted = next(ex for ex in exchanges if ex.header["isSuccessful"])
    done = client.wait_index(service, accepted.data[ID_FIELD[api]])
    assert done["status"] == "finished"
    assert (done["addedCount"] if api == "v2" else done["addCnt"]) == 4


def as_hit(fields: dict[str, str]) -> dict[str, str]:
    """The product fields of a v2 file line or search hit (without status and similarity)."""
    return {k: fields[k] for k in V2_ITEM_KEYS - {"similarity"}}


def test_searches_during_indexing_see_whole_products(shared, image_host):
    """While a job adds 40 products (and updates the one searched from), every search hit carries all its fields
    exactly as its file line gives them; after the job the hits are exactly the job's added and updated ids."""
    v2 = shared["v2"]
    service = v2.create_service()
    first = v2.wait_index(service, submit(v2, service, v2.jsonl([v2.line("seed", image_host.generated(0))]))
                          .data["indexId"])
    assert first["addedProductIds"] == ["seed"]
    records = [v2.line("seed", image_host.generated(0), s1="z")]
    records += [v2.line(f"k{i}", image_host.generated(i, delay=0.2), category=f"c{i}", s1=f"s{i}")
                for i in range(1, 41)]
    versions = {r["productId"]: [as_hit(r)] for r in records}
    versions["seed"].append(as_hit(v2.line("seed", image_host.generated(0))))  # before its line is committed
    index_id = submit(v2, service, v2.jsonl(records)).data["indexId"]

    def search() -> list[dict]:
        return v2.ok("search.product", path={"serviceName": service, "productId": "seed"},
                     params={"limit": 200, "includeDuplicates": "true"})["items"]

    searches = 0
    while v2.index_item(service, index_id)["status"] not in ("finished", "failed"):
        for item in search():
            assert set(item) == V2_ITEM_KEYS, item
            assert as_hit(item) in versions[item["productId"]], item
        searches += 1
        time.sleep(0.02)
    done = v2.index_item(service, index_id)
    assert done["status"] == "finished" and done["updatedProductIds"] == ["seed"]
    assert set(done["addedProductIds"]) == set(versions) - {"seed"}
    final = {i["productId"]: as_hit(i) for i in search()}
    assert set(final) == set(done["addedProductIds"]) | set(done["updatedProductIds"])
    assert all(final[pid] == versions[pid][0] for pid in final)
    assert searches > 1
