"""(a) Requests/s of v2 "get service" on the emulator vs a bare Starlette hello endpoint, in one run.

Both servers run as `uvicorn.run(app, host, port, log_level="warning", access_log=False)` (the emulator through
`fashion-emulator serve`, the baseline through bench/hello_app.py), one process each, pinned to the same CPU(s);
the load generator runs pinned to the other CPU(s). Rounds alternate baseline and emulator so that drift in
the machine's background load hits both alike; the ratio is emulator rps / baseline rps (target >= 0.6).
Each server's CPU time per request (from /proc) is reported too: unlike rps it hardly depends on what else
the machine runs, so its ratio (baseline us / emulator us) is the steadier figure on a shared machine.

Load generators (the same one for both servers):
  python  bench/loadgen.py, raw asyncio keep-alive connections (default; nothing to install)
  wrk     the wrk binary; install it first with `apt-get install wrk` (Debian/Ubuntu)

    PYTHONPATH=src python bench/emulator_throughput.py [--generator python|wrk] [--duration 10] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
import httpx

from fashion_conformance import clients, embedded

BENCH = Path(__file__).resolve().parent
SERVICE = "bench-throughput"


def _pin(cpus: set[int] | None):
    return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


def spawn(cmd: list[str], cpus: set[int] | None, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=common.child_env(),
                                preexec_fn=_pin(cpus))


def run_python(port: int, path: str, headers: list[str], args, cpus: set[int] | None, server_pid: int) -> dict:
    cmd = [sys.executable, str(BENCH / "loadgen.py"), "--port", str(port), "--path", path,
           "--connections", str(args.connections), "--warmup", str(args.warmup), "--duration", str(args.duration)]
    for h in headers:
        cmd += ["--header", h]
    cpu0 = common.process_cpu_s(server_pid)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=common.child_env(), check=True,
                          preexec_fn=_pin(cpus), timeout=args.warmup + args.duration + 60)
    server_cpu = common.process_cpu_s(server_pid) - cpu0  # over the warm-up and the measured window
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"rps": result["rps"], "requests": result["requests"], "statuses": result["statuses"],
            "errors": result["errors"], "latency_ms": result["latency_ms"],
            "generator_cpu_share": result["generator_cpu_share"],
            "server_cpu_us_per_request": server_cpu / result["all_requests"] * 1e6}


WRK_RPS = re.compile(r"Requests/sec:\s+([\d.]+)")
WRK_TOTAL = re.compile(r"(\d+) requests in")
WRK_NON2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
WRK_ERRORS = re.compile(r"Socket errors: (.*)")
WRK_PCT = re.compile(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)


def run_wrk(port: int, path: str, headers: list[str], args, cpus: set[int] | None, server_pid: int) -> dict:
    url = f"http://127.0.0.1:{port}{path}"
    base = ["wrk", "-t1", f"-c{args.connections}", "--latency"]
    for h in headers:
        base += ["-H", h]
    if args.warmup > 0:
        subprocess.run([*base, f"-d{max(1, round(args.warmup))}s", url], capture_output=True, check=True,
                       preexec_fn=_pin(cpus), timeout=args.warmup + 60)
    cpu0, t0 = common.process_cpu_s(server_pid), time.monotonic()
    proc = subprocess.Popen([*base, f"-d{max(1, round(args.duration))}s", url], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, preexec_fn=_pin(cpus))
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    server_cpu = common.process_cpu_s(server_pid) - cpu0
    out = proc.stdout.read().decode()
    proc.stdout.close()
    if status != 0:
        raise RuntimeError(f"wrk failed: {out[-500:]}")
    unit = {"us": 1e-3, "ms": 1.0, "s": 1e3}
    non2xx = int(m[1]) if (m := WRK_NON2XX.search(out)) else 0
    total = int(WRK_TOTAL.search(out)[1])
    return {"rps": float(WRK_RPS.search(out)[1]), "requests": total,
            "statuses": {"2xx/3xx": total - non2xx, "other": non2xx},
            "errors": (m[1] if (m := WRK_ERRORS.search(out)) else 0),
            "latency_ms": {f"p{p}": float(v) * unit[u] for p, v, u in WRK_PCT.findall(out)},
            "generator_cpu_share": (usage.ru_utime + usage.ru_stime) / wall,
            "server_cpu_us_per_request": server_cpu / total * 1e6}


GENERATORS = {"python": run_python, "wrk": run_wrk}


def run(args) -> dict:
    if args.generator == "wrk" and not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: `apt-get install wrk`, or use --generator python")
    server_cpus, gen_cpus = (None if args.no_pin else common.cpu_split()) or (None, None)
    work = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    emu_port, hello_port = common.free_port(), common.free_port()
    emu = spawn(common.emulator_command(emu_port, work / "data"), server_cpus, work / "emulator.log")
    hello = spawn([sys.executable, str(BENCH / "hello_app.py"), "--port", str(hello_port)], server_cpus,
                  work / "hello.log")
    generate = GENERATORS[args.generator]
    try:
        common.wait_http(emu_port, 30, emu)
        common.wait_http(hello_port, 30, hello)
        keys = embedded.DEFAULT_KEYS
        v2 = clients.for_target("v2", {"base_url": f"http://127.0.0.1:{emu_port}", "appkey": keys["appkey"],
                                       "secret_key": keys["secret_key"]})
        created = v2.call("service.create", json={"serviceName": SERVICE})
        info = v2.call("service.get", path={"serviceName": SERVICE})
        if created.header.get("isSuccessful") is not True or info.header.get("isSuccessful") is not True:
            raise RuntimeError("the emulator did not create or answer the service:\n" + info.describe())
        emu_path = v2.path("service.get", serviceName=SERVICE)
        v2.close()
        auth = [f"Authorization: {keys['secret_key']}"]
        hello_body = httpx.get(f"http://127.0.0.1:{hello_port}/hello").text
        rounds = []
        for i in range(args.rounds):
            base = generate(hello_port, "/hello", [], args, gen_cpus, hello.pid)
            emul = generate(emu_port, emu_path, auth, args, gen_cpus, emu.pid)
            rounds.append({"baseline": base, "emulator": emul, "ratio": emul["rps"] / base["rps"],
                           "cpu_ratio": base["server_cpu_us_per_request"] / emul["server_cpu_us_per_request"]})
            print(f"round {i + 1}: baseline {base['rps']:7.0f} rps ({base['server_cpu_us_per_request']:4.0f} us "
                  f"server CPU/request, generator CPU {base['generator_cpu_share']:.0%}); emulator "
                  f"{emul['rps']:7.0f} rps ({emul['server_cpu_us_per_request']:4.0f} us/request, generator CPU "
                  f"{emul['generator_cpu_share']:.0%}); ratio {rounds[-1]['ratio']:.3f}, CPU ratio "
                  f"{rounds[-1]['cpu_ratio']:.3f}", flush=True)
    finally:
        common.stop(emu)
        common.stop(hello)
    base_rps = statistics.mean(r["baseline"]["rps"] for r in rounds)
    emu_rps = statistics.mean(r["emulator"]["rps"] for r in rounds)
    base_cpu = statistics.median(r["baseline"]["server_cpu_us_per_request"] for r in rounds)
    emu_cpu = statistics.median(r["emulator"]["server_cpu_us_per_request"] for r in rounds)
    return {
        "generator": args.generator, "connections": args.connections, "duration_s": args.duration,
        "warmup_s": args.warmup, "server_cpus": sorted(server_cpus or []), "generator_cpus": sorted(gen_cpus or []),
        "emulator_request": f"GET {emu_path} (Authorization header)", "emulator_body": info.response_text,
        "baseline_request": "GET /hello", "baseline_body": hello_body,
        "rounds": rounds, "baseline_rps": base_rps, "emulator_rps": emu_rps, "ratio": emu_rps / base_rps,
        "baseline_cpu_us_per_request": base_cpu, "emulator_cpu_us_per_request": emu_cpu,
        "cpu_ratio": base_cpu / emu_cpu, "target": "ratio >= 0.6",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--generator", choices=sorted(GENERATORS), default="python")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per server and round")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-pin", action="store_true", help="do not pin servers and generator to separate CPUs")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = run(args)
    print(f"baseline {figures['baseline_rps']:.0f} rps, emulator {figures['emulator_rps']:.0f} rps, "
          f"ratio {figures['ratio']:.3f} (target >= 0.6); server CPU per request: baseline "
          f"{figures['baseline_cpu_us_per_request']:.0f} us, emulator {figures['emulator_cpu_us_per_request']:.0f} us,"
          f" ratio {figures['cpu_ratio']:.3f}")
    common.emit("emulator_throughput", figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
