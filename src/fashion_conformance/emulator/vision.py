"""The emulator's vision: items on a studio backdrop, embeddings, similarity and NHN tag attributes.

An item is a connected foreground region (pixels far from the backdrop: the border's dominant colour, or for
photos a smooth gradient fitted to the border, or a blurred texture; see _Backdrop). An item whose width and
height are both <= the documented minimum (contracts v1 limit image.min_item_px,
nhn-ai-fashion-v1.0-api-guide.en.txt / Input Image Guide) is not recognised. Everything here is
deterministic and pure (thread-safe): callers run it off the event loop.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from PIL import Image
from scipy import ndimage

from fashion_conformance import contracts
from fashion_conformance.emulator.imaging import Decoded
from fashion_conformance.emulator.labels import LANGS, label

ITEM_TYPES: tuple[str, ...] = ("TOP", "SHIRT", "JACKET", "PANTS", "SKIRT", "DRESS", "SHOES", "BAG")
FOREGROUND_DISTANCE = 40
"""A pixel whose colour differs from the background by more than this in any channel is foreground."""
MAX_ITEMS = 16
_MERGE_OVERLAP = 0.6  # boxes whose intersection covers this much of the smaller one become one item
_MAX_CANDIDATES = 64
_SAMPLE = 2048  # pixels sampled for colour statistics
_SHAPE_SIDE = 128  # silhouettes are classified at most this many pixels wide and high
_REGION_SIDE = 384  # items are described (embedding, tags) at most this many pixels wide and high

_DEGREE = 3  # a smooth backdrop is a cubic in the position: fixed by the border alone (no cubic vanishes on it)
_POWERS = tuple((i, j) for i in range(_DEGREE + 1) for j in range(_DEGREE + 1 - i))
_SEGMENTS = 24  # border segments per side whose medians a smooth backdrop is fitted to
_LOOP = np.concatenate([np.arange(_SEGMENTS), 3 * _SEGMENTS + np.arange(_SEGMENTS),  # top, right,
                        2 * _SEGMENTS - 1 - np.arange(_SEGMENTS), 3 * _SEGMENTS - 1 - np.arange(_SEGMENTS)])  # bottom, left
_JUMP = 24  # grey levels: the most a smooth backdrop changes between kept segments next to each other on the border
_FIT_TOLERANCE = 6.0  # grey levels: segments this close to the backdrop fit are kept for the next fit
_NEAR = FOREGROUND_DISTANCE // 4  # border pixels this close to a backdrop (all channels) are explained by it
_BETTER = 0.05  # a smooth backdrop must explain this much more of the border than the dominant colour
_EXPLAINED = 0.9  # a backdrop that explains this much of the border is not textured
_TEXTURE_SIDE = 640  # border neighbours compared for texture are 1/this of the shorter side apart (or 1 px)
_TEXTURED = 6.0  # pixel-to-pixel noise (grey levels) along a side of the border above which it is textured
_SPECK_BLURS = 3  # on a textured backdrop, components of fewer pixels than (this many blur sides)^2 are texture
_TEXTURE_SIGMAS = 5.0  # a textured backdrop's threshold: this many spreads of its blurred border
_EIGHT = np.ones((3, 3), dtype=bool)
_WEIGHTS = {"colour": 0.55, "shape": 0.25, "aspect": 0.10, "texture": 0.10}
_SHAPE_GRID = 8
_ASPECT_CENTRES = np.linspace(-2.0, 2.0, 9)
_GRID = np.array([0, 64, 128, 192, 255], dtype=np.uint8)
_PALETTE_RGB = np.stack(np.meshgrid(_GRID, _GRID, _GRID, indexing="ij"), axis=-1).reshape(-1, 3)
_COLOUR_SIGMA = 12.0
DIM = len(_PALETTE_RGB) + _SHAPE_GRID * _SHAPE_GRID + len(_ASPECT_CENTRES) + 4
"""Length of every embedding vector."""

_NAMED_RGB: dict[str, tuple[int, int, int]] = {
    "black": (25, 25, 25), "white": (245, 245, 245), "gray": (128, 128, 128), "beige": (222, 204, 170),
    "brown": (115, 70, 40), "red": (200, 30, 35), "pink": (240, 150, 180), "orange": (240, 130, 30),
    "yellow": (240, 215, 40), "khaki": (130, 125, 75), "green": (40, 140, 60), "skyblue": (120, 180, 230),
    "blue": (35, 80, 200), "navy": (25, 35, 85), "purple": (120, 50, 150),
}
_NOMINAL_ASPECT = {"TOP": 1.0, "SHIRT": 0.9, "JACKET": 1.2, "PANTS": 1.6, "SKIRT": 0.9, "DRESS": 1.6}
_UPPER = ("TOP", "SHIRT", "JACKET")
_Group = tuple[list[int], tuple[int, int, int, int], int]  # component ids, analysis box, pixel count


@dataclass(frozen=True)
class Item:
    """One detected item. Boxes are source pixels with exclusive ends; b0/b1/center are fractions."""

    box_px: tuple[int, int, int, int]
    b0: tuple[float, float]
    b1: tuple[float, float]
    center: tuple[float, float]
    score: float
    area_px: int
    type: str
    width_px: int
    height_px: int


@dataclass(frozen=True)
class Analysis:
    """Pixel statistics of one item (or the whole image) that tags are derived from."""

    type: str
    colors: tuple[tuple[str, float], ...]  # named colours by pixel fraction, descending, at most 3
    pattern: str  # solid | stripe | check | dot
    pattern_score: float
    contrast: float  # luminance standard deviation inside the item
    aspect: float  # height / width in source pixels
    flare: float  # mean width of the bottom quarter / mean width of the top quarter


@cache
def min_item_px() -> int:
    """Largest width-and-height (px) of an item that is still not recognised (documented: 20)."""
    return int(contracts.limit("v1", "image.min_item_px").value)


# ---------------------------------------------------------------- detection

def detect(img: Decoded) -> list[Item]:
    """Items of the image, largest area first; [] when the image holds only background."""
    rgb = img.rgb
    backdrop = _background(rgb)
    mask = _foreground(rgb, backdrop)
    speck = (_SPECK_BLURS * backdrop.blur) ** 2 if backdrop.blur > 1 else 0  # texture that survived the blur
    labels, count = ndimage.label(mask, structure=_EIGHT)
    if count == 0:
        return []
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    sx, sy = img.scale
    limit = min_item_px()
    groups: list[_Group] = []
    for index, sl in enumerate(ndimage.find_objects(labels), start=1):
        box = (sl[1].start, sl[0].start, sl[1].stop, sl[0].stop)
        if round((box[2] - box[0]) * sx) <= limit and round((box[3] - box[1]) * sy) <= limit:
            continue
        if areas[index] < speck:
            continue
        groups.append(([index], box, int(areas[index])))
    groups.sort(key=lambda g: (-g[2], g[1]))
    groups = _merge(groups[:_MAX_CANDIDATES])
    groups.sort(key=lambda g: (-g[2], g[1]))
    items = []
    for ids, box, _ in groups[:MAX_ITEMS]:
        part = labels[box[1]:box[3], box[0]:box[2]]
        region = np.isin(part, ids) if len(ids) > 1 else part == ids[0]
        items.append(_make_item(img, _to_source(img, box), region))
    return items


def item_at(img: Decoded, box_px: tuple[int, int, int, int]) -> Item:
    """The item in a given source-pixel box (e.g. one carried by a link); ValueError if outside the image."""
    x0, y0, x1, y1 = (int(v) for v in box_px)
    if not (0 <= x0 < x1 <= img.width and 0 <= y0 < y1 <= img.height):
        raise ValueError(f"box {box_px} is not inside a {img.width}x{img.height} image")
    region = _box_foreground(img.rgb, _background(img.rgb), _to_analysis(img, (x0, y0, x1, y1)))
    return _make_item(img, (x0, y0, x1, y1), region if region.any() else np.ones(region.shape, dtype=bool))


@dataclass(frozen=True, eq=False)
class _Backdrop:
    """What detection takes for background: the border's dominant colour (flat), or a smooth fit to the border.

    A studio photo's backdrop is rarely one colour. A gradient or vignette is modelled by a cubic in the image
    position fitted to the border (robust to items that touch it), kept when it explains clearly more of the
    border than the dominant colour; a textured backdrop (wood, fabric: busy along the border) is compared after a
    box blur, with a threshold raised to the blurred border's spread. Drawn images (a plain border) keep the
    dominant colour and FOREGROUND_DISTANCE exactly.
    """

    colour: np.ndarray  # (3,) int32 dominant border colour (a texture: its middle shade); used when flat
    coef: np.ndarray | None  # (len(_POWERS), 3) cubic in positions scaled to -1..1 (_terms); None: flat
    shape: tuple[int, int]  # (H, W) of the raster the backdrop was fitted to
    threshold: int
    blur: int  # side of the box blur applied before comparing (raster pixels); 1: none


def _background(rgb: np.ndarray) -> _Backdrop:
    """The backdrop of a raster (see _Backdrop)."""
    h, w = rgb.shape[:2]
    border = _border(rgb)
    codes = ((border >> 4) * np.array([256, 16, 1])).sum(axis=1)
    top = np.bincount(codes, minlength=4096).argmax()
    colour = np.round(border[codes == top].mean(axis=0)).astype(np.int32)
    if min(h, w) < 2 * _SEGMENTS:
        return _Backdrop(colour, None, (h, w), FOREGROUND_DISTANCE, 1)
    residual = border - colour
    share = (np.abs(residual).max(axis=1) <= _NEAR).mean()
    coef = None
    if share < 1 - _BETTER:
        terms = _terms(*_border_positions(h, w), h, w)
        coef = _fit_border(border, terms, h, w)
        if coef is not None:
            fitted = border - np.rint(terms @ coef)
            fitted_share = (np.abs(fitted).max(axis=1) <= _NEAR).mean()
            if fitted_share > share + _BETTER:
                residual, share = fitted, fitted_share
            else:
                coef = None
    if share >= _EXPLAINED or _busy_sides(border, h, w) <= _TEXTURED:
        return _Backdrop(colour, coef, (h, w), FOREGROUND_DISTANCE, 1)
    blur = max(3, round(min(h, w) / 64)) | 1
    bands = [rgb[: 2 * blur], rgb[-2 * blur:], rgb[:, : 2 * blur], rgb[:, -2 * blur:]]
    smooth = [ndimage.uniform_filter(b.astype(np.float32), size=(blur, blur, 1), mode="reflect") for b in bands]
    blurred = np.concatenate([smooth[0][0], smooth[1][-1], smooth[2][:, 0], smooth[3][:, -1]])
    offset = np.median(blurred - (border - residual), axis=0)  # the texture's middle, not its commonest shade
    if coef is None:
        colour = np.round(colour + offset).astype(np.int32)
    else:
        coef = coef.copy()
        coef[_POWERS.index((0, 0))] += offset  # the constant term
    threshold = math.ceil(_TEXTURE_SIGMAS * _spread(blurred - (border - residual)))
    return _Backdrop(colour, coef, (h, w), max(FOREGROUND_DISTANCE, threshold), blur)


def _border(rgb: np.ndarray) -> np.ndarray:
    return np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]]).astype(np.int32)


def _border_positions(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Column and row of each pixel of _border, in its order (top, bottom, left, right)."""
    cols, rows = np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64)
    xs = np.concatenate([cols, cols, np.zeros(h), np.full(h, w - 1.0)])
    ys = np.concatenate([np.zeros(w), np.full(w, h - 1.0), rows, rows])
    return xs, ys


