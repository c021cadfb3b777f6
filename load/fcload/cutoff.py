"""The image-fetch cut-off: outcome (success or timeout) against delivery time.

Model: P(success | delivery d) = (1 - lapse) / (1 + exp((d - c) / s)). c is the cut-off (the target's deadline as
seen from the image host), s the spread (the target's timing jitter), lapse the share of spurious timeouts (a
momentary stall anywhere on the path makes a delivery late; without the lapse term a few of them would drag c
down). c is estimated by maximum likelihood; its interval is the profile-likelihood interval
{c : 2 (l(c_hat) - max over s, lapse of l(c, s, lapse)) <= chi2_1(level)}. s is bounded below by S_MIN (the image
host's timing resolution), so cleanly separated outcomes give the middle of the gap and an interval about as
wide as the gap. The profile is computed on grids (s: geometric, lapse: 0..0.2), first coarse, then fine where
it matters.

Measurement design (Design): phase 1 a coarse grid, phase 2 a fine grid around the phase-1 estimate, per mode
(first-byte delay, trickle), each phase in random order, one request started every `interval_s` at most: a
burst of simultaneous starts would delay the target's own connections and bias the estimate low.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from dataclasses import asdict, dataclass

import numpy as np
from scipy.special import expit
from scipy.stats import chi2

MODES = ("first-byte", "trickle")
S_MIN, S_MAX = 0.001, 2.0  # bounds of the spread s, seconds
S_GRID = np.geomspace(S_MIN, S_MAX, 48)
LAPSE_GRID = np.array([0.0, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.2])
MARGIN_S = 0.25  # the profile is searched this far beyond the measured delivery times
COARSE_S = 0.01  # step of the first pass over c
MAX_DELIVERY_S = 600.0  # the image host's bound on delay and trickle
CHUNK = 16

with np.errstate(divide="ignore"):
    _LOG_LAPSE = np.log(LAPSE_GRID)[None, None, :, None]
_LOG_KEEP = np.log1p(-LAPSE_GRID)[None, None, :, None]


@dataclass(frozen=True)
class Fit:
    n: int
    successes: int
    timeouts: int
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    spread: float | None = None
    lapse: float | None = None
    censored: str | None = None  # "above": no timeout seen; "below": no success seen; "empty": no outcome

    def to_dict(self) -> dict:
        return asdict(self)

    def probability(self, delivery: np.ndarray) -> np.ndarray:
        """The fitted P(success) at the given delivery times."""
        assert self.estimate is not None and self.spread is not None and self.lapse is not None
        return (1 - self.lapse) * expit((self.estimate - np.asarray(delivery, float)) / self.spread)


def _profile(c_grid: np.ndarray, d: np.ndarray, wins: np.ndarray, losses: np.ndarray):
    """For every c of c_grid: the negative log-likelihood minimised over s and lapse, and the minimising s, lapse.
    d holds distinct delivery times, wins/losses the successes/timeouts at each."""
    nll, best_s, best_lapse = (np.empty(len(c_grid)) for _ in range(3))
    for i in range(0, len(c_grid), CHUNK):
        z = (c_grid[i : i + CHUNK, None, None] - d[None, None, :]) / S_GRID[None, :, None]  # (c, s, d)
        log_win = _LOG_KEEP - np.logaddexp(0.0, -z)[:, :, None, :]  # (c, s, lapse, d)
        log_loss = np.logaddexp(_LOG_LAPSE, _LOG_KEEP - np.logaddexp(0.0, z)[:, :, None, :])
        total = -(wins * log_win + losses * log_loss).sum(axis=3).reshape(len(z), -1)
        j = total.argmin(axis=1)
        nll[i : i + CHUNK] = total[np.arange(len(j)), j]
        best_s[i : i + CHUNK] = S_GRID[j // len(LAPSE_GRID)]
        best_lapse[i : i + CHUNK] = LAPSE_GRID[j % len(LAPSE_GRID)]
    return nll, best_s, best_lapse


def fit(delivery: list[float], success: list[bool], *, level: float = 0.95, step: float = 0.001) -> Fit:
    """The cut-off estimate from outcomes (True: success, False: timeout) at delivery times in seconds."""
    ok = np.asarray(success, bool)
    n, won = len(ok), int(ok.sum())
    base = {"n": n, "successes": won, "timeouts": n - won}
    if n == 0:
        return Fit(**base, censored="empty")
    if won == n:
        return Fit(**base, censored="above")
    if won == 0:
        return Fit(**base, censored="below")
    d, where = np.unique(np.asarray(delivery, float), return_inverse=True)
    wins = np.bincount(where, weights=ok, minlength=len(d))
    losses = np.bincount(where, weights=~ok, minlength=len(d))
    threshold = chi2.ppf(level, 1) / 2
    coarse = np.arange(d.min() - MARGIN_S, d.max() + MARGIN_S + COARSE_S / 2, COARSE_S)
    nll = _profile(coarse, d, wins, losses)[0]
    near = coarse[nll - nll.min() <= threshold + 2]
    c_grid = np.arange(near.min() - COARSE_S, near.max() + COARSE_S + step / 2, step)
    nll, best_s, best_lapse = _profile(c_grid, d, wins, losses)
    i = int(nll.argmin())
    inside = nll - nll[i] <= threshold
    lo = hi = i
    while lo > 0 and inside[lo - 1]:
        lo -= 1
    while hi < len(c_grid) - 1 and inside[hi + 1]:
        hi += 1
    return Fit(**base, estimate=round(float(c_grid[i]), 4), low=round(float(c_grid[lo]), 4),
               high=round(float(c_grid[hi]), 4), spread=float(best_s[i]), lapse=float(best_lapse[i]))


def verdict(result: Fit, expected: float, tolerance: float) -> dict:
    """pass iff the estimate lies within `tolerance` of `expected`; conclusive iff the whole interval lies on
    the same side of the tolerance band's edges as the estimate."""
    if result.estimate is None:
        where = {"above": "above the highest", "below": "below the lowest", "empty": "not measurable at any"}
        return {"pass": False, "conclusive": result.censored != "empty",
                "reason": f"cut-off {where[result.censored or 'empty']} delivery time measured"}
    assert result.low is not None and result.high is not None
    error = result.estimate - expected
    ok = abs(error) <= tolerance
    band_lo, band_hi = expected - tolerance, expected + tolerance
    if ok:
        conclusive = band_lo <= result.low and result.high <= band_hi
    else:
        conclusive = result.high < band_lo or result.low > band_hi
    return {"pass": ok, "conclusive": conclusive, "error_s": round(error, 4),
            "reason": f"estimate {result.estimate:.3f} s is {abs(error) * 1000:.0f} ms "
                      f"{'within' if ok else 'outside'} {tolerance * 1000:.0f} ms of {expected:g} s"}


