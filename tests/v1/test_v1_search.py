"""AI Fashion v1.0 search by product ID and by image link: parameters, answers, relevance, errors."""

from __future__ import annotations

import io

import pytest
import v1_kit as kit
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from fashion_conformance import checks, waits
from fashion_conformance.imagehost import factory

CODE = kit.CODE
LIMIT = kit.limit("search.limit")
THRESHOLD = kit.limit("search.min_similarity")
HYPO = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
SEARCHES = ["search.product", "search.image"]

NON_INTEGERS = st.sampled_from(["", "abc", "1.5", "2e1", "0x10", "ten"])
NON_NUMBERS = st.sampled_from(["", "abc", "high", "0,5", "1/2"])


def _answer_ok(ex, limit: int, threshold: float | None = None) -> list[dict]:
    """The search answer's own rules as the tables state them; returns its items (what totalCount counts and the
    similarity range are readings: test_search_answer_fields_as_read)."""
    data = checks.success(ex)
    items = data["items"]
    sims = [it["similarity"] for it in items]
    checks.that(ex, isinstance(data["query"], str), "data.query must be a string")
    checks.that(ex, len(items) <= limit, f"at most limit={limit} items")
    checks.that(ex, all(isinstance(it["productID"], str) for it in items), "every productID must be a string")
    if threshold is not None:
        checks.that(ex, all(s >= threshold for s in sims), f"every similarity must be >= threshold {threshold}")
    return items


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.req("V1-SEARCH-FIELDS", "V1-SEARCH-LIMIT-MAX-ITEMS")
def test_search_answer_fields(search, catalog, endpoint):
    ex = search(endpoint, {"limit": LIMIT.max})
    items = _answer_ok(ex, LIMIT.max)
    total = checks.success(ex)["totalCount"]
    checks.that(ex, isinstance(total, int) and not isinstance(total, bool) and total >= 0,
                f"data.totalCount must be a count, got {total!r}")
    checks.that(ex, all(isinstance(it["similarity"], (int, float)) for it in items), "every similarity is a number")
    checks.that(ex, bool(items), "a search over a non-empty catalog must find products")
    checks.that(ex, {it["productID"] for it in items} <= set(catalog.records),
                "only products of the service may be answered")


def _total_is_items(ex, data) -> None:
    checks.that(ex, data["totalCount"] == len(data["items"]), "totalCount must equal the number of items (E101)")


def _similarity_range(ex, data) -> None:
    sims = [it["similarity"] for it in data["items"]]
    checks.that(ex, all(0 < s <= 1 for s in sims), f"every similarity must lie in (0, 1]: {sims}")


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.parametrize("check", [
    pytest.param(_total_is_items, marks=pytest.mark.req("V1-SEARCH-TOTALCOUNT"), id="totalCount"),
    pytest.param(_similarity_range, marks=pytest.mark.req("V1-SEARCH-SIMILARITY-RANGE"), id="similarity"),
])
def test_search_answer_fields_as_read(search, endpoint, check):
    """The readings of the search table: totalCount counts the answer's items (E101), similarity in (0, 1]."""
    for limit in (LIMIT.min, LIMIT.max):
        ex = search(endpoint, {"limit": limit})
        check(ex, checks.success(ex))


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.req("V1-SEARCH-SORT")
def test_search_sorted_by_similarity(search, endpoint):
    ex = search(endpoint, {"limit": LIMIT.max})
    sims = [it["similarity"] for it in checks.success(ex)["items"]]
    checks.that(ex, sims == sorted(sims, reverse=True), "items must be sorted by similarity, most similar first")


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.req("V1-SEARCH-LIMIT-RANGE", "V1-SEARCH-LIMIT-MAX-ITEMS")
@HYPO
@given(limit=st.integers(LIMIT.min, LIMIT.max))
@example(limit=LIMIT.min)
@example(limit=LIMIT.max)
def test_search_limit_valid(search, endpoint, limit):
    _answer_ok(search(endpoint, {"limit": limit}), limit)


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.req("V1-SEARCH-LIMIT-RANGE")
@HYPO
@given(limit=st.one_of(st.integers(max_value=LIMIT.min - 1), st.integers(min_value=LIMIT.max + 1), NON_INTEGERS))
@example(limit=LIMIT.min - 1)
@example(limit=LIMIT.max + 1)
@example(limit=-1)
def test_search_limit_invalid(search, endpoint, limit):
    checks.error(search(endpoint, {"limit": limit}), CODE["InvalidParam"])


