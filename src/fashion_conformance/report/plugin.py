"""Collects each test's outcome and requirements, and writes the requirement matrix at the end of the run."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .. import __version__, contracts
from ..plugin import interrupted_by, live_targets, run_secrets
from ..targets import API_SECTIONS, redact
from . import html, matrix
from .rundir import new_run_dir


class MatrixRecorder:
    def __init__(self, config: pytest.Config, run_dir: Path) -> None:
        self.config = config
        self.run_dir = run_dir
        self.results: dict[str, matrix.TestResult] = {}
        self.collected: dict[str, list[str]] = {}  # node ID -> requirement IDs of every test collected to run
        self.started = time.time()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = _requirements_of(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        """xdist: the workers collect, the controller does not; the first worker leaves its collection here."""
        node.workerinput["fashion_run_dir"] = str(self.run_dir)

    def _collected(self) -> dict[str, list[str]]:
        found = dict(self.collected)
        for path in self.run_dir.glob(COLLECTED_GLOB):
            with contextlib.suppress(OSError, ValueError):
                found |= json.loads(path.read_text(encoding="utf-8"))
            path.unlink(missing_ok=True)
        return found

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        reqs = next((v.split(",") for k, v in report.user_properties if k == "requirements" and v), [])
        current = self.results.get(report.nodeid)
        if report.when == "call" or report.failed or report.skipped:
            outcome = report.outcome
            if hasattr(report, "wasxfail"):
                outcome = "xfailed" if report.skipped else "xpassed"
            elif report.failed and report.when != "call":
                outcome = "error"
            message = ""
            if hasattr(report, "wasxfail"):
                message = f"known failure ({report.wasxfail})"
            elif report.skipped and isinstance(report.longrepr, tuple):
                message = str(report.longrepr[2]).removeprefix("Skipped: ")
            elif report.failed:
                message = report.longreprtext[-4000:]
            if current is None or outcome in ("failed", "error"):
                self.results[report.nodeid] = matrix.TestResult(report.nodeid, outcome, reqs, report.duration, message)
        blocked = next((v for k, v in report.user_properties if k == "blocked" and v), "")
        if blocked:  # the test failed on the requirement of an unmet precondition: its own are blocked by it
            own, _, reason = blocked.partition("|")
            self.results[report.nodeid + " (blocked)"] = matrix.TestResult(
                report.nodeid, "skipped", own.split(","), 0.0, reason)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """After the session fixtures' cleanup and junit.xml (trylast), also when the run was interrupted."""
        config = session.config
        signal_ = interrupted_by()
        interrupted = signal_ is not None or exitstatus == pytest.ExitCode.INTERRUPTED
        apis = set(getattr(config, "_fashion_apis", API_SECTIONS))
        given = live_targets(config)
        secrets_ = run_secrets(config)
        if given is None:
            source, targeted, base_urls = "embedded emulator", apis, {}
        else:
            source = given.source
            targeted = {a for a in apis if given.targeted(a)}
            base_urls = {a: given.get(a)["base_url"] for a in sorted(targeted)}
        finished = time.time()
        meta = {
            "suite_version": __version__,
            "target": source,
            "base_urls": base_urls,
            "started": dt.datetime.fromtimestamp(self.started, dt.UTC).isoformat(timespec="seconds"),
            "finished": dt.datetime.fromtimestamp(finished, dt.UTC).isoformat(timespec="seconds"),
            "duration_s": round(finished - self.started, 1),
            "apis": sorted(apis),
            "interrupted": interrupted,
            "interrupted_by": signal_[0] if interrupted and signal_ else None,
            "tests_collected": session.testscollected if interrupted else None,
        }
        results = list(self.results.values())
        collected = self._collected()
        incomplete: set[str] = set()
        if interrupted:  # a requirement is not passed on the tests of it that happened to run before the signal
            incomplete = {rid for nodeid, reqs in collected.items() if nodeid not in self.results for rid in reqs}
            meta["tests_collected"] = len(collected) or session.testscollected
            meta["tests_ran"] = len(results)
            _mark_junit(config, meta)
        rows = matrix.build(results, targeted, incomplete)
        doc = json.loads(redact(json.dumps(matrix.to_json(rows, results, meta)), secrets_))
        (self.run_dir / "conformance.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
        (self.run_dir / "conformance.md").write_text(redact(matrix.to_markdown(rows, meta), secrets_), encoding="utf-8")
        errata = [dataclasses.asdict(e) for e in contracts.errata()]
        (self.run_dir / "report.html").write_text(redact(html.render(doc, errata), secrets_), encoding="utf-8")
        self.doc = doc

    def pytest_terminal_summary(self, terminalreporter) -> None:
        doc = getattr(self, "doc", None)
        if doc is None:
            return
        tr = terminalreporter
        tr.section("requirements")
        if doc["meta"].get("interrupted"):
            tr.write_line(matrix.interrupted_banner(doc["meta"]), red=True, bold=True)
        for api, counts in doc["summary"].items():
            tr.write_line(f"{api:8s} " + ", ".join(f"{n} {status}" for status, n in counts.items()))
        ambiguous_failed = [r["id"] for r in doc["requirements"]
                            if r["status"] == "doc ambiguity" and r["outcome"] == "fail"]
        if ambiguous_failed:
            tr.write_line(f"failed on a reading of the documents (doc ambiguity, outcome fail; the run still fails): "
                          f"{len(ambiguous_failed)} ({', '.join(ambiguous_failed[:5])}); see conformance.md")
        untested_must = [r["id"] for r in doc["requirements"]
                         if r["level"] == "MUST" and r["status"] == "untested" and r["api"] in doc["meta"]["apis"]]
        if untested_must:
            tr.write_line(f"MUST requirements without a test that ran: {len(untested_must)} "
                          f"(e.g. {', '.join(untested_must[:5])}); see conformance.md")
        if doc["unknown_requirement_ids"]:
            tr.write_line("tests name requirements not in the catalog: " + ", ".join(doc["unknown_requirement_ids"]))
        slowest = sorted(doc["tests"], key=lambda t: -t["duration_s"])[:5]
        if slowest:
            tr.write_line("slowest: " + "; ".join(f"{t['nodeid'].split('::')[-1]} {t['duration_s']:.1f}s" for t in slowest))
        tr.write_line(f"report: {self.run_dir / 'report.html'}")


COLLECTED_GLOB = ".collected-*.json"


def _requirements_of(items: list[pytest.Item]) -> dict[str, list[str]]:
    return {item.nodeid: sorted({i for m in item.iter_markers("req") for i in m.args}) for item in items}


def pytest_collection_finish(session: pytest.Session) -> None:
    """xdist worker gw0: its collection, for the controller's report of an interrupted run."""
    given = getattr(session.config, "workerinput", {})
    if not given.get("fashion_run_dir") or given.get("workerid") != "gw0":
        return
    path = Path(given["fashion_run_dir"]) / COLLECTED_GLOB.replace("*", given["workerid"])
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_requirements_of(session.items)), encoding="utf-8")
    os.replace(tmp, path)


