"""Photo-like test images and the sample photo catalogue (imagehost.photolike; issue 12 item 5)."""

from __future__ import annotations

import io
from collections import Counter

import numpy as np
import pytest
import yaml
from PIL import Image

from fashion_conformance import photos
from fashion_conformance.imagehost import photolike

MANIFEST_KEYS = ["file", "productId", "name", "category1Id", "category2Id", "category3Id", "s1", "s2", "items"]


def _pixels(shot: photolike.Photo) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(shot.data)).convert("RGB"), dtype=np.int16)


@pytest.mark.parametrize("background", photolike.BACKGROUNDS)
def test_photo_is_deterministic_and_follows_the_seed(background):
    a = photolike.photo(7, background=background, garments=2)
    assert a == photolike.photo(7, background=background, garments=2)
    other = photolike.photo(8, background=background, garments=2)
    assert other.data != a.data and other.items != a.items
    assert (a.fmt, a.width, a.height, a.background) == ("jpeg", 640, 640, background)
    assert a.data.startswith(b"\xff\xd8\xff")
    assert Image.open(io.BytesIO(a.data)).size == (640, 640)


@pytest.mark.parametrize("garments", [1, 2, 3])
def test_garments_are_inside_the_image_and_do_not_overlap(garments):
    for seed in range(6):
        shot = photolike.photo(seed, width=500, height=400, background="gradient", garments=garments)
        assert len(shot.items) == garments
        for item in shot.items:
            x0, y0, x1, y1 = item.box
            assert 0 <= x0 < x1 <= 500 and 0 <= y0 < y1 <= 400
            assert item.category == photolike.CATEGORY[item.kind] and item.colour in photolike.COLOURS
        for i, a in enumerate(shot.items):
            for b in shot.items[i + 1:]:
                assert a.box[2] <= b.box[0] or b.box[2] <= a.box[0] or a.box[3] <= b.box[1] or b.box[3] <= a.box[1]


def test_garments_stand_out_where_they_are_drawn():
    shot = photolike.photo(3, background="plain", kinds=("skirt",), colours=("blue",), patterns=("solid",), noise=0,
                           fmt="png")
    (item,) = shot.items
    assert (item.kind, item.colour, item.pattern) == ("skirt", "blue", "solid")
    pixels = _pixels(shot)
    x0, y0, x1, y1 = item.box
    centre = pixels[(y0 + y1) // 2, (x0 + x1) // 2]
    corner = pixels[2, 2]
    assert np.abs(centre - corner).max() >= photolike.MIN_CONTRAST
    assert corner.min() >= 235  # an off-white studio backdrop


def test_same_scene_in_other_formats_and_sizes():
    jpeg = photolike.photo(5, garments=3, background="light")
    png = photolike.photo(5, garments=3, background="light", fmt="png")
    fine = photolike.photo(5, garments=3, background="light", quality=95)
    assert png.data.startswith(b"\x89PNG") and png.items == jpeg.items == fine.items
    assert len(fine.data) > len(jpeg.data)
    big = photolike.photo(5, garments=3, background="light", width=1280, height=1280)
    assert [i.kind for i in big.items] == [i.kind for i in jpeg.items]
    for small, large in zip(jpeg.items, big.items, strict=True):
        assert max(abs(a - b) for a, b in zip(jpeg.fractions(small), big.fractions(large), strict=True)) <= 1 / 640
    # The backdrop scales too: the same shade at the same fraction of the image.
    assert np.abs(_pixels(jpeg)[::64, ::64] - _pixels(big)[::128, ::128]).mean() < 6


def test_backgrounds_look_as_named():
    def border_spread(background: str) -> float:
        pixels = _pixels(photolike.photo(2, background=background, noise=0, fmt="png"))
        return float(np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]]).std(axis=0).max())

    spreads = {background: border_spread(background) for background in photolike.BACKGROUNDS}
    assert spreads["plain"] < 3 < spreads["light"] < spreads["gradient"]
    assert spreads["gradient"] > 15 and spreads["textured"] > 15


