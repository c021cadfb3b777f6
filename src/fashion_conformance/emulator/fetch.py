"""Download of images (and index files) named by URL, as the APIs' image guide requires.

One deadline covers the whole download (DNS, connect, TLS, headers, body, redirects); the size cap holds
while streaming; only http/https on the allowed ports; every address a host resolves to must be public
unless private hosts are allowed, and the connection goes to the vetted address (no DNS rebinding).
Error details never carry the URL, so query strings and credentials stay out of messages and logs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import httpx

from fashion_conformance import contracts

FetchKind = Literal["invalid_url", "port", "private", "unreachable", "timeout", "too_large"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]

MAX_REDIRECTS = 5
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_SCHEMES = {"http": 80, "https": 443}
_HOSTNAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class FetchError(Exception):
    """A download that failed; `kind` says why, `detail` is a short message without the URL."""

    def __init__(self, kind: FetchKind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(frozen=True)
class Fetched:
    data: bytes
    content_type: str | None
    final_url: str


@cache
def allowed_ports() -> frozenset[int]:
    """Ports an image URL may name (contracts v1 `image.allowed_ports`: ints and [low, high] ranges)."""
    ports: set[int] = set()
    for entry in contracts.limit("v1", "image.allowed_ports").value:
        if isinstance(entry, int):
            ports.add(entry)
        else:
            low, high = entry
            ports.update(range(low, high + 1))
    return frozenset(ports)


def check_url(url: str) -> httpx.URL:
    """The parsed URL if its scheme, host and port are acceptable; FetchError otherwise."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, UnicodeError):
        raise FetchError("invalid_url", "not a valid URL") from None
    if parsed.scheme not in _SCHEMES:
        raise FetchError("invalid_url", "scheme must be http or https")
    if not parsed.raw_host:
        raise FetchError("invalid_url", "URL has no host")
    if parsed.userinfo:
        raise FetchError("invalid_url", "credentials in the URL are not accepted")
    port = _SCHEMES[parsed.scheme] if parsed.port is None else parsed.port
    if port not in allowed_ports():
        raise FetchError("port", f"port {port} is not allowed")
    return parsed


def literal_address(host: str) -> IPAddress | None:
    """The address a numeric host stands for, any spelling (2130706433, 0x7f000001, 127.1, ::1), else None."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not _HOSTNAME.fullmatch(host):
        raise FetchError("invalid_url", "malformed host name")
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def is_public(ip: IPAddress) -> bool:
    """True for a globally routable unicast address (also for the IPv4 address embedded in an IPv6 one)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not is_public(embedded):
            return False
        if ip.is_site_local:
            return False
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


async def system_resolver(host: str, port: int) -> list[str]:
    """Addresses of `host` from the system resolver (getaddrinfo runs in the loop's executor)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def fetch(
    url: str,
    *,
    max_bytes: int,
    deadline_s: float,
    allow_private: bool,
    resolver: Resolver = system_resolver,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Fetched:
    """Download `url` within `deadline_s` seconds and at most `max_bytes` bytes, or raise FetchError."""
    try:
        async with asyncio.timeout(deadline_s):
            return await _fetch(url, max_bytes, allow_private, resolver, transport)
    except TimeoutError:
        raise FetchError("timeout", f"download not finished within {deadline_s:g} s") from None


async def _fetch(
    url: str, max_bytes: int, allow_private: bool, resolver: Resolver, transport: httpx.AsyncBaseTransport | None
) -> Fetched:
    transport = transport or httpx.AsyncHTTPTransport(
        verify=_tls_context(), retries=0, limits=httpx.Limits(max_keepalive_connections=0)
    )
    async with httpx.AsyncClient(transport=transport, timeout=None, trust_env=False) as client:
        current = check_url(url)
        for _ in range(MAX_REDIRECTS + 1):
            addresses, named = await _vetted_addresses(current, resolver, allow_private)
            sni = current.raw_host.decode("ascii") if named and current.scheme == "https" else None
            outcome = await _get(client, current, addresses, sni, max_bytes)
            if isinstance(outcome, Fetched):
                return outcome
            current = check_url(outcome)
    raise FetchError("unreachable", f"more than {MAX_REDIRECTS} redirects")


@cache
def _tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


async def _vetted_addresses(
    url: httpx.URL, resolver: Resolver, allow_private: bool
) -> tuple[list[IPAddress], bool]:
    """The addresses to connect to, and whether the host was a name (not a numeric address)."""
    host = url.raw_host.decode("ascii")
    literal = literal_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            resolved = await resolver(host, _SCHEMES[url.scheme] if url.port is None else url.port)
            addresses = list(dict.fromkeys(ipaddress.ip_address(a) for a in resolved))
        except (OSError, ValueError, UnicodeError):
            raise FetchError("unreachable", "host name does not resolve") from None
        if not addresses:
            raise FetchError("unreachable", "host name does not resolve")
    if not allow_private and not all(is_public(a) for a in addresses):
        raise FetchError("private", "host is or resolves to a non-public address")
    return addresses, literal is None


async def _get(
    client: httpx.AsyncClient, url: httpx.URL, addresses: list[IPAddress], sni: str | None, max_bytes: int
) -> Fetched | str:
    """GET `url` from the first address that accepts a connection: the body, or a redirect's absolute target.

    The request goes to the vetted address; Host (and the TLS server name) stay the URL's own.
    """
    headers = {"Host": url.netloc.decode("ascii"), "Accept-Encoding": "identity"}
    extensions = {"sni_hostname": sni} if sni else {}
    for address in addresses:
        try:
            pinned = url.copy_with(host=str(address))
            async with client.stream("GET", pinned, headers=headers, extensions=extensions) as response:
                return await _read(response, url, max_bytes)
        except httpx.ConnectError:
            continue
        except (httpx.HTTPError, httpx.InvalidURL):
            raise FetchError("unreachable", "the image host did not deliver a valid HTTP response") from None
    raise FetchError("unreachable", "could not connect")


async def _read(response: httpx.Response, url: httpx.URL, max_bytes: int) -> Fetched | str:
    status = response.status_code
    if status in _REDIRECT_STATUSES:
        location = response.headers.get("location")
        if not location:
            raise FetchError("unreachable", f"HTTP status {status} without Location")
        try:
            return str(url.join(location))
        except (httpx.InvalidURL, UnicodeError):
            raise FetchError("invalid_url", "redirect target is not a valid URL") from None
    if not 200 <= status < 300:
        raise FetchError("unreachable", f"HTTP status {status}")
    declared = response.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError("too_large", f"Content-Length {int(declared)} exceeds {max_bytes} bytes")
    body = bytearray()
    async for chunk in response.aiter_raw():
        if len(body) + len(chunk) > max_bytes:
            raise FetchError("too_large", f"body exceeds {max_bytes} bytes")
        body += chunk
    return Fetched(bytes(body), response.headers.get("content-type"), str(url))
