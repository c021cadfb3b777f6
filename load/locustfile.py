"""Locust scenarios of fashion-conformance. `fashion-conformance load` runs them; by hand see docs/PERFORMANCE.md.

User classes (pick them by name on Locust's command line):
    DetectSearchV2User, DetectSearchV1User  detect-search: detect a query image, search with the largest item's
                                            link; "<api> detect->search" (type FLOW) records the sum of both
    FetchLimitUser                          image-fetch-limit: v2 detect of images delivered in a controlled time
    CapacityUser                            capacity: the v2 detect->search flow; add load/step_shape.py to -f
Every process needs --fc-plan (the driver's plan, forwarded by the master to its workers) and the targets
(FASHION_LOAD_TARGETS and/or FASHION_V1_* / FASHION_V2_* variables).
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from urllib.parse import urlencode

import gevent
from fcload import cutoff, nhn
from fcload import plan as planlib
from locust import FastHttpUser, events, task
from locust.runners import WORKER_REPORT_INTERVAL, WorkerRunner

from fashion_conformance import contracts
from fashion_conformance.imagehost.server import Delivery

TIMEOUT_CODE = contracts.limit("v2", "image.download_deadline_s").extra["code"]


class FlowError(Exception):
    """A failed detect->search flow (the failing step's error)."""


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument(planlib.PLAN_OPTION, default="", include_in_web_ui=False,
                        help="the run plan (JSON) written by fashion-conformance load")


@events.init.add_listener
def _fresh_clock(**_kwargs) -> None:
    """gevent's loop caches the time of its last iteration, which predates the slow imports of this file;
    refresh it so that --run-time counts from the start of the run."""
    gevent.get_hub().loop.update_now()


_targets = None


def _target(api: str, plan: dict) -> nhn.NhnTarget:
    global _targets
    if _targets is None:
        _targets = planlib.load_targets()
    if not _targets.targeted(api):
        raise RuntimeError(f"no [{api}] target: set FASHION_LOAD_TARGETS or FASHION_{api.upper()}_* variables")
    return nhn.NhnTarget.from_section(api, _targets.get(api), plan["service"])


def _get(user: FastHttpUser, url: str, name: str) -> tuple[dict | None, int | None, float, int, str | None]:
    """One GET recorded under `name`, failed unless the NHN envelope says success:
    (data, resultCode, response time ms, bytes, error text)."""
    with user.client.get(url, name=name, headers=user.target.headers, catch_response=True) as r:
        if r.status_code == 0:  # no HTTP answer; the error's type only (its text may carry the URL)
            data, code, error = None, None, type(r.error).__name__ if r.error else "no answer"
        else:
            data, code, error = nhn.outcome(r.status_code, r.content)
        if error:
            r.failure(error)
        else:
            r.success()
        return data, code, r.request_meta["response_time"], len(r.content or b""), error


class _FlowUser(FastHttpUser):
    abstract = True
    api = "v2"

    def __init__(self, environment) -> None:
        self.plan = planlib.of(environment)
        self.target = _target(self.api, self.plan)
        self.host = self.target.base_url
        self.names = planlib.names(self.api)
        super().__init__(environment)

    def wait_time(self) -> float:
        think = self.plan["think_s"]
        return random.uniform(0.5 * think, 1.5 * think)

    @task
    def detect_search(self) -> None:
        image = random.choice(self.plan["queries"])
        data, _, total, size, error = _get(self, self.target.detect_url(image), self.names["detect"])
        if error is None:
            item = nhn.largest_item(data or {})
            if item is None:
                error = "no item detected"
            else:
                url = self.target.search_url(item["link"], self.plan["search_limit"])
                _, _, took, length, error = _get(self, url, self.names["search"])
                total, size = total + took, size + length
        self.environment.events.request.fire(
            request_type=planlib.FLOW_TYPE, name=self.names["flow"], response_time=total, response_length=size,
            exception=FlowError(error) if error else None, context={})


class DetectSearchV2User(_FlowUser):
    api = "v2"


class DetectSearchV1User(_FlowUser):
    api = "v1"


class CapacityUser(_FlowUser):
    api = "v2"


_design: cutoff.Design | None = None
_quit_scheduled = False


def _finish(environment) -> None:
    """Quit once the design is complete; a worker first lets its stats reporter send the last samples."""
    global _quit_scheduled
    if not _quit_scheduled:
        _quit_scheduled = True
        grace = WORKER_REPORT_INTERVAL + 1 if isinstance(environment.runner, WorkerRunner) else 0
        gevent.spawn_later(grace, environment.runner.quit)


class FetchLimitUser(FastHttpUser):
    """Takes (mode, delivery time) points from this process's Design; each is one v2 detect of an image that
    the image host delivers with that first-byte delay or trickles over that time."""

    def __init__(self, environment) -> None:
        global _design
        self.plan = planlib.of(environment)
        fetch = self.plan["fetch"]
        if _design is None:
            _design = cutoff.Design(cutoff.Grid(**fetch["grid"]), tuple(fetch["modes"]), random.Random(fetch["seed"]),
                                    fetch["interval_s"])
        self.target = _target("v2", self.plan)
        self.host = self.target.base_url
        self.network_timeout = self.connection_timeout = fetch["timeout_s"]
        super().__init__(environment)

    def wait_time(self) -> float:
        return 0.0

    def _image(self, mode: str, delivery: float) -> str:
        timing = Delivery(delay=delivery) if mode == "first-byte" else Delivery(trickle=delivery)
        image = self.plan["fetch"]["image"]
        nonce = {"n": uuid.uuid4().hex[:12]}  # no cache between the target and the image host
        return image + ("&" if "?" in image else "?") + urlencode({**timing.query(), **nonce})

    @task
    def probe(self) -> None:
        assert _design is not None
        point = _design.take()
        if point is None:
            if _design.done:
                _finish(self.environment)
            gevent.sleep(_design.wait_s())
            return
        mode, delivery = point
        success = None
        try:
            url = self.target.detect_url(self._image(mode, delivery))
            _, code, _, _, error = _get(self, url, planlib.fetch_name(mode, delivery))
            success = True if error is None else (False if code == TIMEOUT_CODE else None)
        finally:
            _design.report(mode, delivery, success)


@events.quitting.add_listener
def _write_results(environment, **_kwargs) -> None:
    """The master (or the only process) writes every entry's histogram, the errors and the capacity steps."""
    if isinstance(environment.runner, WorkerRunner) or environment.runner is None:
        return
    plan = planlib.of(environment)
    stats = environment.runner.stats
    entries = [
        {"type": e.method, "name": e.name, "requests": e.num_requests, "failures": e.num_failures,
         "response_times": {str(ms): n for ms, n in sorted(e.response_times.items())},
         "per_second": {str(t): n for t, n in sorted(e.num_reqs_per_sec.items())},
         "bytes": e.total_content_length}
        for e in stats.entries.values() if e.num_requests or e.num_failures
    ]
    errors = [{"type": e.method, "name": e.name, "error": str(e.error), "occurrences": e.occurrences}
              for e in stats.errors.values()]
    tracker = getattr(environment.shape_class, "tracker", None)
    results = {"entries": entries, "errors": errors, "steps": tracker.results if tracker else None}
    Path(plan["out_dir"], planlib.RESULTS).write_text(json.dumps(results, indent=1) + "\n")
