"""pytest plugin (`-p fashion_conformance.faults.reqmap --collect-only`): writes, to the JSON file named by
$FC_FAULTS_REQMAP, which test files check each requirement and how focused their tests are
({requirement: {file: fewest requirement IDs on one of its tests that checks it}})."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ENV = "FC_FAULTS_REQMAP"


def pytest_collection_finish(session: pytest.Session) -> None:
    out = os.environ.get(ENV)
    if not out:
        return
    found: dict[str, dict[str, int]] = {}
    for item in session.items:
        ids = [i for m in item.iter_markers("req") for i in m.args]
        path = item.nodeid.split("::", 1)[0]
        for rid in ids:
            files = found.setdefault(rid, {})
            files[path] = min(files.get(path, len(ids)), len(ids))
    Path(out).write_text(json.dumps(found, indent=1, sort_keys=True), encoding="utf-8")
