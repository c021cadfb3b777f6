"""The image-fetch cut-off estimate against emulators with known deadlines: per deadline and mode, the error of
the estimate, the width of its 95% interval, and how long the scenario took (default grid 2.0..4.0 s).

    PYTHONPATH=src python bench/load_cutoff.py [--deadlines 2.5,3.0,3.5] [--runs 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import common
import load_scenarios


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deadlines", default="2.5,3.0,3.5")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    figures = {}
    for deadline in (float(d) for d in args.deadlines.split(",")):
        runs = []
        for _ in range(args.runs):
            reports = Path(tempfile.mkdtemp(prefix="bench-load-cutoff-"))
            code, summary = load_scenarios.run(reports, "--scenario", "image-fetch-limit", "--duration", "60s",
                                               "--emulator-fetch-deadline", str(deadline))
            modes = {m: v["fit"] for m, v in summary["cutoff"]["modes"].items()}
            runs.append({"exit_code": code, "wall_s": summary["wall_s"], "locust_s": summary["locust_s"], "modes": {
                m: {"estimate_s": f["estimate"], "error_ms": round((f["estimate"] - deadline) * 1000, 1),
                    "interval_ms": round((f["high"] - f["low"]) * 1000, 1), "requests": f["n"]}
                for m, f in modes.items() if f["estimate"] is not None}})
            print(f"deadline {deadline:g} s: " + ", ".join(
                f"{m} {r['estimate_s']:.3f} s ({r['error_ms']:+.0f} ms, interval {r['interval_ms']:.0f} ms)"
                for m, r in runs[-1]["modes"].items()) + f"; Locust {runs[-1]['locust_s']:g} s, whole run {runs[-1]['wall_s']:g} s", flush=True)
        errors = [abs(r["error_ms"]) for run in runs for r in run["modes"].values()]
        widths = [r["interval_ms"] for run in runs for r in run["modes"].values()]
        figures[f"{deadline:g}"] = {
            "runs": runs, "max_abs_error_ms": max(errors), "mean_abs_error_ms": round(statistics.mean(errors), 1),
            "median_interval_ms": statistics.median(widths),
            "median_wall_s": statistics.median(r["wall_s"] for r in runs),
            "median_locust_s": statistics.median(r["locust_s"] for r in runs)}
    common.emit("load_cutoff", {"deadlines": figures}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
