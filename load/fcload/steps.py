"""The capacity scenario's steps: users per step, a measurement window per step, and the SLO judgement.

Locust-free: load/step_shape.py feeds it snapshots of Locust's statistics (count, failures, response-time
histogram {rounded ms: count}) once per tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Snapshot:
    t: float
    requests: int
    failures: int
    histogram: dict[int, int]
    all_requests: int


def percentile(histogram: dict[int, int], q: float) -> float | None:
    """The q-quantile (0..1) of a {response time ms: count} histogram (nearest rank)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for ms in sorted(histogram):
        seen += histogram[ms]
        if seen >= rank:
            return float(ms)
    return float(max(histogram))


@dataclass(frozen=True)
class Slo:
    p95_ms: float
    error_rate: float

    def judge(self, count: int, failures: int, p95: float | None) -> list[str]:
        """The SLO's breaches (empty: it held)."""
        if count == 0:
            return ["no completed request"]
        out = []
        if p95 is not None and p95 > self.p95_ms:
            out.append(f"p95 {p95:.0f} ms > {self.p95_ms:g} ms")
        if failures / count > self.error_rate:
            out.append(f"error rate {failures / count:.2%} > {self.error_rate:.2%}")
        return out


@dataclass(frozen=True)
class StepPlan:
    """Step k (0-based) runs min(max_users, (k+1) * step_users) users for step_s seconds; its window is the
    step without its first warmup_s seconds."""

    step_users: int
    step_s: float
    max_users: int
    duration_s: float
    warmup_s: float

    def __post_init__(self) -> None:
        if not (1 <= self.step_users <= self.max_users and 0 <= self.warmup_s < self.step_s <= self.duration_s):
            raise ValueError("steps need 1 <= step users <= users and 0 <= warm-up < step time <= duration")

    @property
    def steps(self) -> int:
        return min(math.ceil(self.max_users / self.step_users), int(self.duration_s // self.step_s))

    def users(self, k: int) -> int:
        return min(self.max_users, (k + 1) * self.step_users)


@dataclass
class StepTracker:
    """Consumes one snapshot per tick; closes each step at its end and stops at the first SLO breach."""

    plan: StepPlan
    slo: Slo
    results: list[dict] = field(default_factory=list)
    stopped: bool = False
    _start: Snapshot | None = None

    def users_at(self, t: float) -> int | None:
        """Users wanted at run time t, or None when the run should end."""
        k = int(t // self.plan.step_s)
        return None if self.stopped or k >= self.plan.steps else self.plan.users(k)

    def observe(self, snap: Snapshot) -> None:
        k = len(self.results)
        if self.stopped or k >= self.plan.steps:
            return
        if self._start is None and snap.t >= k * self.plan.step_s + self.plan.warmup_s:
            self._start = snap
        if self._start is not None and snap.t >= (k + 1) * self.plan.step_s:
            self._close(k, self._start, snap)
            self._start = None

    def _close(self, k: int, a: Snapshot, b: Snapshot) -> None:
        hist = {ms: b.histogram.get(ms, 0) - a.histogram.get(ms, 0) for ms in b.histogram}
        hist = {ms: n for ms, n in hist.items() if n > 0}
        count, failures, seconds = b.requests - a.requests, b.failures - a.failures, b.t - a.t
        p50, p95, p99 = (percentile(hist, q) for q in (0.5, 0.95, 0.99))
        breaches = self.slo.judge(count, failures, p95)
        self.results.append({
            "step": k + 1, "users": self.plan.users(k), "window_s": round(seconds, 2), "count": count,
            "failures": failures, "per_s": round(count / seconds, 2) if seconds > 0 else 0.0,
            "all_requests_per_s": round((b.all_requests - a.all_requests) / seconds, 2) if seconds > 0 else 0.0,
            "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "held": not breaches, "breaches": breaches,
        })
        if breaches:
            self.stopped = True


def highest_held(results: list[dict]) -> dict | None:
    """The last step before the first breach (steps stop at the first breach)."""
    held = [r for r in results if r["held"]]
    return held[-1] if held else None
