"""Deterministic photo-like product photos and a sample photo catalogue (issue 12 item 5: run against photos).

The garments are the factory's silhouettes and surface patterns (imagehost.factory), photographed: a studio
background (`plain` off-white, `light` grey or beige with a vignette, `gradient` a strong linear or radial
gradient, `textured` wood grain or woven fabric), a soft drop shadow under each garment, a lighting gradient
across it, pixel noise and JPEG artefacts. The scene is laid out in fractions of the canvas, so the same seed at
another size is the same scene scaled; the same seed in another format or quality is the same scene re-encoded.
Boxes are pixel boxes with exclusive ends (the factory's convention); each silhouette touches its four sides.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from PIL import Image, ImageFilter
from scipy import ndimage

from .factory import _LAYOUT, GARMENTS, PATTERNS, ItemSpec, render

BACKGROUNDS: tuple[str, ...] = ("plain", "light", "gradient", "textured")
CATEGORY: dict[str, str] = {"shirt": "SHIRT", "pants": "PANTS", "dress": "DRESS", "skirt": "SKIRT",
                            "shoe": "SHOES", "bag": "BAG"}
"""The NHN item type each drawn garment kind stands for."""
CATEGORY1: dict[str, str] = {"shirt": "top", "dress": "top", "pants": "bottom", "skirt": "bottom",
                             "shoe": "shoes", "bag": "bags"}
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (190, 35, 40), "blue": (40, 75, 185), "green": (40, 130, 60), "navy": (30, 40, 90),
    "black": (32, 32, 34), "brown": (110, 68, 40), "purple": (115, 50, 145), "orange": (230, 120, 30),
    "yellow": (232, 200, 45), "pink": (225, 120, 160),
}
"""Garment colours by the word a catalogue uses for them (s1)."""
FORMATS = {"png": "PNG", "jpeg": "JPEG"}
MIN_CONTRAST = 75
"""Least distance (in some channel) of a garment colour, lit and patterned, from the background behind it."""

_LIGHTING = (0.86, 1.08)  # a garment's darkest and brightest lighting factor
_SHADOW_DEPTH = 0.11  # a drop shadow darkens the background by at most this fraction
_PROBE = 48  # the background is probed on this grid (fractions) to choose colours, at any output size


@dataclass(frozen=True)
class PhotoItem:
    """One garment of a photo: factory kind, NHN type, pixel box (exclusive ends), colour word, pattern."""

    kind: str
    category: str
    box: tuple[int, int, int, int]
    colour: str
    pattern: str


@dataclass(frozen=True)
class Photo:
    """An encoded photo and what it shows."""

    data: bytes
    fmt: str
    width: int
    height: int
    background: str
    items: tuple[PhotoItem, ...]

    def fractions(self, item: PhotoItem) -> tuple[float, float, float, float]:
        """The item's box as fractions (x0, y0, x1, y1) of the width and height, rounded to 4 places."""
        x0, y0, x1, y1 = item.box
        return (round(x0 / self.width, 4), round(y0 / self.height, 4),
                round(x1 / self.width, 4), round(y1 / self.height, 4))


@dataclass(frozen=True)
class _Garment:
    kind: str
    frac: tuple[float, float, float, float]  # box in fractions
    colour: str
    pattern: str
    light_angle: float
    light_spread: float  # range of the lighting factor across the garment (within _LIGHTING)


