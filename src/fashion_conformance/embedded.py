"""Start and stop the embedded emulator as its own process on a free loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

DEFAULT_KEYS = {"appkey": "emulator-appkey", "secret_key": "emulator-secret", "api_key": "emulator-api-key"}


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class EmbeddedEmulator:
    base_url: str
    data_dir: Path
    process: subprocess.Popen
    keys: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_KEYS))
    log_path: Path | None = None

    def targets(self, image_host: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
        """The targets-file sections that aim the suite at this emulator."""
        k = self.keys
        sections = {
            "v1": {"base_url": self.base_url, "appkey": k["appkey"]},
            "v2": {"base_url": self.base_url, "appkey": k["appkey"], "secret_key": k["secret_key"]},
            "maker": {"base_url": self.base_url, "appkey": k["appkey"]},
            "tagger": {"base_url": self.base_url, "api_key": k["api_key"]},
        }
        if image_host:
            sections["image_host"] = image_host
        return sections

    def stop(self, kill: bool = False) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    data_dir: Path | None = None,
    *,
    keys: dict[str, str] | None = None,
    allow_private_image_hosts: bool = True,
    extra_args: tuple[str, ...] = (),
    port: int | None = None,
    timeout_s: float = 30.0,
) -> EmbeddedEmulator:
    """`fashion-emulator serve` in a child process; returns once it answers HTTP."""
    keys = {**DEFAULT_KEYS, **(keys or {})}
    data_dir = Path(data_dir or tempfile.mkdtemp(prefix="fashion-emulator-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [
        sys.executable, "-c", "import sys; from fashion_conformance.cli import emulator_main; sys.exit(emulator_main())",
        "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
        "--appkey", keys["appkey"], "--secret-key", keys["secret_key"], "--tagger-api-key", keys["api_key"],
        *(["--allow-private-image-hosts"] if allow_private_image_hosts else []), *extra_args,
    ]
    log_path = data_dir / "emulator.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
    emu = EmbeddedEmulator(f"http://127.0.0.1:{port}", data_dir, proc, keys, log_path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the emulator exited with {proc.returncode}; see {log_path}")
        try:
            httpx.get(f"{emu.base_url}/health-probe", timeout=1.0)
            return emu
        except httpx.HTTPError:
            time.sleep(0.05)
    emu.stop(kill=True)
    raise RuntimeError(f"the emulator did not answer within {timeout_s:.0f} s; see {log_path}")
