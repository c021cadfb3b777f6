"""A model-based test of v2: random sequences of service creates and deletes, index files that enable or
disable products of a small pool, and product searches; the model predicts every answer.

Sources: nhn-ai-fashion-v2.0-api-guide.ko.txt / 서비스 관리; 색인 > 색인 요청; 유사 이미지 상품 추천.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from fashion_conformance import checks

from . import helpers as h

pytestmark = pytest.mark.destructive

MAX_SERVICES = h.lim("service.max_per_appkey").value
DUPLICATE, QUOTA = h.code("DuplicateServiceName"), h.code("ServiceQuotaExceededException")
NOT_EXIST, NOT_FOUND_PRODUCT = h.code("NotExistService"), h.code("NotFoundProductId")
POOL_SIZE = 4


def machine_for(v2, names: list[str], pool: dict[str, h.Product]) -> type[RuleBasedStateMachine]:
    pids = sorted(pool)

    class V2Model(RuleBasedStateMachine):
        """Model: the services of `names` that exist, each with the products it holds."""

        def __init__(self) -> None:
            super().__init__()
            self.services: dict[str, dict[str, h.Product]] = {}
            self.created = 0  # services of `names` created so far (a create beyond the free slots needs a freed one)
            listed = checks.success(v2.call("service.list"))["items"]
            self.others = len([it for it in listed if it["serviceName"] not in names])

        def pick(self, data) -> str:
            """Mostly a service that exists (so indexes and searches have effects), sometimes any name."""
            if self.services and data.draw(st.integers(0, 3), label="existing"):
                return data.draw(st.sampled_from(sorted(self.services)), label="name")
            return data.draw(st.sampled_from(names), label="name")

        @initialize()
        def first_service(self) -> None:
            self.create(names[0])

        @rule(name=st.sampled_from(names))
        def create(self, name: str) -> None:
            ex = v2.call("service.create", json={"serviceName": name})
            if name in self.services:
                checks.error(ex, DUPLICATE)
            elif self.others + len(self.services) >= MAX_SERVICES:
                checks.error(ex, QUOTA)
            elif self.others + self.created >= MAX_SERVICES and ex.header.get("resultCode") == QUOTA:
                return  # only a deleted service's slot would make room: that is V2-SERVICE-QUOTA-FREED's test
            else:
                checks.success(ex)
                self.services[name] = {}
                self.created += 1

        @rule(name=st.sampled_from(names))
        def delete(self, name: str) -> None:
            ex = v2.call("service.delete", path={"serviceName": name})
            if name in self.services:
                checks.success(ex)
                del self.services[name]
            else:
                checks.error(ex, NOT_EXIST)

        @rule(
            data=st.data(),
            lines=st.lists(
                st.tuples(st.sampled_from(pids), st.booleans()),
                min_size=1,
                max_size=POOL_SIZE,
                unique_by=lambda t: t[0],
            ),
        )
        def index(self, data, lines: list[tuple[str, bool]]) -> None:
            name = self.pick(data)
            if name in self.services:  # a disable line only for a held product (an unknown one: V2-INDEX-DISABLE-UNKNOWN)
                lines = [(pid, enable) for pid, enable in lines if enable or pid in self.services[name]]
                if not lines:
                    return
            data = h.jsonl([pool[pid] if enable else pool[pid].disabled() for pid, enable in lines])
            ex = h.submit(v2, name, data)
            if name not in self.services:
                checks.error(ex, NOT_EXIST)
                return
            detail, _ = h.wait_index(v2, name, checks.success(ex)["indexId"])
            held = self.services[name]
            expected: dict[str, list[str]] = {}
            for pid, enable in lines:
                if enable:
                    kind = "updated" if pid in held else "added"
                    held[pid] = pool[pid]
                else:
                    kind = "deleted" if pid in held else "failed"
                    held.pop(pid, None)
                expected.setdefault(kind, []).append(pid)
            h.expect_counts(detail, expected, f"index of {lines} into {name}")
            status = "failed" if set(expected) == {"failed"} else "finished"
            checks.that(v2.history[-1], detail["status"] == status, f"the index ends {status}")

        @rule(data=st.data(), pid=st.sampled_from(pids))
        def search(self, data, pid: str) -> None:
            name = self.pick(data)
            ex = v2.call("search.product", path={"serviceName": name, "productId": pid}, params={"limit": 10})
            if name not in self.services:
                checks.error(ex, NOT_EXIST)
            elif pid not in self.services[name]:
                checks.error(ex, NOT_FOUND_PRODUCT)
            else:
                found = {it["productId"] for it in h.items_of(ex)}
                checks.that(
                    ex,
                    found <= set(self.services[name]),
                    f"results are products of {name}: {sorted(self.services[name])}",
                )

        @invariant()
        def listed_as_modelled(self) -> None:
            ex = v2.call("service.list")
            items = {it["serviceName"]: it for it in checks.success(ex)["items"]}
            ours = {n for n in items if n in names}
            checks.that(
                ex,
                ours == set(self.services),
                f"the list holds the modelled services {sorted(self.services)}",
            )
            for name, held in self.services.items():
                checks.that(
                    ex,
                    int(items[name]["documentCount"]) == len(held),
                    f"documentCount of {name} is {len(held)} ({sorted(held)})",
                )

        def teardown(self) -> None:
            for name in list(self.services):
                v2.call("service.delete", path={"serviceName": name})

    return V2Model


@pytest.mark.req(
    "V2-SERVICE-CREATE-DUPLICATE-42010",
    "V2-SERVICE-CREATE-QUOTA-42030",
    "V2-SERVICE-DELETE-NOT-EXIST-42000",
    "V2-SERVICE-LIST-COMPLETE",
    "V2-SERVICE-DOCUMENT-COUNT-VALUE",
    "V2-INDEX-ENABLE-ADD",
    "V2-INDEX-ENABLE-UPDATE",
    "V2-INDEX-DISABLE-DELETE",
    "V2-INDEX-PRODUCT-ID-UNIQUE",
    "V2-INDEX-COUNTS-VALUES",
    "V2-INDEX-FINISHED-VS-FAILED",
    "V2-INDEX-CREATE-NOT-EXIST-42000",
    "V2-SEARCH-PRODUCT-NOT-FOUND-PRODUCT-40050",
    "V2-SEARCH-PRODUCT-NOT-EXIST-42000",
    "V2-SEARCH-ITEMS-IN-SERVICE",
    "V2-SERVICE-DELETE-REMOVES",
)
def test_service_index_search_model(v2, image_host, services):
    names = [services.name("m") for _ in range(3)]
    for name in names:
        services.track(v2, name)
    pool = {
        f"mp{i}": h.Product(f"mp{i}", image_host.generated(700 + i), name=f"model {i}")
        for i in range(POOL_SIZE)
    }
    run_state_machine_as_test(
        machine_for(v2, names, pool),
        settings=settings(
            max_examples=8, stateful_step_count=8, deadline=None, suppress_health_check=list(HealthCheck)
        ),
    )
