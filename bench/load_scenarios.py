"""Shared by bench/load_flows.py and bench/load_cutoff.py: one `fashion-conformance load` run in this process
(Locust in its own processes), returning load.json."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import common  # noqa: F401  (puts this checkout's src/ on the import path)

from fashion_conformance import loadrun


def run(reports: Path, *argv: str) -> tuple[int, dict]:
    parser = argparse.ArgumentParser()
    loadrun.add_arguments(parser)
    code = loadrun.main(parser.parse_args([*argv, "--reports", str(reports)]))
    summary = reports / "latest" / "load.json"
    return code, json.loads(summary.read_text()) if summary.is_file() else {}
