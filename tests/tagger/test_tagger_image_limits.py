"""Tagger: image dimensions and file size (806 aspect, 807 too small, 808 too large, 809 file too large).

The document gives no numbers (E301); the emulator's are its own choice (limits.yaml, "EMULATOR CHOICE"). The
first group asserts the codes only on images far beyond those numbers; the second probes the emulator's exact
boundaries and runs against the embedded emulator only.
"""

from __future__ import annotations

import io
import math

import pytest
import tagger_support as ts
from PIL import Image

from fashion_conformance import checks
from fashion_conformance.imagehost.factory import pad_to_size

MIN_SIDE = ts.limit("image.min_side_px").min
MAX_SIDE = ts.limit("image.max_side_px").max
MAX_ASPECT = ts.limit("image.max_aspect_ratio").max
MAX_BYTES = ts.limit("image.max_bytes").value


def bilevel_png(width: int, height: int) -> bytes:
    """A white 1-bit PNG with a black square in the middle: tiny files for huge dimensions."""
    img = Image.new("1", (width, height), 1)
    side = max(1, min(width, height) // 2)
    x0, y0 = (width - side) // 2, (height - side) // 2
    img.paste(0, (x0, y0, x0 + side, y0 + side))
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=False)
    return out.getvalue()


def both_ways(tagger, image_host, name: str, data: bytes, code: int) -> None:
    """The same image is refused with `code` by URL and as base64."""
    checks.error(ts.post(tagger, ts.body(ts.url_image(image_host.put(name, data)))), code)
    checks.error(ts.post(tagger, ts.body(ts.b64_image(data))), code)


# ---------------------------------------------------------------- clearly extreme images

@pytest.mark.req("TAGGER-TAGS-TOO-SMALL-807")
def test_tags_post_tiny_image_is_refused_with_807(tagger, image_host):
    side = max(1, MIN_SIDE // 4)
    both_ways(tagger, image_host, "tagger-tiny.png", ts.plain_item(side, side), 807)


@pytest.mark.req("TAGGER-TAGS-TOO-LARGE-808")
def test_tags_post_huge_image_is_refused_with_808(tagger, image_host):
    side = 2 * MAX_SIDE
    both_ways(tagger, image_host, "tagger-huge.png", bilevel_png(side, side), 808)


@pytest.mark.req("TAGGER-TAGS-ASPECT-806")
def test_tags_post_extremely_long_image_is_refused_with_806(tagger, image_host):
    short = 4 * MIN_SIDE
    long = min(MAX_SIDE, 5 * MAX_ASPECT * short)
    both_ways(tagger, image_host, "tagger-long.png", ts.plain_item(long, short), 806)
    both_ways(tagger, image_host, "tagger-tall.png", ts.plain_item(short, long), 806)


@pytest.mark.req("TAGGER-TAGS-FILE-SIZE-809")
def test_tags_post_url_of_huge_file_is_refused_with_809(tagger, image_host):
    url = image_host.generated(3, "png", size=2 * MAX_BYTES)
    checks.error(ts.post(tagger, ts.body(ts.url_image(url))), 809)


@pytest.mark.req("TAGGER-TAGS-FILE-SIZE-809")
def test_tags_post_base64_of_huge_file_is_refused_with_809(tagger):
    data = pad_to_size(ts.single(ts.SOLID_TOP), "png", 2 * MAX_BYTES)
    checks.error(ts.post(tagger, ts.body(ts.b64_image(data))), 809)


# ---------------------------------------------------------------- the emulator's own boundaries

@pytest.mark.req("TAGGER-TAGS-TOO-SMALL-807")
def test_tags_post_image_at_emulator_min_side_is_tagged_below_refused(tagger, image_host, embedded_only):
    square = 2 * MIN_SIDE
    ts.tagged(tagger, ts.body(ts.b64_image(ts.plain_item(MIN_SIDE, square))))
    both_ways(tagger, image_host, "tagger-narrow.png", ts.plain_item(MIN_SIDE - 1, square), 807)
    both_ways(tagger, image_host, "tagger-flat.png", ts.plain_item(square, MIN_SIDE - 1), 807)


@pytest.mark.req("TAGGER-TAGS-TOO-LARGE-808")
def test_tags_post_image_at_emulator_max_side_is_tagged_above_refused(tagger, image_host, embedded_only):
    short = math.ceil((MAX_SIDE + 1) / MAX_ASPECT)
    ts.tagged(tagger, ts.body(ts.b64_image(bilevel_png(MAX_SIDE, short))))
    both_ways(tagger, image_host, "tagger-wide.png", bilevel_png(MAX_SIDE + 1, short), 808)


@pytest.mark.req("TAGGER-TAGS-ASPECT-806")
def test_tags_post_image_at_emulator_max_aspect_is_tagged_beyond_refused(tagger, image_host, embedded_only):
    short = 2 * MIN_SIDE
    long = int(MAX_ASPECT * short)
    ts.tagged(tagger, ts.body(ts.b64_image(ts.plain_item(long, short))))
    both_ways(tagger, image_host, "tagger-longer.png", ts.plain_item(long + 1, short), 806)


@pytest.mark.req("TAGGER-TAGS-FILE-SIZE-809")
def test_tags_post_image_of_emulator_max_bytes_is_tagged_one_more_refused(tagger, image_host, embedded_only):
    ts.tagged(tagger, ts.body(ts.url_image(image_host.generated(4, "png", size=MAX_BYTES))))
    data = pad_to_size(ts.single(ts.SOLID_TOP), "png", MAX_BYTES)
    ts.tagged(tagger, ts.body(ts.b64_image(data)))
    checks.error(ts.post(tagger, ts.body(ts.url_image(image_host.generated(4, "png", size=MAX_BYTES + 1)))), 809)
    over = pad_to_size(ts.single(ts.SOLID_TOP), "png", MAX_BYTES + 12)
    checks.error(ts.post(tagger, ts.body(ts.b64_image(over))), 809)
