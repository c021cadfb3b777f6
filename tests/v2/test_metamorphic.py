"""v2 metamorphic requirements (issue 12): what any vision model keeps, checked on the catalog's images (the user's
photos with --photos). Each test checks every sample image and fails listing those that broke it; an image in which
the target's model finds no item is left out, and a test with no image left is blocked by the model.

Sources: nhn-ai-fashion-v2.0-api-guide.ko.txt / 카메라 검색 (detect, search by image); tolerances in
fashion_conformance.metamorphic.
"""

from __future__ import annotations

import httpx
import pytest

from fashion_conformance import checks, metamorphic

from . import helpers as h

pytestmark = pytest.mark.destructive

DRAWN_SAMPLE = 6  # drawn catalog images checked (a photo catalogue: every photo)


def sample(catalog) -> list[h.Product]:
    """The products whose images the tests vary: every photo, or the drawn catalog's query, shared, pair and more."""
    if catalog.photos:
        return [catalog.products[pid] for pid in catalog.photos]
    ids = dict.fromkeys([catalog.query_id, catalog.shared_id, *catalog.pair_ids, *catalog.products])
    return [catalog.products[pid] for pid in list(ids)[:DRAWN_SAMPLE]]


def image_bytes(catalog, product: h.Product) -> bytes:
    photo = catalog.photos.get(product.productId)
    return photo.data if photo is not None else httpx.get(product.imageUrl, timeout=10).content


def detect(v2, catalog, url: str):
    return v2.call("detect", path={"serviceName": catalog.service}, params={"path": url})


def items_or_none(ex) -> list[dict] | None:
    """The items of a detect answer; None when the model found none (any other refusal fails the test)."""
    try:
        return checks.detected(ex, "")
    except pytest.skip.Exception:
        return None


def _pair(v2, catalog, left_url: str, right_url: str, tol: float, score_tol: float | None = None):
    """Detect both; (exchange, difference or None), or None when the model found no item in either. With `score_tol`
    the scores of matching items (in answer order) are compared too."""
    a, b = detect(v2, catalog, left_url), detect(v2, catalog, right_url)
    left, right = items_or_none(a), items_or_none(b)
    if left is None and right is None:
        return None
    diff = metamorphic.compare(metamorphic.v2_boxes(left or []), metamorphic.v2_boxes(right or []), tol)
    if diff is None and score_tol is not None:
        off = max((abs(x["score"] - y["score"]) for x, y in zip(left, right, strict=True)), default=0.0)
        diff = f"a score moved by {off:.4f} (tolerance {score_tol})" if off > score_tol else None
    return b, diff


@pytest.mark.req("V2-DETECT-REPEATABLE")
def test_detect_same_image_twice_same_items(v2, catalog):
    def case(p):
        return p.productId, lambda: _pair(v2, catalog, p.imageUrl, p.imageUrl, metamorphic.REPEAT_TOL,
                                          metamorphic.REPEAT_SCORE_TOL)

    metamorphic.check_all([case(p) for p in sample(catalog)], "detecting one image twice must give the same items")


@pytest.mark.req("V2-DETECT-FORMAT-STABLE")
def test_detect_png_and_jpeg_same_boxes(v2, catalog, image_host):
    def case(p):
        def compare():
            variants = metamorphic.formats(image_bytes(catalog, p))
            urls = {k: image_host.put(f"meta-{p.productId}.{k}", data) for k, data in variants.items()}
            return _pair(v2, catalog, urls["png"], urls["jpg"], metamorphic.FORMAT_TOL)
        return p.productId, compare

    metamorphic.check_all([case(p) for p in sample(catalog)], "a PNG and a quality-95 JPEG of one photo must give the same boxes")


@pytest.mark.req("V2-DETECT-SCALE-STABLE")
def test_detect_double_resolution_same_boxes(v2, catalog, image_host):
    def case(p):
        def compare():
            variants = metamorphic.resolutions(image_bytes(catalog, p))
            urls = {k: image_host.put(f"meta-{p.productId}-{k}.jpg", data) for k, data in variants.items()}
            return _pair(v2, catalog, urls["1x"], urls["2x"], metamorphic.SCALE_TOL)
        return p.productId, compare

    metamorphic.check_all([case(p) for p in sample(catalog)], "one photo at twice the resolution must give the same normalised boxes")


@pytest.mark.req("V2-SEARCH-OWN-IMAGE-FIRST")
def test_search_image_own_image_first(v2, catalog):
    """Every product of the catalog, searched by the URL of its own image (limit 5, duplicates removed by default)."""
    same_image = set(catalog.same_image)

    def case(p):
        def compare():
            ex = v2.call("search.image", path={"serviceName": catalog.service},
                         files=h.form(imageUrl=p.imageUrl, limit=5))
            try:
                items = checks.detected(ex, "")
            except pytest.skip.Exception:
                return None
            first = items[0]
            own = next((it for it in items if it["productId"] == p.productId), None)
            group = same_image if p.productId in same_image else {p.productId}
            if first["productId"] in group or (own is not None and own["similarity"] >= first["similarity"]):
                return ex, None
            return ex, f"first came {first['productId']} ({first['similarity']}), then " + \
                (f"{p.productId} ({own['similarity']})" if own else f"{p.productId} not among the first 5")
        return p.productId, compare

    metamorphic.check_all([case(p) for p in catalog.products.values()], "a search by a product's own image must return it first")
