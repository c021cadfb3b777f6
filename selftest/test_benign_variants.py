"""The suite raises no false alarm: the whole suite (all four APIs, destructive tests included) runs through a proxy
applying benign variants (faults/benign.py: changes the documents leave free) and must pass, as it passes through a
faithful proxy. CI runs the variants combined in a few proxy runs (benign.GROUPS, each variant in one of them).

When a combined run fails, run each variant alone to find the culprit:
    FC_BENIGN=alone pytest selftest/test_benign_variants.py -p no:cacheprovider   # one whole run per variant
    FC_BENIGN=name1,name2 pytest selftest/test_benign_variants.py ...              # those variants, one run each
    FC_BENIGN=faithful pytest selftest/test_benign_variants.py ...                 # the baseline: no variant at all
(the combined runs rely on the whole suite passing through a faithful proxy; `faithful` checks that first).
"""

from __future__ import annotations

import json
import os

import pytest

from fashion_conformance import contracts, embedded
from fashion_conformance.faults import benign
from fashion_conformance.faults.proxy import Context
from fashion_conformance.faults.run import SuiteRun, run_whole_suite
from fashion_conformance.faults.traffic import Req, Resp

V2 = "/v2.0/appkeys/k/services/svc"

ENV = "FC_BENIGN"
FAITHFUL = "faithful"


def _runs() -> list:
    """The runs to make: the combined groups by default; FC_BENIGN=alone (or a list of names): one per variant."""
    choice = os.environ.get(ENV, "").strip()
    if not choice:
        return [pytest.param(names, id=group) for group, names in benign.GROUPS.items()]
    names = list(benign.BY_NAME) if choice == "alone" else [n.strip() for n in choice.split(",") if n.strip()]
    for name in names:
        if name != FAITHFUL:
            benign.variant(name)  # an unknown name is an error, not an empty run
    return [pytest.param(() if name == FAITHFUL else (name,), id=name) for name in names]


def _evidence(run: SuiteRun) -> str:
    failed = [t for t in run.tests if t["outcome"] in ("failed", "error")]
    shown = "\n".join(f"{t['nodeid']}: {t['message'][-800:]}" for t in failed[:4])
    return (f"exit {run.returncode}; failed requirements: {run.failed}; {len(failed)} failed tests; changes per "
            f"variant: {run.changed}\n{shown or run.output[-2500:]}")


