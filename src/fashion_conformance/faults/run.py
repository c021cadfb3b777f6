"""Run the conformance suite through a fault proxy and read what it reported: the tests of some requirements
(`run_suite`, one fault) or the whole suite (`run_whole_suite`, benign variants, composed or alone)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import embedded
from . import reqmap
from .proxy import Fault, FaultProxy

ROOT = Path(__file__).resolve().parents[3]  # the source checkout: tests/ and the root conftest.py
SUITE = "tests"
RUN_TIMEOUT_S = 600.0
WHOLE_RUN_TIMEOUT_S = 1200.0


@dataclass
class SuiteRun:
    """The suite's verdict on a subset of requirements, run through one proxy."""

    fault: str | None
    requirements: tuple[str, ...]
    returncode: int
    outcomes: dict[str, str]  # requirement ID -> outcome (pass, fail, untested, ...)
    tests: list[dict] = field(default_factory=list)
    output: str = ""
    applied: int = 0  # requests the fault was applied to
    duration_s: float = 0.0
    changed: dict[str, int] = field(default_factory=dict)  # rewrite name -> requests/responses it really changed

    @property
    def failed(self) -> list[str]:
        return [rid for rid in self.requirements if self.outcomes.get(rid) == "fail"]

    @property
    def ran(self) -> list[str]:
        return [rid for rid in self.requirements if self.outcomes.get(rid) in ("pass", "fail")]


def _env() -> dict[str, str]:
    """The environment of a child pytest: no target overrides, nothing of the parent's pytest or xdist."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("FASHION_", "PYTEST_"))}


def requirement_files(work: Path) -> dict[str, dict[str, int]]:
    """Which suite files check each requirement, from one collection of the suite (see reqmap)."""
    work.mkdir(parents=True, exist_ok=True)
    out = work / "reqmap.json"
    args = [sys.executable, "-m", "pytest", SUITE, "--collect-only", "-q", "-p", "no:cacheprovider",
            "-p", "fashion_conformance.faults.reqmap"]
    proc = subprocess.run(args, cwd=ROOT, env={**_env(), reqmap.ENV: str(out)}, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    if not out.is_file():
        raise RuntimeError(f"collecting the suite failed:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}")
    return json.loads(out.read_text(encoding="utf-8"))


def paths_for(requirements: tuple[str, ...], files: dict[str, dict[str, int]] | None) -> list[str]:
    """The suite files checking `requirements`, most focused tests first (so a stop at the first failure comes
    before any broad stateful test); the whole suite when the map is not known or names none."""
    focus: dict[str, int] = {}
    for rid in requirements:
        for path, size in (files or {}).get(rid, {}).items():
            focus[path] = min(focus.get(path, size), size)
    return sorted(focus, key=lambda p: (focus[p], p)) or [SUITE]


def targets_toml(emu: embedded.EmbeddedEmulator, base_url: str) -> str:
    """A targets file: all four APIs at `base_url` with the emulator's keys, a loopback image host."""
    sections = emu.targets({"bind": "127.0.0.1:0"})
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        for key, value in values.items():
            lines.append(f"{key} = {json.dumps(base_url if key == 'base_url' else value)}")
    return "\n".join(lines) + "\n"


def run_suite(emu: embedded.EmbeddedEmulator, fault: Fault | None, requirements: tuple[str, ...], work: Path,
              *, files: dict[str, dict[str, int]] | None = None, stop_at_first_failure: bool = True) -> SuiteRun:
    """The suite's tests of `requirements` against `emu` seen through a proxy applying `fault` (None: faithful)."""
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with FaultProxy(emu.base_url, fault, emu.keys) as proxy:
        targets = work / "targets.toml"
        targets.write_text(targets_toml(emu, proxy.base_url), encoding="utf-8")
        reports = work / "reports"
        args = [sys.executable, "-m", "pytest", *paths_for(requirements, files), "--targets", str(targets),
                "--allow-destructive", "--req", ",".join(requirements), "--reports", str(reports),
                "-p", "no:cacheprovider", "-p", "fashion_conformance.faults.loopback", "-q",
                *(["-x"] if stop_at_first_failure else [])]
        proc = subprocess.run(args, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        applied = proxy.applied
    doc_path = reports / "latest" / "conformance.json"
    doc = json.loads(doc_path.read_text(encoding="utf-8")) if doc_path.is_file() else {}
    outcomes = {r["id"]: r["outcome"] for r in doc.get("requirements", ())}
    return SuiteRun(fault.name if fault else None, requirements, proc.returncode, outcomes, doc.get("tests", []),
                    proc.stdout[-6000:] + proc.stderr[-3000:], applied, time.monotonic() - started)


def run_whole_suite(emu: embedded.EmbeddedEmulator, faults: Sequence[Fault], work: Path, *, cli: bool = False,
                    workers: int | None = None, args: Sequence[str] = ()) -> SuiteRun:
    """The whole suite (every test of `tests/`, all four APIs, destructive tests included) against `emu` seen
    through one proxy applying `faults` together (none: a faithful proxy), with pytest `args` added (e.g. a -k
    selection). By default under pytest in one process; `cli`: as `fashion-conformance run` runs a live target
    (its workers and their layout; `workers` None: its default). Give it an emulator of its own: the suite spends
    quotas (Maker's daily index requests) that a second whole run on the same data would find gone."""
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with FaultProxy(emu.base_url, tuple(faults), emu.keys) as proxy:
        targets = work / "targets.toml"
        targets.write_text(targets_toml(emu, proxy.base_url), encoding="utf-8")
        reports = work / "reports"
        plugin = ["-p", "fashion_conformance.faults.loopback", *args]
        if cli:
            argv = [sys.executable, "-m", "fashion_conformance", "run", "--targets", str(targets),
                    "--allow-destructive", "--reports", str(reports),
                    *(["--workers", str(workers)] if workers is not None else []), "--", *plugin]
        else:
            argv = [sys.executable, "-m", "pytest", SUITE, "--targets", str(targets), "--allow-destructive",
                    "--reports", str(reports), "-p", "no:cacheprovider", "-q",
                    *(["-n", str(workers)] if workers else []), *plugin]
        proc = subprocess.run(argv, cwd=ROOT, env=_env(), capture_output=True, text=True,
                              timeout=WHOLE_RUN_TIMEOUT_S)
        applied, changed = proxy.applied, dict(proxy.changed_by)
    doc_path = reports / "latest" / "conformance.json"
    doc = json.loads(doc_path.read_text(encoding="utf-8")) if doc_path.is_file() else {}
    outcomes = {r["id"]: r["outcome"] for r in doc.get("requirements", ())}
    name = "+".join(f.name for f in faults) or None
    return SuiteRun(name, tuple(outcomes), proc.returncode, outcomes, doc.get("tests", []),
                    proc.stdout[-6000:] + proc.stderr[-3000:], applied, time.monotonic() - started, changed)
