"""Run the four emulator benchmarks one after another (each in its own process) and print a summary table.

    PYTHONPATH=src python bench/run_all.py [--out DIR] [--quick] [--only throughput,search,index,startup]
        [--generator python|wrk]

--quick shrinks every benchmark (shorter load rounds, 20,000 documents, 2,000 index lines, 3 starts) for a
smoke run; its figures are not comparable with the targets. Each benchmark's figures land in DIR/<name>.json
and the table in DIR/summary.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

BENCH = Path(__file__).resolve().parent
# name -> (script, full arguments, quick arguments, time limit in seconds)
BENCHMARKS = {
    "throughput": ("emulator_throughput.py", [], ["--duration", "3", "--warmup", "1", "--rounds", "1"], 300),
    "search": ("search_latency.py", [], ["--docs", "20000", "--searches", "200", "--base-images", "60"], 600),
    "index": ("index_wall_time.py", [], ["--lines", "2000"], 900),
    "startup": ("startup_time.py", [], ["--runs", "3"], 300),
}


def rows(name: str, f: dict) -> list[tuple[str, str, str, str]]:
    """(benchmark, figure, value, target) rows of one benchmark's figures."""
    if name == "throughput":
        return [
            ("(a) throughput", "baseline hello rps", f"{f['baseline_rps']:.0f}", ""),
            ("(a) throughput", "emulator v2 service.get rps", f"{f['emulator_rps']:.0f}", ""),
            ("(a) throughput", "ratio emulator/baseline", f"{f['ratio']:.3f}", _met(f["ratio"] >= 0.6, ">= 0.6")),
            ("(a) throughput", "server CPU per request, baseline / emulator",
             f"{f['baseline_cpu_us_per_request']:.0f} / {f['emulator_cpu_us_per_request']:.0f} us", ""),
            ("(a) throughput", "CPU ratio baseline/emulator (steadier on a busy machine)", f"{f['cpu_ratio']:.3f}",
             _met(f["cpu_ratio"] >= 0.6, ">= 0.6")),
        ]
    if name == "search":
        return [(f"(b) search, {f['docs']} docs", f"{v}: p50 / p99, CPU per search",
                 f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f} ms, {r['cpu_ms_mean']:.2f} ms",
                 _met(r["p50_ms"] <= 5, "p50 <= 5 ms")) for v, r in f["variants"].items()]
    if name == "index":
        return [
            ("(c) index", f"wall time, {f['lines']} lines ({f['status']})", f"{f['wall_s']:.1f} s",
             _met(f["wall_s"] <= 60 and f["status"] == "finished", "<= 60 s")),
            ("(c) index", "docs/s", f"{f['docs_per_s']:.0f}", ""),
            ("(c) index", "emulator CPU: share of one core, per document",
             f"{f['emulator_cpu_share']:.2f}, {f['emulator_cpu_ms_per_doc']:.1f} ms", ""),
        ]
    return [
        ("(d) startup", f"median of {f['runs']}, fresh data dir", f"{f['fresh_median_s']:.3f} s",
         _met(f["fresh_median_s"] < 2, "< 2 s")),
        ("(d) startup", f"median of {f['runs']}, existing data dir", f"{f['existing_median_s']:.3f} s",
         _met(f["existing_median_s"] < 2, "< 2 s")),
    ]


def _met(ok: bool, target: str) -> str:
    return f"{target}: {'met' if ok else 'NOT met'}"


def table(all_rows: list[tuple[str, str, str, str]]) -> str:
    lines = ["| benchmark | figure | value | target |", "| --- | --- | --- | --- |"]
    lines += [f"| {b} | {f} | {v} | {t} |" for b, f, v, t in all_rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="directory for the figures (default: a new temp dir)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run, not the targets' sizes")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help="comma-separated subset of " + ", ".join(BENCHMARKS))
    parser.add_argument("--generator", choices=("python", "wrk"), default="python", help="load generator of (a)")
    args = parser.parse_args(argv)
    chosen = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = set(chosen) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-"))
    out.mkdir(parents=True, exist_ok=True)
    all_rows, failed = [], []
    for name in chosen:
        script, full, quick, limit = BENCHMARKS[name]
        extra = ["--generator", args.generator] if name == "throughput" else []
        cmd = [sys.executable, str(BENCH / script), *(quick if args.quick else full), *extra,
               "--json", str(out / f"{name}.json")]
        print(f"== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.monotonic()
        try:
            done = subprocess.run(cmd, env=common.child_env(), timeout=limit)
        except subprocess.TimeoutExpired:
            failed.append(f"{name} (over {limit} s)")
            continue
        if done.returncode != 0:
            failed.append(f"{name} (exit {done.returncode})")
            continue
        figures = json.loads((out / f"{name}.json").read_text())
        load = f" [load {figures['machine']['loadavg_1m_at_start']}]"
        all_rows += [(b + load, f, v, "(quick size: not judged)" if args.quick and t else t)
                     for b, f, v, t in rows(name, figures)]
        print(f"== {name} took {time.monotonic() - t0:.0f} s", flush=True)
    m = common.machine()
    summary = (f"machine: {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, {m['platform']}; "
               f"[load N]: 1-minute load average when the benchmark began"
               f"{'; QUICK sizes' if args.quick else ''}\n\n"
               + table(all_rows) + ("\n\nfailed: " + ", ".join(failed) if failed else "") + "\n")
    (out / "summary.md").write_text(summary)
    print("\n" + summary + f"figures: {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
