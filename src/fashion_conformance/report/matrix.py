"""The requirement matrix: per requirement, what the tests that check it found.

Statuses: pass, fail, not targeted (its API was not tested), unsupported (the target said it does not
support it: the test skipped with "unsupported"), blocked (its tests were skipped "blocked by <ID>: <reason>": a
precondition resting on requirement <ID> failed, so it could not be checked; `blocked_by` names <ID>, or
"model: <image> yielded no item" when the target's vision model found nothing in an image the test needs),
untested (no test checks it, or all were skipped, or the run was
interrupted before all its tests ran and none failed),
doc ambiguity (the requirement is INTERPRETED or rests on an erratum: its tests' verdict is kept in `outcome`
and its reason, the errata and/or the stated reading, in `ambiguity`; never a plain pass or fail), not observable
(the catalog says it cannot be checked over HTTP). A requirement fails when any of its tests fails.

The exit code of a run is pytest's: a failed test makes it 1, also when the requirement it checks is shown as a doc
ambiguity (outcome fail). The matrix only says on what the verdict rests; it never turns a failure into a pass.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from .. import contracts
from ..waits import BLOCKED_PREFIX, MODEL

STATUSES = ("pass", "fail", "doc ambiguity", "unsupported", "blocked", "not targeted", "untested", "not observable")


@dataclass
class TestResult:
    nodeid: str
    outcome: str  # passed | failed | skipped | xfailed | xpassed | error
    requirements: list[str]
    duration_s: float = 0.0
    message: str = ""  # failure: the failed expectation with request and response (redacted); skip: the reason


@dataclass
class RequirementRow:
    id: str
    api: str
    level: str
    source: str
    statement: str
    errata: list[str]
    status: str
    outcome: str  # the tests' verdict (pass/fail/...) even where status is "doc ambiguity"
    reading: str = ""  # the catalog's stated reading of the ambiguity (contracts/README.md)
    ambiguity: str = ""  # status "doc ambiguity": why (errata ids and/or the reading); else ""
    blocked_by: list[str] = field(default_factory=list)  # status "blocked": the requirements whose failure blocked it
    tests: list[str] = field(default_factory=list)
    evidence: list[dict[str, str]] = field(default_factory=list)


def _verdict(results: list[TestResult], api_targeted: bool) -> str:
    if not api_targeted:
        return "not targeted"
    outcomes = {r.outcome for r in results}
    if outcomes & {"failed", "error", "xpassed", "xfailed"}:  # an expected failure is still a failure
        return "fail"
    if "passed" in outcomes:
        return "pass"
    if any(r.outcome == "skipped" and r.message.startswith("unsupported") for r in results):
        return "unsupported"
    if any(r.outcome == "skipped" and r.message.startswith(BLOCKED_PREFIX) for r in results):
        return "blocked"
    if any(r.outcome == "skipped" and r.message.startswith("not targeted") for r in results):
        return "not targeted"
    return "untested"


def build(results: list[TestResult], targeted_apis: set[str],
          incomplete: set[str] | frozenset[str] = frozenset()) -> list[RequirementRow]:
    """`incomplete`: requirements with a test that did not run (an interrupted run): never a pass, untested."""
    by_req: dict[str, list[TestResult]] = {}
    for r in results:
        for rid in r.requirements:
            by_req.setdefault(rid, []).append(r)
    rows = []
    for req in contracts.requirements():
        mine = by_req.get(req.id, [])
        api_targeted = req.api in targeted_apis or req.api not in contracts.APIS
        verdict = _verdict(mine, api_targeted)
        if verdict == "pass" and req.id in incomplete:
            verdict = "untested"
        if verdict == "untested" and not req.http:
            verdict = "not observable"
        ambiguous = bool(req.errata) or req.level == "INTERPRETED"
        status = "doc ambiguity" if ambiguous and verdict in ("pass", "fail") else verdict
        rows.append(RequirementRow(
            id=req.id, api=req.api, level=req.level, source=req.source, statement=req.statement,
            errata=list(req.errata), status=status, outcome=verdict, reading=req.reading,
            ambiguity=req.ambiguity if status == "doc ambiguity" else "", tests=sorted({r.nodeid for r in mine}),
            blocked_by=_blockers(mine) if status == "blocked" else [],
            evidence=[{"test": r.nodeid, "message": r.message} for r in mine
                      if r.outcome in ("failed", "error", "xfailed", "xpassed")],
        ))
    return rows


def _blockers(results: list[TestResult]) -> list[str]:
    """The requirement IDs named by the "blocked by <ID>: ..." skips of `results`, in order of first mention (a block
    by the target's model with its first reason: "model: <image> yielded no item")."""
    out: list[str] = []
    for r in results:
        if r.outcome == "skipped" and r.message.startswith(BLOCKED_PREFIX):
            rest = r.message.removeprefix(BLOCKED_PREFIX)
            rid = rest.split(":", 1)[0].strip()
            if rid == MODEL:
                if any(o.startswith(MODEL + ":") for o in out):
                    continue
                rid = rest.splitlines()[0].strip()[:300]
            if rid not in out:
                out.append(rid)
    return out


def summary(rows: list[RequirementRow]) -> dict[str, dict[str, int]]:
    """Counts per API and status."""
    out: dict[str, Counter] = {}
    for row in rows:
        out.setdefault(row.api, Counter())[row.status] += 1
    return {api: {s: c[s] for s in STATUSES if c[s]} for api, c in sorted(out.items())}


def to_json(rows: list[RequirementRow], results: list[TestResult], meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "meta": meta,
        "summary": summary(rows),
        "requirements": [asdict(r) for r in rows],
        "tests": [asdict(t) for t in results],
        "unknown_requirement_ids": sorted(
            {rid for t in results for rid in t.requirements} - {r.id for r in contracts.requirements()}
        ),
    }


def interrupted_banner(meta: dict[str, Any]) -> str:
    """The banner of an interrupted run's reports ("" for a run that ended by itself)."""
    if not meta.get("interrupted"):
        return ""
    by = f" ({meta['interrupted_by']})" if meta.get("interrupted_by") else ""
    ran = meta.get("tests_ran")
    of = f" of {meta['tests_collected']}" if meta.get("tests_collected") else ""
    counts = f": {ran}{of} tests ran" if ran is not None else ""
    return (f"INTERRUPTED{by} \u2014 partial results{counts}; requirements whose tests did not all run are "
            "untested, not passed")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(rows: list[RequirementRow], meta: dict[str, Any]) -> str:
    lines = ["# Conformance report", ""]
    if meta.get("interrupted"):
        lines += [f"> **{interrupted_banner(meta)}**", ""]
    for key in ("suite_version", "target", "started", "finished", "duration_s"):
        if key in meta:
            lines.append(f"- {key.replace('_', ' ')}: {meta[key]}")
    lines += ["", "## Summary", "", "| API | " + " | ".join(STATUSES) + " |", "|---" * (len(STATUSES) + 1) + "|"]
    for api, counts in summary(rows).items():
        lines.append(f"| {api} | " + " | ".join(str(counts.get(s, 0)) for s in STATUSES) + " |")
    lines += ["", "## Requirements", "",
              "| ID | level | status | doc ambiguity: why | tests | source |", "|---|---|---|---|---|---|"]
    for r in rows:
        status = f"{r.status} ({r.outcome})" if r.status == "doc ambiguity" else r.status
        if r.blocked_by:
            status = f"blocked by {', '.join(r.blocked_by)}"
        lines.append(f"| {r.id} | {r.level} | {status} | {_cell(r.ambiguity)} | {len(r.tests)} | {r.source} |")
    failures = [r for r in rows if r.outcome == "fail"]
    if failures:
        lines += ["", "## Failures", ""]
        for r in failures:
            lines += [f"### {r.id} [{r.level}]", "", r.statement, ""]
            if r.ambiguity:
                lines += [f"Doc ambiguity: {r.ambiguity}", ""]
            for ev in r.evidence[:3]:
                lines += [f"- `{ev['test']}`", "", "```", ev["message"][:3000], "```", ""]
    blocked = [r for r in rows if r.status == "blocked"]
    if blocked:
        lines += ["", "## Blocked", "", "Not checked: a precondition they need failed on the requirement named "
                  "(see its failure above), or the target's model found no item in an image they need.", "", "| ID | level | blocked by |", "|---|---|---|"]
        lines += [f"| {r.id} | {r.level} | {', '.join(r.blocked_by)} |" for r in blocked]
    return "\n".join(lines) + "\n"
