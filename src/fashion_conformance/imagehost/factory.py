"""Deterministic test images: garment silhouettes on a plain background, in any format, padded to any size.

Boxes are (x0, y0, x1, y1) in pixels with exclusive ends: an item drawn in box (10, 20, 50, 80)
covers columns 10..49 and rows 20..79 and touches all four sides of its box.
"""

from __future__ import annotations

import colorsys
import io
import random
import struct
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

KINDS: tuple[str, ...] = ("shirt", "pants", "dress", "skirt", "shoe", "bag", "rect", "ellipse")
PATTERNS: tuple[str, ...] = ("solid", "stripe", "check", "dot")
FORMATS: dict[str, str] = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP", "bmp": "BMP", "tiff": "TIFF"}
GARMENTS: tuple[str, ...] = ("shirt", "pants", "dress", "skirt", "shoe", "bag")

# Silhouettes as polygons in unit box coordinates; each touches all four sides of the box.
_POLYGONS: dict[str, tuple[tuple[float, float], ...]] = {
    "shirt": ((0.3, 0), (0.7, 0), (1, 0.2), (0.9, 0.42), (0.78, 0.36), (0.78, 1), (0.22, 1), (0.22, 0.36),
              (0.1, 0.42), (0, 0.2)),
    "pants": ((0.05, 0), (0.95, 0), (1, 1), (0.58, 1), (0.5, 0.35), (0.42, 1), (0, 1)),
    "dress": ((0.35, 0), (0.65, 0), (0.68, 0.35), (1, 1), (0, 1), (0.32, 0.35)),
    "skirt": ((0.25, 0), (0.75, 0), (1, 1), (0, 1)),
    "shoe": ((0, 0.3), (0.12, 0), (0.35, 0), (0.45, 0.45), (0.85, 0.6), (1, 0.8), (1, 1), (0, 1)),
    "rect": ((0, 0), (1, 0), (1, 1), (0, 1)),
}
# Product photo layout per garment: (width, height) as fractions of the canvas.
_LAYOUT: dict[str, tuple[float, float]] = {
    "shirt": (0.7, 0.62), "pants": (0.5, 0.82), "dress": (0.55, 0.86),
    "skirt": (0.62, 0.55), "shoe": (0.76, 0.34), "bag": (0.58, 0.66),
}


@dataclass(frozen=True)
class ItemSpec:
    """One item to draw: silhouette kind, box (exclusive ends), RGB colour, surface pattern."""

    kind: str
    box: tuple[int, int, int, int]
    color: tuple[int, int, int]
    pattern: str = "solid"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}; one of {KINDS}")
        if self.pattern not in PATTERNS:
            raise ValueError(f"unknown pattern {self.pattern!r}; one of {PATTERNS}")
        x0, y0, x1, y1 = self.box
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"empty box {self.box}")


