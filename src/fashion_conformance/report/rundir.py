"""reports/<run-id>/ directories and the reports/latest link."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path


def new_run_dir(root: Path) -> Path:
    """reports/<UTC time>-<suffix>/, with reports/latest pointing at it."""
    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)
    run_dir = root / run_id
    run_dir.mkdir(parents=True, exist_ok=False)
    latest = root / "latest"
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(run_id)
    except OSError:
        pass
    return run_dir
