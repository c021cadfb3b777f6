"""A stateful model of v1 service IDs and Maker indexing: register and delete service IDs, index small files, search
by product ID; a model predicts every answer (codes, counts, documents, remaining requests, found products)."""

from __future__ import annotations

import maker_kit as mk
import pytest
import v1_kit
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from fashion_conformance import checks

V1_CODE, CODE = v1_kit.CODE, mk.CODE
MAX_SERVICES = v1_kit.limit("service.max_per_appkey").value
QUOTA = mk.limit("index.daily_quota").value
PRODUCTS = ("m1", "m2", "m3", "m4")
SEEDS = (121, 122, 123)
LINES = st.lists(st.tuples(st.sampled_from(PRODUCTS), st.sampled_from((None, *SEEDS))),
                 min_size=1, max_size=3, unique_by=lambda line: line[0])


class V1MakerModel(RuleBasedStateMachine):
    """Model: per live service ID its products (id -> image seed) and its accepted index requests today."""

    created = Bundle("created")

    def __init__(self, v1, maker, services, image_host) -> None:
        super().__init__()
        self.v1, self.maker, self.registry, self.images = v1, maker, services, image_host
        self.others = len(v1_kit.service_names(v1))  # service IDs this model does not own
        self.products: dict[str, dict[str, int]] = {}
        self.uploads: dict[str, int] = {}

    @rule(target=created)
    def create(self):
        name = self.registry.name("m")
        ex = self.v1.call("service.create", path={"serviceID": name})
        if self.others + len(self.products) >= MAX_SERVICES:
            checks.error(ex, V1_CODE["ServiceIDQuotaExceededException"])
            return multiple()
        checks.success(ex)
        self.registry.track(self.v1, name)
        self.products[name], self.uploads[name] = {}, 0
        return name

    @rule(name=created)
    def delete(self, name):
        ex = self.v1.call("service.delete", path={"serviceID": name})
        if name not in self.products:
            checks.error(ex, V1_CODE["NotExistServiceID"])
            return
        checks.success(ex)
        del self.products[name], self.uploads[name]

    @rule(name=created, lines=LINES)
    def index(self, name, lines):
        """lines: (product ID, image seed) pairs; seed None is a disable line (kept only for a held product: an
        unknown one is MAKER-INDEX-DISABLE-UNKNOWN's test)."""
        held = self.products.get(name, {})
        lines = [(pid, seed) for pid, seed in lines if seed is not None or pid in held]
        if not lines:
            return
        rows = [v1_kit.product(pid, self.images.generated(seed)) if seed is not None
                else v1_kit.product(pid, self.images.generated(SEEDS[0]), status=v1_kit.DISABLE)
                for pid, seed in lines]
        ex = v1_kit.submit_index(self.maker, name, v1_kit.jsonl(rows))
        if name not in self.products:
            checks.error(ex, CODE["NotExistServiceID"])
            return
        if self.uploads[name] >= QUOTA and ex.header.get("resultCode") == CODE["IndexQuotaExceededException"]:
            return  # the daily quota is a reading (MAKER-INDEX-CREATE-QUOTA-40040, tested on its own)
        item = v1_kit.wait_index(self.maker, name, checks.success(ex)["indexID"])
        self.uploads[name] += 1
        held = self.products[name]
        counts = dict.fromkeys(("addCnt", "updateCnt", "deleteCnt", "failCnt"), 0)
        for pid, seed in lines:
            if seed is not None:
                counts["updateCnt" if pid in held else "addCnt"] += 1
                held[pid] = seed
            elif held.pop(pid, None) is not None:
                counts["deleteCnt"] += 1
            else:
                counts["failCnt"] += 1
        expected = {**counts, "status": "failed" if counts["failCnt"] == len(lines) else "finished"}
        got = {k: item[k] for k in expected}
        mk.expect(self.maker, got == expected, f"index of {lines}: expected {expected}, got {got}")

    @rule(name=created, pid=st.sampled_from(PRODUCTS))
    def search(self, name, pid):
        ex = self.v1.call("search.product", path={"serviceID": name, "productID": pid}, params={"limit": 10})
        if name not in self.products:
            checks.error(ex, V1_CODE["NotExistServiceID"])
        elif pid not in self.products[name]:
            checks.error(ex, V1_CODE["NotFoundProductIDError"])
        else:
            found = {it["productID"] for it in checks.success(ex)["items"]}
            checks.that(ex, found <= set(self.products[name]),
                        f"only products the service holds ({sorted(self.products[name])}) may be found")

    @invariant()
    def lists_agree(self):
        listed = set(v1_kit.service_names(self.v1))
        checks.that(self.v1.history[-1], set(self.products) <= listed, f"{sorted(self.products)} must be listed")
        ex = self.maker.call("service.list")
        info = {it["service"]: it for it in checks.success(ex)["items"]}
        for name, held in self.products.items():  # Maker listing v1's IDs: MAKER-SERVICE-LIST-CONTENT's test
            if name in info:
                got = info[name]["documentCnt"]
                checks.that(ex, got == len(held), f"{name}: expected documentCnt {len(held)}, got {got}")

    def teardown(self):
        for name in list(self.products):
            v1_kit.delete_service(self.v1, name)


@pytest.mark.destructive
@pytest.mark.req("V1-SERVICE-CREATE-QUOTA-42030", "V1-SERVICE-LIST-CONTENT", "V1-SERVICE-DELETE-REMOVES",
                 "V1-SERVICE-DELETE-NOT-FOUND-42000", "V1-SEARCH-PRODUCT-NOT-FOUND-40050",
                 "V1-SEARCH-PRODUCT-SERVICE-42000", "MAKER-INDEX-ENABLE-ADDS", "MAKER-INDEX-ENABLE-UPDATES",
                 "MAKER-INDEX-DISABLE-DELETES", "MAKER-INDEX-DOCUMENT-COUNT", "MAKER-INDEX-CREATE-SERVICE-42000")
def test_v1_maker_model(v1, maker, services, image_host):
    """The MUST statements only: the indexes run on v1's service IDs (MAKER-SHARED-SERVICE-IDS) and documentCnt is
    read from Maker's list of them (MAKER-SERVICE-LIST-CONTENT): that setup rests on readings tested on their own."""
    run_state_machine_as_test(
        lambda: V1MakerModel(v1, maker, services, image_host),
        settings=settings(max_examples=5, stateful_step_count=10, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture]),
    )
