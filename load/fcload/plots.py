"""PNG plots of a load run (matplotlib's Figure with the Agg canvas; no pyplot, no global state). Each function
returns the file names it wrote."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from . import analysis, cutoff, plan, steps

PERCENTILES = ("50%", "95%", "99%")


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _save(fig: Figure, path: Path) -> list[str]:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return [path.name]


def latency_over_time(history_csv: Path, flow_names: list[str], path: Path) -> list[str]:
    """p50/p95/p99 of each detect->search entry (Locust's current-window percentiles) and the users and
    requests/s of the whole run over time, from Locust's *_stats_history.csv."""
    if not history_csv.is_file():
        return []
    with history_csv.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        return []
    t0 = min(int(r["Timestamp"]) for r in rows)
    fig = Figure(figsize=(9, 6))
    top, bottom = fig.subplots(2, 1, sharex=True)
    for name in flow_names:
        mine = [r for r in rows if r["Type"] == plan.FLOW_TYPE and r["Name"] == name]
        t = [int(r["Timestamp"]) - t0 for r in mine]
        for p in PERCENTILES:
            top.plot(t, [_number(r[p]) for r in mine], label=f"{name} p{p[:-1]}")
    top.set_ylabel("response time, ms")
    top.set_title("detect->search latency (Locust's rolling window)")
    top.legend(fontsize="small")
    total = [r for r in rows if r["Name"] == "Aggregated"]
    t = [int(r["Timestamp"]) - t0 for r in total]
    bottom.plot(t, [_number(r["Requests/s"]) for r in total], label="entries/s (Locust Aggregated: HTTP + FLOW)")
    bottom.plot(t, [_number(r["Failures/s"]) for r in total], label="failures/s")
    users = bottom.twinx()
    users.step(t, [_number(r["User Count"]) for r in total], color="grey", where="post", label="users")
    users.set_ylabel("users")
    bottom.set_xlabel("seconds since start")
    bottom.set_ylabel("per second")
    bottom.legend(loc="upper left", fontsize="small")
    return _save(fig, path)


def flow_distribution(results: dict, flow_names: list[str], path: Path) -> list[str]:
    """Histogram of the detect->search response times with p50/p95/p99 marked."""
    entries = {e["name"]: e for e in results["entries"] if e["type"] == plan.FLOW_TYPE and e["name"] in flow_names}
    if not entries:
        return []
    fig = Figure(figsize=(9, 4.5))
    ax = fig.subplots()
    for name, entry in entries.items():
        hist = analysis.histogram(entry)
        times = np.array(sorted(hist), float)
        counts = np.array([hist[int(ms)] for ms in times], float)
        bins = np.histogram_bin_edges(times, bins=min(60, max(10, len(times))), weights=counts)
        ax.hist(times, bins=bins, weights=counts, alpha=0.6, label=f"{name} ({int(counts.sum())})")
        for q, style in ((0.5, ":"), (0.95, "--"), (0.99, "-.")):
            value = steps.percentile(hist, q)
            ax.axvline(value, linestyle=style, color="black", linewidth=0.8)
            ax.text(value, ax.get_ylim()[1] * 0.95, f" p{int(q * 100)} {value:.0f}", fontsize="x-small")
    ax.set_xlabel("detect->search response time, ms")
    ax.set_ylabel("flows")
    ax.legend(fontsize="small")
    return _save(fig, path)


def cutoff_curve(outcomes: dict[str, list[dict]], fits: dict[str, cutoff.Fit], expected: float, tolerance: float,
                 path: Path) -> list[str]:
    """Outcome (1 success, 0 timeout; jittered) against delivery time per mode, with the fitted curve, the
    estimate and its interval, and the documented deadline with the tolerance band."""
    if not outcomes:
        return []
    fig = Figure(figsize=(9, 3.2 * len(outcomes)))
    axes = fig.subplots(len(outcomes), 1, sharex=True, squeeze=False)
    rng = np.random.default_rng(0)
    for ax, (mode, rows) in zip(axes[:, 0], sorted(outcomes.items()), strict=True):
        for key, y, colour in (("successes", 1.0, "tab:green"), ("timeouts", 0.0, "tab:red"), ("other", 0.5, "grey")):
            x = np.array([r["delivery_s"] for r in rows for _ in range(r[key])], float)
            ax.scatter(x, y + rng.uniform(-0.04, 0.04, len(x)), s=10, color=colour, label=key, alpha=0.7)
        ax.axvspan(expected - tolerance, expected + tolerance, color="tab:blue", alpha=0.08)
        ax.axvline(expected, color="tab:blue", linewidth=0.8, label=f"documented {expected:g} s ± {tolerance * 1000:.0f} ms")
        f = fits.get(mode)
        if f is not None and f.estimate is not None:
            d = np.array([r["delivery_s"] for r in rows])
            x = np.linspace(d.min(), d.max(), 600)
            ax.plot(x, f.probability(x), color="black", linewidth=1, label="fitted P(success)")
            ax.axvspan(f.low, f.high, color="orange", alpha=0.3, label=f"95% interval {f.low:.3f}..{f.high:.3f} s")
            ax.axvline(f.estimate, color="orange", linewidth=1.2, label=f"cut-off {f.estimate:.3f} s")
        elif f is not None:
            ax.text(0.01, 0.5, f"no cut-off in the measured range ({f.censored})", transform=ax.transAxes)
        ax.set_title(f"{mode}: outcome against delivery time")
        ax.set_ylabel("success")
        ax.set_ylim(-0.15, 1.15)
        ax.legend(fontsize="x-small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    axes[-1, 0].set_xlabel("delivery time of the image, s")
    return _save(fig, path)


def capacity(step_rows: list[dict], slo: dict, path: Path) -> list[str]:
    """Per step: flows/s and p95 against users, the SLO line, held steps marked."""
    if not step_rows:
        return []
    users = [r["users"] for r in step_rows]
    fig = Figure(figsize=(9, 4.5))
    left = fig.subplots()
    left.plot(users, [r["per_s"] for r in step_rows], marker="o", label="detect->search flows/s")
    left.set_xlabel("users")
    left.set_ylabel("flows/s")
    right = left.twinx()
    p95 = [r["p95_ms"] if r["p95_ms"] is not None else np.nan for r in step_rows]
    right.plot(users, p95, marker="s", color="tab:red", label="p95, ms")
    right.axhline(slo["p95_ms"], color="tab:red", linestyle="--", linewidth=0.8, label=f"SLO p95 {slo['p95_ms']:g} ms")
    for r in step_rows:
        if not r["held"]:
            left.axvline(r["users"], color="grey", linestyle=":", linewidth=1)
    right.set_ylabel("p95, ms")
    lines = left.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    left.legend(lines[0] + more[0], lines[1] + more[1], fontsize="small", loc="upper left")
    left.set_title("capacity steps (dotted: the step that broke the SLO)")
    return _save(fig, path)
