"""Tagger metamorphic requirements (issue 12): what any vision model keeps, checked on product photos (the user's
photos with --photos). Each test checks every sample image and fails listing those that broke it; an image in which
the target's model finds no item is left out, and a test with no image left is blocked by the model.

Source: omnious-tagger-v2.12-api.en.txt / Request, Response; tolerances in fashion_conformance.metamorphic.
"""

from __future__ import annotations

import pytest
import tagger_support as ts

from fashion_conformance import checks, metamorphic
from fashion_conformance.imagehost import factory

DRAWN_SEEDS = (11, 12, 13, 14, 15, 16)  # drawn product photos checked (a photo catalogue: every photo)


@pytest.fixture(scope="module")
def images(image_host, photo_catalogue) -> list[tuple[str, bytes, str]]:
    """(name, bytes, URL) of the sample images."""
    if photo_catalogue is not None:
        return [(p.file, p.data, image_host.url(p.host_name)) for p in photo_catalogue.photos]
    return [(f"drawn {seed}", factory.product_image(seed), image_host.generated(seed)) for seed in DRAWN_SEEDS]


def tags(tagger, url: str):
    """(exchange, data) of a tagging of `url`; data None when the model found no item (no tag with a position)."""
    ex = ts.post(tagger, ts.body(ts.url_image(url)))
    data = checks.success(ex)
    return ex, (data if metamorphic.tagger_positions(data) else None)


def _id(tag: dict, key: str):
    value = tag.get(key)
    return value.get("id") if isinstance(value, dict) else None


def _confidence(tag: dict) -> float:
    item = tag.get("item")
    value = item.get("confidence") if isinstance(item, dict) else None
    return float(value) if isinstance(value, (int, float)) else 0.0


def _pair(tagger, left_url: str, right_url: str, tol: float, confidence_tol: float | None = None):
    (_, left), (ex, right) = tags(tagger, left_url), tags(tagger, right_url)
    if left is None and right is None:
        return None
    lp = metamorphic.tagger_positions(left or {})
    rp = metamorphic.tagger_positions(right or {})
    diff = metamorphic.compare(lp, rp, tol)
    if diff is None and confidence_tol is not None:
        kinds = [[(o.get("type"), _id(t, "category"), _id(t, "item")) for o in d["objects"] for t in o.get("tags", ())]
                 for d in (left, right)]
        if kinds[0] != kinds[1]:
            diff = f"the objects and tags differ: {kinds[0]} against {kinds[1]}"
        else:
            pairs = [(x, y) for a, b in zip(left["objects"], right["objects"], strict=False)
                     for x, y in zip(a.get("tags", ()), b.get("tags", ()), strict=False)]
            off = max((abs(_confidence(x) - _confidence(y)) for x, y in pairs), default=0.0)
            diff = f"a confidence moved by {off:.4f} (tolerance {confidence_tol})" if off > confidence_tol else None
    return ex, diff


@pytest.mark.req("TAGGER-TAGS-REPEATABLE")
def test_tags_same_request_twice_same_answer(tagger, images):
    metamorphic.check_all(
        [(name, lambda url=url: _pair(tagger, url, url, metamorphic.REPEAT_TOL, metamorphic.REPEAT_SCORE_TOL))
         for name, _, url in images],
        "tagging one image twice must give the same answer")


@pytest.mark.req("TAGGER-POSITION-FORMAT-STABLE")
def test_tags_png_and_jpeg_same_positions(tagger, image_host, images):
    def case(i: int, name: str, data: bytes):
        def compare():
            urls = {k: image_host.put(f"meta-tagger-{i}.{k}", v) for k, v in metamorphic.formats(data).items()}
            return _pair(tagger, urls["png"], urls["jpg"], metamorphic.FORMAT_TOL)
        return name, compare

    metamorphic.check_all([case(i, name, data) for i, (name, data, _) in enumerate(images)],
                          "a PNG and a quality-95 JPEG of one photo must give the same positions")


@pytest.mark.req("TAGGER-POSITION-SCALE-STABLE")
def test_tags_double_resolution_same_positions(tagger, image_host, images):
    def case(i: int, name: str, data: bytes):
        def compare():
            urls = {k: image_host.put(f"meta-tagger-{i}-{k}.jpg", v) for k, v in metamorphic.resolutions(data).items()}
            return _pair(tagger, urls["1x"], urls["2x"], metamorphic.SCALE_TOL)
        return name, compare

    metamorphic.check_all([case(i, name, data) for i, (name, data, _) in enumerate(images)],
                          "one photo at twice the resolution must give the same positions")
