"""The image guide on a running emulator over real HTTP: the 3 s download deadline (first-byte delay, slow
trickle, a host that never answers), size caps at their boundaries, formats, the port rule, unreachable hosts,
SSRF refusals without --allow-private-image-hosts (no connection reaches the image host), and detect links."""

from __future__ import annotations

import base64
import json
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

from fashion_conformance import contracts, embedded
from fashion_conformance.emulator.links import LinkSigner, LinkTarget
from fashion_conformance.imagehost.factory import ItemSpec, encode, pad_to_size, product_image, render
from fashion_conformance.imagehost.server import ImageHost, fetchable_ports

DEADLINE_S = contracts.limit("v1", "image.download_deadline_s").value
SCENE = render(300, 240, [ItemSpec("dress", (40, 20, 200, 220), (120, 40, 160))])


@pytest.fixture(scope="module")
def services(v1, v2):
    """(v1 service ID, v2 service name) for the module."""
    pair = v1.create_service(), v2.create_service()
    yield pair
    v1.delete_service(pair[0])
    v2.delete_service(pair[1])


def image_call(nhn, services, endpoint: str, url: str) -> int:
    """The resultCode of an image endpoint (v1/v2 detect or tag, v2 search.image by URL) for image `url`."""
    svc = nhn.svc(services[0] if nhn.api == "v1" else services[1])
    if endpoint == "search.image":
        return nhn.code(endpoint, path=svc, data={"imageUrl": url, "limit": "3"})
    return nhn.code(endpoint, path=svc, params={"path": url})


# -- the 3 s deadline ------------------------------------------------------------------------------------------


def test_download_deadline(v1, v2, services, image_host):
    """Every delivery runs at once (threads), so the whole test takes about one deadline."""
    over, under = DEADLINE_S + 0.6, DEADLINE_S / 2
    cases = [
        (v1, "detect", image_host.generated(11, delay=over), -45060),
        (v1, "detect", image_host.generated(12, trickle=over), -45060),
        (v1, "detect", image_host.generated(13, delay=under, trickle=DEADLINE_S - under + 0.6), -45060),
        (v1, "tag", image_host.generated(14, delay=over), -45060),
        (v1, "detect", image_host.hang_url(), -45060),
        (v2, "detect", image_host.generated(15, trickle=over), -45060),
        (v2, "tag", image_host.generated(16, delay=over), -45060),
        (v2, "search.image", image_host.generated(17, trickle=over), -45060),
        (v1, "detect", image_host.generated(18, delay=under), 0),
        (v2, "detect", image_host.generated(19, trickle=under), 0),
    ]
    index_lines = v2.jsonl([v2.line("slow", image_host.generated(20, delay=over)),
                            v2.line("fast", image_host.generated(21, delay=under))])
    with ThreadPoolExecutor(len(cases) + 1) as pool:
        job = pool.submit(v2.ok, "index.create", path=v2.svc(services[1]), data={"format": "jsonl"},
                          files={"file": ("slow.jsonl", index_lines)})
        codes = list(pool.map(lambda c: image_call(c[0], services, c[1], c[2]), cases))
        done = v2.wait_index(services[1], job.result()["indexId"])
    assert codes == [c[3] for c in cases]
    assert (done["failedProductIds"], done["addedProductIds"]) == (["slow"], ["fast"])


# -- size caps -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("api", "endpoint", "limit", "fmt"), [
    ("v1", "detect", "image.max_bytes", "jpeg"),
    ("v1", "tag", "image.tag_max_bytes", "png"),
    ("v2", "detect", "image.max_bytes", "gif"),
    ("v2", "tag", "image.tag_max_bytes", "jpeg"),
    ("v2", "search.image", "image.max_bytes", "png"),
])
def test_size_cap(nhn, services, image_host, api, endpoint, limit, fmt):
    """The stated byte count is accepted; the first size that must be refused (DESIGN 5) is -45020, also when
    the body comes without a Content-Length (chunked)."""
    cap = contracts.limit(api, limit)
    client = nhn[api]
    assert image_call(client, services, endpoint, image_host.generated(7, fmt, size=cap.value)) == 0
    refused = cap.extra["reject_from"]
    assert image_call(client, services, endpoint, image_host.generated(7, fmt, size=refused)) == -45020
    chunked = image_host.generated(7, fmt, size=refused, length="absent")
    assert image_call(client, services, endpoint, chunked) == -45020


def test_upload_size_cap(v2, services):
    cap = contracts.limit("v2", "image.max_bytes")
    for size, code in ((cap.value, 0), (cap.extra["reject_from"], -45020)):
        data = pad_to_size(product_image(8), "jpeg", size)
        assert v2.code("search.image", path=v2.svc(services[1]), data={"limit": "2"},
                       files={"imageFile": ("big.jpg", data, "image/jpeg")}) == code