@dataclass(frozen=True)
class Grid:
    """Phase 1: lo..hi by step; phase 2: center +- half by fine, `repeats` times."""

    lo: float = 2.0
    hi: float = 4.0
    step: float = 0.1
    half: float = 0.1
    fine: float = 0.01
    repeats: int = 1

    def __post_init__(self) -> None:
        if not (0 <= self.lo < self.hi <= MAX_DELIVERY_S and 0 < self.step <= self.hi - self.lo):
            raise ValueError("the grid needs 0 <= lo < hi <= 600 and 0 < step <= hi - lo")
        if not (0 < self.fine <= self.half <= 10 and 1 <= self.repeats <= 100):
            raise ValueError("the refinement needs 0 < fine <= half <= 10 and 1 <= repeats <= 100")

    @classmethod
    def parse(cls, grid: str, refine: str, repeats: int) -> Grid:
        """From 'LO:HI:STEP' and 'HALF:FINE' (seconds)."""
        try:
            lo, hi, step = (float(x) for x in grid.split(":"))
            half, fine = (float(x) for x in refine.split(":"))
        except ValueError:
            raise ValueError("expected LO:HI:STEP and HALF:FINE in seconds") from None
        return cls(lo, hi, step, half, fine, repeats)

    def coarse(self) -> list[float]:
        count = int(math.floor((self.hi - self.lo) / self.step + 1e-9)) + 1
        return [round(self.lo + k * self.step, 3) for k in range(count)]

    def refined(self, center: float) -> list[float]:
        k = int(round(self.half / self.fine))
        points = [round(center + j * self.fine, 3) for j in range(-k, k + 1)]
        return [p for p in points if 0 <= p <= MAX_DELIVERY_S] * self.repeats

    def points(self) -> int:
        """Requests per mode when both phases run."""
        return len(self.coarse()) + (2 * int(round(self.half / self.fine)) + 1) * self.repeats


class Design:
    """Hands out (mode, delivery) points and takes their outcomes; phase 2 starts once phase 1 is complete."""

    def __init__(self, grid: Grid, modes: tuple[str, ...] = MODES, rng: random.Random | None = None,
                 interval_s: float = 0.0, clock=time.monotonic) -> None:
        self.grid = grid
        self.modes = modes
        self.rng = rng or random.Random()
        self.interval_s = interval_s
        self.clock = clock
        self.next_at = 0.0
        self.phase = 1
        self.outstanding = 0
        self.results: dict[str, list[tuple[float, bool]]] = {m: [] for m in modes}
        self.pending = self._shuffled([(m, d) for m in modes for d in grid.coarse()])

    def _shuffled(self, points: list[tuple[str, float]]) -> deque[tuple[str, float]]:
        self.rng.shuffle(points)
        return deque(points)

    @property
    def done(self) -> bool:
        return self.phase == 2 and not self.pending and not self.outstanding

    def take(self) -> tuple[str, float] | None:
        """The next point, or None: wait (paced, or phase 1 still running) or stop (`done`)."""
        if not self.pending and not self.outstanding and self.phase == 1:
            self.phase = 2
            self.pending = self._shuffled([(m, d) for m in self.modes for d in self._refine(m)])
        now = self.clock()
        if not self.pending or now < self.next_at:
            return None
        self.next_at = max(now, self.next_at) + self.interval_s
        self.outstanding += 1
        return self.pending.popleft()

    def wait_s(self, idle_s: float = 0.05) -> float:
        """How long a caller that got None should wait before asking again."""
        return min(idle_s, max(0.001, self.next_at - self.clock()))

    def _refine(self, mode: str) -> list[float]:
        delivery, success = zip(*self.results[mode], strict=True) if self.results[mode] else ((), ())
        result = fit(list(delivery), list(success), step=0.005)
        return [] if result.estimate is None else self.grid.refined(result.estimate)

    def report(self, mode: str, delivery: float, success: bool | None) -> None:
        """The outcome of a point handed out by take(); None: neither success nor timeout (left out of the fit)."""
        self.outstanding -= 1
        if success is not None:
            self.results[mode].append((delivery, success))
