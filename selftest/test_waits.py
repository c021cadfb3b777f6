"""Wait budgets and preconditions (issue 12): the targets file's [waits] section, a precondition that fails once on
its requirement while the tests needing it are blocked (never a pytest error), a value outside the contract failing
a poll at once, and the matrix status "blocked"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fashion_conformance import contracts, targets, waits
from fashion_conformance.report import matrix

ROOT = Path(__file__).resolve().parents[1]


def test_waits_section_sets_budgets(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[v2]\nbase_url = "http://127.0.0.1:1"\nappkey = "a"\nsecret_key = "s"\n'
                    "[waits]\nindex_s = 12\npoll_s = 0.5\n", encoding="utf-8")
    loaded = targets.load(path, environ={"FASHION_WAITS_REQUEST_S": "7"}, only=["v2"])
    got = waits.parse(loaded.sections["waits"])
    assert (got.index_s, got.poll_s, got.request_s, got.delete_s) == (12.0, 0.5, 7.0, waits.Budgets().delete_s)


@pytest.mark.parametrize("line, key", [("index_s = 0", "waits.index_s"), ('poll_s = "soon"', "waits.poll_s"),
                                       ("request_s = -1", "waits.request_s"), ("index_s = true", "waits.index_s"),
                                       ("forever_s = 3", "waits.forever_s")])
def test_waits_malformed_value_is_usage_error_naming_key(tmp_path, line, key):
    path = tmp_path / "t.toml"
    path.write_text(f"[waits]\n{line}\n", encoding="utf-8")
    with pytest.raises(targets.TargetsError, match=key.replace(".", r"\.")):
        targets.load(path, environ={})


def test_waits_malformed_value_exits_2_from_the_cli(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[v2]\nbase_url = "http://127.0.0.1:1"\nappkey = "a"\nsecret_key = "s"\n[waits]\nindex_s = "x"\n',
                    encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FASHION_", "PYTEST_"))}
    proc = subprocess.run([sys.executable, "-m", "fashion_conformance", "run", "--targets", str(path), "--reports",
                           str(tmp_path / "r")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "waits.index_s" in proc.stderr, proc.stderr


def test_documented_value_outside_contract_is_unmet_at_once():
    with pytest.raises(waits.Unmet) as info:
        waits.documented(None, "string", ("reserved", "finished"), "index status", "V2-INDEX-LIFECYCLE")
    assert info.value.requirement == "V2-INDEX-LIFECYCLE" and "'string'" in info.value.reason


def test_poll_budget_fails_once_then_blocks():
    waits.reset()
    waits.configure({"index_s": 0.05, "poll_s": 0.01})
    try:
        with pytest.raises(waits.Unmet, match="did not end within"):
            waits.poll(lambda: "reserved", lambda s: s == "finished", requirement="R-1", what="job")
        calls = []
        with pytest.raises(waits.Unmet):  # at once: no second budget spent
            waits.poll(lambda: calls.append(1), lambda s: False, requirement="R-1", what="job")
        assert not calls
    finally:
        waits.configure(None)
        waits.reset()


def test_matrix_status_blocked_names_blocker():
    reqs = [r.id for r in contracts.requirements() if r.api == "v2"][:2]
    results = [matrix.TestResult("t::a", "failed", [reqs[0]], 0.0, "boom"),
               matrix.TestResult("t::b", "skipped", [reqs[1]], 0.0, f"blocked by {reqs[0]}: boom")]
    rows = {r.id: r for r in matrix.build(results, {"v2"})}
    assert rows[reqs[1]].status == "blocked" and rows[reqs[1]].blocked_by == [reqs[0]]
    assert rows[reqs[0]].outcome == "fail"
    md = matrix.to_markdown(list(rows.values()), {})
    assert "## Blocked" in md and f"blocked by {reqs[0]}" in md


SUITE = '''
import pytest
from fashion_conformance import waits

@pytest.fixture(scope="session")
def broken():
    with waits.precondition("a broken catalogue", "V2-INDEX-ENABLE-ADD"):
        raise KeyError("indexId")

@pytest.fixture
def per_test():
    with waits.precondition("a service per test", "V2-SERVICE-CREATE-VISIBLE"):
        raise RuntimeError("service.create refused")

@pytest.mark.req("V2-SEARCH-LIMIT-RANGE")
def test_one(broken): pass

@pytest.mark.req("V2-SEARCH-LIMIT-MAX-ITEMS")
def test_two(broken): pass

@pytest.mark.req("V2-SERVICE-DELETE-REMOVES")
def test_three(per_test): pass

@pytest.mark.req("V2-SERVICE-GET-FIELDS")
def test_four(per_test): pass

@pytest.fixture
def rule_broken():
    from fashion_conformance import checks
    raise checks.Violation("the target broke a rule while a fixture set up")

@pytest.mark.req("V2-SERVICE-LIST-FIELDS")
def test_five(rule_broken): pass

@pytest.mark.req("V2-INDEX-COUNTS-SUM")
def test_poll_outside_contract():
    waits.documented(None, "string", ("reserved",), "index status", "V2-INDEX-LIFECYCLE")
'''


def test_precondition_fails_once_and_blocks_the_rest(tmp_path):
    """A fixture that cannot set up: one failure of its requirement, the other tests skipped 'blocked by', no E."""
    (tmp_path / "test_pre.py").write_text(textwrap.dedent(SUITE), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FASHION_", "PYTEST_"))}
    proc = subprocess.run([sys.executable, "-m", "pytest", str(tmp_path), "-p", "no:cacheprovider", "-q",
                           "-p", "fashion_conformance.plugin", "-p", "fashion_conformance.report.plugin",
                           "--rootdir", str(tmp_path), "--reports", str(tmp_path / "r"),
                           "--junitxml", str(tmp_path / "junit.xml")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert " error" not in out.splitlines()[-1], out
    assert "4 failed, 2 skipped" in out.splitlines()[-1], out
    doc = json.loads(next((tmp_path / "r").glob("*/conformance.json")).read_text(encoding="utf-8"))
    assert not [t for t in doc["tests"] if t["outcome"] == "error"]
    rows = {r["id"]: r for r in doc["requirements"]}
    assert rows["V2-INDEX-ENABLE-ADD"]["outcome"] == "fail"
    assert rows["V2-SERVICE-CREATE-VISIBLE"]["outcome"] == "fail"
    assert rows["V2-INDEX-LIFECYCLE"]["outcome"] == "fail"
    assert rows["V2-SERVICE-LIST-FIELDS"]["outcome"] == "fail"  # a Violation in a fixture: a failure, not an error
    for rid, blocker in [("V2-SEARCH-LIMIT-RANGE", "V2-INDEX-ENABLE-ADD"), ("V2-SEARCH-LIMIT-MAX-ITEMS",
                         "V2-INDEX-ENABLE-ADD"), ("V2-SERVICE-DELETE-REMOVES", "V2-SERVICE-CREATE-VISIBLE"),
                         ("V2-SERVICE-GET-FIELDS", "V2-SERVICE-CREATE-VISIBLE"),
                         ("V2-INDEX-COUNTS-SUM", "V2-INDEX-LIFECYCLE")]:
        assert rows[rid]["status"] == "blocked" and rows[rid]["blocked_by"] == [blocker], rows[rid]