def test_pixel_noise_follows_the_noise_argument():
    quiet = _pixels(photolike.photo(1, noise=0, fmt="png"))
    noisy = _pixels(photolike.photo(1, noise=6, fmt="png"))
    assert 4 < float((noisy - quiet)[:40, :40].std()) < 8


@pytest.mark.parametrize(("kwargs", "word"), [
    ({"background": "studio"}, "background"), ({"fmt": "gif"}, "format"), ({"garments": 4}, "garments"),
    ({"garments": 0}, "garments"), ({"kinds": ("hat",)}, "kind"), ({"colours": ("mauve",)}, "colour"),
    ({"patterns": ("paisley",)}, "pattern"), ({"kinds": ("shirt", "bag"), "colours": ("red",)}, "entry"),
])
def test_photo_refuses_unknown_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        photolike.photo(0, **kwargs)


# ---------------------------------------------------------------- catalogue

def test_catalogue_manifest_keys_values_and_files(tmp_path):
    folder = photolike.write_catalogue(tmp_path / "photos")
    manifest = yaml.safe_load((folder / "manifest.yaml").read_text(encoding="utf-8"))
    assert list(manifest) == ["photos"]
    entries = manifest["photos"]
    assert len(entries) == 13
    assert sorted(p.name for p in folder.iterdir()) == sorted([e["file"] for e in entries] + ["manifest.yaml"])
    for entry in entries:
        assert list(entry) == MANIFEST_KEYS
        for key in MANIFEST_KEYS[1:-1]:
            assert isinstance(entry[key], str) and "," not in entry[key] and ":" not in entry[key], (entry, key)
        assert entry["file"] == entry["productId"] + ".jpg"
        assert entry["category1Id"] in ("top", "bottom", "shoes", "bags")
        assert entry["s1"] in photolike.COLOURS and entry["s2"] in ("", "sale", "new")
        with Image.open(folder / entry["file"]) as img:
            assert (img.format, img.size) == ("JPEG", (640, 640))
        assert 1 <= len(entry["items"]) <= 3
        assert entry["items"][0]["category"] == photolike.CATEGORY[entry["category2Id"]]
        for item in entry["items"]:
            assert list(item) == ["category", "box"] and item["category"] in photolike.CATEGORY.values()
            x0, y0, x1, y1 = item["box"]
            assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
            assert all(v == round(v, 4) for v in item["box"])
    assert len({e["productId"] for e in entries}) == len(entries)


def test_catalogue_values_vary_for_filters(tmp_path):
    entries = yaml.safe_load((photolike.write_catalogue(tmp_path) / "manifest.yaml").read_text())["photos"]
    values = {key: Counter(e[key] for e in entries) for key in MANIFEST_KEYS[3:-1]}
    assert len(values["s1"]) >= 3 and len(values["s2"]) >= 2 and len(values["category1Id"]) >= 2
    assert all(len(found) >= 2 for found in values.values()), values
    garments = Counter(len(e["items"]) for e in entries)
    assert garments[1] > garments[2] + garments[3] and garments[2] >= 1 and garments[3] >= 1


def test_catalogue_is_deterministic_and_sized_by_its_arguments(tmp_path):
    a = photolike.write_catalogue(tmp_path / "a", 4, seed=3, backgrounds=("gradient",), textured=2)
    b = photolike.write_catalogue(tmp_path / "b", 4, seed=3, backgrounds=("gradient",), textured=2)
    files = sorted(p.name for p in a.iterdir())
    assert files == sorted(p.name for p in b.iterdir()) and len(files) == 7
    assert all((a / name).read_bytes() == (b / name).read_bytes() for name in files)
    other = photolike.write_catalogue(tmp_path / "c", 4, seed=4, backgrounds=("gradient",), textured=2)
    assert (other / "photo-00.jpg").read_bytes() != (a / "photo-00.jpg").read_bytes()


def test_the_photo_loader_accepts_the_catalogue(tmp_path):
    catalogue = photos.load(photolike.write_catalogue(tmp_path))
    assert len(catalogue.photos) == 13
    first = catalogue.photos[0]
    assert (first.product_id, first.fmt, first.width, first.height) == ("photo-00", "jpeg", 640, 640)
    assert first.items[0].category == "SHIRT" and first.items[0].box is not None
