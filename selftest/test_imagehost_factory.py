"""The image factory: exact boxes, patterns, encodings, exact-size padding, product photos."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from fashion_conformance.emulator import imaging
from fashion_conformance.imagehost import factory
from fashion_conformance.imagehost.factory import ItemSpec

MAGIC = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "webp": (b"RIFF",),
    "bmp": (b"BM",),
    "tiff": (b"II*\x00", b"MM\x00*"),
}


def _foreground_box(img: Image.Image) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero((np.asarray(img) != 255).any(axis=2))
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


@pytest.mark.parametrize("kind", factory.KINDS)
def test_each_kind_fills_its_box_exactly(kind):
    box = (17, 23, 141, 190)
    img = factory.render(200, 220, [ItemSpec(kind, box, (30, 60, 180))])
    assert img.size == (200, 220) and img.mode == "RGB"
    assert _foreground_box(img) == box


@pytest.mark.parametrize("pattern", factory.PATTERNS)
def test_patterns_stay_inside_the_silhouette_and_differ(pattern):
    box = (10, 10, 110, 130)
    img = factory.render(120, 140, [ItemSpec("rect", box, (200, 40, 40), pattern)])
    assert _foreground_box(img) == box
    colours = np.unique(np.asarray(img)[10:130, 10:110].reshape(-1, 3), axis=0)
    assert (len(colours) == 1) == (pattern == "solid")


def test_later_items_are_drawn_on_top_and_background_is_honoured():
    items = [ItemSpec("rect", (0, 0, 50, 50), (255, 0, 0)), ItemSpec("rect", (25, 25, 75, 75), (0, 0, 255))]
    px = factory.render(100, 100, items, background=(10, 20, 30)).load()
    assert px[30, 30] == (0, 0, 255) and px[5, 5] == (255, 0, 0) and px[99, 99] == (10, 20, 30)


@pytest.mark.parametrize("spec", [("hat", (0, 0, 5, 5), "solid"), ("rect", (0, 0, 5, 5), "plaid"),
                                  ("rect", (5, 0, 5, 5), "solid")])
def test_bad_item_specs_are_refused(spec):
    kind, box, pattern = spec
    with pytest.raises(ValueError):
        ItemSpec(kind, box, (0, 0, 0), pattern)


@pytest.mark.parametrize("fmt", sorted(factory.FORMATS))
def test_encode_produces_the_format(fmt):
    data = factory.encode(factory.render(64, 48, [ItemSpec("ellipse", (8, 8, 40, 40), (0, 128, 0))]), fmt)
    assert data.startswith(MAGIC[fmt])
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == factory.FORMATS[fmt] and img.size == (64, 48)


def test_encode_refuses_unknown_format():
    with pytest.raises(ValueError):
        factory.encode(Image.new("RGB", (4, 4)), "heic")


@pytest.mark.parametrize("fmt", ["png", "jpeg", "gif"])
@pytest.mark.parametrize("size", [5_000_000, 1_000_000])
def test_pad_to_size_is_exact_and_still_decodable(fmt, size):
    base = factory.product_image(3, fmt=fmt)
    padded = factory.pad_to_size(base, fmt, size)
    assert len(padded) == size
    decoded = imaging.decode(padded)
    assert (decoded.fmt, decoded.width, decoded.height) == (fmt, 320, 320)
    assert np.array_equal(decoded.rgb, imaging.decode(base).rgb)


@pytest.mark.parametrize(("fmt", "smallest_gap"), [("png", 12), ("jpeg", 4), ("gif", 5)])
def test_pad_to_size_small_gaps(fmt, smallest_gap):
    base = factory.product_image(1, 80, 80, fmt=fmt)
    assert factory.pad_to_size(base, fmt, len(base)) == base
    for gap in (smallest_gap, smallest_gap + 1, 255, 256, 257, 65537, 65538, 131075):
        padded = factory.pad_to_size(base, fmt, len(base) + gap)
        assert len(padded) == len(base) + gap
        imaging.decode(padded)
    with pytest.raises(ValueError):
        factory.pad_to_size(base, fmt, len(base) + smallest_gap - 1)
    with pytest.raises(ValueError):
        factory.pad_to_size(base, fmt, len(base) - 1)


def test_pad_to_size_refuses_other_formats():
    data = factory.encode(Image.new("RGB", (8, 8)), "webp")
    with pytest.raises(ValueError):
        factory.pad_to_size(data, "webp", len(data) + 100)


def test_product_image_is_deterministic_and_varies_with_seed():
    assert factory.product_image(7) == factory.product_image(7)
    images = {factory.product_image(seed, 96, 96, fmt="png") for seed in range(24)}
    assert len(images) == 24
    with Image.open(io.BytesIO(factory.product_image(5, 200, 150, fmt="gif"))) as img:
        assert img.format == "GIF" and img.size == (200, 150)
