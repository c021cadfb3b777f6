"""The suite's proof that it can fail: for every fault of the catalog, the conformance tests of the fault's
requirements run through a proxy that injects it, and at least one of those requirements must be reported as
failed; through a faithful proxy the same requirements must all hold. Writes a kill-rate table (killrate.md
beside the session's temporary directories) and prints it when the run is not distributed.

Run: pytest selftest/test_fault_injection.py -n 2 -p no:cacheprovider
"""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fashion_conformance import clients, embedded
from fashion_conformance.faults import CATALOG, Fault
from fashion_conformance.faults.run import SuiteRun, requirement_files, run_suite

pytestmark = pytest.mark.slow

SWEEP_TIMEOUT_S = 30.0
ROWS = "killrate.tsv"


def _sweep(emu: embedded.EmbeddedEmulator) -> None:
    """Delete every service a run left behind (v1 waits while a Maker index keeps one busy)."""
    sections = emu.targets()
    for api, var in (("v1", "serviceID"), ("v2", "serviceName")):
        client = clients.for_target(api, sections[api])
        try:
            items = (client.call("service.list").data or {}).get("items", [])
            for item in items:
                name = item.get(var) or item.get("serviceName")
                deadline = time.monotonic() + SWEEP_TIMEOUT_S
                while client.call("service.delete", path={var: name}).header.get("resultCode") == -42020:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.2)
        finally:
            client.close()


@pytest.fixture(scope="session")
def shared_emulator(tmp_path_factory) -> Iterator[embedded.EmbeddedEmulator]:
    emu = embedded.start(tmp_path_factory.mktemp("fault-emulator"))
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def suite_files(tmp_path_factory) -> dict[str, dict[str, int]]:
    """Which suite files check each requirement (one collection per worker)."""
    return requirement_files(tmp_path_factory.mktemp("reqmap"))


@pytest.fixture
def emulator_for(shared_emulator, tmp_path_factory) -> Iterator:
    """emulator_for(fault): the worker's shared emulator, or a fresh one for a fault that leaves state behind."""
    fresh: list[embedded.EmbeddedEmulator] = []

    def get(fault: Fault | None) -> embedded.EmbeddedEmulator:
        if fault is not None and fault.isolated:
            fresh.append(embedded.start(tmp_path_factory.mktemp("fault-emulator")))
            return fresh[-1]
        return shared_emulator

    yield get
    for emu in fresh:
        emu.stop()
    _sweep(shared_emulator)


@pytest.fixture(scope="session")
def killrate(tmp_path_factory, request) -> Iterator:
    """record(run): one row per fault in a table shared by the xdist workers; rendered at the end."""
    root = tmp_path_factory.getbasetemp().parent if hasattr(request.config, "workerinput") else \
        tmp_path_factory.getbasetemp()
    rows_path = root / ROWS

    def record(run: SuiteRun) -> None:
        caught = "caught" if run.failed else "untested" if not run.ran else "MISSED"
        row = "\t".join([run.fault or "-", ",".join(run.failed or run.ran or run.requirements), caught,
                         f"{run.duration_s:.1f}"])
        with rows_path.open("a", encoding="utf-8") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            fh.write(row + "\n")

    yield record
    table = _render(rows_path)
    (root / "killrate.md").write_text(table, encoding="utf-8")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line("\n" + table)


def _render(rows_path: Path) -> str:
    rows = sorted(line.split("\t") for line in rows_path.read_text(encoding="utf-8").splitlines()) \
        if rows_path.is_file() else []
    caught = sum(1 for r in rows if r[2] == "caught")
    lines = [f"fault kill rate: {caught}/{len(rows)}", "",
             "| fault | requirement(s) failed (or checked) | caught? | run (s) |", "|---|---|---|---|"]
    lines += [f"| {name} | {reqs} | {verdict} | {secs} |" for name, reqs, verdict, secs in rows]
    return "\n".join(lines) + "\n"


def _evidence(run: SuiteRun) -> str:
    """What the run found: the requirements that did not pass and the first failures (or the run's output)."""
    outcomes = {rid: run.outcomes.get(rid, "not run") for rid in run.requirements}
    odd = {rid: o for rid, o in outcomes.items() if o != "pass"}
    failed = [t for t in run.tests if t["outcome"] in ("failed", "error")]
    shown = "\n".join(f"{t['nodeid']}: {t['message'][-800:]}" for t in failed[:3])
    return (f"{len(outcomes) - len(odd)} of {len(outcomes)} requirements passed; the others: {odd}; "
            f"the fault applied to {run.applied} requests\n{shown or run.output[-2500:]}")


def test_fault_faithful_proxy_breaks_no_requirement(emulator_for, suite_files, tmp_path):
    """Through a proxy without a fault, every requirement the catalog's faults name holds."""
    ids = tuple(sorted({rid for f in CATALOG for rid in f.requirements}))
    run = run_suite(emulator_for(None), None, ids, tmp_path, files=suite_files, stop_at_first_failure=False)
    assert run.ran and not [rid for rid, outcome in run.outcomes.items() if outcome == "fail"], _evidence(run)
    assert run.returncode == 0, _evidence(run)


@pytest.mark.parametrize("fault", CATALOG, ids=[f.name for f in CATALOG])
def test_fault_is_caught_by_its_requirements(fault, emulator_for, suite_files, killrate, tmp_path):
    """The suite reports at least one of the fault's requirements as failed."""
    run = run_suite(emulator_for(fault), fault, fault.requirements, tmp_path / fault.name, files=suite_files)
    killrate(run)
    assert run.ran, f"no test of {', '.join(fault.requirements)} ran, so {fault.name} cannot be caught\n" \
        + _evidence(run)
    assert run.applied, f"no request of the selected tests reached {fault.name}'s endpoints\n" + _evidence(run)
    assert run.failed, f"{fault.name} ({fault.description}) went unnoticed\n" + _evidence(run)