@pytest.mark.req("V1-SEARCH-PRODUCT-INVALID-40000", "V1-SEARCH-LIMIT-RANGE")
def test_search_product_without_limit(search):
    checks.error(search("search.product"), CODE["InvalidParam"])


@pytest.mark.req("V1-SEARCH-IMAGE-INVALID-40000", "V1-SEARCH-LIMIT-RANGE")
def test_search_image_without_limit_or_link(v1, catalog, search):
    checks.error(search("search.image"), CODE["InvalidParam"])
    ex = v1.call("search.image", path={"serviceID": catalog.service}, params={"limit": 10})
    checks.error(ex, CODE["InvalidParam"])


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.req("V1-SEARCH-THRESHOLD-RANGE", "V1-SEARCH-THRESHOLD-FILTER")
@HYPO
@given(threshold=st.floats(min_value=1e-6, max_value=THRESHOLD.max))
@example(threshold=THRESHOLD.max)
@example(threshold=1e-6)
@example(threshold=0.5)
def test_search_threshold_valid(search, endpoint, threshold):
    _answer_ok(search(endpoint, {"limit": LIMIT.max, "threshold": threshold}), LIMIT.max, threshold)


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.parametrize("rank", [0, 2])
@pytest.mark.req("V1-SEARCH-THRESHOLD-FILTER")
def test_search_threshold_keeps_items_above(search, endpoint, rank):
    """threshold removes only the items below it: the best items of the same search without it, whose similarities
    lie above the threshold (chosen between two distinct similarities), all come back."""
    unbounded = search(endpoint, {"limit": LIMIT.max})
    base = _answer_ok(unbounded, LIMIT.max)
    checks.that(unbounded, bool(base), "a search over a non-empty catalog must find products")
    sims = [it["similarity"] for it in base]
    cut = next((j for j in range(min(rank, len(sims) - 1), len(sims) - 1) if sims[j] > sims[j + 1]), None)
    threshold, n = ((sims[cut] + sims[cut + 1]) / 2, cut + 1) if cut is not None else (sims[-1] / 2, len(sims))
    ex = search(endpoint, {"limit": LIMIT.max, "threshold": threshold})
    got = {it["productID"] for it in _answer_ok(ex, LIMIT.max, threshold)}
    want = [it["productID"] for it in base[:n]]
    checks.that(ex, set(want) <= got,
                f"threshold={threshold:.6f}: the {n} items above it without a threshold ({want}) must all come back; "
                f"got {sorted(got)}")


@pytest.mark.parametrize("endpoint", SEARCHES)
@pytest.mark.req("V1-SEARCH-THRESHOLD-RANGE")
@HYPO
@given(threshold=st.one_of(st.floats(max_value=THRESHOLD.min, allow_nan=False, allow_infinity=False),
                           st.floats(min_value=THRESHOLD.max, exclude_min=True, allow_nan=False,
                                     allow_infinity=False),
                           NON_NUMBERS))
@example(threshold=THRESHOLD.min)
@example(threshold=-0.5)
@example(threshold=1.01)
def test_search_threshold_invalid(search, endpoint, threshold):
    checks.error(search(endpoint, {"limit": 10, "threshold": threshold}), CODE["InvalidParam"])


@pytest.mark.req("V1-SEARCH-PRODUCT-RELEVANCE")
def test_search_product_relevance(v1, catalog):
    dup, original = catalog.duplicate_id, catalog.duplicate_of
    ex = v1.call("search.product", path={"serviceID": catalog.service, "productID": original},
                 params={"limit": LIMIT.max})
    sims = {it["productID"]: it["similarity"] for it in checks.success(ex)["items"]}
    checks.that(ex, dup in sims, f"{dup} (indexed with {original}'s image) must be among the results")
    others = [s for pid, s in sims.items() if catalog.urls.get(pid) != catalog.urls[original]]
    checks.that(ex, all(sims[dup] >= s for s in others),
                f"{dup} must rank ahead of every product with a different image")


@pytest.mark.req("V1-SEARCH-IMAGE-RELEVANCE")
def test_search_image_relevance(search, catalog):
    """SHOULD: the detected product is among the results (the link's acceptance is V1-SEARCH-IMAGE-LINK-ROUNDTRIP's
    test_search_image_every_link)."""
    ex = search("search.image", {"limit": 5})
    found = [it["productID"] for it in checks.success(ex)["items"]]
    checks.that(ex, catalog.query_id in found,
                f"{catalog.query_id}, whose image was detected, must be among the results")