def _mark_junit(config: pytest.Config, meta: dict) -> None:
    """junit.xml, as pytest wrote it: each testsuite gets the properties interrupted=true and interrupted_by."""
    path = getattr(config.option, "xmlpath", None)
    if not path or not Path(path).is_file():
        return
    tree = ET.parse(path)
    suites = [tree.getroot()] if tree.getroot().tag == "testsuite" else tree.getroot().findall("testsuite")
    for suite in suites:
        props = suite.find("properties")
        if props is None:
            props = ET.Element("properties")
            suite.insert(0, props)
        ET.SubElement(props, "property", name="interrupted", value="true")
        ET.SubElement(props, "property", name="interrupted_by", value=meta["interrupted_by"] or "unknown")
    tree.write(path, encoding="utf-8", xml_declaration=True)


def pytest_configure(config: pytest.Config) -> None:
    root = config.getoption("--reports", default=None)
    if not root or hasattr(config, "workerinput"):
        return
    run_dir = Path(os.environ["FASHION_RUN_DIR"]) if os.environ.get("FASHION_RUN_DIR") else new_run_dir(Path(root))
    run_dir.mkdir(parents=True, exist_ok=True)
    config._fashion_run_dir = run_dir  # type: ignore[attr-defined]
    config.pluginmanager.register(MatrixRecorder(config, run_dir), "fashion-matrix")