def _powers(t: np.ndarray) -> list[np.ndarray]:
    out = [np.ones_like(t)]
    for _ in range(_DEGREE):
        out.append(out[-1] * t)
    return out


def _terms(xs: np.ndarray, ys: np.ndarray, h: int, w: int) -> np.ndarray:
    """The _POWERS terms x^i y^j of pixel positions, scaled so the raster spans -1..1 (N x len(_POWERS))."""
    px, py = _powers((xs + 0.5) * (2 / w) - 1), _powers((ys + 0.5) * (2 / h) - 1)
    return np.stack([px[i] * py[j] for i, j in _POWERS], axis=-1)


def _sides(h: int, w: int) -> tuple[slice, ...]:
    """The top, bottom, left and right pixels of _border."""
    return slice(0, w), slice(w, 2 * w), slice(2 * w, 2 * w + h), slice(2 * w + h, 2 * w + 2 * h)


def _fit_border(border: np.ndarray, terms: np.ndarray, h: int, w: int) -> np.ndarray | None:
    """Least-squares cubic through the medians of _SEGMENTS border segments per side, dropping segments an item
    covers (far from the fit) and refitting; None when too few segments remain."""
    values, centres = [], []
    for side in _sides(h, w):
        n = (side.stop - side.start) // _SEGMENTS * _SEGMENTS
        span = slice(side.start, side.start + n)
        values.append(np.median(border[span].reshape(_SEGMENTS, -1, 3), axis=1))
        centres.append(terms[span].reshape(_SEGMENTS, -1, terms.shape[1]).mean(axis=1))
    target, design = np.concatenate(values), np.concatenate(centres)
    keep = np.ones(len(target), dtype=bool)
    for _ in range(2):
        miss = np.abs(design @ _least_squares(design[keep], target[keep]) - target).max(axis=1)
        keep = miss <= max(_FIT_TOLERANCE, 2 * float(np.median(miss[keep])))
        if keep.reshape(4, _SEGMENTS).sum(axis=1).min() < _SEGMENTS // 4:
            return None  # four points on each side fix a cubic (none vanishes on the whole border)
    around = _LOOP[keep[_LOOP]]  # the kept segments once around the border: a backdrop has no jump there
    if np.abs(target[around] - target[np.roll(around, 1)]).max() > _JUMP:
        return None
    return _least_squares(design[keep], target[keep])


