"""The suite under Ctrl-C and SIGTERM (a CI job's timeout): an interrupted run removes every run-prefixed service
before it exits, writes the reports of what ran (conformance.json, conformance.md, junit.xml, report.html) marked
interrupted, never reports a requirement as passed on the part of its tests that ran, and exits 128 + the signal."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fashion_conformance import clients, contracts
from fashion_conformance.report import html, matrix

ROOT = Path(__file__).resolve().parents[1]
POLL_S = 0.1
SERVICES_WITHIN_S = 90.0
PROGRESS_WITHIN_S = 600.0
EXIT_WITHIN_S = 120.0
HALFWAY = 40  # percent of the run's tests done (pytest's progress) before the signal
PROGRESS = re.compile(r"\[\s*(\d+)%\]")
REPORTS = ("conformance.json", "conformance.md", "junit.xml", "report.html")


def _names(v2: clients.ApiClient, prefix: str) -> list[str]:
    ex = v2.call("service.list")
    return [i["serviceName"] for i in (ex.data or {}).get("items", []) if i["serviceName"].startswith(prefix)]


def _env(**extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("FASHION_")} | extra


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _assert_marked_interrupted(run_dir: Path, sig: signal.Signals) -> dict:
    """Every report is in the run dir and says the run was interrupted, and by what; returns conformance.json."""
    for name in REPORTS:
        assert (run_dir / name).is_file(), f"{name} missing from {run_dir}"
    doc = json.loads((run_dir / "conformance.json").read_text(encoding="utf-8"))
    assert doc["meta"]["interrupted"] is True and doc["meta"]["interrupted_by"] == sig.name, doc["meta"]
    banner = f"INTERRUPTED ({sig.name}) \u2014 partial results"
    assert banner in (run_dir / "conformance.md").read_text(encoding="utf-8")
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert 'id="interrupted"' in page and banner in page
    suites = list(ET.parse(run_dir / "junit.xml").getroot().iter("testsuite"))
    assert suites, "junit.xml has no testsuite"
    for suite in suites:
        props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
        assert props.get("interrupted") == "true" and props.get("interrupted_by") == sig.name, props
    return doc


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_signal_during_a_live_run_removes_the_run_prefixed_services(emulator, tmp_path, sig):
    prefix = "fcint" + secrets.token_hex(2)
    section = emulator.targets()["v2"]
    targets_file = tmp_path / "targets.toml"
    targets_file.write_text("[v2]\n" + "".join(f'{k} = "{v}"\n' for k, v in section.items()), encoding="utf-8")
    reports = tmp_path / "reports"
    child = subprocess.Popen(
        [sys.executable, "-m", "fashion_conformance", "run", "--targets", str(targets_file), "--allow-destructive",
         "--api", "v2", "--reports", str(reports), "--", "-p", "no:randomly", "-x"],
        cwd=ROOT, env=_env(FASHION_RUN_PREFIX=prefix), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    v2 = clients.for_target("v2", section)
    try:
        deadline = time.monotonic() + SERVICES_WITHIN_S
        while not _names(v2, prefix):
            assert child.poll() is None, f"the run ended before it created a service:\n{child.stdout.read()[-3000:]}"
            assert time.monotonic() < deadline, f"no {prefix}* service within {SERVICES_WITHIN_S:g} s"
            time.sleep(POLL_S)
        child.send_signal(sig)
        out, _ = child.communicate(timeout=EXIT_WITHIN_S)
        assert child.returncode == 128 + sig, out[-3000:]
        left = _names(v2, prefix)
        assert not left, f"services left after {sig.name}: {left}\n{out[-3000:]}"
        _assert_marked_interrupted((reports / "latest").resolve(), sig)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        v2.close()


@pytest.mark.parametrize("group", [False, True], ids=["controller", "process-group"])
def test_sigterm_halfway_through_an_emulator_run_leaves_reports_marked_interrupted(tmp_path, group):
    """The main job (embedded emulator, xdist workers) sent SIGTERM about halfway, the controller alone or its whole
    process group (workers and emulators too, as a CI runner does): the controller writes the reports of the tests
    that ran, marked interrupted, and exits 143."""
    reports, log = tmp_path / "reports", tmp_path / "run.log"
    with log.open("w") as out:
        child = subprocess.Popen([sys.executable, "-m", "fashion_conformance", "run", "--reports", str(reports)],
                                 cwd=ROOT, env=_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + PROGRESS_WITHIN_S
        while max(map(int, PROGRESS.findall(log.read_text(errors="replace"))), default=0) < HALFWAY:
            assert child.poll() is None, f"the run ended before {HALFWAY}%:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"not {HALFWAY}% done within {PROGRESS_WITHIN_S:g} s"
            time.sleep(POLL_S)
        if group:
            os.killpg(child.pid, signal.SIGTERM)
        else:
            child.send_signal(signal.SIGTERM)
        child.wait(timeout=EXIT_WITHIN_S)
        deadline = time.monotonic() + EXIT_WITHIN_S
        while _group_alive(child.pid):  # the workers and their embedded emulators end too
            assert time.monotonic() < deadline, f"processes of the run left {EXIT_WITHIN_S:g} s after it ended"
            time.sleep(POLL_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if _group_alive(child.pid):
            os.killpg(child.pid, signal.SIGKILL)
    out = log.read_text(errors="replace")
    assert child.returncode == 128 + signal.SIGTERM, out[-3000:]
    doc = _assert_marked_interrupted((reports / "latest").resolve(), signal.SIGTERM)
    ran, collected = len(doc["tests"]), doc["meta"]["tests_collected"]
    assert 0 < ran < collected and doc["meta"]["tests_ran"] == ran, (ran, collected)
    assert not list((reports / "latest").resolve().glob(".collected-*")), "the workers' collection is left behind"


def test_matrix_of_an_interrupted_run_never_passes_a_requirement_on_part_of_its_tests():
    """A requirement with a test that did not run is untested though the tests that ran passed; a failure seen
    before the signal stays a failure; the reports carry the banner."""
    must = [r for r in contracts.requirements() if r.level == "MUST" and not r.errata and r.http][:3]
    results = [matrix.TestResult("t::ok", "passed", [must[0].id, must[1].id]),
               matrix.TestResult("t::bad", "failed", [must[2].id], message="expected 200")]
    rows = {r.id: r for r in matrix.build(results, set(contracts.APIS), {must[1].id, must[2].id})}
    assert (rows[must[0].id].status, rows[must[1].id].status, rows[must[2].id].status) == ("pass", "untested", "fail")
    meta = {"target": "unit", "interrupted": True, "interrupted_by": "SIGTERM", "tests_collected": 9, "tests_ran": 2}
    doc = matrix.to_json(list(rows.values()), results, meta)
    banner = "INTERRUPTED (SIGTERM) \u2014 partial results: 2 of 9 tests ran"
    assert banner in matrix.to_markdown(list(rows.values()), meta)
    assert banner in html.render(doc, [])
    quiet = {**meta, "interrupted": False}
    assert "INTERRUPTED" not in matrix.to_markdown(list(rows.values()), quiet)
    assert "INTERRUPTED" not in html.render(matrix.to_json(list(rows.values()), results, quiet), [])
