"""AI Fashion v1.0 input image guide: formats, byte caps, the 3 s download deadline, ports, schemes, unreachable
images, for detect, tag and (where the image is read again) search by image."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import v1_kit as kit

from fashion_conformance import checks
from fashion_conformance.imagehost.server import port_edges

CODE = kit.CODE
FORMATS = kit.limit("image.formats").value
MAX_BYTES = kit.limit("image.max_bytes")
TAG_MAX_BYTES = kit.limit("image.tag_max_bytes")
DEADLINE_S = kit.limit("image.download_deadline_s").value
REFUSED_FORMATS = ["webp", "bmp", "tiff"]
URL_REFUSED = [CODE["InvalidImageURLException"], CODE["InvalidParam"]]  # the guide gives no code for these
IMAGE_READERS = ["detect", "tag"]
PORTS_ALLOWED, PORTS_REFUSED = port_edges("v1")
SEED = 21


def _read(v1, endpoint: str, service: str, url: str):
    """detect or tag of the image at `url`."""
    return v1.call(endpoint, path={"serviceID": service}, params={"path": url})


def _concurrently(calls):
    """Run slow requests side by side so the deadline tests cost one deadline, not one each."""
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.req("V1-IMAGE-FORMATS", "V1-SEARCH-IMAGE-LINK-ROUNDTRIP")
def test_image_formats_accepted(v1, v1_service, image_host, fmt):
    url = image_host.generated(SEED, fmt)
    link = kit.items_of(_read(v1, "detect", v1_service, url))[0]["link"]
    kit.items_of(_read(v1, "tag", v1_service, url))
    checks.success(v1.call("search.image", path={"serviceID": v1_service}, params={"link": link, "limit": 5}))


@pytest.mark.parametrize("endpoint", [
    pytest.param("detect", marks=pytest.mark.req("V1-DETECT-FORMAT-45040")),
    pytest.param("tag", marks=pytest.mark.req("V1-TAG-FORMAT-45040")),
])
@pytest.mark.parametrize("fmt", [*REFUSED_FORMATS, "text"])
def test_image_format_refused(v1, v1_service, image_host, endpoint, fmt):
    url = (image_host.put("not-an-image.png", b"these bytes are no image\n" * 40) if fmt == "text"
           else image_host.generated(SEED, fmt))
    checks.error(_read(v1, endpoint, v1_service, url), CODE["InvalidImageFormatException"])


@pytest.mark.req("V1-IMAGE-MAX-BYTES", "V1-DETECT-TOO-LARGE-45020")
def test_detect_image_size_cap(v1, v1_service, image_host):
    ex = _read(v1, "detect", v1_service, image_host.generated(SEED, "jpeg", size=MAX_BYTES.value))
    kit.items_of(ex)
    ex = _read(v1, "detect", v1_service, image_host.generated(SEED, "jpeg", size=MAX_BYTES.extra["reject_from"]))
    checks.error(ex, CODE["ImageTooLargeException"])


@pytest.mark.req("V1-IMAGE-TAG-MAX-BYTES", "V1-TAG-TOO-LARGE-45020")
def test_tag_image_size_cap(v1, v1_service, image_host):
    kit.items_of(_read(v1, "tag", v1_service, image_host.generated(SEED, "png", size=TAG_MAX_BYTES.value)))
    over = image_host.generated(SEED, "png", size=TAG_MAX_BYTES.extra["reject_from"])
    checks.error(_read(v1, "tag", v1_service, over), CODE["ImageTooLargeException"])
    kit.items_of(_read(v1, "detect", v1_service, over))


@pytest.mark.parametrize("endpoint", [
    pytest.param("detect", marks=pytest.mark.req("V1-DETECT-TIMEOUT-45060")),
    pytest.param("tag", marks=pytest.mark.req("V1-TAG-TIMEOUT-45060")),
])
@pytest.mark.req("V1-IMAGE-DEADLINE-FIRST-BYTE", "V1-IMAGE-DEADLINE-TRICKLE", "V1-IMAGE-DEADLINE-WITHIN")
def test_image_download_deadline(v1, v1_service, image_host, endpoint):
    late = image_host.generated(SEED, "jpeg", delay=DEADLINE_S * 1.5)
    slow = image_host.generated(SEED, "jpeg", trickle=DEADLINE_S + 2)
    timely = image_host.generated(SEED, "jpeg", delay=DEADLINE_S / 3)
    late_ex, slow_ex, timely_ex = _concurrently([lambda u=u: _read(v1, endpoint, v1_service, u)
                                                 for u in (late, slow, timely)])
    checks.error(late_ex, CODE["ImageTimeoutError"])
    checks.error(slow_ex, CODE["ImageTimeoutError"])
    kit.items_of(timely_ex)


@pytest.mark.parametrize("port", PORTS_ALLOWED)
@pytest.mark.parametrize("endpoint", IMAGE_READERS)
@pytest.mark.req("V1-IMAGE-PORTS-ALLOWED")
def test_image_port_allowed(v1, v1_service, image_host, image_port, endpoint, port):
    """Input Image Guide: an image URL naming port 80, 443, 10000 or 12000 (the rule's edges) is fetched."""
    image_port(port)
    kit.items_of(_read(v1, endpoint, v1_service, image_host.at_port(image_host.generated(SEED), port)))


@pytest.mark.parametrize("port", PORTS_REFUSED)
@pytest.mark.parametrize("endpoint", IMAGE_READERS)
@pytest.mark.req("V1-IMAGE-PORTS-REFUSED")
def test_image_port_refused(v1, v1_service, image_host, image_port, endpoint, port):
    """Input Image Guide: an image URL naming any other port (the edges' neighbours, 8080, 65535) is refused
    unfetched, although the image host serves the image there."""
    image_port(port)
    before = image_host.fetches(port)
    ex = _read(v1, endpoint, v1_service, image_host.at_port(image_host.generated(SEED), port))
    kit.error_in(ex, URL_REFUSED)
    checks.that(ex, image_host.fetches(port) == before, f"port {port} must not be fetched at all")


@pytest.mark.parametrize("endpoint", IMAGE_READERS)
@pytest.mark.parametrize("url", [
    "ftp://127.0.0.1:10021/image.png",
    "file:///etc/hosts",
    "data:image/png;base64,iVBORw0KGgo=",
    "not a url",
    "http//no-scheme-separator/image.png",
])
@pytest.mark.req("V1-IMAGE-SCHEMES")
def test_image_scheme_refused(v1, v1_service, endpoint, url):
    kit.error_in(_read(v1, endpoint, v1_service, url), URL_REFUSED)


@pytest.mark.parametrize("endpoint", [
    pytest.param("detect", marks=pytest.mark.req("V1-DETECT-URL-45050")),
    pytest.param("tag", marks=pytest.mark.req("V1-TAG-URL-45050")),
])
def test_image_unreachable(v1, v1_service, image_host, endpoint):
    checks.error(_read(v1, endpoint, v1_service, image_host.status_url(404)), CODE["InvalidImageURLException"])


@pytest.mark.parametrize("endpoint", [
    pytest.param("detect", marks=pytest.mark.req("V1-DETECT-URL-45050")),
    pytest.param("tag", marks=pytest.mark.req("V1-TAG-URL-45050")),
])
def test_image_connection_refused(v1, v1_service, closed_port_url, endpoint):
    checks.error(_read(v1, endpoint, v1_service, closed_port_url), CODE["InvalidImageURLException"])


# ------------------------------------------------------------------ search by image reads the linked image again

def _link_of(v1, service: str, url: str) -> str:
    return kit.items_of(_read(v1, "detect", service, url))[0]["link"]


def _search(v1, service: str, link: str):
    return v1.call("search.image", path={"serviceID": service}, params={"link": link, "limit": 5})


@pytest.mark.req("V1-SEARCH-IMAGE-TOO-LARGE-45020")
def test_search_image_linked_image_grew(v1, v1_service, image_host):
    link = _link_of(v1, v1_service, image_host.put("grows.jpeg", kit.generated_bytes(SEED, "jpeg")))
    image_host.put("grows.jpeg", kit.generated_bytes(SEED, "jpeg", size=MAX_BYTES.extra["reject_from"]))
    checks.error(_search(v1, v1_service, link), CODE["ImageTooLargeException"])


@pytest.mark.req("V1-SEARCH-IMAGE-FORMAT-45040")
def test_search_image_linked_image_format(v1, v1_service, image_host):
    link = _link_of(v1, v1_service, image_host.put("turns.png", kit.generated_bytes(SEED, "png")))
    image_host.put("turns.png", kit.generated_bytes(SEED, "webp"))
    checks.error(_search(v1, v1_service, link), CODE["InvalidImageFormatException"])


@pytest.mark.req("V1-SEARCH-IMAGE-URL-45050")
def test_search_image_linked_image_gone(v1, v1_service, image_host):
    """Search by Image > Error Codes: the image behind the link is read again; gone (404) it is -45050."""
    link = _link_of(v1, v1_service, image_host.put("vanishes.jpeg", kit.generated_bytes(SEED, "jpeg")))
    image_host.remove("vanishes.jpeg")
    checks.error(_search(v1, v1_service, link), CODE["InvalidImageURLException"])


@pytest.mark.req("V1-SEARCH-IMAGE-TIMEOUT-45060")
def test_search_image_linked_image_stalls(v1, v1_service, image_host):
    """Search by Image > Error Codes: the image behind the link, read again, now takes longer than the 3 s
    download deadline (Input Image Guide): -45060."""
    data = kit.generated_bytes(SEED, "jpeg")
    link = _link_of(v1, v1_service, image_host.put("stalls.jpeg", data))
    image_host.put("stalls.jpeg", data, delay=DEADLINE_S * 1.5)
    checks.error(_search(v1, v1_service, link), CODE["ImageTimeoutError"])
