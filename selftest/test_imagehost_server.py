"""Self-tests of the image host: bytes and headers, timing, framing, counters, redirects, hanging and reset."""

from __future__ import annotations

import io
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image

import fashion_conformance
from fashion_conformance.imagehost import factory
from fashion_conformance.imagehost.server import HUGE_EXTRA, ImageHost, fetchable_ports

DATA = bytes(range(256)) * 40  # 10,240 bytes, every byte value


@dataclass
class Raw:
    status_line: str
    headers: dict[str, str]
    body: bytes  # everything after the head, as sent (not de-chunked)
    first_byte_s: float | None  # from sending the request to the first byte received
    done_s: float  # from sending the request to the server closing the connection
    reads: int


def raw(url: str, method: str = "GET", timeout: float = 15) -> Raw:
    """One request on a plain socket; reads until the server closes."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
        data, first, reads = b"", None, 0
        while chunk := sock.recv(65536):
            first = first if first is not None else time.monotonic() - started
            data += chunk
            reads += 1
        done = time.monotonic() - started
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return Raw(lines[0], {k.lower(): v for k, v in headers.items()}, body, first, done, reads)


def dechunk(body: bytes) -> bytes:
    out = b""
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert body == b"\r\n"
            return out
        out += body[:size]
        assert body[size : size + 2] == b"\r\n"
        body = body[size + 2 :]


@pytest.fixture(scope="module")
def host():
    with ImageHost() as h:
        h.put("blob.png", DATA)
        yield h


def test_exact_bytes_and_headers(host):
    r = raw(host.url("blob.png"))
    assert r.status_line == "HTTP/1.1 200 OK"
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-length"] == str(len(DATA))
    assert r.headers["connection"] == "close"
    assert "transfer-encoding" not in r.headers
    assert r.body == DATA
    assert httpx.get(host.url("blob.png")).content == DATA


def test_head_sends_headers_only(host):
    r = raw(host.url("blob.png"), method="HEAD")
    assert r.status_line == "HTTP/1.1 200 OK"
    assert r.headers["content-length"] == str(len(DATA))
    assert r.body == b""


def test_content_type_from_extension_or_given(host):
    cases = {"a.jpg": "image/jpeg", "b.JPEG": "image/jpeg", "c.gif": "image/gif", "d.webp": "image/webp"}
    cases |= {"idx.jsonl": "application/x-ndjson", "idx.csv": "text/csv; charset=utf-8"}
    cases |= {"noext": "application/octet-stream", "e.unknown": "application/octet-stream"}
    for name, expected in cases.items():
        assert raw(host.put(name, b"x")).headers["content-type"] == expected
    assert raw(host.put("f.png", b"x", "image/webp")).headers["content-type"] == "image/webp"


def test_put_replaces_and_returns_plain_url(host):
    url = host.put("replaced.png", b"one")
    assert url == f"{host.base_url}/f/replaced.png"
    host.put("replaced.png", b"two")
    assert raw(url).body == b"two"


def test_bad_names_and_options_are_refused_when_building(host):
    for name in ("../x.png", "a/b.png", ".hidden", "", "sp ace.png", "x" * 129):
        with pytest.raises(ValueError):
            host.put(name, b"x")
    for content_type in ("image/png\r\nX-Injected: 1", "", "bild/ü"):
        with pytest.raises(ValueError):
            host.put("ok.png", b"x", content_type)
    for options in (
        {"delay": -1},
        {"trickle": float("nan")},
        {"status": 99},
        {"status": 600},
        {"length": "x"},
    ):
        with pytest.raises(ValueError):
            host.url("blob.png", **options)
    with pytest.raises(ValueError):
        host.redirect(host.url("blob.png"), code=200)
    with pytest.raises(ValueError):
        host.status_url(700)


def test_errors_on_the_wire(host):
    assert raw(host.url("missing.png")).status_line == "HTTP/1.1 404 Not Found"
    assert raw(f"{host.base_url}/nowhere").status_line == "HTTP/1.1 404 Not Found"
    for query in ("delay=-1", "delay=abc", "trickle=inf", "length=foo", "status=abc", "status=999"):
        r = raw(f"{host.base_url}/f/blob.png?{query}")
        assert r.status_line == "HTTP/1.1 400 Bad Request", query
        assert r.headers["content-length"] == str(len(r.body))
    assert raw(f"{host.base_url}/r?code=302").status_line == "HTTP/1.1 400 Bad Request"
    assert raw(host.url("blob.png"), method="POST").status_line == "HTTP/1.1 405 Method Not Allowed"


def test_status_urls(host):
    r = raw(host.status_url(503))
    assert r.status_line == "HTTP/1.1 503 Service Unavailable"
    assert r.body == b"status 503\n"
    r = raw(host.url("blob.png", status=500))
    assert r.status_line == "HTTP/1.1 500 Internal Server Error"
    assert r.body == DATA
    r = raw(host.status_url(204))
    assert r.status_line == "HTTP/1.1 204 No Content"
    assert "content-length" not in r.headers and r.body == b""
    assert httpx.get(host.status_url(404)).status_code == 404


def test_delay_before_first_byte(host):
    for method in ("GET", "HEAD"):
        r = raw(host.url("blob.png", delay=0.6), method=method)
        assert r.first_byte_s is not None
        assert 0.6 <= r.first_byte_s <= 1.6
        assert r.status_line == "HTTP/1.1 200 OK"
    assert raw(host.url("blob.png", delay=0.6)).body == DATA


def test_trickle_spreads_the_body(host):
    r = raw(host.url("blob.png", trickle=1.5))
    assert r.first_byte_s is not None and r.first_byte_s < 1.0  # headers at once
    assert 1.5 <= r.done_s <= 2.5
    assert r.reads >= 5
    assert r.headers["content-length"] == str(len(DATA))
    assert r.body == DATA


def test_delay_and_trickle_add_up(host):
    r = raw(host.url("blob.png", delay=0.4, trickle=0.8))
    assert r.first_byte_s is not None and r.first_byte_s >= 0.4
    assert 1.2 <= r.done_s <= 2.2
    assert r.body == DATA


def test_length_absent_is_chunked(host):
    for trickle in (0, 0.5):
        r = raw(host.url("blob.png", length="absent", trickle=trickle))
        assert "content-length" not in r.headers
        assert r.headers["transfer-encoding"] == "chunked"
        assert dechunk(r.body) == DATA
    assert httpx.get(host.url("blob.png", length="absent")).content == DATA


def test_length_lie_declares_less_than_sent(host):
    r = raw(host.url("blob.png", length="lie"))
    assert int(r.headers["content-length"]) < len(DATA)
    assert r.body == DATA


def test_length_huge_declares_far_more_than_sent(host):
    r = raw(host.url("blob.png", length="huge"))
    assert int(r.headers["content-length"]) == len(DATA) + HUGE_EXTRA
    assert r.body == DATA
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(host.url("blob.png", length="huge"))


def test_connection_counter_and_request_paths(host):
    host.reset_counters()
    assert (host.connections, host.requests) == (0, [])
    for _ in range(3):
        raw(host.url("blob.png", delay=0.01))
    socket.create_connection((urlsplit(host.base_url).hostname, host.port)).close()
    deadline = time.monotonic() + 5
    while host.connections < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert host.connections == 4
    assert host.requests == ["/f/blob.png"] * 3
    host.reset_counters()
    assert (host.connections, host.requests) == (0, [])


def test_redirects(host):
    target = host.url("blob.png")
    r = raw(host.redirect(target))
    assert r.status_line == "HTTP/1.1 302 Found"
    assert r.headers["location"] == target
    assert raw(host.redirect(target, code=307)).status_line == "HTTP/1.1 307 Temporary Redirect"
    assert raw(host.redirect("http://x.example/a b\r\nX-Injected: 1")).headers == {
        "content-type": "text/plain; charset=utf-8",
        "location": "http://x.example/a%20b%0D%0AX-Injected:%201",
        "content-length": "0",
        "connection": "close",
        "server": "fashion-conformance-imagehost",
    }
    host.reset_counters()
    chained = host.redirect(host.redirect(host.redirect(target)))
    response = httpx.get(chained, follow_redirects=True)
    assert response.content == DATA
    assert len(response.history) == 3
    assert host.requests == ["/r", "/r", "/r", "/f/blob.png"]


def test_reset_closes_without_answer(host):
    with pytest.raises(ConnectionResetError):
        raw(host.reset_url())
    with pytest.raises(httpx.TransportError):
        httpx.get(host.reset_url())


def test_thread_safe_put(host):
    def writer(k: int) -> None:
        for i in range(25):
            host.put(f"t{k}-{i}.gif", f"{k}:{i}".encode())

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with httpx.Client() as client:
        for k in range(4):
            for i in range(25):
                assert client.get(host.url(f"t{k}-{i}.gif")).content == f"{k}:{i}".encode()


def test_port_in_the_fetchable_range_and_urls():
    ports = fetchable_ports()
    assert 80 not in ports and 443 not in ports  # single ports of the rule are not ranges; nothing privileged
    with ImageHost() as a, ImageHost("127.0.0.1:0") as b:
        assert a.port in ports and b.port in ports and a.port != b.port
        assert a.base_url == f"http://127.0.0.1:{a.port}"
    public = ImageHost(public_url="http://images.example:10080/")
    assert (
        public.url("a.png", delay=2.5, length="absent")
        == "http://images.example:10080/f/a.png?delay=2.5&length=absent"
    )
    assert public.hang_url() == "http://images.example:10080/hang"
    for bind in ("nonsense", "127.0.0.1:", ":80", "127.0.0.1:99999"):
        with pytest.raises(ValueError):
            ImageHost(bind)


def test_stop_ends_hanging_and_trickling_connections(caplog):
    caplog.set_level(logging.WARNING)
    h = ImageHost().start()
    h.put("slow.png", DATA)
    results: dict[str, object] = {}

    def client(key: str, url: str) -> None:
        try:
            results[key] = raw(url, timeout=30)
        except OSError as exc:
            results[key] = exc

    threads = [
        threading.Thread(target=client, args=("hang", h.hang_url())),
        threading.Thread(target=client, args=("slow", h.url("slow.png", trickle=60))),
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while len(h.requests) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    assert all(t.is_alive() for t in threads)  # nothing answered or finished yet
    h.stop()
    for t in threads:
        t.join(10)
        assert not t.is_alive()
    hang = results["hang"]
    assert isinstance(hang, OSError) or (
        isinstance(hang, Raw) and hang.status_line == "" and hang.body == b""
    )
    slow = results["slow"]
    assert isinstance(slow, OSError) or (isinstance(slow, Raw) and len(slow.body) < len(DATA))
    h.stop()  # idempotent
    assert [r.getMessage() for r in caplog.records] == []


def test_generated_images(host):
    url = host.generated(7, "png", width=200, height=100)
    r = raw(url)
    assert r.headers["content-type"] == "image/png"
    assert r.body == factory.product_image(7, width=200, height=100, fmt="png")
    with Image.open(io.BytesIO(r.body)) as img:
        assert (img.format, img.size) == ("PNG", (200, 100))
    padded = raw(host.generated(3, "jpeg", size=60_000, delay=0.2, length="absent"))
    assert padded.first_byte_s is not None and padded.first_byte_s >= 0.2
    assert len(dechunk(padded.body)) == 60_000
    assert raw(host.generated(1)).body != raw(host.generated(2)).body
    on_demand = raw(f"{host.base_url}/g/5.gif?w=64&h=48")  # never announced by generated()
    assert on_demand.body == factory.product_image(5, width=64, height=48, fmt="gif")
    for path in (
        "/g/5.xyz",
        "/g/5.png?w=0",
        "/g/5.png?h=99999",
        "/g/5.png?size=0",
        "/g/5.png?size=10",
        "/g/5.webp?size=90000",
    ):
        assert raw(host.base_url + path).status_line == "HTTP/1.1 400 Bad Request", path
    for bad in ({"fmt": "xyz"}, {"size": 10}, {"fmt": "bmp", "size": 900_000}, {"width": 0}, {"delay": -1}):
        with pytest.raises(ValueError):
            host.generated(1, **bad)
    with pytest.raises(TypeError):
        host.generated(1, colour="red")


def test_cli_serves_until_interrupted(tmp_path: Path):
    (tmp_path / "shirt.png").write_bytes(DATA)
    package_root = Path(fashion_conformance.__file__).parents[1]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(package_root), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "fashion_conformance.imagehost.server", "--files", str(tmp_path)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) as proc:
        try:
            line = proc.stdout.readline()
            assert line.startswith("serving http://127.0.0.1:"), line + proc.stderr.read()
            base = line.split()[1]
            assert int(base.rsplit(":", 1)[1]) in fetchable_ports()
            assert httpx.get(f"{base}/f/shirt.png").content == DATA
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


# ---------------------------------------------------------------- extra ports (port rule edges) and changing files

def test_port_edges_come_from_the_contracts():
    from fashion_conformance import contracts
    from fashion_conformance.imagehost.server import port_allowed, port_edges

    allowed, refused = port_edges("v2")
    assert allowed == [80, 443, 10000, 12000] and refused == [79, 81, 442, 444, 8080, 9999, 12001, 65535]
    assert all(port_allowed(p, "v2") for p in allowed) and not any(port_allowed(p, "v2") for p in refused)
    assert {p for e in contracts.limit("v2", "image.allowed_ports").value for p in (e if isinstance(e, list) else [e])} \
        == set(allowed)


def test_on_port_serves_the_same_routes_and_counts_per_port(host):
    url = host.put("edge.bin", DATA)
    with host.on_port(12001) as base:
        assert base == "http://127.0.0.1:12001"
        moved = host.at_port(url, 12001)
        assert moved == base + "/f/edge.bin"
        before, own = host.fetches(12001), host.fetches(host.port)
        assert httpx.get(moved).content == DATA and host.fetches(12001) == before + 1
        assert host.fetches(host.port) == own  # the own port counts apart
    with pytest.raises(httpx.ConnectError):
        httpx.get(moved)
    with host.on_port(host.port) as base:  # the own port: nothing to open
        assert httpx.get(host.at_port(url, host.port)).content == DATA


def test_on_port_refuses_a_busy_port_and_public_hosts_without_port_url():
    with socket.socket() as busy, ImageHost() as local:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(OSError), local.on_port(busy.getsockname()[1], busy_wait_s=0.3):
            pass
        started = time.monotonic()
        with pytest.raises(OSError), local.on_port(busy.getsockname()[1], busy_wait_s=5):
            pass
        assert time.monotonic() - started < 2, "a port found busy for a whole wait is not waited for again"
    public = ImageHost(public_url="http://images.example.org:10080")
    assert public.port_base(443) is None
    templated = ImageHost(public_url="http://images.example.org:10080", port_url="http://images.example.org:{port}")
    assert templated.port_base(443) == "http://images.example.org:443"
    with pytest.raises(ValueError):
        ImageHost(port_url="http://images.example.org")


def test_port_url_in_the_targets_file(tmp_path: Path):
    from fashion_conformance.targets import TargetsError, load

    path = tmp_path / "t.toml"
    path.write_text('[image_host]\nport_url = "http://images.example.org:{port}"\n', encoding="utf-8")
    assert load(path, environ={}).sections["image_host"]["port_url"] == "http://images.example.org:{port}"
    path.write_text('[image_host]\nport_url = "http://images.example.org:10000"\n', encoding="utf-8")
    with pytest.raises(TargetsError, match="port_url"):
        load(path, environ={})


def test_put_with_delay_and_remove_change_a_url_handed_out(host):
    url = host.put("turns.bin", DATA)
    host.put("turns.bin", DATA, delay=0.6)
    got = raw(url)
    assert got.body == DATA and got.first_byte_s >= 0.5
    assert raw(url + "?delay=0").first_byte_s < 0.5  # an explicit option wins
    host.remove("turns.bin")
    assert raw(url).status_line.startswith("HTTP/1.1 404")
