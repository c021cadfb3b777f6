"""(d) Startup time of `fashion-emulator serve`: from process start until its first HTTP answer.

Each run starts the command with a fresh data directory and polls the port every 5 ms with a bare HTTP
request; the figure is the median of the runs (target < 2 s). A run on a warm data directory (the state
of the previous run left in place) is reported as well, since a restart reopens existing state.

    PYTHONPATH=src python bench/startup_time.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import common


def one_start(data_dir: Path, log: Path) -> float:
    port = common.free_port()
    cmd = common.emulator_command(port, data_dir)
    with log.open("ab") as out:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=common.child_env())
    try:
        return common.wait_http(port, 60, proc, poll_s=0.002) - t0
    finally:
        common.stop(proc)


def run(runs: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    cold = []
    for i in range(runs):
        cold.append(one_start(work / f"data-{i}", work / "emulator.log"))
        print(f"run {i + 1}: {cold[-1]:.3f} s (fresh data dir)", flush=True)
    warm = []
    for i in range(runs):
        warm.append(one_start(work / "data-0", work / "emulator.log"))
        print(f"run {i + 1}: {warm[-1]:.3f} s (existing data dir)", flush=True)
    return {
        "command": common.emulator_launcher(),
        "runs": runs,
        "fresh_s": cold, "fresh_median_s": statistics.median(cold),
        "existing_s": warm, "existing_median_s": statistics.median(warm),
        "target": "median < 2 s",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = run(args.runs)
    print(f"median startup {figures['fresh_median_s']:.3f} s fresh, {figures['existing_median_s']:.3f} s existing "
          f"data dir (target < 2 s)")
    common.emit("startup_time", figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
