"""Settings of one emulator instance."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class EmulatorConfig:
    data_dir: Path
    appkey: str = "emulator-appkey"
    secret_key: str = field(default="emulator-secret", repr=False)
    tagger_api_key: str = field(default="emulator-api-key", repr=False)
    allow_private_image_hosts: bool = False
    fetch_deadline_s: float = 3.0
    clock: Callable[[], float] = time.time
    index_concurrency: int = 8
