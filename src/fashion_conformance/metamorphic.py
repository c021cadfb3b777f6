"""Metamorphic checks that hold for any vision model (issue 12): variants of one image and how two answers compare.

The requirements (contracts/requirements: *-REPEATABLE, *-FORMAT-STABLE, *-SCALE-STABLE, V2-SEARCH-OWN-IMAGE-FIRST)
are INTERPRETED: the documents describe detection as a function of the image and answer boxes and positions as
fractions of it, but never state these invariances. The tolerances below are the suite's, stated in each
requirement.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from PIL import Image

from . import checks, waits

REPEAT_TOL = 0.005  # boxes / positions of two answers to one request: fraction of the image's width and height
REPEAT_SCORE_TOL = 0.01  # scores and confidences of two answers to one request
FORMAT_TOL = 0.03  # a PNG and a quality-95 JPEG of one photo
SCALE_TOL = 0.03  # one photo at two resolutions (normalised coordinates)
JPEG_QUALITY = 95
DOUBLE_MAX_SIDE = 1600  # a photo whose longer side exceeds this is compared with its half instead of its double

Box = tuple[float, ...]  # (x0, y0, x1, y1) or a position (x, y), as fractions of the image


def _rgb(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as img:
        return img.convert("RGB")


def _encode(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "png":
        img.save(out, format="PNG")
    else:
        img.save(out, format="JPEG", quality=JPEG_QUALITY, subsampling=0)
    return out.getvalue()


def formats(data: bytes) -> dict[str, bytes]:
    """The photo's pixels as PNG and as a quality-95 JPEG: {"png": ..., "jpg": ...}."""
    img = _rgb(data)
    return {"png": _encode(img, "png"), "jpg": _encode(img, "jpeg")}


def resolutions(data: bytes) -> dict[str, bytes]:
    """The photo at two resolutions, both quality-95 JPEG: {"1x": ..., "2x": ...} where 2x has twice the width and
    height of 1x (1x is the photo itself, or its half when doubling would pass DOUBLE_MAX_SIDE)."""
    img = _rgb(data)
    if 2 * max(img.size) > DOUBLE_MAX_SIDE:
        small = img.resize((img.width // 2, img.height // 2), Image.Resampling.LANCZOS)
        big = img.crop((0, 0, 2 * small.width, 2 * small.height))
    else:
        small, big = img, img.resize((2 * img.width, 2 * img.height), Image.Resampling.LANCZOS)
    return {"1x": _encode(small, "jpeg"), "2x": _encode(big, "jpeg")}


def _distance(a: Box, b: Box) -> float:
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def compare(left: Sequence[Box], right: Sequence[Box], tol: float) -> str | None:
    """None when both answers hold as many boxes and each box of `left` has its own counterpart in `right` within
    `tol` on every coordinate (matched nearest first); else what differs."""
    if len(left) != len(right):
        return f"{len(left)} items against {len(right)}"
    free = list(range(len(right)))
    pairs = sorted(((_distance(a, right[j]), i, j) for i, a in enumerate(left) for j in free))
    used_left: set[int] = set()
    worst = 0.0
    for d, i, j in pairs:
        if i in used_left or j not in free:
            continue
        used_left.add(i)
        free.remove(j)
        worst = max(worst, d)
    if worst > tol:
        return f"a box moved by {worst:.4f} of the image (tolerance {tol})"
    return None


def v2_boxes(items: Sequence[dict]) -> list[Box]:
    """(x0, y0, x1, y1) of each detected item (v1, v2: b0 and b1)."""
    return [(*it["b0"], *it["b1"]) for it in items]


def tagger_positions(data: dict) -> list[Box]:
    """(x, y) of every tag of every object of a Tagger answer."""
    return [(t["position"].get("x", -1.0), t["position"].get("y", -1.0)) for obj in data.get("objects") or ()
            for t in obj.get("tags") or () if isinstance(t.get("position"), dict)]


Case = tuple[str, Callable[[], "tuple[Any, str | None] | None"]]


def check_all(cases: Sequence[Case], what: str) -> None:
    """Run each case (image name, compare): compare() gives None when the model found no item in the image, else
    (exchange, difference or None). Fails listing every image that broke the rule, with the first one's exchange;
    blocked by the model (waits.no_item) when no image had an item."""
    broken, no_item, checked = [], [], 0
    for name, compare in cases:
        result = compare()
        if result is None:
            no_item.append(name)
            continue
        checked += 1
        if result[1] is not None:
            broken.append((result[0], name, result[1]))
    if broken:
        lines = "\n  ".join(f"{name}: {why}" for _, name, why in broken)
        checks.fail(broken[0][0], f"{what}; broken for {len(broken)} of {checked} image(s):\n  {lines}")
    if not checked:
        waits.no_item(f"every sample image ({', '.join(no_item)})")
