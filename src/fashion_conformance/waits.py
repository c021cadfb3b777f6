"""Wait budgets and preconditions of the suite, in one place.

Budgets: how long the suite waits for a target (an index request to end, a busy service to become deletable, one
HTTP request). Defaults follow the documents where they say something (the image guides' 3 s download deadline
bounds each image an index line fetches) and are otherwise the suite's choice; a targets file sets them in its
`[waits]` section (targets.sample.toml), e.g. `index_s = 120`.

Preconditions (issue 12: fail fast, attribute, never cascade): a fixture that cannot set up fails once, on the
requirement its precondition rests on, and every later test that needs it is skipped "blocked by <ID>: <reason>".

    with waits.precondition("v2 catalog", "V2-INDEX-ENABLE-ADD"):
        ...  # any exception here is a failure of V2-INDEX-ENABLE-ADD

A value outside the contract seen while waiting (a status not in the documented set) raises `Unmet` at once
(`waits.documented`), attributed to that requirement, instead of waiting for a status that cannot come.
The plugin turns the first `Unmet` of a precondition into a failure of its requirement (the test's own
requirements are reported as blocked by it) and the later ones into skips "blocked by <ID>: <reason>".
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

import pytest

BLOCKED_PREFIX = "blocked by "
MODEL = "model"  # the blocker named when the target's vision model found no item in an image a test needs


@dataclass(frozen=True)
class Budgets:
    """Seconds. Keys of the targets file's [waits] section (FASHION_WAITS_<KEY> in the environment)."""

    index_s: float = 60.0  # an index request (v2, Maker) to end: finished or failed. The documents set no bound.
    poll_s: float = 0.2  # between two polls of a status
    delete_s: float = 60.0  # a service busy with an index (-42020) to become deletable
    request_s: float = 30.0  # one HTTP request (the image guides' 3 s download deadline, with a margin)


KEYS: tuple[str, ...] = tuple(f.name for f in fields(Budgets))
_budgets = Budgets()


def parse(section: Mapping[str, Any]) -> Budgets:
    """Budgets from a [waits] section; ValueError naming the key on an unknown key or a value that is not a
    positive number of seconds."""
    values: dict[str, float] = {}
    for key, raw in section.items():
        if key not in KEYS:
            raise ValueError(f"waits.{key}: unknown key (known: {', '.join(KEYS)})")
        try:
            if isinstance(raw, bool):
                raise ValueError
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"waits.{key}: expected a positive number of seconds, got {raw!r}") from None
        if not value > 0 or value == float("inf"):
            raise ValueError(f"waits.{key}: expected a positive number of seconds, got {raw!r}")
        values[key] = value
    return replace(Budgets(), **values)


def configure(section: Mapping[str, Any] | None) -> Budgets:
    """Set this process's budgets from a [waits] section (None: the defaults)."""
    global _budgets
    _budgets = parse(section or {})
    return _budgets


def budgets() -> Budgets:
    return _budgets


# ---------------------------------------------------------------- polls


_timed_out: dict[str, Unmet] = {}


def poll(probe: Callable[[], Any], done: Callable[[Any], bool], *, requirement: str, what: str,
         budget_s: float | None = None, describe: Callable[[Any], str] = repr, poll_s: float | None = None) -> Any:
    """Call `probe` every poll_s until `done(value)`, at most `budget_s` (default index_s). `probe` checks each
    answer against the contract itself (and raises at once on a value outside it). When the budget runs out:
    Unmet(requirement) "<what> did not end within N s"; after that every later poll of the same requirement in
    this process is Unmet at once (blocked by it), so a target whose jobs never end costs one budget, not one per
    test."""
    known = _timed_out.get(requirement)
    if known is not None:
        raise Unmet(requirement, known.reason)
    b = budgets()
    budget = b.index_s if budget_s is None else budget_s
    deadline = time.monotonic() + budget
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            unmet = Unmet(requirement, f"{what} did not end within {budget:g} s (waits.index_s); last seen: "
                                       f"{describe(value)[:500]}")
            _timed_out[requirement] = unmet
            raise unmet
        time.sleep(b.poll_s if poll_s is None else poll_s)


# ---------------------------------------------------------------- attribution


class Unmet(AssertionError):
    """The target broke `requirement` in a way that makes the rest of a test (or a fixture) meaningless."""

    def __init__(self, requirement: str, reason: str, precondition: str | None = None) -> None:
        super().__init__(f"{requirement}: {reason}")
        self.requirement = requirement
        self.reason = reason
        self.precondition = precondition
        self.reported = False  # the plugin reports the first test that meets it as a failure, later ones blocked

    def blocked_reason(self) -> str:
        first = self.reason.strip().splitlines()[0] if self.reason.strip() else ""
        return f"{BLOCKED_PREFIX}{self.requirement}: {first[:300]}"


def documented(ex, value: Any, allowed: Sequence[Any], what: str, requirement: str) -> Any:
    """`value` is one of the documented `allowed` values, or Unmet(requirement) at once (no wait for a value that
    the contract says cannot come)."""
    if value not in allowed:
        detail = ex.describe() if ex is not None and hasattr(ex, "describe") else ""
        raise Unmet(requirement, f"{what} {value!r} is not one of the documented values {list(allowed)}"
                    + (f"\n{detail}" if detail else ""))
    return value


_failed: dict[str, Unmet] = {}


@contextlib.contextmanager
def precondition(name: str, requirement: str) -> Iterator[None]:
    """Set up a precondition (a fixture's body) resting on `requirement`: an exception inside fails it once
    (Unmet of `requirement`, or of the requirement an inner Unmet names); later entries of the same `name` in
    this process skip at once, blocked by it."""
    known = _failed.get(name)
    if known is not None:
        pytest.skip(known.blocked_reason())
    try:
        yield
    except Unmet as exc:
        exc.precondition = exc.precondition or name
        _failed[name] = exc
        raise
    except (pytest.skip.Exception, pytest.fail.Exception, KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # noqa: BLE001 -- any failure of the target (or a missing field) is the requirement's
        unmet = Unmet(requirement, f"precondition '{name}' could not be set up: {type(exc).__name__}: {exc}", name)
        _failed[name] = unmet
        raise unmet from exc


def model_blocked(reason: str) -> None:
    """Skip: the target's model did not see what the test needs (issue 12). The documents leave what a model sees to
    the model, so this is neither a failure nor a pass: the test is blocked by the model."""
    pytest.skip(f"{BLOCKED_PREFIX}{MODEL}: {reason}")


def no_item(image: str) -> None:
    """Skip, blocked by the model: it found no item in `image`, which the test needs."""
    model_blocked(f"{image} yielded no item")


def reset() -> None:
    """Forget failed preconditions and timed-out polls (a new session in the same process)."""
    _failed.clear()
    _timed_out.clear()