@pytest.mark.req("V1-SEARCH-IMAGE-RELEVANCE")
def test_search_image_link_per_item(v1, catalog, image_host):
    """Each item's link searches that item: in an image holding two catalog products' garments side by side, the
    link of the left item finds the left product first and the link of the right one the right product."""
    left, right = catalog.pair_ids
    photos = [Image.open(io.BytesIO(catalog.image_bytes(pid))).convert("RGB") for pid in (left, right)]
    canvas = Image.new("RGB", (photos[0].width + photos[1].width + 40, max(p.height for p in photos)), "white")
    canvas.paste(photos[0], (0, 0))
    canvas.paste(photos[1], (photos[0].width + 40, 0))
    url = image_host.put("v1-two-products.png", factory.encode(canvas, "png"))
    ex = v1.call("detect", path={"serviceID": catalog.service}, params={"path": url})
    split = (photos[0].width + 20) / canvas.width
    if not catalog.photos:
        items = kit.items_of(ex, at_least=2)
    else:  # a photo may show more than its product: the largest item of each side is that product's
        items = checks.detected(ex, f"the image of {left} and {right} side by side")
        sides = [[it for it in items if (it["center"][0] < split) == left_side] for left_side in (True, False)]
        if not all(sides):
            waits.no_item(f"one side of the image of {left} and {right} side by side")
        items = [max(side, key=lambda it: (it["b1"][0] - it["b0"][0]) * (it["b1"][1] - it["b0"][1])) for side in sides]
    for item in items:
        pid = left if item["center"][0] < split else right
        found_ex = v1.call("search.image", path={"serviceID": catalog.service},
                           params={"link": item["link"], "limit": 5})
        found = [it["productID"] for it in _answer_ok(found_ex, 5)]
        checks.that(found_ex, found[:1] == [pid],
                    f"the link of the item at {item['b0']}-{item['b1']} must find {pid}, whose garment it is, "
                    f"first; got {found}")


@pytest.mark.req("V1-SEARCH-IMAGE-LINK-ROUNDTRIP")
def test_search_image_every_link(v1, catalog, image_host, scene):
    ex = v1.call("detect", path={"serviceID": catalog.service}, params={"path": image_host.put(*scene.file("png"))})
    for item in kit.items_of(ex, at_least=len(scene.items)):
        _answer_ok(v1.call("search.image", path={"serviceID": catalog.service},
                           params={"link": item["link"], "limit": 3}), 3)


@pytest.mark.req("V1-SEARCH-IMAGE-LINK-INVALID")
def test_search_image_forged_link(v1, catalog, catalog_link):
    flipped = catalog_link[:-6] + ("A" if catalog_link[-6] != "A" else "B") + catalog_link[-5:]
    for link in ("not-a-link", catalog_link[: len(catalog_link) // 2], flipped, catalog_link + "x"):
        ex = v1.call("search.image", path={"serviceID": catalog.service}, params={"link": link, "limit": 10})
        checks.error(ex, CODE["InvalidParam"])


@pytest.mark.req("V1-SEARCH-PRODUCT-NOT-FOUND-40050")
def test_search_product_unknown_product(v1, catalog):
    ex = v1.call("search.product", path={"serviceID": catalog.service, "productID": "no-such-product"},
                 params={"limit": 10})
    checks.error(ex, CODE["NotFoundProductIDError"])


@pytest.mark.parametrize("endpoint", [
    pytest.param("search.product", marks=pytest.mark.req("V1-SEARCH-PRODUCT-SERVICE-42000")),
    pytest.param("search.image", marks=pytest.mark.req("V1-SEARCH-IMAGE-SERVICE-42000")),
])
def test_search_unknown_service(search, services, endpoint):
    checks.error(search(endpoint, {"limit": 10}, service=services.name("nosuch")), CODE["NotExistServiceID"])


@pytest.mark.parametrize("endpoint", [
    pytest.param("search.product", marks=pytest.mark.req("V1-SEARCH-PRODUCT-UNAUTHORIZED-41000")),
    pytest.param("search.image", marks=pytest.mark.req("V1-SEARCH-IMAGE-UNAUTHORIZED-41000")),
])
def test_search_unauthorized(search, bad_v1, endpoint):
    checks.error(search(endpoint, {"limit": 10}, client=bad_v1), CODE["UnauthorizedAppKey"])
