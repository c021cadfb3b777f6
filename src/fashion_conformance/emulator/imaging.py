"""Image decoding for the emulator: format by magic bytes, a full Pillow decode, bomb guards.

The input image guide of every NHN API accepts PNG, JPEG and GIF only
(nhn-ai-fashion-v1.0-api-guide.en.txt / Input Image Guide); anything else is "unsupported".
Images above ANALYSIS_MAX_PIXELS are decoded at a reduced scale for analysis; `Decoded.width`
and `Decoded.height` stay the source dimensions, which boxes and the 20 px rule are expressed in.

Memory stays bounded under hostile input: the reduction converts and shrinks the loaded raster strip by
strip (no full-size copy per conversion step), and concurrent decodes share a budget of DECODE_BUDGET_PIXELS
declared pixels (a larger decode runs alone; others wait until enough is released), so a handful of tiny
files that declare big rasters cannot each hold a hundred megabytes or more at the same time.
"""

from __future__ import annotations

import io
import math
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from PIL import Image

from fashion_conformance import contracts

FORMATS: tuple[str, ...] = tuple(contracts.limit("v1", "image.formats").value)
"""The documented input formats (png, jpeg, gif)."""

MAX_PIXELS = 40_000_000
"""Declared pixel count above which an image is refused as a decompression bomb."""

ANALYSIS_MAX_PIXELS = 4_000_000
"""Larger images are reduced (by an integer factor) to at most this many pixels for analysis."""

DECODE_BUDGET_PIXELS = 16_000_000
"""Declared pixels that the decodes running at one time may hold together (about 100 MB of rasters)."""

STRIP_PIXELS = 1_000_000
"""Source pixels converted at a time while reducing a large image."""

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
)
_PILLOW_FORMAT = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF"}

# Pillow's own guard, with warnings turned into errors (process-wide; decode() also checks the size itself).
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)


class _PixelBudget:
    """Declared pixels that the decodes running at one time may hold together (thread-safe)."""

    def __init__(self, total: int) -> None:
        self._total = total
        self._free = total
        self._cond = threading.Condition()

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        pixels = min(pixels, self._total)
        with self._cond:
            self._cond.wait_for(lambda: self._free >= pixels)
            self._free -= pixels
        try:
            yield
        finally:
            with self._cond:
                self._free += pixels
                self._cond.notify_all()


_BUDGET = _PixelBudget(DECODE_BUDGET_PIXELS)


class ImageFormatError(Exception):
    """The bytes are not an acceptable image. kind: "unsupported", "corrupt" or "bomb"."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind} image" + (f": {detail}" if detail else ""))
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True, eq=False)
class Decoded:
    """An RGB analysis raster plus the source image's format and dimensions."""

    rgb: np.ndarray  # H x W x 3 uint8; H <= height and W <= width when the source was reduced
    fmt: str
    width: int
    height: int

    @property
    def scale(self) -> tuple[float, float]:
        """Source pixels per analysis pixel, (x, y); (1.0, 1.0) when not reduced."""
        return self.width / self.rgb.shape[1], self.height / self.rgb.shape[0]


def sniff(data: bytes) -> str | None:
    """The format named by the leading magic bytes ("png", "jpeg", "gif"), or None."""
    for magic, fmt in _MAGIC:
        if data.startswith(magic):
            return fmt
    return None


def decode(data: bytes, *, allowed: tuple[str, ...] = FORMATS) -> Decoded:
    """Decode fully (first frame of a GIF) to RGB on white; raise ImageFormatError when not acceptable."""
    fmt = sniff(data)
    if fmt is None or fmt not in allowed:
        raise ImageFormatError("unsupported", "not one of " + ", ".join(allowed))
    try:
        img = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMAT[fmt]])
        width, height = img.size
        if width <= 0 or height <= 0:
            raise ImageFormatError("corrupt", "empty raster")
        if width * height > MAX_PIXELS:
            raise ImageFormatError("bomb", f"{width}x{height} exceeds {MAX_PIXELS} pixels")
        factor = _reduction(width, height)
        if factor > 1 and fmt == "jpeg":
            img.draft("RGB", (max(1, width // factor), max(1, height // factor)))
        with _BUDGET.hold(img.size[0] * img.size[1]):
            try:
                img.load()
                rgb = np.asarray(_analysis_raster(img), dtype=np.uint8)
            finally:
                img.close()  # the raster is freed before the budget goes to the next decode
    except ImageFormatError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageFormatError("bomb", type(exc).__name__) from None
    except Exception as exc:  # any decoder failure on hostile bytes is a corrupt image, never a crash
        raise ImageFormatError("corrupt", type(exc).__name__) from None
    return Decoded(rgb=rgb, fmt=fmt, width=width, height=height)


def _reduction(width: int, height: int) -> int:
    return max(1, math.ceil(math.sqrt(width * height / ANALYSIS_MAX_PIXELS)))


def _analysis_raster(img: Image.Image) -> Image.Image:
    """The loaded image (possibly already JPEG-draft scaled) in RGB with at most ANALYSIS_MAX_PIXELS pixels.

    A larger image is converted and reduced in strips whose height is a multiple of the factor, which gives
    the same pixels as reducing the whole converted image."""
    w, h = img.size
    if w * h <= ANALYSIS_MAX_PIXELS:
        return _to_rgb(img)
    factor = _reduction(w, h)
    rows = max(1, STRIP_PIXELS // (w * factor)) * factor
    out = Image.new("RGB", (math.ceil(w / factor), math.ceil(h / factor)))
    for top in range(0, h, rows):
        strip = _to_rgb(img.crop((0, top, w, min(h, top + rows))))
        out.paste(strip.reduce(factor), (0, top // factor))
    return out


def _to_rgb(img: Image.Image) -> Image.Image:
    """RGB image; transparency is composited on white, 16-bit greys are brought to 8 bits."""
    if img.mode.startswith("I"):
        grey = np.asarray(img, dtype=np.int64)
        if img.mode.startswith("I;16") or (grey.size and grey.max() > 255):
            grey = grey // 257
        return Image.fromarray(np.clip(grey, 0, 255).astype(np.uint8), "L").convert("RGB")
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if has_alpha:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    return img.convert("RGB")