def photo(seed: int, *, width: int = 640, height: int = 640, background: str = "plain", garments: int = 1,
          kinds: Sequence[str] | None = None, colours: Sequence[str | None] | None = None,
          patterns: Sequence[str | None] | None = None, noise: float = 4.0, fmt: str = "jpeg",
          quality: int = 88) -> Photo:
    """A product photo of `garments` (1-3, side by side, not overlapping) garments on `background`.

    `kinds` (default: by seed), `colours` (words of COLOURS) and `patterns` choose per garment; a colour or
    pattern that would not stand out from the background behind it (MIN_CONTRAST) gives way to one that does,
    so the returned items say what was drawn. `noise` is the pixel noise's standard deviation (grey levels).
    """
    if background not in BACKGROUNDS:
        raise ValueError(f"unknown background {background!r}; one of {BACKGROUNDS}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {tuple(FORMATS)}")
    count = len(kinds) if kinds is not None else garments
    if not 1 <= count <= 3:
        raise ValueError(f"1 to 3 garments, not {count}")
    scene = random.Random(f"photolike-scene-{seed}")
    if kinds is None:
        first = GARMENTS[seed % len(GARMENTS)]
        kinds = [first, *scene.sample([k for k in GARMENTS if k != first], count - 1)]
    for kind in kinds:
        if kind not in CATEGORY:
            raise ValueError(f"unknown garment kind {kind!r}; one of {GARMENTS}")
    colours = list(colours) if colours is not None else [None] * count
    patterns = list(patterns) if patterns is not None else [None] * count
    if len(colours) != count or len(patterns) != count:
        raise ValueError("kinds, colours and patterns need one entry per garment")
    field = _Background(background, random.Random(f"photolike-{background}-{seed}"))
    probe = field.at(*_grid(_PROBE, _PROBE))
    laid = _layout(scene, list(kinds))
    chosen = [_choose(scene, probe, kind, frac, colour, pattern)
              for kind, frac, colour, pattern in zip(kinds, laid, colours, patterns, strict=True)]
    pixels, items = _draw(field.at(*_grid(width, height)), chosen, width, height)
    pixels += np.random.default_rng([seed % 2**63, width, height]).normal(0.0, noise, pixels.shape).astype(np.float32)
    img = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8), "RGB")
    out = io.BytesIO()
    img.save(out, format=FORMATS[fmt], **({"quality": quality} if fmt == "jpeg" else {}))
    return Photo(out.getvalue(), fmt, width, height, background, tuple(items))


