"""The emulator's decoding, detection, embedding, similarity and tags (imaging.py, vision.py, labels.py)."""

from __future__ import annotations

import io
import random
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from fashion_conformance.emulator import imaging, labels, vision
from fashion_conformance.emulator.imaging import ImageFormatError
from fashion_conformance.imagehost import factory
from fashion_conformance.imagehost.factory import ItemSpec

# Pillow's bomb warning is an error in the emulator (imaging sets the filter at import); keep it so here.
pytestmark = pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")

RED, BLUE, GREEN = (200, 30, 35), (35, 80, 200), (40, 140, 60)


def _decode(img: Image.Image, fmt: str = "png") -> imaging.Decoded:
    return imaging.decode(factory.encode(img, fmt))


def _scene(fmt: str = "png", size: tuple[int, int] = (640, 480)) -> tuple[imaging.Decoded, list[ItemSpec]]:
    specs = [
        ItemSpec("shirt", (40, 30, 260, 230), RED),
        ItemSpec("pants", (300, 20, 420, 300), BLUE, "stripe"),
        ItemSpec("skirt", (450, 40, 610, 200), GREEN, "dot"),
        ItemSpec("shoe", (60, 330, 300, 430), (110, 70, 40)),
    ]
    return _decode(factory.render(*size, specs), fmt), specs


def _png_chunk(ctype: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", zlib.crc32(ctype + payload))


# ---------------------------------------------------------------- decode

@pytest.mark.parametrize("fmt", ["png", "jpeg", "gif"])
def test_decode_accepts_documented_formats(fmt):
    decoded = _decode(factory.render(90, 60, [ItemSpec("rect", (10, 10, 50, 40), RED)]), fmt)
    assert (decoded.fmt, decoded.width, decoded.height) == (fmt, 90, 60)
    assert decoded.rgb.shape == (60, 90, 3) and decoded.rgb.dtype == np.uint8
    assert decoded.scale == (1.0, 1.0)
    assert np.abs(decoded.rgb[20, 20].astype(int) - RED).max() < 12 and decoded.rgb[55, 85].min() > 240


@pytest.mark.parametrize("fmt", ["webp", "bmp", "tiff"])
def test_decode_refuses_other_image_formats(fmt):
    with pytest.raises(ImageFormatError) as err:
        _decode(Image.new("RGB", (40, 40), RED), fmt)
    assert err.value.kind == "unsupported"


@pytest.mark.parametrize("data", [b"", b"hello", b"<html>not an image</html>", b"\x89PN", bytes(1000), b"GIF88a" + bytes(20)])
def test_decode_refuses_garbage(data):
    with pytest.raises(ImageFormatError) as err:
        imaging.decode(data)
    assert err.value.kind == "unsupported"


def test_decode_honours_allowed():
    data = factory.encode(Image.new("RGB", (8, 8)), "gif")
    with pytest.raises(ImageFormatError) as err:
        imaging.decode(data, allowed=("png", "jpeg"))
    assert err.value.kind == "unsupported"


@pytest.mark.parametrize("fmt", ["png", "jpeg", "gif"])
def test_decode_refuses_truncated_files(fmt):
    data = factory.product_image(2, 200, 200, fmt=fmt)
    for cut in (len(data) // 2, len(data) // 5, 40):
        with pytest.raises(ImageFormatError) as err:
            imaging.decode(data[:cut])
        assert err.value.kind == "corrupt"


def test_decode_refuses_a_real_decompression_bomb():
    out = io.BytesIO()
    Image.new("1", (8000, 6000)).save(out, "PNG")  # 48 megapixels in a few kilobytes
    assert len(out.getvalue()) < 100_000
    with pytest.raises(ImageFormatError) as err:
        imaging.decode(out.getvalue())
    assert err.value.kind == "bomb"


@pytest.mark.parametrize("side", [7000, 100_000])
def test_decode_refuses_huge_declared_png_before_allocating(side):
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64)) \
        + _png_chunk(b"IEND", b"")
    with pytest.raises(ImageFormatError) as err:
        imaging.decode(data)
    assert err.value.kind == "bomb"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decode_checks_the_pixel_count_itself_when_the_warning_is_not_an_error():
    out = io.BytesIO()
    Image.new("1", (7000, 6000)).save(out, "PNG")
    with pytest.raises(ImageFormatError) as err:
        imaging.decode(out.getvalue())
    assert err.value.kind == "bomb"


