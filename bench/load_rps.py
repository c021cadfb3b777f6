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


def locust_round(url: str, auth: str | None, users: int, duration: int, cpus: set[int] | None, server_pid: int,
                 work: Path) -> dict:
    """One headless Locust run; its aggregated figures and the CPU share of Locust and of the server."""
    env = {**common.child_env(), "FASHION_BENCH_URL": url, **({"FASHION_BENCH_AUTH": auth} if auth else {})}
    prefix = work / f"rps-{time.monotonic_ns()}"
    cmd = [sys.executable, "-m", "locust", "-f", str(BENCH / "load_rps_locustfile.py"), "--headless", "--only-summary",
           "-u", str(users), "-r", str(users), "--run-time", f"{duration}s", "--csv", str(prefix)]
    server0 = common.process_cpu_s(server_pid)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_pin(cpus))
    _, _, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    server_cpu = common.process_cpu_s(server_pid) - server0
    with open(f"{prefix}_stats.csv", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "Aggregated")
    return {"rps": float(row["Requests/s"]), "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]), "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]),
            "locust_cpu_share": round((usage.ru_utime + usage.ru_stime) / wall, 3),
            "server_cpu_share": round(server_cpu / wall, 3)}


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