def render(width: int, height: int, items: list[ItemSpec] | tuple[ItemSpec, ...],
           background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """An RGB image of `items` drawn in order (later ones on top) over a plain background."""
    canvas = Image.new("RGB", (width, height), background)
    for spec in items:
        x0, y0, x1, y1 = spec.box
        w, h = x1 - x0, y1 - y0
        canvas.paste(_surface(spec, w, h), (x0, y0), _silhouette(spec.kind, w, h))
    return canvas


def _silhouette(kind: str, w: int, h: int) -> Image.Image:
    mask = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(mask)
    sx, sy = w - 1, h - 1
    if kind == "ellipse":
        draw.ellipse((0, 0, sx, sy), fill=255)
    elif kind == "bag":
        body_top = round(0.32 * sy)
        draw.rectangle((0, body_top, sx, sy), fill=255)
        ring = max(2, round(0.07 * min(w, h)))
        draw.ellipse((round(0.22 * sx), 0, round(0.78 * sx), round(0.64 * sy)), outline=255, width=ring)
    else:
        draw.polygon([(round(u * sx), round(v * sy)) for u, v in _POLYGONS[kind]], fill=255)
    return mask


def _accent(color: tuple[int, int, int]) -> tuple[int, int, int]:
    """The pattern's second colour: darker for light colours, lighter for dark ones."""
    luma = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
    if luma >= 90:
        return tuple(round(c * 0.5) for c in color)  # type: ignore[return-value]
    return tuple(round(c + (200 - c) * 0.5) for c in color)  # type: ignore[return-value]


def _surface(spec: ItemSpec, w: int, h: int) -> Image.Image:
    """Solid colour; horizontal stripes; gingham check (bands mix half-way, crossings fully); dots."""
    period = max(6, min(w, h) // 8)
    band = max(2, period // 2)
    rows = (np.arange(h) % period < band).astype(np.float32)[:, None]
    cols = (np.arange(w) % period < band).astype(np.float32)[None, :]
    if spec.pattern == "stripe":
        weight = np.broadcast_to(rows, (h, w))
    elif spec.pattern == "check":
        weight = 0.5 * rows + 0.5 * cols
    else:
        weight = np.zeros((h, w), np.float32)
    base, accent = np.array(spec.color, np.float32), np.array(_accent(spec.color), np.float32)
    pixels = base + weight[:, :, None] * (accent - base)
    surface = Image.fromarray(np.round(pixels).astype(np.uint8), "RGB")
    if spec.pattern == "dot":
        draw, r = ImageDraw.Draw(surface), max(1, period // 4)
        for y in range(period // 2, h, period):
            for x in range(period // 2, w, period):
                draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(int(c) for c in accent))
    return surface


def encode(img: Image.Image, fmt: str) -> bytes:
    """The image encoded as png, jpeg (quality 90), gif, webp, bmp or tiff."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {tuple(FORMATS)}")
    out = io.BytesIO()
    options = {"quality": 90} if fmt in ("jpeg", "webp") else {}
    img.convert("RGB").save(out, format=FORMATS[fmt], **options)
    return out.getvalue()


def pad_to_size(data: bytes, fmt: str, size: int) -> bytes:
    """Exactly `size` bytes of the same, still decodable image (padding the format ignores).

    PNG: one private ancillary chunk before IEND (needs a gap of 0 or >= 12 bytes);
    JPEG: COM segments after SOI (gap 0 or >= 4); GIF: a comment extension before the first
    image (gap 0 or >= 5). ValueError when the gap cannot be filled exactly.
    """
    gap = size - len(data)
    if gap < 0:
        raise ValueError(f"size {size} is below the unpadded encoding ({len(data)} bytes)")
    if gap == 0:
        return data
    if fmt == "png":
        return _pad_png(data, gap)
    if fmt == "jpeg":
        return _pad_jpeg(data, gap)
    if fmt == "gif":
        return _pad_gif(data, gap)
    raise ValueError(f"cannot pad {fmt!r}; only png, jpeg, gif")


def _split(total: int, pieces: int) -> list[int]:
    base, extra = divmod(total, pieces)
    return [base + 1] * extra + [base] * (pieces - extra)


def _pad_png(data: bytes, gap: int) -> bytes:
    if gap < 12:
        raise ValueError(f"a PNG can only grow by 0 or >= 12 bytes, not {gap}")
    iend = data.rfind(b"IEND")
    if iend < 4:
        raise ValueError("not a PNG with an IEND chunk")
    ctype, payload = b"paDd", bytes(gap - 12)
    chunk = struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", zlib.crc32(ctype + payload))
    return data[: iend - 4] + chunk + data[iend - 4:]


def _pad_jpeg(data: bytes, gap: int) -> bytes:
    if gap < 4:
        raise ValueError(f"a JPEG can only grow by 0 or >= 4 bytes, not {gap}")
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    pieces = -(-gap // 65537)  # a COM segment is 4..65537 bytes: marker, 2-byte length, payload
    segments = b"".join(b"\xff\xfe" + struct.pack(">H", n - 2) + bytes(n - 4) for n in _split(gap, pieces))
    return data[:2] + segments + data[2:]


def _pad_gif(data: bytes, gap: int) -> bytes:
    if gap < 5:
        raise ValueError(f"a GIF can only grow by 0 or >= 5 bytes, not {gap}")
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise ValueError("not a GIF")
    flags = data[10]
    at = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    payload = gap - 3  # introducer, label and terminator; each sub-block is 1 length byte + 1..255 bytes
    blocks = b"".join(bytes([n - 1]) + b" " * (n - 1) for n in _split(payload, -(-payload // 256)))
    return data[:6].replace(b"GIF87a", b"GIF89a") + data[6:at] + b"\x21\xfe" + blocks + b"\x00" + data[at:]


def product_image(seed: int, width: int = 320, height: int = 320, fmt: str = "jpeg") -> bytes:
    """A catalog-like product photo: one garment on white whose kind, colour, pattern and box follow `seed`."""
    rng = random.Random(seed)
    kind = GARMENTS[seed % len(GARMENTS)]
    pattern = ("solid", "solid", "stripe", "check", "dot")[(seed // len(GARMENTS)) % 5]
    hue, sat, val = rng.random(), 0.45 + 0.55 * rng.random(), 0.3 + 0.6 * rng.random()
    color = tuple(round(c * 255) for c in colorsys.hsv_to_rgb(hue, sat, val))
    fw, fh = _LAYOUT[kind]
    w = max(8, round(width * fw * (0.9 + 0.2 * rng.random())))
    h = max(8, round(height * fh * (0.9 + 0.1 * rng.random())))
    x0 = (width - w) // 2 + round((rng.random() - 0.5) * 0.1 * width)
    y0 = (height - h) // 2 + round((rng.random() - 0.5) * 0.05 * height)
    x0, y0 = min(max(1, x0), width - w - 1), min(max(1, y0), height - h - 1)
    spec = ItemSpec(kind, (x0, y0, x0 + w, y0 + h), color, pattern)  # type: ignore[arg-type]
    return encode(render(width, height, [spec]), fmt)