def _least_squares(design: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Normal equations (the terms are scaled to -1..1, so they are well conditioned)."""
    return np.linalg.solve(design.T @ design, design.T @ target)


def _spread(residual: np.ndarray) -> float:
    """Robust standard deviation (1.4826 x median absolute deviation) of the worst channel."""
    dev = np.abs(residual - np.median(residual, axis=0))
    return float(1.4826 * np.median(dev, axis=0).max())


def _busy_sides(border: np.ndarray, h: int, w: int) -> float:
    """Pixel-to-pixel noise along the second busiest side of the border (robust, grey levels, worst channel).

    Wood grain or a woven fabric is busy along two sides at least; plain and smoothly lit backdrops are not, and
    the edges of items or drawn patterns over the border (jumps above FOREGROUND_DISTANCE) are left out.
    Neighbours are 1/_TEXTURE_SIDE of the shorter side apart (at least 1 px): a texture counts the same at
    any resolution."""
    gap = max(1, round(min(h, w) / _TEXTURE_SIDE))
    noise = []
    for side in _sides(h, w):
        steps = np.abs(border[side][gap:] - border[side][:-gap])
        steps = steps[steps.max(axis=1) <= FOREGROUND_DISTANCE]
        noise.append(float(1.4826 / math.sqrt(2) * np.median(steps, axis=0).max()) if len(steps) else 0.0)
    return sorted(noise)[-2]


def _foreground(rgb: np.ndarray, bg: _Backdrop, origin: tuple[int, int] = (0, 0), step: int = 1) -> np.ndarray:
    """Pixels farther than the backdrop's threshold from it in some channel.

    `rgb` is a crop of the backdrop's raster whose top-left pixel is `origin` (x, y) and whose pixels each
    stand for step x step raster pixels (a reduced crop); a textured backdrop's blur is applied to it here.
    """
    if bg.blur > 1:
        size = max(1, round(bg.blur / step))
        if size > 1:
            rgb = ndimage.uniform_filter(rgb, size=(size, size, 1), mode="reflect")
    mask = np.zeros(rgb.shape[:2], dtype=bool)
    if bg.coef is None:
        for channel in range(3):
            value, centre = rgb[..., channel], int(bg.colour[channel])
            mask |= (value < centre - bg.threshold) | (value > centre + bg.threshold)
        return mask
    h, w = bg.shape
    px = np.stack(_powers((origin[0] + (np.arange(rgb.shape[1]) + 0.5) * step) * (2 / w) - 1), axis=0)
    py = np.stack(_powers((origin[1] + (np.arange(rgb.shape[0]) + 0.5) * step) * (2 / h) - 1), axis=1)
    for channel in range(3):
        grid = np.zeros((_DEGREE + 1, _DEGREE + 1))
        for (i, j), c in zip(_POWERS, bg.coef[:, channel], strict=True):
            grid[j, i] = c
        # einsum's own loop, not a BLAS product: a threaded BLAS stalls under the emulator's concurrent calls
        model = np.rint(np.einsum("yk,kx->yx", (py @ grid).astype(np.float32), px.astype(np.float32)))
        mask |= np.abs(rgb[..., channel] - model) > bg.threshold
    return mask


def _box_foreground(rgb: np.ndarray, bg: _Backdrop, box: tuple[int, int, int, int]) -> np.ndarray:
    """_foreground of a raster box, the same as in the whole raster (a blur sees the pixels around the box)."""
    x0, y0, x1, y1 = box
    pad = bg.blur // 2
    px0, py0 = max(0, x0 - pad), max(0, y0 - pad)
    around = rgb[py0:min(rgb.shape[0], y1 + pad), px0:min(rgb.shape[1], x1 + pad)]
    return _foreground(around, bg, (px0, py0))[y0 - py0:y1 - py0, x0 - px0:x1 - px0]


def _merge(groups: list[_Group]) -> list[_Group]:
    """Join candidates whose boxes overlap heavily (relative to the smaller box) until none do."""
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                (ia, a, aa), (ib, b, ab) = groups[i], groups[j]
                iw = min(a[2], b[2]) - max(a[0], b[0])
                ih = min(a[3], b[3]) - max(a[1], b[1])
                smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
                if iw > 0 and ih > 0 and iw * ih >= _MERGE_OVERLAP * smaller:
                    union = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    groups[i] = (ia + ib, union, aa + ab)
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    return groups


def _to_source(img: Decoded, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    sx, sy = img.scale
    x0, y0 = min(img.width - 1, round(box[0] * sx)), min(img.height - 1, round(box[1] * sy))
    x1, y1 = min(img.width, max(x0 + 1, round(box[2] * sx))), min(img.height, max(y0 + 1, round(box[3] * sy)))
    return x0, y0, x1, y1


def _to_analysis(img: Decoded, box_px: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    sx, sy = img.scale
    h, w = img.rgb.shape[:2]
    x0, y0 = min(w - 1, int(box_px[0] / sx)), min(h - 1, int(box_px[1] / sy))
    return x0, y0, min(w, max(x0 + 1, math.ceil(box_px[2] / sx))), min(h, max(y0 + 1, math.ceil(box_px[3] / sy)))


def _region(img: Decoded, box_px: tuple[int, int, int, int] | None) -> tuple[np.ndarray, np.ndarray]:
    """(crop, foreground mask) of a source box, or of the whole image, reduced to at most _REGION_SIDE px.

    An empty mask becomes all-true (a box without foreground is described by all its pixels).
    """
    rgb = img.rgb
    bg = _background(rgb)
    x0, y0, x1, y1 = (0, 0, rgb.shape[1], rgb.shape[0]) if box_px is None else _to_analysis(img, box_px)
    rgb = rgb[y0:y1, x0:x1]
    factor = math.ceil(max(rgb.shape[:2]) / _REGION_SIDE)
    if factor > 1:
        rgb = np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).reduce(factor), dtype=np.uint8)
        mask = _foreground(rgb, bg, (x0, y0), factor)
    else:
        mask = _box_foreground(img.rgb, bg, (x0, y0, x1, y1))
    if not mask.any():
        mask = np.ones(mask.shape, dtype=bool)
    return rgb, mask


def _make_item(img: Decoded, box_px: tuple[int, int, int, int], region: np.ndarray) -> Item:
    x0, y0, x1, y1 = box_px
    width, height = x1 - x0, y1 - y0
    sx, sy = img.scale
    area = max(1, round(int(region.sum()) * sx * sy))
    solidity = min(1.0, area / (width * height))
    size = min(1.0, math.sqrt(area / (img.width * img.height)) / 0.3)
    b0 = (x0 / img.width, y0 / img.height)
    b1 = (x1 / img.width, y1 / img.height)
    return Item(
        box_px=box_px,
        b0=b0,
        b1=b1,
        center=((b0[0] + b1[0]) / 2, (b0[1] + b1[1]) / 2),
        score=round(0.5 + 0.3 * solidity + 0.19 * size, 6),
        area_px=area,
        type=_classify(region, height / width),
        width_px=width,
        height_px=height,
    )


def _classify(region: np.ndarray, aspect: float) -> str:
    """An NHN item type from the silhouette: holes, legs, width profile and aspect (height / width)."""
    step = math.ceil(max(region.shape) / _SHAPE_SIDE)
    region = region[::step, ::step]
    h, w = region.shape
    if h < 4 or w < 4:
        return "SHOES" if aspect < 0.65 else "TOP"
    filled = ndimage.binary_fill_holes(region)
    if 1 - region.sum() / filled.sum() > 0.04:
        return "BAG"
    low = region[(3 * h) // 4:]
    gap = low[:, int(0.46 * w):math.ceil(0.54 * w)].mean()
    sides = (low[:, : w // 4].mean() + low[:, -(w // 4):].mean()) / 2
    if gap < 0.3 and sides > 0.6:
        return "PANTS"
    if aspect < 0.65:
        return "SHOES"
    rows = region.mean(axis=1)
    q = max(1, h // 4)
    top_max, top_mean, bottom_mean = rows[:q].max(), rows[:q].mean(), rows[-q:].mean()
    if top_max > 1.5 * bottom_mean:
        return "JACKET" if aspect > 1.25 else "SHIRT"
    if bottom_mean > 1.4 * top_mean:
        return "DRESS" if aspect > 1.3 else "SKIRT"
    return "DRESS" if aspect > 1.8 else "TOP"


# ---------------------------------------------------------------- embedding

def embed(img: Decoded, item: Item | None) -> np.ndarray:
    """A float32 unit vector of length DIM from colour, silhouette, aspect and texture (None: whole image)."""
    crop, mask = _region(img, item.box_px if item else None)
    if item is not None:
        aspect = item.height_px / item.width_px
    else:
        aspect = img.height / img.width
    _, rr, cr, contrast = _texture(crop, mask)
    strength = min(1.0, contrast / 20.0)
    parts = {
        "colour": _colour_histogram(_sample(crop, mask)),
        "shape": np.asarray(
            Image.fromarray(mask.astype(np.uint8) * 255).resize((_SHAPE_GRID, _SHAPE_GRID), Image.Resampling.BOX),
            dtype=np.float32,
        ).ravel() / 255.0,
        "aspect": np.exp(-((math.log2(max(0.25, min(4.0, aspect))) - _ASPECT_CENTRES) ** 2) / (2 * 0.35**2)),
        "texture": np.array([1.0, strength * rr, strength * cr, strength * max(0.0, 1 - rr - cr)]),
    }
    vector = np.concatenate([math.sqrt(_WEIGHTS[k]) * _unit(v) for k, v in parts.items()]).astype(np.float32)
    return vector / np.linalg.norm(vector)


def similarity(q: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Similarity in (0, 1] of a unit query to each row (or a single vector) of unit embeddings."""
    raw = np.asarray(matrix, dtype=np.float32) @ np.asarray(q, dtype=np.float32)
    raw = np.where(raw >= 1.0 - 1e-6, 1.0, raw)
    return np.clip(raw, 1e-6, 1.0)


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float64)
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else np.full(v.shape, 1 / math.sqrt(v.size))


