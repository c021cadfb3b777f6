"""The emulator's SQLite state: services, products, jobs, recovery, Maker's daily quota, atomicity under threads."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from fashion_conformance import contracts
from fashion_conformance.emulator import store as st
from fashion_conformance.emulator.store import DailyQuota, LineOp, Product, Store

KEY = ("v2", "appkey-1", "shop")
TOKYO = ZoneInfo("Asia/Tokyo")


class Clock:
    def __init__(self, t: float = 1_700_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def product(pid: str, seed: int = 0, **fields: str) -> Product:
    vec = np.random.default_rng(seed).standard_normal(16).astype(np.float32)
    base = dict(name=f"item {pid}", category1="1", category2="2", category3="3", image_url=f"http://img/{pid}.jpg",
                s1="a", s2="b", image_sha256=f"sha-{seed}")
    return Product(product_id=pid, vector=vec / np.linalg.norm(vec), **{**base, **fields})


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    s = Store(tmp_path / "state.sqlite3", clock=clock)
    yield s
    s.close()


def run_job(store: Store, key, ops_by_action, *, quota=None, max_docs=None, filename="f.jsonl") -> str:
    """Create, start, commit and finish a job whose lines are (product_id, action, product) triples."""
    ops = [LineOp(no, pid, action, p) for no, (pid, action, p) in enumerate(ops_by_action, 1)]
    job_id = store.create_job(*key, "v2", filename, [op.product_id for op in ops], quota=quota)
    store.start_job(job_id)
    store.commit_lines(job_id, ops, max_docs=max_docs)
    store.finish_job(job_id)
    return job_id


def test_service_lifecycle_and_namespaces(store):
    store.create_service(*KEY)
    store.create_service("v1", "appkey-1", "shop")  # same name in the other namespace
    store.create_service("v2", "appkey-2", "shop")  # and under another appkey
    with pytest.raises(st.ServiceExists):
        store.create_service(*KEY)
    assert [s.name for s in store.list_services("v2", "appkey-1")] == ["shop"]
    assert store.get_service(*KEY) == st.Service("shop", 0, 1_700_000_000)
    assert store.get_service("v2", "appkey-1", "other") is None
    store.delete_service(*KEY)
    with pytest.raises(st.NoSuchService):
        store.delete_service(*KEY)
    assert store.list_services("v2", "appkey-1") == []
    assert store.get_service("v1", "appkey-1", "shop") is not None


def test_service_limit_comes_from_contracts(store):
    cap = contracts.limit("v2", "service.max_per_appkey").value
    for i in range(cap):
        store.create_service("v2", "k", f"svc{i}")
    with pytest.raises(st.ServiceQuotaExceeded):
        store.create_service("v2", "k", "one-more")
    store.create_service("v1", "k", "one-more")  # v1 counts apart
    assert [s.name for s in store.list_services("v2", "k")] == [f"svc{i}" for i in range(cap)]


def test_parallel_creates_leave_exactly_the_cap(tmp_path):
    # Two stores (two connections) on one file and 50 threads: check-and-insert is one IMMEDIATE transaction.
    a = Store(tmp_path / "s.sqlite3", max_services=lambda ns: 5)
    b = Store(tmp_path / "s.sqlite3", max_services=lambda ns: 5)
    outcomes: list[str] = []

    def create(i: int) -> None:
        try:
            (a if i % 2 else b).create_service("v2", "k", f"svc{i}")
            outcomes.append("ok")
        except st.ServiceQuotaExceeded:
            outcomes.append("quota")

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(create, range(50)))
    assert outcomes.count("ok") == 5 and outcomes.count("quota") == 45
    assert len(a.list_services("v2", "k")) == 5
    a.close()
    b.close()


def test_products_roundtrip_update_delete(store):
    store.create_service(*KEY)
    p = product("p1", seed=1)
    assert store.upsert_product(*KEY, p) == "added"
    got = store.get_product(*KEY, "p1")
    assert got.vector.dtype == np.float32 and np.array_equal(got.vector, p.vector)
    assert (got.name, got.category1, got.s2, got.image_sha256) == ("item p1", "1", "b", "sha-1")
    assert store.upsert_product(*KEY, product("p1", seed=2, name="renamed")) == "updated"
    assert store.get_product(*KEY, "p1").name == "renamed"
    assert store.count_products(*KEY) == 1
    assert store.delete_product(*KEY, "p1") is True
    assert store.delete_product(*KEY, "p1") is False
    assert store.get_product(*KEY, "p1") is None
    with pytest.raises(st.NoSuchService):
        store.upsert_product("v2", "appkey-1", "nope", p)


def test_iter_products_pages_through_everything(store):
    store.create_service(*KEY)
    n = 2 * st._PAGE + 7
    ids = [f"p{i:05d}" for i in range(n)]
    job = store.create_job(*KEY, "v2", "big.jsonl", ids)
    store.start_job(job)
    store.commit_lines(job, [LineOp(i, pid, "upsert", product(pid, seed=i)) for i, pid in enumerate(ids, 1)],
                       max_docs=None)
    got = list(store.iter_products(*KEY))
    assert [p.product_id for p in got] == ids
    assert np.array_equal(got[-1].vector, product(ids[-1], seed=n).vector)
    assert store.get_service(*KEY).document_count == n


def test_state_survives_close_and_reopen(tmp_path, clock):
    path = tmp_path / "state.sqlite3"
    s = Store(path, clock=clock)
    s.create_service(*KEY)
    job_id = run_job(s, KEY, [("p1", "upsert", product("p1", 1)), ("p2", "upsert", product("p2", 2))])
    s.close()
    s = Store(path, clock=clock)
    assert s.get_service(*KEY).document_count == 2
    assert np.array_equal(s.get_product(*KEY, "p2").vector, product("p2", 2).vector)
    job = s.get_job(*KEY, job_id)
    assert (job.status, job.added_ids, job.total_count) == ("finished", ("p1", "p2"), 2)
    s.close()


def test_recover_fails_interrupted_jobs(tmp_path, clock):
    path = tmp_path / "state.sqlite3"
    s = Store(path, clock=clock)
    s.create_service(*KEY)
    s.create_service("v2", "appkey-1", "other")
    running = s.create_job(*KEY, "v2", "a.jsonl", ["p1", "p2", "line:3"])
    clock.t += 5
    s.start_job(running)
    s.commit_lines(running, [LineOp(1, "p1", "upsert", product("p1"))], max_docs=None)
    reserved = s.create_job("v2", "appkey-1", "other", "v2", "b.csv", ["q1"])
    s.close()  # a crash: the jobs were never finished

    clock.t += 100
    s = Store(path, clock=clock)
    job = s.get_job(*KEY, running)
    assert job.status == "failed"
    assert (job.start_time, job.finish_time) == (1_700_000_005, 1_700_000_105)
    assert job.added_ids == ("p1",) and job.failed_ids == ("p2", "line:3")
    assert job.added_count + job.failed_count == job.total_count == 3
    other = s.get_job("v2", "appkey-1", "other", reserved)
    assert (other.status, other.start_time, other.failed_ids) == ("failed", 0, ("q1",))
    assert not s.has_active_job(*KEY)
    assert s.recover() == 0
    s.close()


def test_only_one_active_job_per_service_under_threads(store):
    store.create_service(*KEY)
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def submit(_: int) -> None:
        barrier.wait()
        try:
            store.create_job(*KEY, "v2", "f.jsonl", ["p1"])
            outcomes.append("ok")
        except st.JobBusy:
            outcomes.append("busy")

    with ThreadPoolExecutor(20) as pool:
        list(pool.map(submit, range(20)))
    assert outcomes.count("ok") == 1 and outcomes.count("busy") == 19
    assert store.has_active_job(*KEY)
    (job,) = store.list_jobs(*KEY)[1]
    store.start_job(job.id)
    with pytest.raises(st.JobBusy):
        store.create_job(*KEY, "v2", "f.jsonl", ["p1"])
    store.finish_job(job.id)
    assert not store.has_active_job(*KEY)
    store.create_job(*KEY, "v2", "g.jsonl", ["p1"])  # accepted again once the first ended


def test_job_counts_and_id_lists(store):
    store.create_service(*KEY)
    run_job(store, KEY, [("old", "upsert", product("old"))])
    ops = [
        ("a", "upsert", product("a")),
        ("old", "upsert", product("old", 5)),
        ("old", "delete", None),
        ("ghost", "delete", None),
        ("bad", "fail", None),
        ("a", "upsert", product("a", 9)),
    ]
    job = store.get_job(*KEY, run_job(store, KEY, ops))
    assert job.status == "finished"
    assert (job.added_ids, job.updated_ids, job.deleted_ids) == (("a",), ("old", "a"), ("old",))
    assert (job.failed_ids, job.exceeded_ids) == (("ghost", "bad"), ())
    for outcome in st.OUTCOMES:
        assert getattr(job, f"{outcome}_count") == len(getattr(job, f"{outcome}_ids"))
    assert sum(getattr(job, f"{o}_count") for o in st.OUTCOMES) == job.total_count == 6
    assert store.get_product(*KEY, "a").image_sha256 == "sha-9"  # the later line won


def test_document_cap_counts_exceeded_and_still_updates(store):
    store.create_service(*KEY)
    ops = [(f"p{i}", "upsert", product(f"p{i}", i)) for i in range(5)]
    ops += [("p0", "upsert", product("p0", 50)), ("p1", "delete", None), ("p9", "upsert", product("p9"))]
    job = store.get_job(*KEY, run_job(store, KEY, ops, max_docs=3))
    assert job.added_ids == ("p0", "p1", "p2", "p9")  # p9 fits again after p1 was deleted
    assert job.exceeded_ids == ("p3", "p4")
    assert job.updated_ids == ("p0",) and job.deleted_ids == ("p1",)
    assert store.count_products(*KEY) == 3


def test_all_failed_job_is_failed(store):
    store.create_service(*KEY)
    job = store.get_job(*KEY, run_job(store, KEY, [("x", "fail", None), ("y", "delete", None)]))
    assert (job.status, job.failed_count, job.total_count) == ("failed", 2, 2)


def test_deleting_a_service_removes_products_and_jobs(store):
    store.create_service(*KEY)
    finished = run_job(store, KEY, [("p1", "upsert", product("p1"))])
    running = store.create_job(*KEY, "v2", "f.jsonl", ["p2"])
    store.start_job(running)
    with pytest.raises(st.JobBusy):
        store.delete_service(*KEY, if_idle=True)  # v1 refuses while indexing runs
    store.delete_service(*KEY)  # v2 allows it
    assert not store.has_active_job(*KEY)
    with pytest.raises(st.JobGone):
        store.commit_lines(running, [LineOp(1, "p2", "upsert", product("p2"))], max_docs=None)
    with pytest.raises(st.JobGone):
        store.finish_job(running)
    store.create_service(*KEY)
    assert store.count_products(*KEY) == 0
    assert store.get_job(*KEY, finished) is None
    assert store.list_jobs(*KEY) == (0, [])
    with pytest.raises(st.NoSuchService):
        store.get_job("v2", "appkey-1", "nope", finished)


def test_list_jobs_order_filter_and_paging(store, clock):
    store.create_service(*KEY)
    ids = []
    for n in range(1, 6):
        clock.t += 10
        ops = [(f"p{n}-{i}", "upsert", product(f"p{n}-{i}", i)) for i in range(n)]
        ids.append(run_job(store, KEY, ops + [("x", "fail", None)] * (n % 2)))
    clock.t += 10
    reserved = store.create_job(*KEY, "v2", "r.jsonl", ["p"])
    total, rows = store.list_jobs(*KEY)
    assert total == 6 and [j.id for j in rows] == [reserved, *reversed(ids)]  # default requestedTime:desc
    assert rows[0].added_ids is None  # list rows carry counts only
    total, rows = store.list_jobs(*KEY, order_field="added_count", order_dir="asc", start=1, limit=2)
    assert total == 6 and [j.added_count for j in rows] == [1, 2]
    total, rows = store.list_jobs(*KEY, statuses=["reserved", "running"])
    assert total == 1 and rows[0].status == "reserved"
    total, rows = store.list_jobs(*KEY, statuses=["finished"], order_field="failed_count", order_dir="desc")
    assert total == 5 and [j.failed_count for j in rows] == [1, 1, 1, 0, 0]
    assert [j.id for j in rows[:3]] == [ids[4], ids[2], ids[0]]  # ties keep request order in the same direction
    with pytest.raises(ValueError):
        store.list_jobs(*KEY, order_field="name")
    with pytest.raises(ValueError):
        store.list_jobs(*KEY, order_dir="up")


def tokyo(*args: int) -> float:
    return datetime(*args, tzinfo=TOKYO).timestamp()


def test_day_start_is_midnight_in_the_zone():
    assert st.day_start(tokyo(2024, 3, 10, 23, 59, 59), "Asia/Tokyo") == tokyo(2024, 3, 10)
    assert st.day_start(tokyo(2024, 3, 11, 0, 0, 0), "Asia/Tokyo") == tokyo(2024, 3, 11)
    assert st.day_start(tokyo(2024, 3, 11, 8, 59), "Asia/Tokyo") == tokyo(2024, 3, 11)  # 23:59 UTC the day before


def test_maker_daily_quota_resets_at_midnight_tokyo(store, clock):
    quota = DailyQuota(4, "Asia/Tokyo")
    key = ("v1", "k", "svc")
    store.create_service(*key)
    clock.t = tokyo(2024, 3, 10, 8, 0)
    for _ in range(4):
        run_job(store, key, [("p", "upsert", product("p"))], quota=quota)
        clock.t += 3600
    assert store.uploads_today(*key, clock.t, tz="Asia/Tokyo") == 4
    assert store.uploads_today(*key, tz="Asia/Tokyo") == 4  # the store's clock by default
    clock.t = tokyo(2024, 3, 10, 23, 59, 59)
    with pytest.raises(st.QuotaExceeded):
        store.create_job(*key, "maker", "f.csv", ["p"], quota=quota)
    store.create_job(*key, "maker", "f.csv", ["p"])  # no quota given: not counted, not refused
    store.recover()
    clock.t = tokyo(2024, 3, 11, 0, 0, 0)
    assert store.uploads_today(*key, clock.t, tz="Asia/Tokyo") == 0
    run_job(store, key, [("p", "upsert", product("p"))], quota=quota)
    assert store.uploads_today(*key, clock.t, tz="Asia/Tokyo") == 1


def test_quota_is_checked_before_busy_and_survives_service_recreation(store, clock):
    quota = DailyQuota(1, "Asia/Tokyo")
    key = ("v1", "k", "svc")
    store.create_service(*key)
    store.create_job(*key, "maker", "f.csv", ["p"], quota=quota)
    with pytest.raises(st.QuotaExceeded):
        store.create_job(*key, "maker", "f.csv", ["p"], quota=quota)
    store.delete_service(*key)
    store.create_service(*key)
    with pytest.raises(st.QuotaExceeded):
        store.create_job(*key, "maker", "f.csv", ["p"], quota=quota)
    assert store.uploads_today(*key, tz="Asia/Tokyo") == 1


def test_uploads_today_defaults_to_the_contracts_timezone(store, clock):
    key = ("v1", "k", "svc")
    store.create_service(*key)
    tz = contracts.limit("maker", "index.daily_quota").extra["timezone"]
    store.create_job(*key, "maker", "f.csv", ["p"], quota=DailyQuota(4, tz))
    assert store.uploads_today(*key) == 1


def test_job_statuses_are_documented_ones():
    documented = set(contracts.limit("v2", "index.statuses").value)
    assert {st.RESERVED, st.RUNNING, st.FINISHED, st.FAILED} <= documented
    assert {st.RESERVED, st.RUNNING, st.FINISHED, st.FAILED} <= set(contracts.limit("maker", "index.statuses").value)


def test_threads_mixing_reads_and_writes(store):
    store.create_service(*KEY)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(20):
                store.upsert_product(*KEY, product(f"t{i}-{j}", j))
                store.get_product(*KEY, f"t{i}-{j}")
                store.list_services("v2", "appkey-1")
                if j % 3 == 0:
                    store.delete_product(*KEY, f"t{i}-{j}")
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(8)))
    assert errors == []
    assert store.count_products(*KEY) == 8 * (20 - 7) == len(list(store.iter_products(*KEY)))


_WRITER = """
import sys
from pathlib import Path
import numpy as np
from fashion_conformance.emulator.store import LineOp, Product, Store

