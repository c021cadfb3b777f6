"""The capacity scenario's step load shape: a second locustfile (-f load/locustfile.py,load/step_shape.py).

Raises the users step by step (plan capacity: step_users every step_s seconds up to max_users, within
duration_s), judges each step's window (the step minus its first warmup_s seconds) of the v2 detect->search
entry against the SLO (p95, error rate), and ends the run after the first step that breaks it.
"""

from __future__ import annotations

from fcload import plan as planlib
from fcload import steps
from locust import LoadTestShape


class StepShape(LoadTestShape):
    tracker: steps.StepTracker | None = None

    def tick(self) -> tuple[int, float] | None:
        environment = self.runner.environment
        cap = planlib.of(environment)["capacity"]
        if self.tracker is None:
            plan = steps.StepPlan(cap["step_users"], cap["step_s"], cap["max_users"], cap["duration_s"],
                                  cap["warmup_s"])
            self.tracker = steps.StepTracker(plan, steps.Slo(**cap["slo"]))
        t = self.get_run_time()
        flow = environment.stats.get(planlib.names("v2")["flow"], planlib.FLOW_TYPE)
        http = environment.stats.total.num_requests - flow.num_requests
        self.tracker.observe(steps.Snapshot(t, flow.num_requests, flow.num_failures, dict(flow.response_times), http))
        users = self.tracker.users_at(t)
        return None if users is None else (users, cap["spawn_rate"])
