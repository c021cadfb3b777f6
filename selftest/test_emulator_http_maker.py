"""AI Fashion Maker v1.0 on a running emulator over real HTTP: index requests (file, link, JSONL, CSV), service
info, index status with paging, order and status filter, every reachable error code, and the daily quota."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fashion_conformance import contracts

MAX_LINES = contracts.limit("maker", "index.max_lines").value
REJECT_FILE = contracts.limit("maker", "index.max_file_bytes").extra["reject_from"]
QUOTA = contracts.limit("maker", "index.daily_quota").value
PREFIX_ROOT = contracts.api_info("maker")["prefix"].split("/appkeys")[0] + "/"
ALT_PREFIX_ROOT = contracts.api_info("maker")["prefix_aliases"][0].split("/appkeys")[0] + "/"
QUOTA_TZ = ZoneInfo(contracts.limit("maker", "index.daily_quota").extra["timezone"])
DAY_S = 86400


def submit(maker, service, content: bytes, fmt: str = "jsonl", **form):
    return maker.call("index.create", path={"serviceID": service}, params={"format": fmt}, data=form or None,
                      files={"file": (f"f.{fmt}", content)})


def counts(item) -> tuple[int, int, int, int, int]:
    return item["addCnt"], item["updateCnt"], item["deleteCnt"], item["failCnt"], item["totalCnt"]


def _lines(n: int) -> bytes:
    """n well-formed JSONL lines (built before the fixtures exist, for parametrize)."""
    fields = contracts.limit("maker", "index.fields").value
    values = ["enable", "n", "c", "c", "c", "http://127.0.0.1:10000/x.jpg", "s", "s"]
    return b"".join(json.dumps(dict(zip(fields, [f"n{i}", *values], strict=True))).encode() + b"\n" for i in range(n))


def test_index_lifecycle(v1, maker, v1_service, image_host):
    first = [maker.line(f"m{s}", image_host.generated(s)) for s in (1, 2, 3)]
    first.append(maker.line("mbad", image_host.put("maker-text.txt", b"not an image")))
    id1 = submit(maker, v1_service, maker.jsonl(first)).data["indexID"]
    done = maker.wait_index(v1_service, id1)
    assert done["status"] == "finished" and done["service"] == v1_service and done["filename"] == "f.jsonl"
    assert counts(done) == (3, 0, 0, 1, 4)
    assert done["reservedTime"] <= done["startTime"] <= done["finishTime"]
    services = {i["service"]: i for i in maker.ok("service.list")["items"]}
    assert services[v1_service] == {"service": v1_service, "remainInsertCnt": QUOTA - 1, "documentCnt": 3}

    second = [maker.line("m1", image_host.generated(5)), maker.line("m2", "", status="disable")]
    csv = "".join(",".join(r.values()) + "\n" for r in second).encode()
    id2 = submit(maker, v1_service, csv, fmt="csv").data["indexID"]
    assert counts(maker.wait_index(v1_service, id2)) == (0, 1, 1, 0, 2)
    assert v1.code("search.product", path={"serviceID": v1_service, "productID": "m2"}, params={"limit": 5}) == -40050
    found = v1.ok("search.product", path={"serviceID": v1_service, "productID": "m1"}, params={"limit": 5})
    assert {i["productID"] for i in found["items"]} == {"m1", "m3"}

    path = {"serviceID": v1_service}
    listing = maker.ok("index.list", path=path, params={"start": 0, "limit": 10})
    assert listing["total"] == 2 and [i["id"] for i in listing["items"]] == [id2, id1]
    asc = maker.ok("index.list", path=path, params={"start": 0, "limit": 10, "order": "reservedTime:asc"})
    assert [i["id"] for i in asc["items"]] == [id1, id2]
    by_total = maker.ok("index.list", path=path, params={"start": 0, "limit": 10, "order": "totalCnt:desc"})
    assert [i["id"] for i in by_total["items"]] == [id1, id2]
    assert [i["id"] for i in maker.ok("index.list", path=path, params={"start": 1, "limit": 1})["items"]] == [id1]
    assert maker.ok("index.list", path=path, params={"start": 0, "limit": 10, "status": "failed"})["total"] == 0
    assert maker.ok("index.list", path=path, params={"start": 0, "limit": 10, "status": "finished"})["total"] == 2
    assert maker.ok("index.list", path=path, params={"start": 900, "limit": 100}) == {"total": 2, "items": []}


def test_index_by_link(maker, v1_service, image_host):
    url = image_host.put("maker-index.jsonl", maker.jsonl([maker.line("fromlink", image_host.generated(2))]))
    ex = submit(maker, v1_service, maker.jsonl([maker.line("fromfile", image_host.generated(2))]), link=url)
    done = maker.wait_index(v1_service, ex.data["indexID"])
    assert done["filename"] == "maker-index.jsonl" and counts(done) == (1, 0, 0, 0, 1)
    only_link = maker.call("index.create", path={"serviceID": v1_service}, params={"format": "jsonl"},
                           data={"link": url})
    assert counts(maker.wait_index(v1_service, only_link.data["indexID"])) == (0, 1, 0, 0, 1)


def test_alternative_prefix(maker, v1_service):
    """E12: the index URI table's /ai-fashion-maker prefix is answered too."""

    def alt(path: str) -> str:
        return path.replace(PREFIX_ROOT, ALT_PREFIX_ROOT, 1)

    assert maker.call("service.list", raw_path=alt(maker.client.path("service.list"))).header["isSuccessful"]
    index_list = alt(maker.client.path("index.list", serviceID=v1_service))
    assert maker.call("index.list", raw_path=index_list, params={"start": 0, "limit": 1}).header["isSuccessful"]
    ex = maker.call("index.create", raw_path=alt(maker.client.path("index.create", serviceID=v1_service)),
                    params={"format": "jsonl"},
                    files={"file": ("f.jsonl", maker.jsonl([maker.line("x", "", status="disable")]))})
    assert ex.header["isSuccessful"]
    maker.wait_index(v1_service, ex.data["indexID"])