s = Store(Path(sys.argv[1]), max_services=lambda ns: 5)
s.create_service("v2", "k", "shop")
ids = [f"p{i}" for i in range(200_000)]
job = s.create_job("v2", "k", "shop", "v2", "f.csv", ids)
s.start_job(job)
print(job, flush=True)
vec = np.ones(64, dtype=np.float32) / 8
for i in range(0, len(ids), 10):
    s.commit_lines(job, [LineOp(n + 1, ids[n], "upsert", Product(ids[n], "n", "1", "2", "3", "u", "a", "b", "h", vec))
                         for n in range(i, i + 10)], max_docs=None)
"""


def test_a_killed_writer_leaves_a_consistent_store(tmp_path):
    path = tmp_path / "state.sqlite3"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    job_id = child.stdout.readline().strip()
    time.sleep(0.3)  # let it commit a while, then kill it mid-write
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    s = Store(path, max_services=lambda ns: 5)
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    job = s.get_job("v2", "k", "shop", job_id)
    assert job.status == "failed" and 0 < job.added_count < job.total_count
    assert job.added_count + job.failed_count == job.total_count == 200_000
    assert s.count_products("v2", "k", "shop") == job.added_count == len(list(s.iter_products("v2", "k", "shop")))
    s.close()


def _file_count(path, key) -> int | None:
    """A service's document count as the file holds it, read through a connection of its own."""
    db = sqlite3.connect(path)
    try:
        row = db.execute("SELECT doc_count FROM services WHERE ns=? AND appkey=? AND name=?", key).fetchone()
    finally:
        db.close()
    return None if row is None else row[0]


