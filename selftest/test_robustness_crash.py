"""Crash safety: SIGKILL the emulator at random moments while it indexes a v2 file (nhn-ai-fashion-v2.0-api-guide.ko.txt
/ 인덱스 요청, 인덱스 상태: reserved -> running -> finished | failed), restarting on the same --data-dir each time.
After every kill the SQLite file passes `PRAGMA integrity_check`; after every restart each service is there, each
product a job added (finished or interrupted: products and line outcomes commit together) is found by search by
product, the service's documentCount equals their number, and no job is left reserved or running."""

from __future__ import annotations

import random
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

KILLS = 10
LINES = 200  # data lines of each v2 index file
IMAGES = 24  # distinct product images (the image host makes each once)
SEED = 20261122
OUTCOMES = ("added", "updated", "deleted", "failed", "exceeded")
PAGE = {"start": 0, "limit": 100}


def integrity(data_dir) -> str:
    """`PRAGMA integrity_check` on the killed emulator's database, opened read-only."""
    db = sqlite3.connect(f"file:{data_dir / 'emulator.sqlite3'}?mode=ro", uri=True)
    try:
        return "\n".join(row[0] for row in db.execute("PRAGMA integrity_check"))
    finally:
        db.close()


def found(nhn, service: str, product_id: str) -> bool:
    """Whether search by product finds `product_id` (an unknown product is the error -40050)."""
    var = "productId" if nhn.api == "v2" else "productID"
    ex = nhn.call("search.product", path={**nhn.svc(service), var: product_id}, params={"limit": 1})
    return ex.header["isSuccessful"]


def check_state(api, services: dict[str, list[str]], jobs: list[str], v2_service: str, maker_ids: set[str]) -> set[str]:
    """Assert the invariants after a restart; returns the v2 product ids the jobs added so far."""
    v1, v2 = api["v1"], api["v2"]
    assert {s["serviceName"] for s in v2.ok("service.list")["items"]} == set(services["v2"])
    assert {s["serviceID"] for s in v1.ok("service.list")["items"]} == set(services["v1"])
    added: set[str] = set()
    for job_id in jobs:
        job = v2.index_item(v2_service, job_id)
        assert job["status"] in ("finished", "failed"), job
        assert job["totalCount"] == LINES == sum(len(job[f"{k}ProductIds"]) for k in OUTCOMES), job
        added |= set(job["addedProductIds"])
    busy = v2.ok("index.list", path={"serviceName": v2_service}, params={**PAGE, "statuses": "reserved,running"})
    assert busy["total"] == 0
    assert int(v2.ok("service.get", path={"serviceName": v2_service})["documentCount"]) == len(added)
    with ThreadPoolExecutor(4) as pool:
        missing = [p for p, ok in zip(sorted(added), pool.map(lambda p: found(v2, v2_service, p), sorted(added)),
                                      strict=True) if not ok]
        missing += [p for p in maker_ids if not found(v1, services["v1"][0], p)]
    assert not missing, f"products lost: {missing[:10]}"
    return added


def test_sigkill_during_indexing_keeps_state(start_emulator, clients_for, image_host, tmp_path):
    rng = random.Random(SEED)
    data_dir = tmp_path / "crash"
    emu = start_emulator(data_dir)
    api = clients_for(emu)
    v1, v2, maker = api["v1"], api["v2"], api["maker"]
    services = {"v1": [v1.create_service()], "v2": [v2.create_service(), v2.create_service()]}
    v2_service = services["v2"][0]
    maker_lines = [maker.line(f"m{i}", image_host.generated(i)) for i in range(5)]
    maker_id = maker.ok("index.create", path={"serviceID": services["v1"][0]}, params={"format": "jsonl"},
                        files={"file": ("m.jsonl", maker.jsonl(maker_lines))})["indexID"]
    assert maker.wait_index(services["v1"][0], maker_id)["addCnt"] == 5
    maker_ids = {line["product_id"] for line in maker_lines}
    urls = [image_host.generated(100 + i) for i in range(IMAGES)]

    def submit(name: str) -> str:
        lines = [v2.line(f"{name}-{n}", urls[n % IMAGES]) for n in range(LINES)]
        return v2.ok("index.create", path={"serviceName": v2_service}, data={"format": "jsonl"},
                     files={"file": (f"{name}.jsonl", v2.jsonl(lines))})["indexId"]

    started = time.monotonic()  # one job run to its end sets the window the kills fall in
    jobs = [submit("whole")]
    assert v2.wait_index(v2_service, jobs[0])["status"] == "finished"
    window = time.monotonic() - started
    interrupted = 0
    for cycle in range(KILLS):
        jobs.append(submit(f"k{cycle}"))
        time.sleep(rng.uniform(0.0, window))
        emu.stop(kill=True)
        assert emu.process.returncode == -9
        assert integrity(data_dir) == "ok"
        emu = start_emulator(data_dir)
        api = clients_for(emu)
        v1, v2 = api["v1"], api["v2"]
        check_state(api, services, jobs, v2_service, maker_ids)
        interrupted += v2.index_item(v2_service, jobs[-1])["status"] == "failed"
    assert interrupted >= KILLS // 3  # the kills do land while the job is reserved or running
