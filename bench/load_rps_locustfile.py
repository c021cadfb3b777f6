"""Locustfile of bench/load_rps.py: one GET, as fast as Locust can send it (FastHttpUser, no wait).

The request comes from the environment: FASHION_BENCH_URL (absolute) and FASHION_BENCH_AUTH (an Authorization
header value, optional).
"""

from __future__ import annotations

import os

from locust import FastHttpUser, constant, task

URL = os.environ.get("FASHION_BENCH_URL", "")
AUTH = os.environ.get("FASHION_BENCH_AUTH")


class CheapestUser(FastHttpUser):
    host = URL
    wait_time = constant(0)

    @task
    def get(self) -> None:
        self.client.get(URL, name="cheapest", headers={"Authorization": AUTH} if AUTH else {})