def test_service_in_memory_follows_every_commit_and_no_rollback(tmp_path, clock):
    """get_service answers from memory: it shows each committed change and nothing of a rolled-back one."""
    path = tmp_path / "state.sqlite3"
    s = Store(path, clock=clock)
    s.create_service(*KEY)
    s.upsert_product(*KEY, product("p1"))
    run_job(s, KEY, [("p2", "upsert", product("p2")), ("p3", "upsert", product("p3")), ("p1", "delete", None)])
    assert s.get_service(*KEY).document_count == 2 == _file_count(path, KEY)
    job_id = s.create_job(*KEY, "v2", "f.jsonl", ["p4", "p5"])
    s.start_job(job_id)
    broken = Product(**{**product("p5").__dict__, "vector": np.array(["not a number"])})
    with pytest.raises(ValueError):
        s.commit_lines(job_id, [LineOp(1, "p4", "upsert", product("p4")), LineOp(2, "p5", "upsert", broken)],
                       max_docs=None)
    assert s.get_service(*KEY).document_count == 2 == _file_count(path, KEY)
    s.delete_product(*KEY, "p2")
    assert s.get_service(*KEY).document_count == 1 == _file_count(path, KEY)
    s.close()
    reopened = Store(path, clock=clock)
    assert reopened.get_service(*KEY) == st.Service("shop", 1, int(clock.t))
    reopened.delete_service(*KEY)
    assert reopened.get_service(*KEY) is None and _file_count(path, KEY) is None
    reopened.close()