@pytest.mark.parametrize("side", [7000, 65000])
def test_decode_refuses_huge_declared_jpeg_and_gif(side):
    jpeg = bytearray(factory.encode(Image.new("RGB", (16, 16), RED), "jpeg"))
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = struct.pack(">HH", side, side)
    gif = bytearray(factory.encode(Image.new("RGB", (16, 16), RED), "gif"))
    gif[6:10] = struct.pack("<HH", side, side)
    for data in (bytes(jpeg), bytes(gif)):
        with pytest.raises(ImageFormatError) as err:
            imaging.decode(data)
        assert err.value.kind == "bomb"


def test_decode_takes_the_first_gif_frame_only():
    frames = [Image.new("RGB", (30, 30), colour) for colour in (RED, BLUE, GREEN)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=50)
    decoded = imaging.decode(out.getvalue())
    assert np.abs(decoded.rgb[15, 15].astype(int) - RED).max() < 10


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "L", "I;16", "CMYK"])
def test_decode_normalises_modes_and_puts_transparency_on_white(mode):
    img = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    img.paste((20, 20, 20, 255), (10, 10, 30, 30))
    if mode == "I;16":
        img = Image.fromarray((np.asarray(img.convert("L"), dtype=np.uint16) * 257).astype(np.uint16))
    elif mode != "RGBA":
        img = img.convert(mode) if mode != "P" else img.convert("RGB").convert("P")
    out = io.BytesIO()
    img.save(out, "JPEG" if mode == "CMYK" else "PNG")
    decoded = imaging.decode(out.getvalue())
    assert decoded.rgb.shape == (40, 40, 3)
    assert decoded.rgb[20, 20].max() < 60
    if mode in ("RGBA", "LA"):
        assert tuple(decoded.rgb[2, 2]) == (255, 255, 255)


def test_decode_reduces_very_large_images_but_keeps_source_geometry():
    box = (600, 500, 1800, 1700)
    decoded = _decode(factory.render(2600, 2000, [ItemSpec("rect", box, BLUE)]))
    assert (decoded.width, decoded.height) == (2600, 2000)
    assert decoded.rgb.shape[0] * decoded.rgb.shape[1] <= imaging.ANALYSIS_MAX_PIXELS
    assert decoded.scale[0] > 1
    (item,) = vision.detect(decoded)
    assert max(abs(a - b) for a, b in zip(item.box_px, box, strict=True)) <= 2 * decoded.scale[0]


def test_decode_never_raises_anything_else_on_mutated_bytes():
    rng = random.Random(1234)
    for fmt in ("png", "jpeg", "gif"):
        base = bytearray(factory.product_image(4, 64, 64, fmt=fmt))
        for _ in range(40):
            data = bytearray(base)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            try:
                decoded = imaging.decode(bytes(data))
            except ImageFormatError as err:
                assert err.kind in ("unsupported", "corrupt", "bomb")
            else:
                assert decoded.rgb.ndim == 3


# ---------------------------------------------------------------- detect

def test_detect_finds_every_item_with_its_box():
    decoded, specs = _scene("png")
    items = vision.detect(decoded)
    assert sorted(i.box_px for i in items) == sorted(s.box for s in specs)
    assert [i.area_px for i in items] == sorted((i.area_px for i in items), reverse=True)


@pytest.mark.parametrize("fmt", ["jpeg", "gif"])
def test_detect_boxes_survive_lossy_formats(fmt):
    decoded, specs = _scene(fmt)
    items = vision.detect(decoded)
    assert len(items) == len(specs)
    for spec in specs:
        assert min(max(abs(a - b) for a, b in zip(i.box_px, spec.box, strict=True)) for i in items) <= 3


def test_detect_geometry_invariants():
    decoded, _ = _scene("jpeg", (500, 700))
    for item in vision.detect(decoded):
        x0, y0, x1, y1 = item.box_px
        assert 0 <= x0 < x1 <= decoded.width and 0 <= y0 < y1 <= decoded.height
        assert (item.width_px, item.height_px) == (x1 - x0, y1 - y0)
        for axis in (0, 1):
            assert 0 <= item.b0[axis] < item.b1[axis] <= 1
            assert item.center[axis] == pytest.approx((item.b0[axis] + item.b1[axis]) / 2)
        assert item.b0 == pytest.approx((x0 / 500, y0 / 700)) and item.b1 == pytest.approx((x1 / 500, y1 / 700))
        assert 0 < item.score <= 1
        assert 0 < item.area_px <= item.width_px * item.height_px
        assert item.type in vision.ITEM_TYPES