def _sample(crop: np.ndarray, mask: np.ndarray) -> np.ndarray:
    pixels = crop[mask]
    if len(pixels) > _SAMPLE:
        pixels = pixels[np.linspace(0, len(pixels) - 1, _SAMPLE).astype(np.int64)]
    return pixels


def srgb_to_lab(pixels: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65) of sRGB pixels (N x 3)."""
    c = np.asarray(pixels, dtype=np.float64) / 255.0
    lin = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    xyz = lin @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


_PALETTE_LAB = srgb_to_lab(_PALETTE_RGB)
_NAMED = tuple(_NAMED_RGB)
_NAMED_LAB = srgb_to_lab(np.array([_NAMED_RGB[k] for k in _NAMED]))


def _squared_distances(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    d2 = (points**2).sum(axis=1)[:, None] + (centres**2).sum(axis=1)[None, :] - 2 * points @ centres.T
    return np.maximum(d2, 0.0)


def _soft_assignment(pixels: np.ndarray) -> np.ndarray:
    """Each pixel's soft assignment (rows sum to 1) to the fixed palette in Lab (robust to JPEG noise)."""
    d2 = _squared_distances(srgb_to_lab(pixels), _PALETTE_LAB)
    weights = np.exp(-(d2 - d2.min(axis=1, keepdims=True)) / (2 * _COLOUR_SIGMA**2))
    return weights / weights.sum(axis=1, keepdims=True)