# -- formats ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "code"), [("png", 0), ("jpeg", 0), ("gif", 0), ("webp", -45040), ("bmp", -45040),
                                           ("tiff", -45040)])
@pytest.mark.parametrize(("api", "endpoint"), [("v1", "detect"), ("v1", "tag"), ("v2", "detect"),
                                               ("v2", "search.image")])
def test_formats(nhn, services, image_host, api, endpoint, fmt, code):
    url = image_host.put(f"scene-{fmt}.{fmt}", encode(SCENE, fmt))
    assert image_call(nhn[api], services, endpoint, url) == code


@pytest.mark.parametrize("content", [b"", b"plain text, not an image", encode(SCENE, "png")[:300],
                                     encode(SCENE, "jpeg")[:-400], b"GIF89a" + bytes(40), b"<svg></svg>"],
                         ids=["empty", "text", "png-truncated", "jpeg-truncated", "gif-garbage", "svg"])
def test_undecodable(v1, v2, services, image_host, content):
    url = image_host.put("broken.png", content)
    assert image_call(v1, services, "detect", url) == -45040
    assert image_call(v2, services, "tag", url) == -45040


# -- reachability and the port rule ----------------------------------------------------------------------------


def closed_port_in_range() -> int:
    for port in fetchable_ports():
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no closed port in the allowed range")


def test_unreachable(v1, v2, services, image_host):
    image = image_host.generated(3)
    cases = {
        image_host.status_url(404): -45050,
        image_host.generated(3, status=500): -45050,
        image_host.reset_url(): -45050,
        f"http://127.0.0.1:{closed_port_in_range()}/x.png": -45050,
        "ftp://127.0.0.1:10000/x.png": -45050,
        "file:///etc/hostname": -45050,
        "not a url": -45050,
        "http://user:pw@127.0.0.1:10000/x.png": -45050,
        image_host.redirect(image): 0,
        image_host.redirect(image_host.redirect(image, code=301), code=307): 0,
    }
    chain = image
    for _ in range(6):
        chain = image_host.redirect(chain)
    cases[chain] = -45050
    assert {url: image_call(v1, services, "detect", url) for url in cases} == cases
    assert image_call(v2, services, "search.image", image_host.status_url(404)) == -45050


@pytest.mark.parametrize("port", ["ephemeral", 9999, 12001, 8080])
def test_port_rule(v1, v2, services, port):
    """A port outside 80, 443 and 10000..12000 is refused before any connection (-45050)."""
    port = embedded.free_port() if port == "ephemeral" else port
    try:
        other = ImageHost(f"127.0.0.1:{port}").start()
    except OSError:
        pytest.skip(f"port {port} is in use")
    try:
        url = other.put("a.png", encode(SCENE, "png"))
        assert image_call(v1, services, "detect", url) == -45050
        assert image_call(v2, services, "tag", url) == -45050
        assert other.connections == 0
    finally:
        other.stop()


# -- SSRF: the emulator without --allow-private-image-hosts ----------------------------------------------------


@pytest.fixture(scope="module")
def strict(start_emulator, clients_for):
    """Clients of an emulator that refuses private and loopback image hosts (the default)."""
    return clients_for(start_emulator(private=False))


def private_urls(port: int) -> list[str]:
    path = f":{port}/g/1.jpeg"
    return [f"http://127.0.0.1{path}", f"http://localhost{path}", f"http://LOCALHOST.{path}", f"http://[::1]{path}",
            f"http://2130706433{path}", f"http://0x7f000001{path}", f"http://0177.0.0.1{path}", f"http://127.1{path}",
            f"http://[::ffff:127.0.0.1]{path}", f"http://0.0.0.0{path}", "http://10.0.0.1:10000/a.jpg",
            "http://192.168.1.1/a.jpg", "http://172.16.0.1:443/a.jpg", "http://169.254.169.254/latest/meta-data",
            "http://[fd00::1]:10000/a.jpg", "http://[fe80::1]/a.jpg", "http://224.0.0.1/a.jpg"]


def test_ssrf_refused(strict):
    v1, v2, maker = strict["v1"], strict["v2"], strict["maker"]
    with ImageHost() as host:
        urls = private_urls(host.port)
        services = (v1.create_service(), v2.create_service())
        for url in urls:
            for client, endpoint in ((v1, "detect"), (v1, "tag"), (v2, "detect"), (v2, "tag"), (v2, "search.image")):
                assert image_call(client, services, endpoint, url) == -45050, (endpoint, url)
            assert v2.code("index.create", path=v2.svc(services[1]), data={"format": "jsonl", "link": url}) == -40010
            assert maker.code("index.create", path={"serviceID": services[0]}, params={"format": "jsonl"},
                              data={"link": url}) == -40010
        lines = [v2.line(f"p{i}", url) for i, url in enumerate(urls)]
        index_id = v2.ok("index.create", path=v2.svc(services[1]), data={"format": "jsonl"},
                         files={"file": ("private.jsonl", v2.jsonl(lines))})["indexId"]
        done = v2.wait_index(services[1], index_id)
        assert done["status"] == "failed" and done["failedCount"] == len(urls)
        maker_lines = maker.jsonl([maker.line(f"p{i}", url) for i, url in enumerate(urls)])
        index_id = maker.ok("index.create", path={"serviceID": services[0]}, params={"format": "jsonl"},
                            files={"file": ("private.jsonl", maker_lines)})["indexID"]
        assert maker.wait_index(services[0], index_id)["failCnt"] == len(urls)
        assert host.connections == 0 and host.requests == []
        v1.delete_service(services[0])
        v2.delete_service(services[1])