def test_benign_groups_cover_every_variant_once():
    """Every variant is in exactly one combined run, and each group can be composed (kinds known, names unique)."""
    grouped = [name for names in benign.GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(benign.BY_NAME), "each variant belongs to exactly one group"
    assert len(benign.VARIANTS) >= 15
    for v in benign.VARIANTS:
        assert v.kind in benign.KINDS and v.freedom, f"{v.name}: kind and the freedom it uses (document or erratum)"
        assert not v.requirements, f"{v.name}: a benign variant trips no requirement"


def test_benign_variants_apply_only_to_their_apis_and_endpoints():
    """"*" means every API (never the proxy's own relay or a path outside the APIs); endpoints narrow it."""
    every, detect = benign.variant("connection-close"), benign.variant("boxes-moved")
    assert all(every.applies(api, None) for api in contracts.APIS) and not every.applies(None, None)
    assert detect.applies("v1", "detect") and detect.applies("v2", "tag") and not detect.applies("v2", "service.list")
    e3 = benign.variant("v2-document-count-string")
    assert e3.applies("v2", "service.get") and not e3.applies("v2", "index.list") and not e3.applies("v1", "service.list")


def _ok(data: dict) -> Resp:
    body = {"header": {"isSuccessful": True, "resultCode": 0, "resultMessage": "SUCCESS"}, "data": data}
    return Resp(200, [("content-type", "application/json")], json.dumps(body).encode())


def _apply(name: str, req: Req, resp: Resp) -> Resp:
    v = benign.variant(name)
    assert v.applies(req.api, req.endpoint), f"{name} does not apply to {req.api} {req.endpoint}"
    v.response(req, resp, Context({}))
    return resp


def _search(sims: list[float]) -> Resp:
    items = [{"similarity": s, "productId": f"p{i}", "name": "n", "imageUrl": "u"} for i, s in enumerate(sims)]
    return _ok({"query": "q", "totalCount": len(items), "items": items})


@pytest.mark.parametrize("name", ["similarity-rounded", "similarity-squared", "similarity-ties-reversed",
                                  "search-fewer-results"])
@pytest.mark.parametrize("threshold", [None, 0.5])
def test_benign_similarity_variants_keep_order_threshold_and_count(name, threshold):
    """Sorted descending, every similarity in (0, 1] and >= the threshold asked, totalCount = items, no new item."""
    sims = [1.0, 0.93456, 0.9, 0.9, 0.71234, 0.7, 0.61, 0.6, 0.55, 0.52, 0.50001, 0.5]
    query = f"limit=100&minSimilarity={threshold}" if threshold else "limit=100"
    req = Req.make("GET", f"{V2}/products/p0/search", query, [], b"")
    data = _apply(name, req, _search(sims)).json()["data"]
    got = [i["similarity"] for i in data["items"]]
    assert got == sorted(got, reverse=True) and all(0 < s <= 1 for s in got)
    assert all(s >= (threshold or 0) for s in got) and data["totalCount"] == len(got) <= len(sims)
    assert {i["productId"] for i in data["items"]} <= {f"p{i}" for i in range(len(sims))}


def test_benign_similarity_ties_reversed_only_swaps_equal_items():
    req = Req.make("GET", f"{V2}/products/p0/search", "limit=10", [], b"")
    items = _apply("similarity-ties-reversed", req, _search([0.9, 0.8, 0.8, 0.8, 0.7])).json()["data"]["items"]
    assert [i["productId"] for i in items] == ["p0", "p3", "p2", "p1", "p4"]


@pytest.mark.parametrize("endpoint, path", [("detect", "/detect"), ("tag", "/tag")])
def test_benign_boxes_moved_keep_the_geometry(endpoint, path):
    """0 <= b0 < b1 <= 1 on each axis, center the middle, the width kept (so tag items stay sorted by width)."""
    boxes = [([0.0, 0.0], [1.0, 1.0]), ([0.2, 0.3], [0.6, 0.99]), ([0.99, 0.0], [1.0, 0.5]), ([0.0, 0.5], [0.4, 1.0])]
    items = [{"b0": b0, "b1": b1, "center": [(b0[0] + b1[0]) / 2, (b0[1] + b1[1]) / 2], "score": 0.9} for b0, b1 in
             boxes]
    req = Req.make("GET", V2 + path, "path=x", [], b"")
    got = _apply("boxes-moved", req, _ok({"totalCount": len(items), "items": items})).json()["data"]["items"]
    for before, after in zip(boxes, got, strict=True):
        for axis in (0, 1):
            assert 0 <= after["b0"][axis] < after["b1"][axis] <= 1
            assert after["center"][axis] == pytest.approx((after["b0"][axis] + after["b1"][axis]) / 2)
            assert after["b1"][axis] - after["b0"][axis] == pytest.approx(before[1][axis] - before[0][axis])
    assert got[1]["b0"] != list(boxes[1][0]), "a box that has room moves"


def test_benign_compression_only_when_the_client_accepts_it():
    v = benign.variant("compressed-when-accepted")
    for accept, coding in [("gzip, deflate", "gzip"), ("deflate", "deflate"), ("gzip;q=0, identity", None),
                           ("", None), ("*", "gzip")]:
        req = Req.make("GET", f"{V2}/products/p0/search", "", [("accept-encoding", accept)] if accept else [], b"")
        resp = _search([0.9])
        v.response(req, resp, Context({}))
        assert resp.content_encoding == coding, accept


def test_benign_envelope_and_errata_variants_stay_schema_valid():
    """Extra fields and the errata's alternatives still validate against the (open) success schemas."""
    data = {"totalCount": 1, "items": [{"serviceName": "svc", "documentCount": 3, "remainInsertCount": 99997}]}
    req = Req.make("GET", "/v2.0/appkeys/k/services", "", [], b"")
    resp = _ok(data)
    for name in ("v2-document-count-string", "nhn-header-extra-field", "data-extra-field", "item-extra-field"):
        _apply(name, req, resp)
    body = resp.json()
    assert body["data"]["items"][0]["documentCount"] == "3" and benign.EXTRA in body["header"]
    assert not contracts.validate("v2", "service.list", "success", body)


@pytest.mark.slow
@pytest.mark.parametrize("names", _runs())
def test_benign_variants_pass_the_whole_suite(names, tmp_path):
    """The whole suite through the variants (combined) exits 0 with no failed requirement, and every variant
    really changed some traffic (a variant that never applied proves nothing)."""
    emu = embedded.start(tmp_path / "emulator")  # its own: the suite spends quotas a second run would miss
    try:
        run = run_whole_suite(emu, benign.combine(benign.variant(n) for n in names), tmp_path / "run")
    finally:
        emu.stop()
    assert run.outcomes, "the suite wrote no conformance report\n" + _evidence(run)
    assert not run.failed and run.returncode == 0, _evidence(run)
    unchanged = [n for n in names if not run.changed.get(n)]
    assert not unchanged, f"these variants changed no request or response: {unchanged}\n" + _evidence(run)