_LUT_BITS = 5  # sRGB quantised to 32 levels per channel: the assignment of every cell, computed once
_LUT_CENTRES = (np.arange(1 << _LUT_BITS) << (8 - _LUT_BITS)) + (1 << (7 - _LUT_BITS))
_LUT = _soft_assignment(np.stack(np.meshgrid(_LUT_CENTRES, _LUT_CENTRES, _LUT_CENTRES, indexing="ij"), -1).reshape(-1, 3))


def _colour_histogram(pixels: np.ndarray) -> np.ndarray:
    """The pixels' soft palette assignment, averaged: a count per quantised colour times its table row."""
    q = np.asarray(pixels, dtype=np.int64) >> (8 - _LUT_BITS)
    cells = (q[:, 0] << (2 * _LUT_BITS)) | (q[:, 1] << _LUT_BITS) | q[:, 2]
    used, counts = np.unique(cells, return_counts=True)
    return counts.astype(np.float64) @ _LUT[used] / max(1, len(cells))


def _texture(crop: np.ndarray, mask: np.ndarray) -> tuple[str, float, float, float]:
    """(pattern, row-profile share, column-profile share, luminance std) inside the (eroded) mask.

    Horizontal stripes put the luminance variance into the row means, vertical ones into the
    column means; a gingham check splits it between both; dots leave most of it in neither.
    """
    inner = ndimage.binary_erosion(mask, iterations=2)
    m = inner if inner.sum() >= max(16, mask.sum() // 4) else mask
    lum = crop.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    n = int(m.sum())
    values = lum[m]
    var = float(values.var()) if n else 0.0
    contrast = math.sqrt(var)
    if n < 16 or contrast < 6.0:
        return "solid", 0.0, 0.0, contrast
    mean = values.mean()

    def profile_share(axis: int) -> float:
        counts = m.sum(axis=axis)
        sums = np.where(m, lum, 0.0).sum(axis=axis)
        used = counts > 0
        means = sums[used] / counts[used]
        return float((counts[used] * (means - mean) ** 2).sum() / n / var)

    rr, cr = profile_share(1), profile_share(0)
    if max(rr, cr) > 0.7 and min(rr, cr) < 0.15:
        return "stripe", rr, cr, contrast
    if rr + cr > 0.75:
        return "check", rr, cr, contrast
    return "dot", rr, cr, contrast


# ---------------------------------------------------------------- tags

def analyze(img: Decoded, item: Item | None) -> Analysis:
    """Colour names, pattern, contrast and silhouette measures of an item (None: the whole image)."""
    crop, mask = _region(img, item.box_px if item else None)
    pixels = _sample(crop, mask)
    nearest = _squared_distances(srgb_to_lab(pixels), _NAMED_LAB).argmin(axis=1)
    shares = np.bincount(nearest, minlength=len(_NAMED)) / len(nearest)
    order = sorted(range(len(_NAMED)), key=lambda i: (-shares[i], i))[:3]
    colors = tuple((_NAMED[i], round(float(shares[i]), 6)) for i in order if shares[i] > 0)
    pattern, rr, cr, contrast = _texture(crop, mask)
    if pattern == "solid":
        pattern_score = 0.99 - 0.4 * min(1.0, contrast / 6.0)
    elif pattern == "dot":
        pattern_score = 0.5 + 0.45 * max(0.0, 1 - rr - cr)
    else:
        pattern_score = 0.5 + 0.45 * min(1.0, max(rr, cr) if pattern == "stripe" else rr + cr)
    rows = mask.mean(axis=1)
    q = max(1, len(rows) // 4)
    flare = float(rows[-q:].mean() / max(rows[:q].mean(), 1e-6))
    if item is not None:
        aspect, kind = item.height_px / item.width_px, item.type
    else:
        aspect = img.height / img.width
        kind = _classify(mask, aspect)
    return Analysis(kind, colors, pattern, round(pattern_score, 6), contrast, aspect, flare)


def nhn_tags(img: Decoded, item: Item | None, lang: str) -> list[dict]:
    """Tag attributes of an item as the NHN tag APIs answer them: [{"attribute", "labels": [{label, score}]}]."""
    if lang not in LANGS:
        raise ValueError(f"unknown label language {lang!r}; one of {LANGS}")
    a = analyze(img, item)
    colour, share = a.colors[0]
    category_score = item.score if item is not None else 0.9
    tags: list[tuple[str, str, float]] = [
        ("category", a.type, category_score),
        ("color", colour, max(0.05, share)),
        ("pattern", a.pattern, a.pattern_score),
        ("fabric", *_fabric(a.type, colour, a.pattern, share)),
    ]
    ratio = a.aspect / _NOMINAL_ASPECT.get(a.type, 1.0)
    if a.type in _UPPER:
        tags.append(("length_up", _pick(ratio, (0.8, 1.15), ("crop", "waist", "hip")), 0.8))
    if a.type in ("PANTS", "SKIRT", "DRESS"):
        bounds = {"PANTS": (1.0, 1.45), "SKIRT": (0.8, 1.2), "DRESS": (1.3, 1.8)}[a.type]
        tags.append(("length_lo", _pick(a.aspect, bounds, ("short", "knee", "long")), 0.8))
    if a.type in ("SKIRT", "DRESS"):
        tags.append(("shape", "aline" if a.flare > 1.3 else "hline", round(0.5 + 0.45 * min(1.0, abs(a.flare - 1.3)), 6)))
    tags.append(("age", "adult", 0.95))
    tags.append(("gender", *_gender(a.type, colour)))
    if a.type in _NOMINAL_ASPECT:
        spread = min(1.0, abs(math.log(ratio)) / 0.4)
        fit = _pick(ratio, (0.85, 1.2), ("loose", "regular", "slim"))
        tags.append(("fit", fit, round(0.95 - 0.4 * spread if fit == "regular" else 0.55 + 0.4 * spread, 6)))
    return [
        {"attribute": attr, "labels": [{"label": label(attr, key, lang), "score": round(min(1.0, score), 6)}]}
        for attr, key, score in tags
    ]


def _pick(value: float, bounds: tuple[float, float], names: tuple[str, str, str]) -> str:
    return names[0] if value < bounds[0] else names[1] if value < bounds[1] else names[2]


def _fabric(kind: str, colour: str, pattern: str, share: float) -> tuple[str, float]:
    score = round(0.4 + 0.5 * share, 6)
    if kind == "PANTS" and colour in ("blue", "navy", "skyblue"):
        return "denim", score
    if kind in ("SHOES", "BAG"):
        return ("leather" if colour in ("black", "brown", "beige") else "canvas"), score
    if pattern == "solid" and kind in ("SHIRT", "DRESS") and colour not in ("black", "white", "gray"):
        return "silk", score
    return "cotton", score


def _gender(kind: str, colour: str) -> tuple[str, float]:
    if kind in ("SKIRT", "DRESS"):
        return "female", 0.95
    if kind in ("SHOES", "BAG"):
        return "unisex", 0.7
    return ("female", 0.6) if colour in ("pink", "purple", "red") else ("male", 0.6)