# -- detect links ----------------------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def forged_links(genuine: str) -> list[str]:
    doc = json.loads(base64.urlsafe_b64decode(genuine + "=" * (-len(genuine) % 4)))
    moved = {**doc, "box": [b + 1 for b in doc["box"]]}
    foreign = LinkSigner(b"k" * 32).issue(LinkTarget(doc["path"], doc["sha"], tuple(doc["box"])))
    return [
        _b64(json.dumps(moved).encode()),  # altered box, old signature
        _b64(json.dumps({**doc, "sig": "0" * 32}).encode()),  # forged signature
        _b64(json.dumps({**doc, "extra": 1}).encode()),  # unknown field
        foreign,  # signed by another emulator
        genuine[:-5],  # truncated
        genuine + "AAAA",  # trailing garbage
        "not base64 at all!",
        _b64(b"[1, 2, 3]"),
        _b64(b'{"path": 1, "sha": 2, "box": 3, "sig": 4}'),
        _b64(b"\xff\xfe\x00"),
        "",
    ]


def test_forged_links(v1, v2, services, image_host):
    url = image_host.put("link-scene.png", encode(SCENE, "png"))
    genuine = v2.ok("detect", path=v2.svc(services[1]), params={"path": url})["items"][0]["link"]
    assert v2.code("search.link", path=v2.svc(services[1]), params={"link": genuine, "limit": 1}) == 0
    assert v1.code("search.image", path=v1.svc(services[0]), params={"link": genuine, "limit": 1}) == 0
    for link in forged_links(genuine):
        assert v2.code("search.link", path=v2.svc(services[1]), params={"link": link, "limit": 1}) == -40000, link
        assert v1.code("search.image", path=v1.svc(services[0]), params={"link": link, "limit": 1}) == -40000, link


def test_link_image_changed(v1, v2, services, image_host):
    """E215: search by link downloads the linked image again; when it no longer shows the item, v2 answers the
    image codes (-45070 no item, -45040 not an image) and v1, whose table lacks -45070, -40000."""
    url = image_host.put("changing.png", encode(SCENE, "png"))
    link = v2.ok("detect", path=v2.svc(services[1]), params={"path": url})["items"][0]["link"]

    def codes() -> tuple[int, int]:
        return (v2.code("search.link", path=v2.svc(services[1]), params={"link": link, "limit": 1}),
                v1.code("search.image", path=v1.svc(services[0]), params={"link": link, "limit": 1}))

    assert codes() == (0, 0)
    image_host.put("changing.png", encode(render(300, 240, []), "png"))
    assert codes() == (-45070, -40000)
    moved = render(300, 240, [ItemSpec("dress", (60, 20, 220, 220), (120, 40, 160))])
    image_host.put("changing.png", encode(moved, "png"))
    assert codes() == (-45070, -40000)
    image_host.put("changing.png", b"no longer an image")
    assert codes() == (-45040, -45040)
    too_large = contracts.limit("v2", "image.max_bytes").extra["reject_from"]  # refused by v1 and v2
    image_host.put("changing.png", pad_to_size(encode(SCENE, "png"), "png", too_large))
    assert codes() == (-45020, -45020)
    image_host.put("changing.png", encode(SCENE, "png"))
    assert codes() == (0, 0)


def test_link_image_unreachable_or_slow(v1, v2, services):
    """E215: the link's image host is gone (-45050), then answers nothing within the deadline (-45060)."""
    other = ImageHost().start()
    port = other.port
    url = other.put("scene.png", encode(SCENE, "png"))
    link = v2.ok("detect", path=v2.svc(services[1]), params={"path": url})["items"][0]["link"]
    other.stop()

    calls = [lambda: v2.code("search.link", path=v2.svc(services[1]), params={"link": link, "limit": 1}),
             lambda: v1.code("search.image", path=v1.svc(services[0]), params={"link": link, "limit": 1})]
    assert [call() for call in calls] == [-45050, -45050]
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never answers
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        silent.bind(("127.0.0.1", port))
        silent.listen(16)
        with ThreadPoolExecutor(len(calls)) as pool:
            assert list(pool.map(lambda call: call(), calls)) == [-45060, -45060]
