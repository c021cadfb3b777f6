"""detect->search flows/s the embedded emulator sustains with the flow's p95 <= 100 ms: the capacity scenario
(users that wait --think-time s between flows), one user more per step, until the p95 (or the error rate, 1%)
breaks.

Locust, the image host and the emulator share the machine; the figure is the whole set-up's.

    PYTHONPATH=src python bench/load_flows.py [--max-users 16] [--step-time 10] [--think-time 0.1] [--p95-ms 100]
        [--json FILE]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import common
import load_scenarios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-users", type=int, default=16)
    parser.add_argument("--step-time", type=int, default=10)
    parser.add_argument("--think-time", type=float, default=0.1)
    parser.add_argument("--p95-ms", type=float, default=100.0)
    parser.add_argument("--catalog", type=int, default=200)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    reports = Path(tempfile.mkdtemp(prefix="bench-load-flows-"))
    code, summary = load_scenarios.run(
        reports, "--scenario", "capacity", "--users", str(args.max_users), "--step-users", "1",
        "--step-time", f"{args.step_time}s", "--step-warmup", "3s", "--duration", f"{args.max_users * args.step_time}s",
        "--think-time", str(args.think_time), "--slo-p95-ms", str(args.p95_ms), "--slo-error-rate", "0.01",
        "--catalog", str(args.catalog))
    held = summary.get("capacity", {}).get("highest_held")
    common.emit("load_flows", {
        "slo_p95_ms": args.p95_ms, "think_time_s": args.think_time, "catalog": args.catalog, "exit_code": code,
        "highest_held": held, "steps": summary.get("capacity", {}).get("steps"), "reports": str(reports)},
        args.json)
    return 0 if held else 1


if __name__ == "__main__":
    raise SystemExit(main())
