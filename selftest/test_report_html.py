"""report.html as a person sees it: rendered by headless Chromium, summary and matrix present and filterable."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess

import pytest

from fashion_conformance import contracts
from fashion_conformance.report import html, matrix

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _doc() -> dict:
    first, second = contracts.requirements()[:2]
    results = [
        matrix.TestResult("tests/v2/test_x.py::test_ok", "passed", [first.id], 0.1),
        matrix.TestResult("tests/v2/test_x.py::test_bad", "failed", [second.id], 0.2,
                          "v2 service.list: expected resultCode 0\nrequest:  GET /v2.0/appkeys/***/services"),
    ]
    rows = matrix.build(results, set(contracts.APIS))
    return matrix.to_json(rows, results, {"suite_version": "test", "target": "unit", "started": "s", "duration_s": 1})


def test_report_html_is_self_contained():
    page = html.render(_doc(), [dataclasses.asdict(e) for e in contracts.errata()])
    assert "<script src" not in page and "<link " not in page and "http://" not in page.split("<body>")[0]
    for anchor in ('id="summary"', 'id="matrix"', 'id="failures"', 'id="errata"', 'id="run"'):
        assert anchor in page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs Debian's chromium)")
def test_report_html_renders_in_headless_chromium(tmp_path):
    doc = _doc()
    path = tmp_path / "report.html"
    path.write_text(html.render(doc, [dataclasses.asdict(e) for e in contracts.errata()]), encoding="utf-8")
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120, check=True,
    ).stdout
    assert "Conformance report" in dom
    assert "<svg" in dom and "<rect" in dom, "the summary chart is drawn"
    assert dom.count('<tr data-api="') == len(doc["requirements"]), "one matrix row per requirement"
    assert f'<span id="shown">{len(doc["requirements"])}</span>' in dom, "the filter script ran"
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--window-size=1280,900",
                    f"--screenshot={shot}", path.as_uri()], capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000


def test_matrix_reports_every_interpreted_verdict_as_doc_ambiguity():
    """An INTERPRETED verdict (and one resting on an erratum) is a doc ambiguity with its reason; outcome keeps the
    tests' verdict, and a plain MUST verdict stays pass/fail."""
    reqs = contracts.requirements()
    reading = next(r for r in reqs if r.level == "INTERPRETED" and r.reading and not r.errata)
    erratum = next(r for r in reqs if r.level == "INTERPRETED" and r.errata)
    must = next(r for r in reqs if r.level == "MUST" and not r.errata)
    results = [
        matrix.TestResult("tests/x.py::test_reading", "failed", [reading.id], 0.1, "expected -40000"),
        matrix.TestResult("tests/x.py::test_erratum", "passed", [erratum.id], 0.1),
        matrix.TestResult("tests/x.py::test_must", "passed", [must.id], 0.1),
    ]
    rows = {r.id: r for r in matrix.build(results, set(contracts.APIS))}
    assert (rows[reading.id].status, rows[reading.id].outcome) == ("doc ambiguity", "fail")
    assert reading.reading in rows[reading.id].ambiguity
    assert (rows[erratum.id].status, rows[erratum.id].outcome) == ("doc ambiguity", "pass")
    assert all(e in rows[erratum.id].ambiguity for e in erratum.errata)
    assert (rows[must.id].status, rows[must.id].ambiguity) == ("pass", "")
    meta = {"suite_version": "test", "target": "unit", "started": "s", "duration_s": 1}
    md = matrix.to_markdown(list(rows.values()), meta)
    assert f"| {reading.id} | INTERPRETED | doc ambiguity (fail) |" in md and "## Failures" in md
    doc = matrix.to_json(list(rows.values()), results, meta)
    page = html.render(doc, [dataclasses.asdict(e) for e in contracts.errata()])
    assert html._e(reading.reading) in page and f'href="#erratum-{erratum.errata[0]}"' in page
