"""The golden list: which requirements no test checks (tests/untested.golden) is kept exact."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fashion_conformance import contracts

ROOT = Path(__file__).resolve().parents[1]


def _golden() -> dict[str, str]:
    out = {}
    for line in (ROOT / "tests" / "untested.golden").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rid, _, reason = line.partition("  ")
            out[rid.strip()] = reason.strip()
    return out


def test_untested_requirements_match_the_golden_list(tmp_path):
    mapping_path = tmp_path / "map.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "--collect-only", "-q", "-p", "no:cacheprovider",
         "--requirements-map", str(mapping_path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    mapping = json.loads(mapping_path.read_text(encoding="utf-8"))
    catalog = {r.id for r in contracts.requirements()}
    assert set(mapping) <= catalog, f"tests name unknown requirements: {sorted(set(mapping) - catalog)}"
    golden = _golden()
    untested = catalog - set(mapping)
    assert untested == set(golden), (
        f"without a test but not in tests/untested.golden: {sorted(untested - set(golden))}; "
        f"listed there but tested now: {sorted(set(golden) - untested)}")
    assert all(reason for reason in golden.values()), "every listed requirement says why it is untested"
    must_http = {r.id for r in contracts.requirements() if r.level == "MUST" and r.http}
    assert not must_http & set(golden), "every MUST requirement observable over HTTP has a test"
