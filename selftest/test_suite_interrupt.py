"""The suite under Ctrl-C: a run against a live (non-embedded) target that is interrupted once it has created
services removes every run-prefixed service before it exits."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from fashion_conformance import clients

ROOT = Path(__file__).resolve().parents[1]
POLL_S = 0.1
SERVICES_WITHIN_S = 90.0
EXIT_WITHIN_S = 60.0


def _names(v2: clients.ApiClient, prefix: str) -> list[str]:
    ex = v2.call("service.list")
    return [i["serviceName"] for i in (ex.data or {}).get("items", []) if i["serviceName"].startswith(prefix)]


def test_sigint_during_a_run_removes_the_run_prefixed_services(emulator, tmp_path):
    prefix = "fcint" + secrets.token_hex(2)
    section = emulator.targets()["v2"]
    targets_file = tmp_path / "targets.toml"
    targets_file.write_text("[v2]\n" + "".join(f'{k} = "{v}"\n' for k, v in section.items()), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASHION_")}
    env["FASHION_RUN_PREFIX"] = prefix
    child = subprocess.Popen(
        [sys.executable, "-m", "fashion_conformance", "run", "--targets", str(targets_file), "--allow-destructive",
         "--api", "v2", "--reports", str(tmp_path / "reports"), "--", "-p", "no:randomly", "-x"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    v2 = clients.for_target("v2", section)
    try:
        deadline = time.monotonic() + SERVICES_WITHIN_S
        while not _names(v2, prefix):
            assert child.poll() is None, f"the run ended before it created a service:\n{child.stdout.read()[-3000:]}"
            assert time.monotonic() < deadline, f"no {prefix}* service within {SERVICES_WITHIN_S:g} s"
            time.sleep(POLL_S)
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=EXIT_WITHIN_S)
        assert child.returncode != 0, out[-3000:]
        left = _names(v2, prefix)
        assert not left, f"services left after Ctrl-C: {left}\n{out[-3000:]}"
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        v2.close()