@pytest.mark.parametrize(("content", "fmt", "code"), [
    (b"", "jsonl", -40020),
    (b"\r\n", "jsonl", -40020),
    (b"[1, 2]\n", "jsonl", -40010),
    (b'{"product_id": "a"}\n', "jsonl", -40010),
    (_lines(2).replace(b"\n", b"\n\n", 1), "jsonl", -40010),
    (b"\xc3\x28" + _lines(1), "jsonl", -40010),
    (b"a,enable,n\n", "csv", -40010),
    (_lines(MAX_LINES + 1), "jsonl", -40030),
    (_lines(1) + b" " * REJECT_FILE, "jsonl", -40030),
    (_lines(1), "tsv", -40000),
])
def test_index_file_errors(maker, v1_service, content, fmt, code):
    assert submit(maker, v1_service, content, fmt=fmt).header["resultCode"] == code


def test_index_request_errors(maker, v1_service, image_host):
    path = {"serviceID": v1_service}
    line = maker.jsonl([maker.line("a", "", status="disable")])
    assert maker.code("index.create", path=path, files={"file": ("f.jsonl", line)}) == -40000  # no format
    assert maker.code("index.create", path=path, params={"format": "jsonl"}) == -40000  # neither link nor file
    assert maker.code("index.create", path=path, params={"format": "jsonl"},
                      data={"link": image_host.status_url(404)}) == -40010  # E105
    assert maker.code("index.create", path={"serviceID": "nosuchservice"}, params={"format": "jsonl"},
                      files={"file": ("f.jsonl", line)}) == -42000
    # none of the refused requests used the daily quota
    assert {i["service"]: i for i in maker.ok("service.list")["items"]}[v1_service]["remainInsertCnt"] == QUOTA