@pytest.mark.parametrize(
    ("size", "w", "h", "kept"),
    [((200, 150), 20, 20, False), ((200, 150), 21, 5, True), ((200, 150), 5, 21, True),
     ((200, 150), 20, 21, True), ((200, 150), 21, 21, True), ((200, 150), 1, 1, False),
     ((1600, 1200), 20, 20, False), ((1600, 1200), 21, 20, True)],
)
def test_detect_applies_the_min_item_rule_exactly(size, w, h, kept):
    assert vision.min_item_px() == 20
    box = (97, 61, 97 + w, 61 + h)
    items = vision.detect(_decode(factory.render(*size, [ItemSpec("rect", box, RED)])))
    assert [i.box_px for i in items] == ([box] if kept else [])


def test_detect_on_background_only_is_empty():
    assert vision.detect(_decode(Image.new("RGB", (300, 200), (255, 255, 255)), "jpeg")) == []
    assert vision.detect(_decode(Image.new("RGB", (300, 200), (90, 90, 90)))) == []


def test_detect_uses_the_border_colour_as_background():
    box = (50, 40, 150, 160)
    img = factory.render(220, 200, [ItemSpec("ellipse", box, (250, 250, 250))], background=(30, 30, 90))
    assert [i.box_px for i in vision.detect(_decode(img))] == [box]


def test_detect_merges_an_item_nested_in_another():
    specs = [ItemSpec("rect", (20, 20, 180, 180), BLUE), ItemSpec("rect", (60, 60, 120, 120), (255, 255, 255)),
             ItemSpec("rect", (70, 70, 110, 110), RED)]
    assert [i.box_px for i in vision.detect(_decode(factory.render(200, 200, specs)))] == [(20, 20, 180, 180)]


@pytest.mark.parametrize(("kind", "box", "expected"), [
    ("shirt", (40, 40, 280, 250), "SHIRT"), ("pants", (100, 20, 220, 300), "PANTS"),
    ("dress", (90, 10, 230, 310), "DRESS"), ("skirt", (60, 60, 260, 240), "SKIRT"),
    ("shoe", (30, 120, 290, 220), "SHOES"), ("bag", (70, 60, 250, 260), "BAG"),
    ("rect", (80, 80, 240, 240), "TOP"),
])
def test_detect_types_follow_the_silhouette(kind, box, expected):
    (item,) = vision.detect(_decode(factory.render(320, 320, [ItemSpec(kind, box, BLUE)]), "jpeg"))
    assert item.type == expected


def test_item_at_rebuilds_a_detected_item():
    decoded, _ = _scene("jpeg")
    for item in vision.detect(decoded):
        again = vision.item_at(decoded, item.box_px)
        assert again == item
    for bad in ((0, 0, 0, 10), (-1, 0, 10, 10), (0, 0, 641, 10), (5, 5, 4, 9)):
        with pytest.raises(ValueError):
            vision.item_at(decoded, bad)


# ---------------------------------------------------------------- embed and similarity

def test_embed_is_a_deterministic_unit_vector():
    decoded, _ = _scene("jpeg")
    item = vision.detect(decoded)[0]
    vector = vision.embed(decoded, item)
    assert vector.shape == (vision.DIM,) and vector.dtype == np.float32
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)
    assert np.array_equal(vector, vision.embed(_scene("jpeg")[0], item))
    whole = vision.embed(decoded, None)
    assert whole.shape == (vision.DIM,) and not np.array_equal(whole, vector)


def test_similarity_of_a_vector_to_itself_is_one():
    decoded, _ = _scene()
    vectors = np.stack([vision.embed(decoded, i) for i in vision.detect(decoded)])
    sims = vision.similarity(vectors[0], vectors)
    assert sims[0] == pytest.approx(1.0, abs=1e-6)
    assert np.all((sims > 0) & (sims <= 1)) and np.all(sims[1:] < 0.9)
    assert float(vision.similarity(vectors[1], vectors[1])) == pytest.approx(1.0, abs=1e-6)


def test_similarity_stays_positive_for_opposite_vectors():
    q = np.zeros(vision.DIM, np.float32)
    q[0] = 1
    sims = vision.similarity(q, np.stack([-q, np.zeros_like(q), q]))
    assert np.all(sims > 0) and sims[2] == 1.0


@pytest.mark.parametrize("fmt", ["jpeg", "gif"])
def test_embedding_survives_reencoding(fmt):
    png, _ = _scene("png")
    other, _ = _scene(fmt)
    for a, b in zip(vision.detect(png), vision.detect(other), strict=True):
        assert float(vision.similarity(vision.embed(png, a), vision.embed(other, b))) >= 0.95


