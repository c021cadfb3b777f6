"""Tables and verdicts of a finished run, from the master's results file (plan.RESULTS)."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from . import cutoff, plan, steps


def histogram(entry: dict) -> dict[int, int]:
    return {int(ms): n for ms, n in entry["response_times"].items()}


def entry_rows(results: dict) -> list[dict]:
    """One row per statistics entry: counts, rate over its active seconds, percentiles (ms)."""
    rows = []
    for e in results["entries"]:
        hist = histogram(e)
        seconds = [int(t) for t in e["per_second"]]
        span = max(seconds) - min(seconds) + 1 if seconds else 0
        rows.append({
            "type": e["type"], "name": e["name"], "requests": e["requests"], "failures": e["failures"],
            "per_s": round(e["requests"] / span, 2) if span else 0.0,
            **{f"p{q}_ms": steps.percentile(hist, q / 100) for q in (50, 95, 99)},
            "max_ms": max(hist) if hist else None,
        })
    return rows


def flow_verdicts(results: dict, apis: list[str], slo: steps.Slo) -> dict[str, dict]:
    """detect-search: per API, the detect->search entry (whole run) against the SLO."""
    by_name = {(e["type"], e["name"]): e for e in results["entries"]}
    out = {}
    for api in apis:
        entry = by_name.get((plan.FLOW_TYPE, plan.names(api)["flow"]))
        count, failures = (entry["requests"], entry["failures"]) if entry else (0, 0)
        p95 = steps.percentile(histogram(entry), 0.95) if entry else None
        breaches = slo.judge(count, failures, p95)
        out[api] = {"flows": count, "failures": failures, "p95_ms": p95, "pass": not breaches, "breaches": breaches}
    return out


def fetch_outcomes(results: dict, timeout_code: int) -> dict[str, list[dict]]:
    """image-fetch-limit: per mode, per delivery time, how many detects succeeded, timed out, or ended otherwise."""
    timeouts: dict[str, int] = defaultdict(int)
    for err in results["errors"]:
        if f"resultCode {timeout_code} " in err["error"]:
            timeouts[err["name"]] += err["occurrences"]
    out: dict[str, list[dict]] = defaultdict(list)
    for e in results["entries"]:
        m = plan.FETCH_NAME.fullmatch(e["name"])
        if not m:
            continue
        t = timeouts.get(e["name"], 0)
        out[m["mode"]].append({"delivery_s": float(m["delivery"]), "successes": e["requests"] - e["failures"],
                               "timeouts": t, "other": e["failures"] - t})
    return {mode: sorted(rows, key=lambda r: r["delivery_s"]) for mode, rows in out.items()}


def write_outcomes(outcomes: dict[str, list[dict]], path: Path) -> list[str]:
    """The outcome table as CSV: mode, delivery_s, successes, timeouts, other."""
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["mode", "delivery_s", "successes", "timeouts", "other"])
        for mode, rows in sorted(outcomes.items()):
            out.writerows([mode, f"{r['delivery_s']:.3f}", r["successes"], r["timeouts"], r["other"]] for r in rows)
    return [path.name]


def fetch_fits(outcomes: dict[str, list[dict]]) -> dict[str, cutoff.Fit]:
    fits = {}
    for mode, rows in outcomes.items():
        delivery = [r["delivery_s"] for r in rows for _ in range(r["successes"] + r["timeouts"])]
        success = [k < r["successes"] for r in rows for k in range(r["successes"] + r["timeouts"])]
        fits[mode] = cutoff.fit(delivery, success)
    return fits


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def markdown(summary: dict) -> str:
    """The run's summary as Markdown: parameters, verdict, scenario details, the entry table."""
    lines = [f"# Load run: {summary['scenario']}", "",
             f"- target: {summary['target']} ({', '.join(f'{k} {v}' for k, v in summary['base_urls'].items())})",
             f"- service: {summary['service']}; users: {summary['users']}; Locust workers: {summary['workers']} here, "
             f"{summary['remote_workers']} remote; "
             f"bound: {summary['duration_s']:g} s; Locust ran {summary['locust_s']:g} s, the whole run "
             f"{summary['wall_s']:g} s",
             f"- verdict: **{'PASS' if summary['pass'] else 'FAIL'}** (exit code {summary['exit_code']})", ""]
    for api, v in (summary.get("flows") or {}).items():
        lines.append(f"- {api} detect->search: {v['flows']} flows, {v['failures']} failed, p95 {_ms(v['p95_ms'])} ms: "
                     f"{'SLO held' if v['pass'] else 'SLO broken: ' + '; '.join(v['breaches'])}")
    if "capacity" in summary:
        held = summary["capacity"]["highest_held"]
        lines.append("- highest step that held: " + (
            f"{held['users']} users, {held['per_s']:g} flows/s, {held['all_requests_per_s']:g} requests/s, "
            f"p95 {_ms(held['p95_ms'])} ms" if held else "none"))
        lines += ["", "| step | users | flows/s | requests/s | p50 ms | p95 ms | p99 ms | failed | held |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {r['step']} | {r['users']} | {r['per_s']:g} | {r['all_requests_per_s']:g} | {_ms(r['p50_ms'])} | "
                  f"{_ms(r['p95_ms'])} | {_ms(r['p99_ms'])} | {r['failures']}/{r['count']} | "
                  f"{'yes' if r['held'] else 'no: ' + '; '.join(r['breaches'])} |" for r in summary["capacity"]["steps"]]
    if "cutoff" in summary:
        c = summary["cutoff"]
        lines.append(f"- documented deadline {c['expected_s']:g} s ({c['source']}), tolerance {c['tolerance_s'] * 1000:.0f} ms")
        for mode, m in c["modes"].items():
            f, v = m["fit"], m["verdict"]
            est = (f"cut-off {f['estimate']:.3f} s, 95% interval {f['low']:.3f}..{f['high']:.3f} s, spread "
                   f"{f['spread'] * 1000:.0f} ms, spurious timeouts {f['lapse']:.1%}"
                   if f["estimate"] is not None else f"no cut-off ({f['censored']})")
            lines.append(f"- {mode}: {est}; {f['successes']} successes, {f['timeouts']} timeouts: "
                         f"**{'pass' if v['pass'] else 'fail'}**{'' if v['conclusive'] else ' (inconclusive)'}, "
                         f"{v['reason']}")
        if c["missing_modes"]:
            lines.append(f"- no outcome for: {', '.join(c['missing_modes'])}")
    lines += ["", "| type | name | requests | failed | per s | p50 ms | p95 ms | p99 ms | max ms |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['type']} | {r['name']} | {r['requests']} | {r['failures']} | {r['per_s']:g} | {_ms(r['p50_ms'])} | "
              f"{_ms(r['p95_ms'])} | {_ms(r['p99_ms'])} | {_ms(r['max_ms'])} |" for r in summary["entries"]
              if not plan.FETCH_NAME.fullmatch(r["name"])]  # one entry per delivery time: see cutoff_outcomes.csv
    files = [*summary["plots"], *summary.get("tables", []), "locust.html", "locust_*.csv", "load.json"]
    lines += ["", "Files: " + ", ".join(files), ""]
    return "\n".join(lines)