def test_index_busy(maker, v1_service, image_host):
    slow = [maker.line(f"s{i}", image_host.generated(i, delay=1.0)) for i in range(10)]
    index_id = submit(maker, v1_service, maker.jsonl(slow)).data["indexID"]
    assert submit(maker, v1_service, maker.jsonl(slow[:1])).header["resultCode"] == -40080
    assert maker.index_item(v1_service, index_id)["status"] in ("reserved", "running")
    running = maker.ok("index.list", path={"serviceID": v1_service},
                       params={"start": 0, "limit": 10, "status": "finished"})
    assert running["total"] == 0
    assert maker.wait_index(v1_service, index_id)["status"] == "finished"


@pytest.mark.parametrize("params", [
    {"start": 0}, {"limit": 10}, {"start": -1, "limit": 10}, {"start": 0, "limit": 101},
    {"start": 901, "limit": 100}, {"start": 1000, "limit": 1}, {"start": 0, "limit": 10, "order": "requestedTime:asc"},
    {"start": 0, "limit": 10, "order": "addCnt"}, {"start": 0, "limit": 10, "status": "done"},
    {"start": 0, "limit": 10, "status": "finished,failed"},
])
def test_index_list_invalid(maker, v1_service, params):
    assert maker.code("index.list", path={"serviceID": v1_service}, params=params) == -40000


def test_index_list_unknown_service(maker):
    assert maker.code("index.list", path={"serviceID": "nosuchservice"}, params={"start": 0, "limit": 1}) == -42000


@pytest.mark.parametrize("endpoint", [ep.id for ep in contracts.endpoints("maker")])
def test_auth(maker, v1_service, endpoint):
    path = maker.client.path(endpoint, serviceID=v1_service).replace(maker.emu.keys["appkey"], "wrong-appkey")
    assert maker.code(endpoint, raw_path=path, params={"format": "jsonl", "start": 0, "limit": 1}) == -41000


def remaining(maker, service: str) -> int:
    return {i["service"]: i for i in maker.ok("service.list")["items"]}[service]["remainInsertCnt"]


def seconds_to_midnight() -> float:
    """Seconds from now to the next 00:00 in the quota's time zone (Japan)."""
    now = datetime.now(QUOTA_TZ)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.timestamp() - now.timestamp()


def test_daily_quota(start_emulator, clients_for, tmp_path):
    """Four accepted index requests per service ID and day (E109); the fifth is -40040 until 00:00 JST. The
    emulator's clock is moved with the hidden --clock-offset option, across restarts on the same data dir."""
    data_dir = tmp_path / "quota"
    emu = start_emulator(data_dir)
    api = clients_for(emu)
    v1, maker = api["v1"], api["maker"]
    name = v1.create_service()
    line = maker.jsonl([maker.line("gone", "", status="disable")])
    for n in range(QUOTA):
        index_id = submit(maker, name, line).data["indexID"]
        assert maker.wait_index(name, index_id)["status"] == "failed"  # the one line deletes an unknown id
        assert remaining(maker, name) == QUOTA - n - 1
    assert submit(maker, name, line).header["resultCode"] == -40040
    v1.ok("service.delete", path={"serviceID": name})
    v1.ok("service.create", path={"serviceID": name})
    assert submit(maker, name, line).header["resultCode"] == -40040  # re-creating the service does not reset it
    emu.stop()

    before = clients_for(start_emulator(data_dir, args=("--clock-offset", str(seconds_to_midnight() - 60))))["maker"]
    assert remaining(before, name) == 0
    assert submit(before, name, line).header["resultCode"] == -40040
    before.emu.stop()

    after = clients_for(start_emulator(data_dir, args=("--clock-offset", str(seconds_to_midnight() + 60))))["maker"]
    assert remaining(after, name) == QUOTA
    index_id = submit(after, name, line).data["indexID"]
    assert after.wait_index(name, index_id)["status"] == "failed"
    assert remaining(after, name) == QUOTA - 1