def _grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre fractions (u across, v down) of a width x height raster, as broadcastable arrays."""
    u = ((np.arange(width, dtype=np.float32) + 0.5) / width)[None, :]
    v = ((np.arange(height, dtype=np.float32) + 0.5) / height)[:, None]
    return u, v


class _Background:
    """A background as a function of fractional position, so every output size shows the same backdrop."""

    def __init__(self, kind: str, rng: random.Random) -> None:
        self.kind = kind
        if kind == "plain":  # off-white studio sweep, a faint fall-off towards the bottom
            base = 242 + 8 * rng.random()
            self.colour = np.array([base, base - 1 - 2 * rng.random(), base - 3 - 4 * rng.random()], np.float32)
            self.falloff = 2 + 3 * rng.random()
        elif kind == "light":  # light grey or beige, vignetted corners
            self.colour = np.array(rng.choice([(226, 226, 228), (232, 222, 202), (220, 218, 212)]), np.float32)
            self.colour += np.float32(8 * (rng.random() - 0.5))
            self.vignette = 0.12 + 0.08 * rng.random()
            self.centre = (0.5 + 0.1 * (rng.random() - 0.5), 0.45 + 0.1 * (rng.random() - 0.5))
        elif kind == "gradient":  # light grey to a mid tone: linear in a random direction, or radial
            light = 222 + 14 * rng.random()
            mid = 128 + 24 * rng.random()
            tint = np.array([1.0, 0.98 + 0.04 * rng.random(), 0.94 + 0.08 * rng.random()], np.float32)
            self.light, self.mid = light * tint, mid * tint
            self.radial = rng.random() < 0.5
            self.angle = 2 * math.pi * rng.random()
            self.centre = (0.3 + 0.4 * rng.random(), 0.3 + 0.4 * rng.random())
        else:  # textured: wood grain or a woven fabric
            self.wood = rng.random() < 0.5
            self.colour = np.array((150, 105, 68) if self.wood else (196, 186, 166), np.float32)
            self.colour += np.float32(16 * (rng.random() - 0.5))
            self.period = (0.011 if self.wood else 0.0075) * (0.8 + 0.4 * rng.random())
            self.phase = 2 * math.pi * rng.random()
            self.coarse = np.random.default_rng(rng.getrandbits(32)).normal(0.0, 1.0, (64, 64)).astype(np.float32)

    def at(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The background colour (H x W x 3 float32) at fractions u (1 x W) and v (H x 1)."""
        if self.kind == "plain":
            shade = 1 - self.falloff / 255 * v * v
            return (shade[..., None] * self.colour) * np.ones_like(u)[..., None]
        if self.kind == "light":
            r2 = (u - self.centre[0]) ** 2 + (v - self.centre[1]) ** 2
            return ((1 - self.vignette * r2 / 0.5)[..., None] * self.colour).astype(np.float32)
        if self.kind == "gradient":
            if self.radial:
                r = np.sqrt((u - self.centre[0]) ** 2 + (v - self.centre[1]) ** 2) / 0.9
                t = np.clip(r, 0, 1)
            else:
                cos, sin = math.cos(self.angle), math.sin(self.angle)
                t = ((u - 0.5) * cos + (v - 0.5) * sin) / (abs(cos) + abs(sin)) + 0.5  # 0..1 corner to corner
            t = t * t * (3 - 2 * t)  # smoothstep: no visible band at either end
            return (self.light + (self.mid - self.light) * t[..., None]).astype(np.float32)
        return self._texture(u, v)

    def _texture(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        uu, vv = np.broadcast_arrays(u, v)
        # A random 64 x 64 field in fractions (bicubic): slowly over 8 x 8 of it to warp the grain, fully to mottle.
        coarse = ndimage.map_coordinates(self.coarse, [vv * 63, uu * 63], order=3, mode="reflect")
        if self.wood:
            warp = ndimage.map_coordinates(self.coarse, [vv * 7, uu * 7], order=3, mode="reflect")
            rings = np.sin(2 * math.pi * (vv + 0.02 * warp + 0.01 * np.sin(5 * uu + self.phase)) / self.period)
            fine = np.sin(2 * math.pi * vv / (self.period * 0.23) + 4 * coarse)
            lum = 26 * rings + 12 * fine + 10 * coarse
            tint = np.array([1.0, 0.8, 0.6], np.float32)
        else:
            weave = np.sin(2 * math.pi * uu / self.period) * np.sin(2 * math.pi * vv / self.period)
            lum = 22 * weave + 14 * np.sign(weave) + 9 * coarse
            tint = np.array([1.0, 0.96, 0.9], np.float32)
        return (self.colour + lum[..., None] * tint).astype(np.float32)


def _layout(rng: random.Random, kinds: list[str]) -> list[tuple[float, float, float, float]]:
    """Boxes (fractions) for the garments: one centred, or one per column with a margin between columns."""
    n = len(kinds)
    boxes = []
    for i, kind in enumerate(kinds):
        cx0, cx1 = i / n + 0.03, (i + 1) / n - 0.03
        fw, fh = _LAYOUT[kind]
        fit = min(1.0, 0.94 * (cx1 - cx0) / fw, 0.9 / fh)
        w = fw * fit * (0.9 + 0.1 * rng.random())
        h = fh * fit * (0.9 + 0.1 * rng.random())
        x0 = cx0 + (cx1 - cx0 - w) * (0.5 + 0.4 * (rng.random() - 0.5))
        y0 = (1 - h) * (0.5 + 0.3 * (rng.random() - 0.5))
        boxes.append((x0, y0, x0 + w, y0 + h))
    return boxes


def _accent(colour: np.ndarray) -> np.ndarray:
    """factory's pattern accent: darker for light colours, lighter for dark ones."""
    luma = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
    return colour * 0.5 if luma >= 90 else colour + (200 - colour) * 0.5


def _stands_out(rgb: np.ndarray, behind: np.ndarray) -> bool:
    """Whether a colour, at either lighting extreme, differs by MIN_CONTRAST in some channel from every probe."""
    return all(
        float(np.abs(np.clip(rgb * light, 0, 255) - behind).max(axis=1).min()) >= MIN_CONTRAST
        for light in _LIGHTING
    )


def _choose(rng: random.Random, probe: np.ndarray, kind: str, frac: tuple[float, float, float, float],
            colour: str | None, pattern: str | None) -> _Garment:
    """The garment's colour and pattern: the requested ones if they stand out from the background behind it."""
    x0, y0, x1, y1 = (min(_PROBE - 1, max(0, int(f * _PROBE))) for f in frac)
    behind = probe[y0:y1 + 1, x0:x1 + 1].reshape(-1, 3)
    words = list(COLOURS)
    rng.shuffle(words)
    if colour is not None:
        if colour not in COLOURS:
            raise ValueError(f"unknown colour {colour!r}; one of {tuple(COLOURS)}")
        words.remove(colour)
        words.insert(0, colour)
    pattern = pattern or rng.choice(("solid", "solid", "solid", "stripe", "check", "dot"))
    if pattern not in PATTERNS:
        raise ValueError(f"unknown pattern {pattern!r}; one of {PATTERNS}")
    word = next((w for w in words if _stands_out(np.array(COLOURS[w], np.float32), behind)), words[0])
    rgb = np.array(COLOURS[word], np.float32)
    if pattern != "solid" and not _stands_out(_accent(rgb), behind):
        pattern = "solid"
    spread = (_LIGHTING[1] - _LIGHTING[0]) * (0.6 + 0.4 * rng.random())
    return _Garment(kind, frac, word, pattern, 2 * math.pi * rng.random(), spread)


def _draw(bg: np.ndarray, garments: list[_Garment], width: int, height: int) -> tuple[np.ndarray, list[PhotoItem]]:
    """The background with each garment's drop shadow, then each garment lit across its box."""
    boxes, masks = [], []
    shadow = np.zeros((height, width), np.float32)
    dx, dy = round(0.008 * width), round(0.014 * height)  # the light comes from the upper left
    for g in garments:
        x0, y0 = round(g.frac[0] * width), round(g.frac[1] * height)
        x1, y1 = max(x0 + 8, round(g.frac[2] * width)), max(y0 + 8, round(g.frac[3] * height))
        mask = _mask(g.kind, x1 - x0, y1 - y0)
        boxes.append((x0, y0, x1, y1))
        masks.append(mask)
        sx1, sy1 = min(width, x1 + dx), min(height, y1 + dy)
        cast = shadow[y0 + dy:sy1, x0 + dx:sx1]
        np.maximum(cast, mask[:sy1 - y0 - dy, :sx1 - x0 - dx], out=cast)
    soft = Image.fromarray(np.uint8(shadow * 255)).filter(ImageFilter.GaussianBlur(0.012 * max(width, height)))
    pixels = bg * (1 - _SHADOW_DEPTH * np.asarray(soft, np.float32) / 255)[..., None]
    mid = (_LIGHTING[0] + _LIGHTING[1]) / 2
    items = []
    for g, (x0, y0, x1, y1), mask in zip(garments, boxes, masks, strict=True):
        w, h = x1 - x0, y1 - y0
        rgb = tuple(int(c) for c in COLOURS[g.colour])
        surface = np.asarray(render(w, h, [ItemSpec(g.kind, (0, 0, w, h), rgb, g.pattern)]), np.float32)
        u, v = _grid(w, h)
        ramp = ((u - 0.5) * math.cos(g.light_angle) + (v - 0.5) * math.sin(g.light_angle)) * math.sqrt(2)  # -1..1
        light = mid + g.light_spread / 2 * ramp
        inside = mask > 0
        pixels[y0:y1, x0:x1][inside] = (surface * light[..., None])[inside]
        items.append(PhotoItem(g.kind, CATEGORY[g.kind], (x0, y0, x1, y1), g.colour, g.pattern))
    return pixels, items


def _mask(kind: str, w: int, h: int) -> np.ndarray:
    """The factory silhouette of `kind` filling a w x h box (1.0 inside, 0.0 outside)."""
    white = render(w, h, [ItemSpec(kind, (0, 0, w, h), (255, 255, 255))], background=(0, 0, 0))
    return (np.asarray(white)[..., 0] > 127).astype(np.float32)


def write_catalogue(folder: str | Path, count: int = 12, *, seed: int = 0,
                    backgrounds: Sequence[str] = ("plain", "light", "gradient"), textured: int = 1) -> Path:
    """Write `count` product photos (mostly one garment, some two or three) cycling through `backgrounds`, then
    `textured` photos on textured backgrounds, and their manifest.yaml (the format photos.py loads); the folder.

    Field values vary (category1Id, s1 colour words, s2 "", sale or new, category3Id the pattern) and never hold
    ',' or ':' (the filter grammar reserves them).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    words = list(COLOURS)
    for i in range(count + textured):
        background = backgrounds[i % len(backgrounds)] if i < count else "textured"
        n = 3 if i % 12 == 7 else 2 if i % 6 == 3 else 1
        pick = random.Random(f"photolike-catalogue-{seed}-{i}")
        main = GARMENTS[i % len(GARMENTS)]
        kinds = [main, *pick.sample([k for k in GARMENTS if k != main], n - 1)]
        colours = [words[(3 * i + seed) % len(words)], *[None] * (n - 1)]
        patterns = [("solid", "stripe", "solid", "check", "solid", "dot")[i % 6], *[None] * (n - 1)]
        shot = photo(seed * 100_003 + i, background=background, kinds=kinds, colours=colours, patterns=patterns)
        product = f"photo-{i:02d}"
        (folder / f"{product}.jpg").write_bytes(shot.data)
        first = shot.items[0]
        entries.append({
            "file": f"{product}.jpg",
            "productId": product,
            "name": f"photo {i:02d} {first.colour} {first.kind}",
            "category1Id": CATEGORY1[first.kind],
            "category2Id": first.kind,
            "category3Id": "" if first.pattern == "solid" else first.pattern,
            "s1": first.colour,
            "s2": ("", "sale", "new")[i % 3],
            "items": [{"category": it.category, "box": list(shot.fractions(it))} for it in shot.items],
        })
    (folder / "manifest.yaml").write_text(
        yaml.safe_dump({"photos": entries}, sort_keys=False, allow_unicode=True, default_flow_style=None), encoding="utf-8")
    return folder
