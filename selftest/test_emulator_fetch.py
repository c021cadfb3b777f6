"""The emulator's image fetcher: deadline, size cap, scheme/port rules, SSRF vetting, redirects.

Real downloads go to in-process servers on 127.0.0.1 (ports 10000..12000, allow_private=True). Public-looking
hosts are fake: an injected resolver names the addresses and an injected mock transport answers, so nothing
outside loopback is ever contacted.
"""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest

from fashion_conformance import contracts
from fashion_conformance.emulator import fetch as fetch_mod
from fashion_conformance.emulator.fetch import Fetched, FetchError, check_url, fetch

pytestmark = pytest.mark.anyio

DOCUMENTED_PORTS = frozenset({80, 443, *range(10000, 12001)})
PUBLIC_IP = "93.184.216.34"
CAP = 100_000
SECRET = "SEKRET-appkey-123"
Handler = Callable[[asyncio.StreamWriter, bytes], Awaitable[None]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def ok(data: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    """A mock 200 response whose body is still to be streamed."""
    return httpx.Response(200, headers=headers, stream=httpx.ByteStream(data))


class Counter:
    """A fake resolver (name -> addresses) and a mock transport that count every use."""

    def __init__(self, names: dict[str, list[str]] | None = None, respond=None) -> None:
        self.names = names or {}
        self.resolved: list[str] = []
        self.requests: list[httpx.Request] = []
        self.respond = respond or (lambda request: ok(b"GIF89a-image"))

    async def resolve(self, host: str, port: int) -> list[str]:
        self.resolved.append(host)
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "unknown name")
        return self.names[host]

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return self.respond(request)

        return httpx.MockTransport(handle)

    async def fetch(self, url: str, *, allow_private: bool = False, deadline_s: float = 5.0) -> Fetched:
        return await fetch(url, max_bytes=CAP, deadline_s=deadline_s, allow_private=allow_private,
                           resolver=self.resolve, transport=self.transport())


async def failure(call: Awaitable[Fetched]) -> FetchError:
    with pytest.raises(FetchError) as info:
        await call
    return info.value


@asynccontextmanager
async def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[tuple[int, list[bytes]]]:
    """An HTTP(S) server on 127.0.0.1 at a free port in 10000..12000; yields (port, request heads seen)."""
    heads: list[bytes] = []
    tasks: set[asyncio.Task] = set()

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        tasks.add(asyncio.current_task())
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            heads.append(head)
            await handler(writer, head)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    for _ in range(200):
        try:
            server = await asyncio.start_server(on_connect, "127.0.0.1", random.randint(10000, 12000), ssl=tls)
            break
        except OSError:
            continue
    else:
        pytest.fail("no free port in 10000..12000")
    try:
        yield server.sockets[0].getsockname()[1], heads
    finally:
        server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


def head(status: str = "200 OK", **headers: str | int) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Connection: close", *(f"{k.replace('_', '-')}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def body_of(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


async def get(port: int, path: str = "/img", *, deadline_s: float = 5.0, max_bytes: int = CAP) -> Fetched:
    return await fetch(f"http://127.0.0.1:{port}{path}", max_bytes=max_bytes, deadline_s=deadline_s,
                       allow_private=True)


async def hang_forever() -> None:
    await asyncio.Event().wait()


# -- scheme, URL and port rules (nothing resolved, nothing connected) --------------------------------


@pytest.mark.parametrize("url", [
    "ftp://shop.example:10001/a.png", "file:///etc/passwd", "gopher://shop.example/", "data:image/png;base64,AAAA",
    "javascript:alert(1)", "shop.example/a.png", "//shop.example/a.png", "", "http://", "http:///a.png",
    "http://user:pw@shop.example/a.png", "http://exa mple.com/a.png", "http://%31%32%37.0.0.1/",
])
async def test_only_plain_http_and_https_urls_are_fetched(url: str) -> None:
    c = Counter({"shop.example": [PUBLIC_IP]})
    assert (await failure(c.fetch(url))).kind == "invalid_url"
    assert c.resolved == [] and c.requests == []


@pytest.mark.parametrize("port", [0, 21, 22, 79, 81, 442, 444, 3306, 8080, 9999, 12001, 65535])
async def test_ports_outside_80_443_and_10000_to_12000_are_refused(port: int) -> None:
    c = Counter({"shop.example": [PUBLIC_IP]})
    error = await failure(c.fetch(f"http://shop.example:{port}/a.png"))
    assert error.kind == "port"
    assert c.resolved == [] and c.requests == []


@pytest.mark.parametrize("url", [
    "http://shop.example/a.png", "https://shop.example/a.png", "http://shop.example:80/a", "https://shop.example:443/a",
    "http://shop.example:443/a", "https://shop.example:80/a", "http://shop.example:10000/a", "https://shop.example:11000/a",
    "http://shop.example:12000/a",
])
def test_default_and_allowed_ports_pass(url: str) -> None:
    assert check_url(url).raw_host == b"shop.example"


def test_allowed_ports_come_from_the_contracts() -> None:
    assert contracts.limit("v1", "image.allowed_ports").value
    assert fetch_mod.allowed_ports() == DOCUMENTED_PORTS


# -- private addresses (SSRF) --------------------------------------------------------------------------


@pytest.mark.parametrize("host", [
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.1.1",
    "169.254.169.254", "0.0.0.0", "100.64.0.1", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1",
    "[::1]", "[::]", "[fc00::1]", "[fd12:3456::1]", "[fe80::1]", "[ff02::1]", "[fec0::1]", "[::ffff:127.0.0.1]",
    "[::ffff:10.0.0.1]", "[2002:7f00:1::]", "[64:ff9b::a00:1]", "[2001:db8::1]",
    "2130706433", "0x7f000001", "127.1", "0x0a000001", "017700000001", "0",
])
async def test_private_and_special_addresses_are_refused_without_connecting(host: str) -> None:
    c = Counter()
    error = await failure(c.fetch(f"http://{host}:10001/a.png"))
    assert error.kind == "private"
    assert c.resolved == [] and c.requests == []


async def test_octal_dotted_spelling_never_reaches_loopback() -> None:
    c = Counter()
    assert (await failure(c.fetch("http://0177.0.0.1:10001/a.png"))).kind in {"private", "invalid_url"}
    assert c.requests == []


@pytest.mark.parametrize("addresses", [
    ["127.0.0.1"], ["10.1.2.3"], ["172.20.0.5"], ["192.168.0.7"], ["169.254.169.254"], ["::1"], ["fd00::5"],
    ["0.0.0.0"], ["::ffff:192.168.0.1"], [PUBLIC_IP, "10.0.0.1"], ["2606:4700::1", "fe80::1"],
])
async def test_a_name_resolving_to_any_private_address_is_refused(addresses: list[str]) -> None:
    c = Counter({"images.example": addresses})
    assert (await failure(c.fetch("http://images.example/a.png"))).kind == "private"
    assert c.resolved == ["images.example"] and c.requests == []


async def test_private_addresses_pass_when_allowed() -> None:
    c = Counter({"images.internal": ["10.1.2.3"]})
    fetched = await c.fetch("http://images.internal:10001/a.png", allow_private=True)
    assert fetched.data == b"GIF89a-image"
    assert c.requests[0].url.host == "10.1.2.3"


@pytest.mark.parametrize("names", [{}, {"images.example": []}, {"images.example": ["not-an-address"]}])
async def test_a_name_that_does_not_resolve_is_unreachable(names: dict[str, list[str]]) -> None:
    c = Counter(names)
    assert (await failure(c.fetch("http://images.example/a.png"))).kind == "unreachable"
    assert c.requests == []


async def test_the_connection_goes_to_the_vetted_address_with_the_original_host() -> None:
    answers = iter([[PUBLIC_IP], ["127.0.0.1"]])  # a rebinding resolver: public first, loopback next

    class Rebinding(Counter):
        async def resolve(self, host: str, port: int) -> list[str]:
            self.resolved.append(host)
            return next(answers)

    c = Rebinding(respond=lambda r: ok(b"img", {"Content-Type": "image/png"}))
    fetched = await c.fetch("http://Shop.Example:10001/a.png?appkey=x")
    assert fetched == Fetched(b"img", "image/png", "http://shop.example:10001/a.png?appkey=x")
    assert c.resolved == ["shop.example"]
    (request,) = c.requests
    assert request.url.host == PUBLIC_IP and request.url.port == 10001
    assert request.headers["host"] == "shop.example:10001"
    assert request.headers["accept-encoding"] == "identity"


async def test_https_keeps_the_host_name_for_tls() -> None:
    c = Counter({"shop.example": ["2606:4700::1111"]})
    await c.fetch("https://shop.example/a.png")
    (request,) = c.requests
    assert request.url.scheme == "https" and request.url.host == "2606:4700::1111"
    assert request.headers["host"] == "shop.example"
    assert request.extensions["sni_hostname"] == "shop.example"


async def test_https_to_the_pinned_address_still_verifies_the_host_name() -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("img.test").configure_cert(server_tls)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    c = Counter({"img.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})

    async def handler(writer: asyncio.StreamWriter, request: bytes) -> None:
        writer.write(head(Content_Length=3) + b"img")

    async with serve(handler, tls=server_tls) as (port, heads):
        async def get_tls(host: str) -> Fetched:
            return await fetch(f"https://{host}:{port}/a.png", max_bytes=CAP, deadline_s=5.0, allow_private=True,
                               resolver=c.resolve, transport=httpx.AsyncHTTPTransport(verify=client_tls))

        assert (await get_tls("img.test")).data == b"img"
        assert b"\r\nHost: img.test:%d\r\n" % port in heads[0]
        assert (await failure(get_tls("other.test"))).kind == "unreachable"  # certificate names img.test only
        assert len(heads) == 1


# -- redirects -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("location", "kind"), [
    ("http://10.0.0.5:10001/x.png", "private"),
    ("http://internal.example/x.png", "private"),
    ("http://[::1]:10001/x.png", "private"),
    ("http://169.254.169.254/latest/meta-data/", "private"),
    ("http://2130706433:10001/x.png", "private"),
    ("//internal.example/x.png", "private"),
    ("ftp://shop.example/x.png", "invalid_url"),
    ("file:///etc/passwd", "invalid_url"),
    ("http://shop.example:22/x.png", "port"),
    ("http://nowhere.example/x.png", "unreachable"),
])
async def test_every_redirect_target_is_vetted_again(location: str, kind: str) -> None:
    c = Counter({"shop.example": [PUBLIC_IP], "internal.example": ["192.168.0.7"]},
                respond=lambda r: httpx.Response(302, headers={"Location": location}))
    assert (await failure(c.fetch("http://shop.example/a.png"))).kind == kind
    assert len(c.requests) == 1


def redirect_chain(writer: asyncio.StreamWriter, request: bytes) -> None:
    step = int(request.split(b" ")[1].rsplit(b"/", 1)[1])
    if step:
        writer.write(head("302 Found", Location=f"/r/{step - 1}", Content_Length=0))
    else:
        writer.write(head(Content_Type="image/gif", Content_Length=6) + b"GIF89a")


async def test_five_redirects_are_followed_and_a_sixth_is_not() -> None:
    async def handler(writer: asyncio.StreamWriter, request: bytes) -> None:
        redirect_chain(writer, request)

    async with serve(handler) as (port, heads):
        fetched = await get(port, "/r/5")
        assert fetched.data == b"GIF89a" and fetched.content_type == "image/gif"
        assert fetched.final_url == f"http://127.0.0.1:{port}/r/0"
        assert len(heads) == 6
        assert (await failure(get(port, "/r/6"))).kind == "unreachable"
        assert len(heads) == 6 + 6


# -- deadline --------------------------------------------------------------------------------------------


async def test_no_first_byte_before_the_deadline_is_a_timeout() -> None:
    async def handler(writer: asyncio.StreamWriter, request: bytes) -> None:
        await hang_forever()

    async with serve(handler) as (port, _):
        assert (await failure(get(port, deadline_s=0.3))).kind == "timeout"


async def test_a_trickle_whose_total_passes_the_deadline_is_a_timeout() -> None:
    async def handler(writer: asyncio.StreamWriter, request: bytes) -> None:
        writer.write(head(Content_Length=40))
        for _ in range(40):  # each byte arrives well within the deadline; all of them do not
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.05)

    async with serve(handler) as (port, _):
        assert (await failure(get(port, deadline_s=0.4))).kind == "timeout"


async def test_a_redirect_chain_shares_one_deadline() -> None:
    async def handler(writer: asyncio.StreamWriter, request: bytes) -> None:
        await asyncio.sleep(0.1)
        redirect_chain(writer, request)

    async with serve(handler) as (port, heads):
        assert (await failure(get(port, "/r/5", deadline_s=0.35))).kind == "timeout"
        assert len(heads) < 6


async def test_name_resolution_counts_against_the_deadline() -> None:
    class Slow(Counter):
        async def resolve(self, host: str, port: int) -> list[str]:
            await hang_forever()

    c = Slow()
    assert (await failure(c.fetch("http://shop.example/a.png", deadline_s=0.2))).kind == "timeout"
    assert c.requests == []


# -- size cap --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "ok"), [(CAP - 1, True), (CAP, True), (CAP + 1, False)])
@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
async def test_the_cap_holds_for_every_framing(size: int, ok: bool, framing: str) -> None:
    data = body_of(size)

    async def handler(writer: asyncio.StreamWriter, request: bytes) -> None:
        if framing == "length":
            writer.write(head(Content_Length=size) + data)
        elif framing == "chunked":
            writer.write(head(Transfer_Encoding="chunked"))
            for i in range(0, size, 7000):
                piece = data[i:i + 7000]
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            writer.write(b"0\r\n\r\n")
        else:
            writer.write(head() + data)

    async with serve(handler) as (port, _):
        if ok:
            assert (await get(port)).data == data
        else:
            assert (await failure(get(port))).kind == "too_large"


async def test_a_content_length_over_the_cap_fails_before_the_body() -> None:
    async def handler(writer: asyncio.StreamWriter, request: bytes) -> None:
        writer.write(head(Content_Length=CAP + 1))
        await writer.drain()
        await hang_forever()  # a fetcher waiting for the body would time out instead

    async with serve(handler) as (port, _):
        error = await failure(get(port))
        assert error.kind == "too_large" and str(CAP + 1) in error.detail


@pytest.mark.parametrize("framing", ["chunked", "close"])
async def test_an_endless_body_stops_at_the_cap(framing: str) -> None:
    sent = 0

    async def handler(writer: asyncio.StreamWriter, request: bytes) -> None:
        nonlocal sent
        writer.write(head(Transfer_Encoding="chunked") if framing == "chunked" else head())
        piece = body_of(16384)
        while True:
            writer.write(b"4000\r\n%s\r\n" % piece if framing == "chunked" else piece)
            await writer.drain()
            sent += len(piece)

    async with serve(handler) as (port, _):
        assert (await failure(get(port, deadline_s=10.0))).kind == "too_large"
    assert sent < 100 * CAP


async def test_a_content_length_smaller_than_the_body_frames_the_body() -> None:
    async def handler(writer: asyncio.StreamWriter, request: bytes) -> None:
        writer.write(head(Content_Length=1000))
        while True:  # far more than the cap behind the declared 1000 bytes
            writer.write(body_of(16384))
            await writer.drain()

    async with serve(handler) as (port, _):
        assert (await get(port)).data == body_of(16384)[:1000]


async def test_a_content_length_larger_than_the_body_is_unreachable() -> None:
    async def handler(writer: asyncio.StreamWriter, request: bytes) -> None:
        writer.write(head(Content_Length=5000) + body_of(100))

    async with serve(handler) as (port, _):
        assert (await failure(get(port))).kind == "unreachable"


# -- other failures --------------------------------------------------------------------------------------


@pytest.mark.parametrize("reply", [
    head("404 Not Found", Content_Length=0), head("403 Forbidden", Content_Length=0),
    head("500 Internal Server Error", Content_Length=0), head("503 Service Unavailable"),
    head("302 Found", Content_Length=0), b"this is not HTTP\r\n\r\n", b"",
])
async def test_error_statuses_and_broken_replies_are_unreachable(reply: bytes) -> None:
    async def handler(writer: asyncio.StreamWriter, request: bytes) -> None:
        writer.write(reply)

    async with serve(handler) as (port, _):
        assert (await failure(get(port))).kind == "unreachable"


async def test_a_closed_port_is_unreachable() -> None:
    async with serve(lambda w, r: asyncio.sleep(0)) as (port, _):
        pass
    assert (await failure(get(port))).kind == "unreachable"


async def test_loopback_is_refused_unless_allowed_and_nothing_connects() -> None:
    async def handler(writer: asyncio.StreamWriter, request: bytes) -> None:
        writer.write(head(Content_Length=3) + b"img")

    async with serve(handler) as (port, heads):
        for host in ("127.0.0.1", "2130706433", "0x7f000001", "127.1"):
            url = f"http://{host}:{port}/a.png"
            error = await failure(fetch(url, max_bytes=CAP, deadline_s=5.0, allow_private=False))
            assert error.kind == "private"
        assert heads == []
        fetched = await fetch(f"http://127.1:{port}/a.png", max_bytes=CAP, deadline_s=5.0, allow_private=True)
        assert fetched.data == b"img" and len(heads) == 1
        assert b"\r\nHost: 127.1:%d\r\n" % port in heads[0]


async def test_messages_carry_neither_the_url_nor_its_secrets() -> None:
    c = Counter({"shop.example": [PUBLIC_IP], "inner.example": ["10.0.0.1"]},
                respond=lambda r: httpx.Response(404 if "gone" in r.url.path else 302,
                                                 headers={"Location": f"http://inner.example/?key={SECRET}"}))
    urls = [
        f"http://user:{SECRET}@shop.example/a.png", f"ftp://shop.example/a?appkey={SECRET}",
        f"http://shop.example:22/a?appkey={SECRET}", f"http://10.0.0.1/a?appkey={SECRET}",
        f"http://unknown.example/a?appkey={SECRET}", f"http://shop.example/gone?appkey={SECRET}",
        f"http://shop.example/a?appkey={SECRET}",
    ]
    for url in urls:
        error = await failure(c.fetch(url))
        for text in (str(error), error.detail, repr(error)):
            assert SECRET not in text and "example" not in text
        assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


async def test_the_system_resolver_feeds_the_same_vetting() -> None:
    async def handler(writer: asyncio.StreamWriter, request: bytes) -> None:
        writer.write(head(Content_Length=3) + b"img")

    async with serve(handler) as (port, heads):
        url = f"http://localhost:{port}/a.png"
        assert (await failure(fetch(url, max_bytes=CAP, deadline_s=5.0, allow_private=False))).kind == "private"
        assert heads == []
        assert (await fetch(url, max_bytes=CAP, deadline_s=5.0, allow_private=True)).data == b"img"


async def test_the_next_vetted_address_is_tried_when_one_refuses() -> None:
    async def handler(writer: asyncio.StreamWriter, request: bytes) -> None:
        writer.write(head(Content_Length=3) + b"img")

    c = Counter({"img.test": ["127.0.0.2", "127.0.0.1"]})  # the server listens on 127.0.0.1 only
    async with serve(handler) as (port, heads):
        fetched = await fetch(f"http://img.test:{port}/a.png", max_bytes=CAP, deadline_s=5.0, allow_private=True,
                              resolver=c.resolve)
        assert fetched.data == b"img" and len(heads) == 1
