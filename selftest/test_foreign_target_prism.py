"""A foreign target (issue 12): the suite against Prism (@stoplight/prism-cli 5) mocking each API's OpenAPI document
(contracts/<api>/openapi.json) on 127.0.0.1, static and dynamic (-d). Such a server answers schema-shaped nonsense:
the run must end within the bound and write complete reports, with no pytest error (an error is a bug of the suite,
never a fault of the target), every failure naming a requirement, and the matrix listing the failed requirements
and those blocked by them.

Prism comes from `.ci/run` (npm, into .ci/node/) or FC_PRISM (the path of a prism executable); without it the test
skips saying so."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fashion_conformance import contracts

ROOT = Path(__file__).resolve().parents[1]
LOCAL_PRISM = ROOT / ".ci" / "node" / "node_modules" / ".bin" / "prism"
UNAVAILABLE_NOTE = ROOT / ".ci" / "node" / "UNAVAILABLE"  # .ci/run writes why Prism could not be installed
BOUND_S = 300.0  # issue 12: a full run of the four APIs against nonsense ends within 5 minutes
START_WITHIN_S = 60.0
APIS = ("v1", "v2", "maker", "tagger")
REPORTS = ("conformance.json", "conformance.md", "junit.xml", "report.html")


def _prism() -> str:
    given = os.environ.get("FC_PRISM")
    if given:
        if not Path(given).is_file():
            pytest.fail(f"FC_PRISM={given} is not a file")
        return given
    if LOCAL_PRISM.is_file() and shutil.which("node"):
        return str(LOCAL_PRISM)
    why = UNAVAILABLE_NOTE.read_text(encoding="utf-8").strip() if UNAVAILABLE_NOTE.is_file() else (
        "not installed (bash .ci/run installs @stoplight/prism-cli@5 from the npm registry into .ci/node/)")
    pytest.skip(f"Prism is not available: {why}; or set FC_PRISM to a prism executable")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module", params=["static", "dynamic"])
def prism_run(request, tmp_path_factory) -> dict:
    """The four mocks started, the suite run against them; its timing, exit code, reports and output."""
    prism = _prism()
    mode = request.param
    work = tmp_path_factory.mktemp(f"prism-{mode}")
    procs, ports = [], {}
    try:
        for api in APIS:
            ports[api] = _free_port()
            args = [prism, "mock", "-h", "127.0.0.1", "-p", str(ports[api]), str(ROOT / "contracts" / api / "openapi.json")]
            if mode == "dynamic":
                args.append("-d")
            log = open(work / f"prism-{api}.log", "wb")  # noqa: SIM115 -- closed with the process below
            procs.append((subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log))
        deadline = time.monotonic() + START_WITHIN_S
        while not all(_listening(p) for p in ports.values()):
            dead = [api for (proc, _), api in zip(procs, APIS, strict=True) if proc.poll() is not None]
            if dead or time.monotonic() > deadline:
                logs = "\n".join((work / f"prism-{a}.log").read_text(errors="replace")[-800:] for a in APIS)
                pytest.fail(f"Prism did not start ({'exited: ' + ', '.join(dead) if dead else 'timeout'}):\n{logs}")
            time.sleep(0.3)
        sections = {
            "v1": {"appkey": "prism-v1-appkey"},
            "v2": {"appkey": "prism-v2-appkey", "secret_key": "prism-v2-secret"},
            "maker": {"appkey": "prism-maker-appkey"},
            "tagger": {"api_key": "prism-tagger-key"},
        }
        lines = []
        for api in APIS:
            lines += [f"[{api}]", f'base_url = "http://127.0.0.1:{ports[api]}"']
            lines += [f'{k} = "{v}"' for k, v in sections[api].items()] + [""]
        targets = work / "targets.toml"
        targets.write_text("\n".join(lines), encoding="utf-8")
        reports = work / "reports"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FASHION_", "PYTEST_"))}
        cmd = [sys.executable, "-m", "fashion_conformance", "run", "--targets", str(targets), "--allow-destructive",
               "--reports", str(reports)]
        started = time.monotonic()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=BOUND_S + 120)
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"the run against Prism ({mode}) did not end within {BOUND_S + 120:.0f} s:\n"
                        f"{(exc.stdout or b'')[-3000:]!r}")
        elapsed = time.monotonic() - started
        run_dir = reports / "latest"
        return {"mode": mode, "elapsed": elapsed, "code": proc.returncode, "run_dir": run_dir,
                "output": proc.stdout[-6000:] + proc.stderr[-3000:], "cmd": " ".join(cmd)}
    finally:
        for proc, log in procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def _doc(run: dict) -> dict:
    return json.loads((run["run_dir"] / "conformance.json").read_text(encoding="utf-8"))


def test_prism_run_ends_within_bound_with_reports(prism_run):
    """Bounded (issue 12): the whole run ends within 5 minutes, exit 1 (requirements fail), all four reports."""
    print(f"prism {prism_run['mode']}: {prism_run['elapsed']:.0f} s, exit {prism_run['code']}")
    assert prism_run["elapsed"] <= BOUND_S, (
        f"the run took {prism_run['elapsed']:.0f} s (bound {BOUND_S:.0f} s)\n{prism_run['output']}")
    assert prism_run["code"] == 1, f"expected exit 1 (requirements fail), got {prism_run['code']}\n{prism_run['output']}"
    for name in REPORTS:
        assert (prism_run["run_dir"] / name).is_file(), f"{name} missing\n{prism_run['output']}"
    doc = _doc(prism_run)
    assert not doc["meta"].get("interrupted"), doc["meta"]
    assert set(doc["meta"]["apis"]) == set(APIS)


def test_prism_run_has_no_pytest_errors(prism_run):
    """An error (E) against any target is a bug of the suite: none in junit.xml, none in conformance.json."""
    errors = [t["nodeid"] for t in _doc(prism_run)["tests"] if t["outcome"] == "error"]
    assert not errors, f"{len(errors)} pytest errors, e.g. {errors[:10]}"
    for suite in ET.parse(prism_run["run_dir"] / "junit.xml").getroot().iter("testsuite"):
        assert suite.get("errors") == "0", f"junit.xml: {suite.get('errors')} errors"


def test_prism_run_failures_name_requirements(prism_run):
    """Every failed test names at least one requirement of the catalog."""
    known = {r.id for r in contracts.requirements()}
    failed = [t for t in _doc(prism_run)["tests"] if t["outcome"] in ("failed", "xpassed")]
    assert failed, "nothing failed against Prism"
    nameless = [t["nodeid"] for t in failed if not t["requirements"] or set(t["requirements"]) - known]
    assert not nameless, f"failures without a catalog requirement: {nameless[:10]}"


def test_prism_run_matrix_lists_failed_and_blocked(prism_run):
    """The matrix has failed requirements and blocked ones, each blocked one naming a requirement that failed."""
    doc = _doc(prism_run)
    rows = doc["requirements"]
    failed = {r["id"] for r in rows if r["outcome"] == "fail"}
    blocked = [r for r in rows if r["status"] == "blocked"]
    assert failed, "no requirement failed against Prism"
    assert blocked, "no requirement is blocked against Prism"
    orphans = [r["id"] for r in blocked if not r["blocked_by"] or not set(r["blocked_by"]) <= failed]
    assert not orphans, f"blocked by a requirement that did not fail: {orphans[:10]}"
    md = (prism_run["run_dir"] / "conformance.md").read_text(encoding="utf-8")
    assert "## Failures" in md and "## Blocked" in md
    assert "blocked" in (prism_run["run_dir"] / "report.html").read_text(encoding="utf-8")
    print(f"prism {prism_run['mode']}: {len(failed)} failed, {len(blocked)} blocked requirements")
