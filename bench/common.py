"""Helpers shared by the benchmark scripts: figures output, percentiles, CPU pinning, child processes."""

from __future__ import annotations

import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
if str(SRC) not in sys.path:  # the project need not be pip-installed to be benchmarked
    sys.path.insert(0, str(SRC))
START_LOADAVG = os.getloadavg()[0]  # background load on the machine when the benchmark began


def child_env() -> dict[str, str]:
    """The environment for child Python processes: this checkout's src/ first on the import path."""
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), *filter(None, [env.get("PYTHONPATH")])])
    return env


def machine() -> dict[str, str | int]:
    return {
        "nproc": os.cpu_count() or 0,
        "usable_cpus": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "loadavg_1m_at_start": round(START_LOADAVG, 2),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (0..100) of an ascending list, by linear interpolation."""
    if not sorted_values:
        return float("nan")
    pos = (len(sorted_values) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def latency_summary(samples_s: list[float]) -> dict[str, float]:
    """p50/p90/p99/max/mean in milliseconds."""
    ms = sorted(s * 1e3 for s in samples_s)
    return {
        "n": len(ms),
        "p50_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "p99_ms": percentile(ms, 99),
        "max_ms": ms[-1],
        "mean_ms": sum(ms) / len(ms),
    }


def cpu_split() -> tuple[set[int], set[int]] | None:
    """(server CPUs, load-generator CPUs): disjoint halves of the usable CPUs, or None on a single CPU."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    half = len(cpus) // 2
    return set(cpus[:half]), set(cpus[half:])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, deadline_s: float, proc: subprocess.Popen | None = None, poll_s: float = 0.005) -> float:
    """Poll 127.0.0.1:port with a bare HTTP request until any HTTP answer; returns the monotonic time it came.

    Raises RuntimeError when `proc` exits first or the deadline passes.
    """
    end = time.monotonic() + deadline_s
    request = b"GET /health-probe HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as s:
                s.sendall(request)
                if s.recv(16).startswith(b"HTTP/1."):
                    return time.monotonic()
        except OSError:
            pass
        time.sleep(poll_s)
    raise RuntimeError(f"no HTTP answer on port {port} within {deadline_s:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM a child we started, then SIGKILL it if it lingers."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def emit(name: str, figures: dict, json_path: Path | None) -> None:
    """Print the figures as JSON on one line (machine-readable) and optionally write them to a file."""
    record = {"benchmark": name, "machine": machine(), **figures}
    line = json.dumps(record, sort_keys=False)
    print("RESULT " + line, flush=True)
    if json_path is not None:
        json_path.write_text(json.dumps(record, indent=2) + "\n")


EMULATOR_ENTRY = "import sys; from fashion_conformance.cli import emulator_main; sys.exit(emulator_main())"


def emulator_command(port: int, data_dir: Path) -> list[str]:
    """`fashion-emulator serve` with the default keys: the installed console script, or else the same entry
    point through this Python (as fashion_conformance.embedded does)."""
    from fashion_conformance.embedded import DEFAULT_KEYS as k

    args = ["serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
            "--appkey", k["appkey"], "--secret-key", k["secret_key"], "--tagger-api-key", k["api_key"]]
    script = _console_script()
    return [script, *args] if script else [sys.executable, "-c", EMULATOR_ENTRY, *args]


def _console_script() -> str | None:
    """The `fashion-emulator` script beside this Python (an installed venv) or on PATH."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which("fashion-emulator", path=search)


def emulator_launcher() -> str:
    """How emulator_command starts the emulator, for the printed figures."""
    script = _console_script()
    return f"{script} serve" if script else f"{sys.executable} -c '{EMULATOR_ENTRY}' serve"


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads) from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
