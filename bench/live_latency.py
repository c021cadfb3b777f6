"""Live latency (issue 12 item 6): the whole suite (all four APIs, destructive tests included) against the emulator
as a live target, through the fault proxy delaying every answer by L ms (a deployment 50-300 ms away), for several
worker counts (`fashion-conformance run --workers N`, its live layout; 0: one process). Per run: wall time, the API
requests the proxy forwarded, tests, exit status, failed requirements, pytest errors, test time per suite folder;
per worker count, the ratio of the wall times at L and at 0 ms. Figures: docs/PERFORMANCE.md, "Live latency".

Each run gets an emulator of its own (the suite spends quotas a second run on the same data would find gone).

    PYTHONPATH=src python bench/live_latency.py [--latency-ms 0,200] [--workers 0,2,4,8] [--json FILE]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import common

from fashion_conformance import embedded
from fashion_conformance.faults import benign
from fashion_conformance.faults.run import run_whole_suite


def one_run(latency_ms: int, workers: int, work: Path) -> dict:
    emu = embedded.start(work / "emulator")
    load = os.getloadavg()[0]
    try:
        run = run_whole_suite(emu, [benign.uniform_latency(latency_ms / 1000)], work / "run", cli=True,
                              workers=workers)
    finally:
        emu.stop()
    outcomes = [t["outcome"] for t in run.tests]
    by_dir: dict[str, float] = {}  # test time per suite folder (v1, v2, maker, tagger, security)
    for t in run.tests:
        folder = t["nodeid"].split("/")[1]
        by_dir[folder] = by_dir.get(folder, 0.0) + t["duration_s"]
    return {
        "latency_ms": latency_ms, "workers": workers, "wall_s": round(run.duration_s, 1),
        "requests": run.applied, "tests": len(outcomes), "exit": run.returncode,
        "failed_requirements": run.failed, "pytest_errors": outcomes.count("error"),
        "failed_tests": outcomes.count("failed"), "loadavg_1m_before": round(load, 2),
        "test_time_s": {k: round(v, 1) for k, v in sorted(by_dir.items())},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency-ms", default="0,200", help="added latencies, comma-separated (default 0,200)")
    parser.add_argument("--workers", default="0,2,4,8", help="worker counts, comma-separated (0: one process)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    latencies = [int(x) for x in args.latency_ms.split(",")]
    worker_counts = [int(x) for x in args.workers.split(",")]
    work = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    runs = []
    started = time.monotonic()
    for workers in worker_counts:
        for latency in latencies:
            r = one_run(latency, workers, work / f"{latency}ms-n{workers}")
            runs.append(r)
            print(f"{latency:4d} ms, {workers:2d} workers: {r['wall_s']:7.1f} s, {r['requests']} requests, "
                  f"{r['tests']} tests, exit {r['exit']}, {len(r['failed_requirements'])} failed requirements, "
                  f"{r['pytest_errors']} errors (load {r['loadavg_1m_before']})", flush=True)
    by = {(r["latency_ms"], r["workers"]): r["wall_s"] for r in runs}
    base = min(latencies)
    ratios = {f"{lat}ms/{base}ms n={w}": round(by[lat, w] / by[base, w], 2)
              for w in worker_counts for lat in latencies if lat != base}
    for key, ratio in ratios.items():
        print(f"ratio {key}: {ratio}")
    common.emit("live_latency", {"runs": runs, "ratios": ratios, "total_s": round(time.monotonic() - started)},
                args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
