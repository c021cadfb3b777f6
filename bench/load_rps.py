"""Requests/s that ONE Locust process (FastHttpUser, no wait) generates against the emulator's cheapest endpoint
(v2 service.get) and against a bare Starlette hello app (bench/hello_app.py, the generator's own ceiling).

Servers and Locust are pinned to disjoint CPU halves when the machine has two CPUs or more; the CPU share of each
process says which side saturated.

    PYTHONPATH=src python bench/load_rps.py [--users 32] [--duration 15] [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

from fashion_conformance import clients, embedded

BENCH = Path(__file__).resolve().parent
SERVICE = "bench"


def _pin(cpus: set[int] | None):
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


def _cpu_between(samples: list[tuple[float, float, float]], t0: float, t1: float) -> tuple[float, float]:
    """CPU share of Locust and of the server between wall times t0 and t1, from (time, locust s, server s)."""
    a = min(samples, key=lambda s: abs(s[0] - t0))
    b = min(samples, key=lambda s: abs(s[0] - t1))
    span = b[0] - a[0]
    return (round((b[1] - a[1]) / span, 3), round((b[2] - a[2]) / span, 3)) if span > 0 else (0.0, 0.0)


def locust_round(url: str, auth: str | None, users: int, duration: int, cpus: set[int] | None, server_pid: int,
                 work: Path) -> dict:
    """One headless Locust run: its aggregated figures, and the CPU share of Locust and of the server while all
    users ran (Locust's start-up left out)."""
    env = {**common.child_env(), "FASHION_BENCH_URL": url, **({"FASHION_BENCH_AUTH": auth} if auth else {})}
    prefix = work / f"rps-{time.monotonic_ns()}"
    cmd = [sys.executable, "-m", "locust", "-f", str(BENCH / "load_rps_locustfile.py"), "--headless", "--only-summary",
           "-u", str(users), "-r", str(users), "--run-time", f"{duration}s", "--csv", str(prefix)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_pin(cpus))
    samples = []
    while proc.poll() is None:
        try:
            samples.append((time.time(), common.process_cpu_s(proc.pid), common.process_cpu_s(server_pid)))
        except (OSError, IndexError):
            pass
        time.sleep(0.25)
    with open(f"{prefix}_stats.csv", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    with open(f"{prefix}_stats_history.csv", newline="") as fh:
        running = [int(r["Timestamp"]) for r in csv.DictReader(fh) if r["Name"] == "Aggregated"
                   and r["User Count"] == str(users)]
    locust_cpu, server_cpu = _cpu_between(samples, running[0] + 1, running[-1])
    return {"rps": round(float(row["Requests/s"]), 1), "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]), "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]),
            "locust_cpu_share": locust_cpu, "server_cpu_share": server_cpu,
            "locust_cpu_us_per_request": round(locust_cpu / float(row["Requests/s"]) * 1e6),
            "implied_rps_per_locust_core": round(float(row["Requests/s"]) / locust_cpu) if locust_cpu else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    server_cpus, gen_cpus = common.cpu_split() or (None, None)
    work = Path(tempfile.mkdtemp(prefix="bench-load-rps-"))
    emu_port, hello_port = common.free_port(), common.free_port()
    procs = []
    try:
        for cmd, log in ((common.emulator_command(emu_port, work / "data"), "emulator.log"),
                         ([sys.executable, str(BENCH / "hello_app.py"), "--port", str(hello_port)], "hello.log")):
            with (work / log).open("ab") as out:
                procs.append(subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=common.child_env(),
                                              preexec_fn=_pin(server_cpus)))
        emu, hello = procs
        common.wait_http(emu_port, 30, emu)
        common.wait_http(hello_port, 30, hello)
        keys = embedded.DEFAULT_KEYS
        v2 = clients.for_target("v2", {"base_url": f"http://127.0.0.1:{emu_port}", "appkey": keys["appkey"],
                                       "secret_key": keys["secret_key"]})
        v2.call("service.create", json={"serviceName": SERVICE})
        path = v2.path("service.get", serviceName=SERVICE)
        v2.close()
        emulator = locust_round(f"http://127.0.0.1:{emu_port}{path}", keys["secret_key"], args.users,
                                args.duration, gen_cpus, emu.pid, work)
        baseline = locust_round(f"http://127.0.0.1:{hello_port}/hello", None, args.users, args.duration, gen_cpus,
                                hello.pid, work)
    finally:
        for proc in procs:
            common.stop(proc)
    common.emit("load_rps", {"users": args.users, "duration_s": args.duration,
                             "pinned": {"servers": sorted(server_cpus or []), "locust": sorted(gen_cpus or [])},
                             "emulator_v2_service_get": emulator, "hello_baseline": baseline}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
