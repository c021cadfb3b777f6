"""The emulator's detection on photo-like images (imagehost.photolike; issue 12 item 5): studio backdrops with
gradients, vignettes, shadows, lighting, pixel noise and JPEG artefacts."""

from __future__ import annotations

import pytest

from fashion_conformance.emulator import imaging, vision
from fashion_conformance.imagehost import factory, photolike
from fashion_conformance.imagehost.factory import GARMENTS, ItemSpec

SMOOTH = ("plain", "light", "gradient")


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    iw, ih = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _detect(shot: photolike.Photo) -> list[vision.Item]:
    return vision.detect(imaging.decode(shot.data))


def _fractions(items: list[vision.Item]) -> list[tuple[float, float, float, float]]:
    return sorted((*i.b0, *i.b1) for i in items)


def _close(a: list[tuple[float, ...]], b: list[tuple[float, ...]], tolerance: float) -> bool:
    if len(a) != len(b):
        return False
    return all(abs(u - v) <= tolerance for p, q in zip(a, b, strict=True) for u, v in zip(p, q, strict=True))


@pytest.mark.parametrize("background", SMOOTH)
@pytest.mark.parametrize("seed", range(6))
def test_every_garment_is_one_item_with_its_box(background, seed):
    shot = photolike.photo(seed, background=background, garments=1 + seed % 3, quality=75 + 4 * seed)
    items = _detect(shot)
    assert len(items) == len(shot.items), [i.box_px for i in items]
    for garment in shot.items:
        matches = [i for i in items if _iou(i.box_px, garment.box) >= 0.7]
        assert len(matches) == 1, (garment, [i.box_px for i in items])
        assert _iou(matches[0].box_px, garment.box) >= 0.9


@pytest.mark.parametrize("background", SMOOTH)
@pytest.mark.parametrize("kind", GARMENTS)
def test_the_item_type_is_the_drawn_kinds(background, kind):
    """Every kind is recognised on these backdrops (shirt SHIRT, pants PANTS, dress DRESS, skirt SKIRT, shoe
    SHOES, bag BAG); the ring handle of a bag needs a backdrop model that keeps the hole background."""
    for seed in (11, 12):
        shot = photolike.photo(seed, background=background, kinds=(kind,), quality=80)
        (item,) = _detect(shot)
        assert item.type == photolike.CATEGORY[kind], (seed, item)


@pytest.mark.parametrize("background", SMOOTH)
def test_png_and_fine_jpeg_give_the_same_boxes(background):
    for seed in (1, 4):
        png = _detect(photolike.photo(seed, background=background, garments=2, fmt="png"))
        jpeg = _detect(photolike.photo(seed, background=background, garments=2, quality=95))
        assert _close(_fractions(png), _fractions(jpeg), 0.02)
        assert [i.type for i in sorted(png, key=lambda i: i.box_px)] == \
            [i.type for i in sorted(jpeg, key=lambda i: i.box_px)]


@pytest.mark.parametrize("background", SMOOTH)
def test_twice_the_resolution_gives_the_same_normalised_boxes(background):
    seed = 9
    small = _detect(photolike.photo(seed, background=background, garments=3))
    large = _detect(photolike.photo(seed, background=background, garments=3, width=1280, height=1280))
    assert len(small) == 3
    assert _close(_fractions(small), _fractions(large), 0.02)


def test_wide_photo_with_a_strong_gradient():
    shot = photolike.photo(2, width=900, height=560, background="gradient", garments=3, noise=6, quality=75)
    items = _detect(shot)
    assert len(items) == 3
    assert all(max(_iou(i.box_px, g.box) for i in items) >= 0.9 for g in shot.items)


@pytest.mark.parametrize("seed", range(8))
def test_textured_backdrop_is_deterministic_and_bounded(seed):
    shot = photolike.photo(seed, background="textured", garments=1 + seed % 3)
    decoded = imaging.decode(shot.data)
    items = vision.detect(decoded)
    assert items == vision.detect(imaging.decode(shot.data))
    assert len(items) <= len(shot.items) + 1
    for item in items:
        assert item.type in vision.ITEM_TYPES
        vision.nhn_tags(decoded, item, "en")
        assert vision.embed(decoded, item).shape == (vision.DIM,)


def test_items_of_a_photo_are_described_like_drawn_ones():
    shot = photolike.photo(0, background="light", kinds=("skirt", "shirt"), colours=("red", "blue"),
                           patterns=("solid", "stripe"))
    assert [(g.colour, g.pattern) for g in shot.items] == [("red", "solid"), ("blue", "stripe")]
    decoded = imaging.decode(shot.data)
    items = sorted(vision.detect(decoded), key=lambda i: i.box_px)
    assert [i.type for i in items] == ["SKIRT", "SHIRT"]
    tags = [{t["attribute"]: t["labels"][0]["label"] for t in vision.nhn_tags(decoded, i, "en")} for i in items]
    assert tags[0]["color"] == "Red" and tags[1]["color"] == "Blue"
    assert tags[1]["pattern"] == "Stripe"
    assert vision.item_at(decoded, items[0].box_px).type == "SKIRT"


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
@pytest.mark.parametrize("specs", [
    [ItemSpec("rect", (0, 0, 120, 240), (35, 80, 200)), ItemSpec("shirt", (160, 40, 300, 200), (200, 30, 35))],
    [ItemSpec("rect", (0, 150, 320, 240), (40, 140, 60), "stripe"), ItemSpec("dress", (100, 10, 220, 140), (200, 30, 35))],
])
def test_drawn_items_over_the_border_keep_the_plain_backdrop(specs, fmt):
    """Items drawn over much of the border do not pass for a gradient or a texture: their boxes stay exact."""
    decoded = imaging.decode(factory.encode(factory.render(320, 240, specs), fmt))
    assert sorted(i.box_px for i in vision.detect(decoded)) == sorted(s.box for s in specs)
