"""The suite stays correct at a live deployment's latency (issue 12 item 6: a real one is 50-300 ms away). Through a
fault proxy that delays every answer by 200 ms, `fashion-conformance run` treats the emulator as a live target, in
its default layout for one (live.LIVE_WORKERS workers, the tests of one service quota in one worker: live.scheduler;
the image host on a free port), and must exit 0 with no failed requirement and no pytest error.

CI runs a subset (about 2-3 minutes): the files that fill and count the services of both quotas (v1 and Maker, v2)
side by side, wait on index jobs (v2, Maker), search (v1) and detect (v2), and two Tagger files.
FC_LATENCY_FULL=1 runs the whole suite instead (about 6-7 minutes); bench/live_latency.py times the whole suite at 0
and 200 ms for several worker counts (docs/PERFORMANCE.md, "Live latency").
"""

from __future__ import annotations

import os
import re

import pytest

from fashion_conformance import contracts, embedded, live
from fashion_conformance.faults import benign
from fashion_conformance.faults.run import run_whole_suite
from fashion_conformance.plugin import ServiceRegistry
from fashion_conformance.targets import Targets

LATENCY_S = 0.2
FULL_ENV = "FC_LATENCY_FULL"
CI_FILES = ("v2/test_services.py", "v2/test_indexing.py", "v2/test_detect_tag.py", "v1/test_v1_services.py",
            "v1/test_v1_search.py", "maker/test_maker_index.py", "tagger/test_tagger_detection.py",
            "tagger/test_tagger_request.py")


def test_live_layout_keeps_each_service_quota_in_one_scope():
    """v1 and Maker share the v1 quota of service IDs, v2 has its own; the security probes use both; Tagger's
    files are scopes of their own (they share no quota)."""
    scope = live.live_scope
    assert scope("tests/v1/test_v1_services.py::test_service_create_quota") == "v1"
    assert scope("tests/maker/test_maker_index.py::test_index_daily_quota") == "v1"
    assert scope("tests/v2/test_services.py::test_service_create_quota_of_five") == "v2"
    assert scope("tests/v2/test_search.py::test_search_limit_refused[None-link]") == "v2"
    tagger = "tests/tagger/test_tagger_request.py"
    assert scope(f"{tagger}::test_tags_post[url]") == tagger
    nhn = {scope(f"tests/{f}/test_x.py::t", security_probes=True) for f in ("v1", "maker", "v2", "security")}
    assert nhn == {"nhn"} and scope(f"{tagger}::t", security_probes=True) == tagger


def test_live_default_workers_need_a_free_image_host_port():
    """Each worker serves its images from an image host of its own: LIVE_WORKERS where [image_host] bind leaves
    the port free (or there is no [image_host]), none where it is fixed (the port a public URL names)."""
    v2 = {"v2": {"base_url": "https://fashion.example", "appkey": "a", "secret_key": "s"}}
    assert live.live_workers(Targets(v2)) == live.LIVE_WORKERS > 1
    assert live.live_workers(Targets(v2 | {"image_host": {"bind": "127.0.0.1:0"}})) == live.LIVE_WORKERS
    fixed = {"bind": "0.0.0.0:10080", "public_url": "http://images.example:10080"}
    assert live.live_workers(Targets(v2 | {"image_host": fixed})) == 0


def test_service_names_differ_between_workers_with_one_run_prefix(monkeypatch):
    """One FASHION_RUN_PREFIX for every worker: each worker's names (and its final sweep) are its own, valid v1 and
    v2 service names (service.name_pattern), at most 32 characters even with a long prefix."""
    pattern = re.compile(contracts.limit("v2", "service.name_pattern").value)
    assert pattern.pattern == contracts.limit("v1", "service.name_pattern").value
    names = {}
    for worker in ("gw0", "gw1", "gw11"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        registry = ServiceRegistry("fcrun01")
        names[worker] = [registry.name("quota") for _ in range(12)]
    every = [n for ns in names.values() for n in ns]
    assert len(set(every)) == len(every), "names clash between workers"
    assert all(pattern.fullmatch(n) for n in every), every
    assert not any(n.startswith("fcrun01-1-") for n in names["gw11"]), "gw1's sweep would take gw11's services"
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    long = ServiceRegistry("fc" + "x" * 40)
    assert [len(long.name("q")) for _ in range(10)] == [32] * 10 and len({long.name("q") for _ in range(10)}) == 10


@pytest.mark.slow
def test_suite_correct_at_200_ms_per_request(tmp_path):
    """Exit 0, no failed requirement, no pytest error; every answer of the run was late, every chosen file ran."""
    full = os.environ.get(FULL_ENV) == "1"
    latency = benign.uniform_latency(LATENCY_S)
    emu = embedded.start(tmp_path / "emulator")  # its own: the suite spends quotas a second run would miss
    try:
        run = run_whole_suite(emu, [latency], tmp_path / "run", cli=True,
                              args=() if full else ("-k", " or ".join(f.split("/")[1] for f in CI_FILES)))
    finally:
        emu.stop()
    failed = [t for t in run.tests if t["outcome"] in ("failed", "error")]
    evidence = (f"exit {run.returncode}; failed requirements {run.failed}; "
                + "\n".join(f"{t['nodeid']}: {t['outcome']}: {t['message'][-600:]}" for t in failed[:4])
                + ("" if failed else run.output[-2500:]))
    assert run.outcomes, "the suite wrote no conformance report\n" + evidence
    assert run.returncode == 0 and not run.failed and not failed, evidence
    assert run.applied and run.changed[latency.name] == run.applied, "every answer is delayed"
    ran = {t["nodeid"].split("::")[0].removeprefix("tests/") for t in run.tests if t["outcome"] == "passed"}
    assert full or ran == set(CI_FILES), f"files that ran: {sorted(ran)}"
