"""What the driver tells the Locust processes, and the names of the statistics entries they record.

The plan holds no secret: it travels as the custom Locust option --fc-plan (JSON), which Locust's master
forwards to every worker, also to workers on other machines. Base URLs and keys come from the targets file named
by FASHION_LOAD_TARGETS and/or the FASHION_<SECTION>_<KEY> variables (fashion_conformance.targets).

Plan keys: scenario, out_dir (where the master writes RESULTS), service, apis, queries (image URLs),
think_s, search_limit, slo {p95_ms, error_rate};
image-fetch-limit: fetch {image, grid {lo, hi, step, half, fine, repeats}, modes, seed, interval_s, timeout_s,
tolerance_s}; capacity: capacity {step_users, step_s, max_users, duration_s, warmup_s, spawn_rate, slo}.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from fashion_conformance import targets

PLAN_OPTION = "--fc-plan"
TARGETS_ENV = "FASHION_LOAD_TARGETS"
RESULTS = "fc_results.json"  # written by the master (or the single process) when Locust quits
FLOW_TYPE = "FLOW"  # request_type of the combined detect->search entry
FETCH_NAME = re.compile(r"detect (?P<mode>[a-z-]+) (?P<delivery>\d+\.\d{3})s")


def encode(plan: dict) -> str:
    return json.dumps(plan, separators=(",", ":"), sort_keys=True)


def decode(text: str) -> dict:
    if not text:
        raise ValueError(f"no plan: start Locust with {PLAN_OPTION} (fashion-conformance load does)")
    return json.loads(text)


def load_targets() -> targets.Targets:
    """The v1/v2 targets of this process (file from FASHION_LOAD_TARGETS, then FASHION_* overrides)."""
    path = os.environ.get(TARGETS_ENV)
    return targets.load(Path(path) if path else None, only=("v1", "v2"))


def names(api: str) -> dict[str, str]:
    """Entry names of one API's flow: detect, search and the combined detect->search."""
    return {"detect": f"{api} detect", "search": f"{api} search", "flow": f"{api} detect->search"}


def fetch_name(mode: str, delivery: float) -> str:
    return f"detect {mode} {delivery:.3f}s"


_DECODED: dict[str, dict] = {}


def of(environment) -> dict:
    """The plan of a Locust environment (its --fc-plan option), decoded once per process."""
    text = getattr(environment.parsed_options, "fc_plan", "") if environment.parsed_options else ""
    if text not in _DECODED:
        _DECODED[text] = decode(text)
    return _DECODED[text]
