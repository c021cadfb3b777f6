"""The v2 image guide on detect, tag and the image search: formats, byte caps, the 3 s download deadline,
ports, unreachable URLs, the 20 px minimum item; and the image errors of the search by link (E215).

Sources: nhn-ai-fashion-v2.0-api-guide.ko.txt / API 공통 정보 > 이미지 가이드, and each endpoint's 오류 코드.
The suite's image host serves every image (also on the port rule's edge ports); only the closed-port case
needs the embedded emulator.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from fashion_conformance import checks
from fashion_conformance.imagehost import factory
from fashion_conformance.imagehost.server import port_edges

from . import helpers as h

pytestmark = pytest.mark.destructive

INVALID = h.code("InvalidParam")
TOO_LARGE, BAD_FORMAT = h.code("ImageTooLargeException"), h.code("InvalidImageFormatException")
BAD_URL, TIMEOUT, NO_ITEMS = (
    h.code("InvalidImageURLException"),
    h.code("ImageTimeoutError"),
    h.code("NoDetectedFashionItems"),
)
MAX_BYTES, TAG_MAX_BYTES = h.lim("image.max_bytes"), h.lim("image.tag_max_bytes")
MIN_PX = h.lim("image.min_item_px").value
DEADLINE_S = h.lim("image.download_deadline_s").value
ACCEPTED = [f.lower() for f in h.lim("image.formats").value]
UNSUPPORTED = ("webp", "bmp", "tiff")
ENDPOINTS = ("detect", "tag", "search.image")
PORTS_ALLOWED, PORTS_REFUSED = port_edges("v2")
REQ = {  # endpoint -> its own requirement per image error
    "detect": {
        "format": "V2-DETECT-FORMAT-45040",
        "size": "V2-DETECT-TOO-LARGE-45020",
        "url": "V2-DETECT-URL-45050",
        "timeout": "V2-DETECT-TIMEOUT-45060",
    },
    "tag": {
        "format": "V2-TAG-FORMAT-45040",
        "size": "V2-TAG-TOO-LARGE-45020",
        "url": "V2-TAG-URL-45050",
        "timeout": "V2-TAG-TIMEOUT-45060",
    },
    "search.image": {
        "format": "V2-SEARCH-IMAGE-FORMAT-45040",
        "size": "V2-SEARCH-IMAGE-TOO-LARGE-45020",
        "url": "V2-SEARCH-IMAGE-URL-45050",
        "timeout": "V2-SEARCH-IMAGE-TIMEOUT-45060",
    },
}


def by_url(v2, service: str, endpoint: str, url: str):
    if endpoint == "search.image":
        return v2.call("search.image", path={"serviceName": service}, files=h.form(imageUrl=url, limit=5))
    return v2.call(endpoint, path={"serviceName": service}, params={"path": url})


def by_file(v2, service: str, data: bytes, name: str):
    files = [("imageFile", (name, data, "application/octet-stream")), *h.form(limit=5)]
    return v2.call("search.image", path={"serviceName": service}, files=files)


def per_endpoint(kind: str, *reqs: str) -> list:
    return [pytest.param(ep, marks=pytest.mark.req(*reqs, REQ[ep][kind]), id=ep) for ep in ENDPOINTS]


# ---------------------------------------------------------------- formats


@pytest.mark.req("V2-IMAGE-FORMATS")
@pytest.mark.parametrize("endpoint", [*ENDPOINTS, "search.image-file"])
@pytest.mark.parametrize("fmt", ACCEPTED)
def test_image_format_accepted(v2, catalog, image_host, endpoint, fmt):
    seed = 300 + ACCEPTED.index(fmt)
    if endpoint == "search.image-file":
        ex = by_file(v2, catalog.service, factory.product_image(seed, fmt=fmt), f"item.{fmt}")
    else:
        ex = by_url(v2, catalog.service, endpoint, image_host.generated(seed, fmt))
    checks.success(ex)


@pytest.mark.parametrize("endpoint", per_endpoint("format", "V2-IMAGE-FORMATS"))
@pytest.mark.parametrize("fmt", [*UNSUPPORTED, "text"])
def test_image_format_unsupported(v2, catalog, image_host, endpoint, fmt):
    url = (
        image_host.put("v2-note.txt", b"not an image\n") if fmt == "text" else image_host.generated(310, fmt)
    )
    checks.error(by_url(v2, catalog.service, endpoint, url), BAD_FORMAT)


@pytest.mark.req("V2-IMAGE-FORMATS", "V2-SEARCH-IMAGE-FORMAT-45040")
@pytest.mark.parametrize("fmt", [*UNSUPPORTED, "text"])
def test_image_format_unsupported_upload(v2, catalog, fmt):
    data = b"not an image\n" if fmt == "text" else factory.product_image(311, fmt=fmt)
    checks.error(by_file(v2, catalog.service, data, f"item.{fmt}"), BAD_FORMAT)


# ---------------------------------------------------------------- byte caps ("5MB", "1MB": DESIGN section 5)


def cap_for(endpoint: str):
    return TAG_MAX_BYTES if endpoint == "tag" else MAX_BYTES


@pytest.mark.parametrize(
    "endpoint",
    [
        pytest.param(
            ep,
            marks=pytest.mark.req("V2-IMAGE-TAG-MAX-BYTES" if ep == "tag" else "V2-IMAGE-MAX-BYTES"),
            id=ep,
        )
        for ep in ENDPOINTS
    ],
)
def test_image_size_at_cap_accepted(v2, catalog, image_host, endpoint):
    url = image_host.generated(320, "jpeg", size=cap_for(endpoint).value)
    checks.success(by_url(v2, catalog.service, endpoint, url))


@pytest.mark.parametrize(
    "endpoint",
    [
        pytest.param(
            ep,
            marks=pytest.mark.req(
                "V2-IMAGE-TAG-MAX-BYTES" if ep == "tag" else "V2-IMAGE-MAX-BYTES", REQ[ep]["size"]
            ),
            id=ep,
        )
        for ep in ENDPOINTS
    ],
)
def test_image_size_over_cap_refused(v2, catalog, image_host, endpoint):
    url = image_host.generated(321, "jpeg", size=cap_for(endpoint).extra["reject_from"])
    checks.error(by_url(v2, catalog.service, endpoint, url), TOO_LARGE)


@pytest.mark.req("V2-IMAGE-MAX-BYTES", "V2-SEARCH-IMAGE-TOO-LARGE-45020")
def test_image_size_upload(v2, catalog):
    base = factory.product_image(322, fmt="png")
    checks.success(by_file(v2, catalog.service, factory.pad_to_size(base, "png", MAX_BYTES.value), "ok.png"))
    big = factory.pad_to_size(base, "png", MAX_BYTES.extra["reject_from"])
    checks.error(by_file(v2, catalog.service, big, "big.png"), TOO_LARGE)


# ---------------------------------------------------------------- the 3 s deadline (all cases at once)

DELIVERIES = {
    "first-byte": {"delay": DEADLINE_S + 1.5},
    "trickle": {"trickle": DEADLINE_S + 2.0},
    "fast": {"delay": 0.5, "trickle": 1.0},
}


@pytest.fixture(scope="module")
def slow_answers(v2, catalog, image_host) -> dict:
    """Every (endpoint, delivery) request sent concurrently, so the module waits for the deadline once."""
    cases = [(ep, mode) for ep in ENDPOINTS for mode in DELIVERIES]
    urls = {
        case: image_host.generated(330 + i, "jpeg", **DELIVERIES[case[1]]) for i, case in enumerate(cases)
    }
    with ThreadPoolExecutor(max_workers=len(cases)) as pool:
        futures = {case: pool.submit(by_url, v2, catalog.service, case[0], urls[case]) for case in cases}
        return {case: f.result() for case, f in futures.items()}


@pytest.mark.parametrize(
    "mode",
    [
        pytest.param("first-byte", marks=pytest.mark.req("V2-IMAGE-DEADLINE-FIRST-BYTE")),
        pytest.param("trickle", marks=pytest.mark.req("V2-IMAGE-DEADLINE-TRICKLE")),
    ],
)
@pytest.mark.parametrize("endpoint", per_endpoint("timeout"))
def test_image_download_over_deadline(slow_answers, endpoint, mode):
    checks.error(slow_answers[(endpoint, mode)], TIMEOUT)


@pytest.mark.req("V2-IMAGE-DEADLINE-FAST")
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_image_download_within_deadline(slow_answers, endpoint):
    checks.success(slow_answers[(endpoint, "fast")])


# ---------------------------------------------------------------- ports and reachability


@pytest.mark.req("V2-IMAGE-PORTS-ALLOWED")
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("port", PORTS_ALLOWED)
def test_image_port_allowed(v2, catalog, image_host, image_port, endpoint, port):
    """이미지 가이드: an image URL naming port 80, 443, 10000 or 12000 (the rule's edges) is fetched."""
    image_port(port)
    checks.success(by_url(v2, catalog.service, endpoint, image_host.at_port(image_host.generated(340, "png"), port)))


@pytest.mark.req("V2-IMAGE-PORTS-REFUSED")
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("port", PORTS_REFUSED)
def test_image_port_refused(v2, catalog, image_host, image_port, endpoint, port):
    """이미지 가이드: any other port (the edges' neighbours, 8080, 65535) is refused unfetched, although the image
    host serves the image there."""
    image_port(port)
    before = image_host.fetches(port)
    ex = by_url(v2, catalog.service, endpoint, image_host.at_port(image_host.generated(341, "png"), port))
    h.expect_code_in(ex, [BAD_URL, INVALID], f"an image URL on port {port} is refused")
    checks.that(ex, image_host.fetches(port) == before, f"port {port} must not be fetched at all")


@pytest.mark.parametrize("endpoint", per_endpoint("url", "V2-IMAGE-UNREACHABLE"))
@pytest.mark.parametrize("where", ["http-404", "closed-port"])
def test_image_unreachable(v2, catalog, image_host, target, endpoint, where):
    if where == "closed-port":
        if not getattr(target, "embedded", False):
            pytest.skip("a closed loopback port is only meaningful for the embedded emulator")
        url = f"http://127.0.0.1:{h.free_port(*h.allowed_port_range())}/item.png"
    else:
        url = image_host.status_url(404)
    checks.error(by_url(v2, catalog.service, endpoint, url), BAD_URL)


# ---------------------------------------------------------------- the 20 px minimum

SMALL = [(MIN_PX, MIN_PX), (MIN_PX, MIN_PX // 2), (MIN_PX // 3, MIN_PX)]


def small_scene(image_host, size: tuple[int, int], with_big: bool) -> str:
    w, hgt = size
    items = [factory.ItemSpec("rect", (40, 40, 40 + w, 40 + hgt), (30, 30, 160))]
    if with_big:
        items.append(factory.ItemSpec("shirt", (120, 20, 260, 180), (180, 40, 40)))
    name = f"v2-small-{w}x{hgt}-{int(with_big)}.png"
    return image_host.put(name, factory.encode(factory.render(300, 220, items), "png"))


@pytest.mark.req("V2-DETECT-NO-ITEM")
@pytest.mark.parametrize("size", SMALL, ids=[f"{w}x{hh}" for w, hh in SMALL])
def test_image_small_item_alone_is_no_item(v2, catalog, image_host, size):
    """Our reading: an image whose only item is too small is answered like one without items (success, 0 items)."""
    alone = checks.success(by_url(v2, catalog.service, "detect", small_scene(image_host, size, False)))
    checks.that(
        v2.history[-1], alone["totalCount"] == 0, f"an item of {size[0]}x{size[1]} px is not detected"
    )


@pytest.mark.req("V2-IMAGE-MIN-ITEM-PX")
@pytest.mark.parametrize("size", SMALL, ids=[f"{w}x{hh}" for w, hh in SMALL])
def test_image_small_item_not_detected(v2, catalog, image_host, size):
    """Image guide: an item of 20 px or less on both sides is not detected beside a large garment."""
    ex = by_url(v2, catalog.service, "detect", small_scene(image_host, size, True))
    items = checks.success(ex)["items"]
    checks.that(
        ex, len(items) == 1, f"beside a large garment, the {size[0]}x{size[1]} px item is not detected"
    )


@pytest.mark.req("V2-IMAGE-MIN-ITEM-PX", "V2-SEARCH-IMAGE-NO-ITEM-45070")
def test_image_small_item_not_searched(v2, catalog, image_host):
    url = small_scene(image_host, (MIN_PX, MIN_PX), False)
    checks.error(by_url(v2, catalog.service, "search.image", url), NO_ITEMS)
    data = checks.success(by_url(v2, catalog.service, "tag", url))
    checks.that(v2.history[-1], data["items"] == [], "tag finds no item in an image whose only item is 20 px")


# ---------------------------------------------------------------- search by link: the image behind it (E215)


NAME = "v2-link-target.png"  # the image behind the link; each swap serves something else under its URL


def _swap_too_large(image_host, png: bytes) -> None:
    image_host.put(NAME, factory.pad_to_size(png, "png", MAX_BYTES.extra["reject_from"]))


def _swap_format(image_host, png: bytes) -> None:
    image_host.put(NAME, factory.product_image(350, fmt="webp"))


def _swap_gone(image_host, png: bytes) -> None:
    image_host.remove(NAME)


def _swap_slow(image_host, png: bytes) -> None:
    image_host.put(NAME, png, delay=DEADLINE_S + 1.5)


def _swap_blank(image_host, png: bytes) -> None:
    image_host.put(NAME, factory.encode(factory.render(320, 320, []), "png"))


@pytest.mark.parametrize(
    ("swap", "expected"),
    [
        pytest.param(
            _swap_too_large,
            TOO_LARGE,
            marks=pytest.mark.req("V2-SEARCH-LINK-TOO-LARGE-45020"),
            id="too-large",
        ),
        pytest.param(
            _swap_format, BAD_FORMAT, marks=pytest.mark.req("V2-SEARCH-LINK-FORMAT-45040"), id="format"
        ),
        pytest.param(_swap_gone, BAD_URL, marks=pytest.mark.req("V2-SEARCH-LINK-URL-45050"), id="gone"),
        pytest.param(_swap_slow, TIMEOUT, marks=pytest.mark.req("V2-SEARCH-LINK-TIMEOUT-45060"), id="slow"),
        pytest.param(
            _swap_blank, NO_ITEMS, marks=pytest.mark.req("V2-SEARCH-LINK-NO-ITEM-45070"), id="no-item"
        ),
    ],
)
def test_search_link_image_changed_after_detect(v2, catalog, image_host, swap, expected):
    """E215: search by link reads the image behind the link again, so its image errors are those of the image
    now served under the URL detect saw (through the image host: any target)."""
    png = factory.product_image(351, fmt="png")
    ex = v2.call("detect", path={"serviceName": catalog.service}, params={"path": image_host.put(NAME, png)})
    link = checks.success(ex)["items"][0]["link"]
    swap(image_host, png)
    ex = v2.call("search.link", path={"serviceName": catalog.service}, params={"link": link, "limit": 5})
    checks.error(ex, expected)
