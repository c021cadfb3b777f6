"""Restart persistence: stop the emulator process, start it again on the same --data-dir, and everything the APIs
show is as before (services, products, index jobs, detect links); an index job interrupted by SIGKILL (or by a
normal stop) is failed after the restart, never left running."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from fashion_conformance.imagehost.factory import ItemSpec, encode, render

SCENE = render(320, 240, [ItemSpec("skirt", (60, 30, 260, 210), (20, 120, 200))])


def snapshot(api, v1_service: str, v2_service: str, v2_index: str, link: str) -> dict:
    """Everything the three APIs show about the state the test created."""
    v1, v2, maker = api["v1"], api["v2"], api["maker"]
    page = {"start": 0, "limit": 100}
    return {
        "v1.services": v1.ok("service.list"),
        "v2.services": v2.ok("service.list"),
        "v2.service": v2.ok("service.get", path={"serviceName": v2_service}),
        "v2.indexes": v2.ok("index.list", path={"serviceName": v2_service}, params=page),
        "v2.index": v2.ok("index.get", path={"serviceName": v2_service, "indexId": v2_index}),
        "v2.search": v2.ok("search.product", path={"serviceName": v2_service, "productId": "a1"},
                           params={"limit": 10, "includeDuplicates": "true"})["items"],
        "v2.link": v2.ok("search.link", path={"serviceName": v2_service}, params={"link": link, "limit": 10})["items"],
        "maker.services": maker.ok("service.list"),
        "maker.indexes": maker.ok("index.list", path={"serviceID": v1_service}, params=page),
        "v1.search": v1.ok("search.product", path={"serviceID": v1_service, "productID": "b1"},
                           params={"limit": 10})["items"],
        "v1.link": v1.ok("search.image", path={"serviceID": v1_service}, params={"link": link, "limit": 10})["items"],
    }


def test_state_survives_restart(start_emulator, clients_for, image_host, tmp_path):
    data_dir = tmp_path / "state"
    emu = start_emulator(data_dir)
    api = clients_for(emu)
    v1, v2, maker = api["v1"], api["v2"], api["maker"]
    v1_service, v2_service = v1.create_service(), v2.create_service()
    v2_lines = [v2.line(f"a{s}", image_host.generated(s), category=str(s % 2)) for s in range(1, 6)]
    v2_index = v2.ok("index.create", path={"serviceName": v2_service}, data={"format": "jsonl"},
                     files={"file": ("a.jsonl", v2.jsonl(v2_lines))})["indexId"]
    assert v2.wait_index(v2_service, v2_index)["addedCount"] == 5
    maker_lines = [maker.line(f"b{s}", image_host.generated(s + 20)) for s in range(1, 4)]
    maker_index = maker.ok("index.create", path={"serviceID": v1_service}, params={"format": "jsonl"},
                           files={"file": ("b.jsonl", maker.jsonl(maker_lines))})["indexID"]
    assert maker.wait_index(v1_service, maker_index)["addCnt"] == 3
    scene = image_host.put("restart-scene.png", encode(SCENE, "png"))
    link = v2.ok("detect", path={"serviceName": v2_service}, params={"path": scene})["items"][0]["link"]
    before = snapshot(api, v1_service, v2_service, v2_index, link)
    emu.stop()

    again = clients_for(start_emulator(data_dir))
    with ThreadPoolExecutor(8) as pool:  # the first searches after a start all wait for the one index load
        first = list(pool.map(lambda _: again["v2"].ok(
            "search.product", path={"serviceName": v2_service, "productId": "a1"},
            params={"limit": 10, "includeDuplicates": "true"})["items"], range(8)))
    assert first == [before["v2.search"]] * 8
    assert snapshot(again, v1_service, v2_service, v2_index, link) == before  # links are still valid
    assert again["v2"].code("service.create", json={"serviceName": v2_service}) == -42010


@pytest.mark.parametrize("kill", [True, False], ids=["sigkill", "sigterm"])
def test_interrupted_job_is_failed_after_restart(start_emulator, clients_for, image_host, tmp_path, kill):
    data_dir = tmp_path / "jobs"
    emu = start_emulator(data_dir)
    api = clients_for(emu)
    v1, v2, maker = api["v1"], api["v2"], api["maker"]
    v1_service, v2_service = v1.create_service(), v2.create_service()
    slow = [(f"s{i}", image_host.generated(100 + i, delay=2.0)) for i in range(24)]
    v2_index = v2.ok("index.create", path={"serviceName": v2_service}, data={"format": "jsonl"},
                     files={"file": ("slow.jsonl", v2.jsonl([v2.line(p, u) for p, u in slow]))})["indexId"]
    maker_index = maker.ok("index.create", path={"serviceID": v1_service}, params={"format": "jsonl"},
                           files={"file": ("slow.jsonl", maker.jsonl([maker.line(p, u) for p, u in slow]))})["indexID"]
    deadline = time.monotonic() + 10
    while v2.index_item(v2_service, v2_index)["status"] != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert v2.index_item(v2_service, v2_index)["status"] == "running"
    assert maker.index_item(v1_service, maker_index)["status"] in ("reserved", "running")
    emu.stop(kill=kill)

    again = clients_for(start_emulator(data_dir))
    v1, v2, maker = again["v1"], again["v2"], again["maker"]
    job = v2.index_item(v2_service, v2_index)
    assert job["status"] == "failed" and job["finishTime"] >= job["startTime"] > 0
    assert job["totalCount"] == len(slow) == sum(len(job[f"{k}ProductIds"])
                                                 for k in ("added", "updated", "deleted", "failed", "exceeded"))
    made = maker.index_item(v1_service, maker_index)
    assert made["status"] == "failed" and made["totalCnt"] == len(slow)
    assert made["totalCnt"] == made["addCnt"] + made["updateCnt"] + made["deleteCnt"] + made["failCnt"]
    assert v2.ok("index.list", path={"serviceName": v2_service},
                 params={"start": 0, "limit": 10, "statuses": "reserved,running"})["total"] == 0
    # nothing is left busy: a new request is accepted and the v1 service ID can be deleted
    line = v2.jsonl([v2.line("z", "", status="disable")])
    new = v2.ok("index.create", path={"serviceName": v2_service}, data={"format": "jsonl"},
                files={"file": ("z.jsonl", line)})["indexId"]
    assert v2.wait_index(v2_service, new)["status"] == "failed"
    v1.ok("service.delete", path={"serviceID": v1_service})


def test_second_emulator_on_a_data_dir_in_use_is_refused(start_emulator, clients_for, tmp_path):
    """One emulator per data directory: a second one exits 2 naming the holder; the first keeps serving."""
    data_dir = tmp_path / "shared"
    emu = start_emulator(data_dir)
    second = subprocess.run(
        [sys.executable, "-c", "import sys; from fashion_conformance.cli import emulator_main; sys.exit(emulator_main())",
         "serve", "--port", "0", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=60,
    )
    assert second.returncode == 2, second.stderr
    assert f"is in use by another emulator (pid {emu.process.pid})" in second.stderr
    assert "Traceback" not in second.stderr
    assert clients_for(emu)["v2"].ok("service.list")["totalCount"] == 0