def test_embedding_separates_colour_and_shape():
    def vec(kind, colour, box=(60, 40, 260, 280)):
        decoded = _decode(factory.render(320, 320, [ItemSpec(kind, box, colour)]), "jpeg")
        return vision.embed(decoded, vision.detect(decoded)[0])

    base = vec("dress", RED)
    near = float(vision.similarity(base, vec("dress", (210, 40, 40), (70, 30, 270, 275))))
    other_shape = float(vision.similarity(base, vec("shoe", RED, (20, 120, 300, 220))))
    other_colour = float(vision.similarity(base, vec("dress", BLUE)))
    assert near >= 0.95
    assert other_colour < 0.7 and other_shape < near
    assert other_colour < other_shape


def test_catalog_items_are_distinguishable():
    products = [imaging.decode(factory.product_image(seed)) for seed in range(24)]
    items = [vision.detect(p) for p in products]
    assert all(len(found) == 1 for found in items)
    matrix = np.stack([vision.embed(p, found[0]) for p, found in zip(products, items, strict=True)])
    for seed, product in enumerate(products):
        again = imaging.decode(factory.encode(Image.fromarray(product.rgb), "png"))
        sims = vision.similarity(vision.embed(again, vision.detect(again)[0]), matrix)
        assert int(np.argmax(sims)) == seed and sims[seed] >= 0.95


# ---------------------------------------------------------------- tags

def _tags(kind, colour, pattern="solid", lang="en", box=(40, 40, 280, 250)):
    decoded = _decode(factory.render(320, 320, [ItemSpec(kind, box, colour, pattern)]), "jpeg")
    item = vision.detect(decoded)[0]
    return {t["attribute"]: t["labels"] for t in vision.nhn_tags(decoded, item, lang)}


def test_tags_structure_and_scores():
    tags = _tags("shirt", RED)
    assert {"category", "color", "pattern", "fabric", "age", "gender", "fit"} <= set(tags)
    for found in tags.values():
        assert len(found) >= 1
        for entry in found:
            assert isinstance(entry["label"], str) and entry["label"]
            assert 0 < entry["score"] <= 1
    assert tags["category"][0]["label"] == "Blouse" and tags["color"][0]["label"] == "Red"


@pytest.mark.parametrize("pattern", factory.PATTERNS)
def test_tags_recognise_the_pattern(pattern):
    expected = {"solid": "Solid", "stripe": "Stripe", "check": "Check", "dot": "Dot"}[pattern]
    assert _tags("rect", BLUE, pattern)["pattern"][0]["label"] == expected
    assert _tags("skirt", GREEN, pattern, box=(40, 60, 280, 260))["pattern"][0]["label"] == expected


@pytest.mark.parametrize(("colour", "name"), [(RED, "Red"), (BLUE, "Blue"), (GREEN, "Green"), ((20, 20, 20), "Black"),
                                             ((128, 128, 128), "Gray"), ((240, 215, 40), "Yellow")])
def test_tags_name_the_dominant_colour(colour, name):
    assert _tags("shirt", colour)["color"][0]["label"] == name


def test_tag_language_changes_every_label():
    by_lang = {lang: _tags("skirt", (115, 70, 40), lang=lang, box=(40, 60, 280, 260)) for lang in labels.LANGS}
    assert by_lang["en"]["category"][0]["label"] == "Skirt"
    assert by_lang["ko"]["category"][0]["label"] == "스커트"
    assert by_lang["ja"]["category"][0]["label"] == "スカート"
    assert by_lang["ko"]["color"][0]["label"] == "브라운/갈색"
    for attribute in by_lang["en"]:
        texts = {by_lang[lang][attribute][0]["label"] for lang in labels.LANGS}
        assert len(texts) == 3, attribute
        scores = {by_lang[lang][attribute][0]["score"] for lang in labels.LANGS}
        assert len(scores) == 1


def test_tags_refuse_unknown_language():
    decoded, _ = _scene()
    with pytest.raises(ValueError):
        vision.nhn_tags(decoded, vision.detect(decoded)[0], "jp")


def test_every_label_has_three_distinct_texts():
    for attribute, keys in labels.LABELS.items():
        for key, texts in keys.items():
            assert len(set(texts)) == len(labels.LANGS) and all(texts), (attribute, key)
            assert [labels.label(attribute, key, lang) for lang in labels.LANGS] == list(texts)
