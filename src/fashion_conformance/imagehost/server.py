"""ImageHost: a real HTTP/1.1 server (asyncio, own loop in a daemon thread) with byte-exact delivery control.

Routes; every option travels in the query string, so any URL can be handed to a remote API:
    /f/<name>          a file given to put()
    /g/<seed>.<fmt>    a generated product image (w, h, size: padded to exactly that many bytes)
    /r?to=<url>        a redirect to `to` (code: 301, 302, 303, 307 or 308; default 302)
    /s/<code>          a short text body with that HTTP status
    /hang              reads the request and never answers (until stop)
    /reset             reads the request and resets the connection (TCP RST) without answering
Delivery options on every answering route: delay (s before the status line), trickle (s over which the body is
spread in small chunks), status (/f and /g), length (exact | absent: chunked | lie: half the real length |
huge: far above the real length). Every response closes the connection.

Besides its own port the host can listen on further ports for a while (`on_port`), serving the same routes there,
so the port rule of the image guide can be probed at its edges (`port_edges`). The URL of such a port is
`http://<bind host>:<port>` for a loopback host, or `port_url` (a template with `{port}`) for a public one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import math
import random
import re
import socket
import struct
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Iterator
from dataclasses import dataclass, fields
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from fashion_conformance import contracts
from fashion_conformance.imagehost import factory

log = logging.getLogger(__name__)

LENGTHS = ("exact", "absent", "lie", "huge")
HUGE_EXTRA = 1 << 30  # bytes a "huge" Content-Length claims beyond the real body
MAX_WAIT_S = 600.0  # bound on delay and trickle: no connection outlives its purpose by much
TICK_S = 0.05  # trickle: one chunk about every TICK_S seconds
READ_TIMEOUT_S = 30.0  # a client that sends no complete request head within this is dropped
HEAD_LIMIT = 64 * 1024
REDIRECT_CODES = (301, 302, 303, 307, 308)
URL_SAFE = ":/?#[]@!$&'()*+,;=%~"  # a redirect target keeps these; spaces, CR/LF, non-ASCII are escaped
REQUESTS_KEPT = 100_000  # request paths remembered (the most recent), so long load runs stay bounded
GEN_MAX_SIDE = 4096
GEN_MAX_BYTES = 64 * 1024 * 1024
GEN_CACHE_BYTES = 64 * 1024 * 1024
CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "svg": "image/svg+xml",
    "heic": "image/heic",
    "txt": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "jsonl": "application/x-ndjson",
}
NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
GEN_PATH_RE = re.compile(r"/g/(\d{1,18})\.([a-z]+)")
STATUS_PATH_RE = re.compile(r"/s/(\d{3})")
HEADER_VALUE_RE = re.compile(r"[\x20-\x7e]+")


def content_type_for(name: str) -> str:
    """Content-Type from the name's extension; application/octet-stream when unknown."""
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    return CONTENT_TYPES.get(ext, "application/octet-stream")


def fetchable_ports() -> list[int]:
    """Every port of the explicit-port ranges the image guide allows (contracts v1 `image.allowed_ports`)."""
    allowed = contracts.limit("v1", "image.allowed_ports").value
    return [p for entry in allowed if isinstance(entry, list) for p in range(entry[0], entry[1] + 1)]


PROBE_PORTS_REFUSED = (8080, 65535)  # common refused ports probed besides the neighbours of the allowed ones
PORT_BUSY_WAIT_S = 10.0  # on_port: how long a busy port is retried (another run may hold it for one test)


def _allowed_entries(api: str) -> list:
    return contracts.limit(api, "image.allowed_ports").value


def port_allowed(port: int, api: str = "v1") -> bool:
    """Whether the image guide of `api` lets an image URL name `port` explicitly."""
    return any(e[0] <= port <= e[1] if isinstance(e, list) else port == e for e in _allowed_entries(api))


def port_edges(api: str = "v1") -> tuple[list[int], list[int]]:
    """(allowed, refused) ports at the edges of the image guide's port rule (contracts `image.allowed_ports`):
    each single port and both ends of each range are allowed; their outer neighbours, 8080 and 65535 are not."""
    allowed, near = [], []
    for entry in _allowed_entries(api):
        low, high = (entry[0], entry[1]) if isinstance(entry, list) else (entry, entry)
        allowed += [low] if low == high else [low, high]
        near += [low - 1, high + 1]
    refused = sorted({p for p in [*near, *PROBE_PORTS_REFUSED] if 0 < p <= 65535 and not port_allowed(p, api)})
    return sorted(set(allowed)), refused


def _number(raw: str, name: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number") from None
    return value


def _integer(raw: str, name: str) -> int:
    if not re.fullmatch(r"-?\d{1,18}", raw):
        raise ValueError(f"{name} must be an integer")
    return int(raw)


def _query(obj: Delivery | GenSpec, names: dict[str, str]) -> dict[str, str]:
    """Query parameters for the dataclass fields in `names` (field -> parameter) that differ from their default."""
    out = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.name in names and value != f.default:
            out[names[f.name]] = str(value)
    return out


@dataclass(frozen=True)
class Delivery:
    """How a response goes on the wire."""

    delay: float = 0.0
    trickle: float = 0.0
    status: int = 200
    length: str = "exact"

    def __post_init__(self) -> None:
        for name in ("delay", "trickle"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value <= MAX_WAIT_S):
                raise ValueError(f"{name} must lie in 0..{MAX_WAIT_S:g} seconds")
        if not (isinstance(self.status, int) and 200 <= self.status <= 599):
            raise ValueError("status must lie in 200..599")
        if self.length not in LENGTHS:
            raise ValueError(f"length must be one of {', '.join(LENGTHS)}")

    @classmethod
    def from_query(cls, params: dict[str, str]) -> Delivery:
        return cls(
            delay=_number(params.get("delay", "0"), "delay"),
            trickle=_number(params.get("trickle", "0"), "trickle"),
            status=_integer(params.get("status", "200"), "status"),
            length=params.get("length", "exact"),
        )

    def query(self) -> dict[str, str]:
        return _query(self, {"delay": "delay", "trickle": "trickle", "status": "status", "length": "length"})


@dataclass(frozen=True)
class GenSpec:
    """A generated product image: factory.product_image(seed, width, height, fmt), padded to `size` bytes."""

    seed: int
    fmt: str = "jpeg"
    width: int = 320
    height: int = 320
    size: int | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.seed, int) and 0 <= self.seed < 10**18):
            raise ValueError("seed must be an integer in 0..10**18-1")
        if self.fmt not in factory.FORMATS:
            raise ValueError(f"fmt must be one of {', '.join(factory.FORMATS)}")
        for name in ("width", "height"):
            value = getattr(self, name)
            if not (isinstance(value, int) and 1 <= value <= GEN_MAX_SIDE):
                raise ValueError(f"{name} must lie in 1..{GEN_MAX_SIDE}")
        if self.size is not None and not (isinstance(self.size, int) and 1 <= self.size <= GEN_MAX_BYTES):
            raise ValueError(f"size must lie in 1..{GEN_MAX_BYTES}")

    @classmethod
    def from_request(cls, seed: str, fmt: str, params: dict[str, str]) -> GenSpec:
        size = params.get("size")
        return cls(
            seed=int(seed),
            fmt=fmt,
            width=_integer(params.get("w", "320"), "w"),
            height=_integer(params.get("h", "320"), "h"),
            size=None if size is None else _integer(size, "size"),
        )

    def query(self) -> dict[str, str]:
        return _query(self, {"width": "w", "height": "h", "size": "size"})

    def render(self) -> bytes:
        data = factory.product_image(self.seed, width=self.width, height=self.height, fmt=self.fmt)
        return data if self.size is None else factory.pad_to_size(data, self.fmt, self.size)


@dataclass(frozen=True)
class _Answer:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


class _HTTPError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def _framing(body: bytes, length: str) -> tuple[str, str]:
    if length == "absent":
        return ("Transfer-Encoding", "chunked")
    declared = {"exact": len(body), "lie": len(body) // 2, "huge": len(body) + HUGE_EXTRA}[length]
    return ("Content-Length", str(declared))


def _chunks(body: bytes, trickle: float) -> list[bytes]:
    if not body:
        return []
    if trickle <= 0:
        return [body]
    n = min(len(body), max(1, math.ceil(trickle / TICK_S)))
    step = math.ceil(len(body) / n)
    return [body[i : i + step] for i in range(0, len(body), step)]


async def _sleep_until(deadline: float) -> None:
    loop = asyncio.get_running_loop()
    while (left := deadline - loop.time()) > 0:
        await asyncio.sleep(left)


class ImageHost:
    """HTTP/1.1 image server for tests and load runs; see the module docstring for its routes."""

    def __init__(self, bind: str = "127.0.0.1:0", public_url: str | None = None, port_url: str | None = None):
        self._host, self._port = _parse_bind(bind)
        self._public_url = public_url.rstrip("/") if public_url else None
        if port_url is not None and "{port}" not in port_url:
            raise ValueError("port_url must contain {port}")
        self._port_url = port_url.rstrip("/") if port_url else None
        self._extra: dict[int, asyncio.Server] = {}
        self._busy: set[int] = set()  # ports on_port found in use for a whole wait: not waited for again
        self._fetches: dict[int, int] = {}
        self._lock = threading.Lock()
        self._files: dict[str, tuple[bytes, str]] = {}
        self._file_delivery: dict[str, Delivery] = {}
        self._generated: OrderedDict[GenSpec, bytes] = OrderedDict()
        self._generated_bytes = 0
        self._connections = 0
        self._requests: deque[str] = deque(maxlen=REQUESTS_KEPT)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    # lifecycle

    def start(self) -> ImageHost:
        if self._loop is not None:
            raise RuntimeError("ImageHost already started")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="imagehost", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._open(), self._loop).result(timeout=30)
        except BaseException:
            self._shutdown_loop()
            raise
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=30)
        self._shutdown_loop()

    def __enter__(self) -> ImageHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run_loop(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()
        self._loop.run_until_complete(self._loop.shutdown_default_executor())
        self._loop.close()

    def _shutdown_loop(self) -> None:
        assert self._loop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop = self._thread = self._server = None

    async def _open(self) -> None:
        if self._port != 0:
            self._server = await self._listen(self._port)
            return
        ports = fetchable_ports()
        random.shuffle(ports)
        for port in ports:
            try:
                self._server = await self._listen(port)
                return
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
        raise OSError(errno.EADDRINUSE, f"no free port in {min(ports)}..{max(ports)} on {self._host}")

    async def _listen(self, port: int) -> asyncio.Server:
        server = await asyncio.start_server(self._serve, self._host, port, limit=HEAD_LIMIT)
        self._port = server.sockets[0].getsockname()[1]
        return server

    async def _close(self) -> None:
        assert self._server is not None
        self._server.close()
        for extra in self._extra.values():
            extra.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()
        for extra in self._extra.values():
            await extra.wait_closed()
        self._extra.clear()

    # addresses and content

    @property
    def port(self) -> int:
        if self._loop is None:
            raise RuntimeError("ImageHost not started")
        return self._port

    @property
    def base_url(self) -> str:
        if self._public_url:
            return self._public_url
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    def port_base(self, port: int) -> str | None:
        """The URL base by which the target reaches this host on `port`: `port_url` with the port, or the loopback
        address for a host without a public URL; None when the host is public and no `port_url` names other ports."""
        if self._port_url:
            return self._port_url.replace("{port}", str(port))
        if self._public_url:
            return None
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{port}"

    def at_port(self, url: str, port: int) -> str:
        """`url` (one of this host's URLs) as served on `port` (see on_port)."""
        base = self.port_base(port)
        if base is None or not url.startswith(self.base_url):
            raise ValueError(f"no URL of this host on port {port}")
        return base + url[len(self.base_url):]

    @contextlib.contextmanager
    def on_port(self, port: int, busy_wait_s: float = PORT_BUSY_WAIT_S) -> Iterator[str]:
        """Also listen on `port` (bind host) while the block runs; yields the URL base for that port. A port in use
        is retried for `busy_wait_s`; OSError when it cannot be bound (in use, or privileged), LookupError when no
        URL reaches this host on it (a public host without `port_url`). A port that stayed busy for a whole wait
        is not waited for again."""
        base = self.port_base(port)
        if base is None:
            raise LookupError("the image host's public_url names one port; [image_host] port_url names the others")
        if self._loop is None:
            raise RuntimeError("ImageHost not started")
        if port == self.port:
            yield base
            return
        deadline = time.monotonic() + (0 if port in self._busy else busy_wait_s)
        while True:
            try:
                server = asyncio.run_coroutine_threadsafe(self._listen_extra(port), self._loop).result(timeout=30)
                self._busy.discard(port)
                break
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                if time.monotonic() > deadline:
                    self._busy.add(port)
                    raise
                time.sleep(0.2)
        try:
            yield base
        finally:
            asyncio.run_coroutine_threadsafe(self._close_extra(port, server), self._loop).result(timeout=30)

    async def _listen_extra(self, port: int) -> asyncio.Server:
        server = await asyncio.start_server(self._serve, self._host, port, limit=HEAD_LIMIT)
        self._extra[port] = server
        return server

    async def _close_extra(self, port: int, server: asyncio.Server) -> None:
        self._extra.pop(port, None)
        server.close()
        await server.wait_closed()

    def fetches(self, port: int) -> int:
        """Requests received on `port` since start or reset_counters()."""
        with self._lock:
            return self._fetches.get(port, 0)

    def put(
        self, name: str, data: bytes, content_type: str | None = None, *, delay: float = 0, trickle: float = 0
    ) -> str:
        """Serve `data` at /f/<name> (replacing an earlier file); returns its plain URL. `delay` and `trickle` apply
        to requests of the plain URL too (so a URL handed out earlier can turn slow)."""
        if not NAME_RE.fullmatch(name):
            raise ValueError("name must be 1..128 characters of [A-Za-z0-9._-], not starting with . _ or -")
        if content_type is not None and not HEADER_VALUE_RE.fullmatch(content_type):
            raise ValueError("content_type must be printable ASCII")
        delivery = Delivery(delay=delay, trickle=trickle)
        with self._lock:
            self._files[name] = (bytes(data), content_type or content_type_for(name))
            self._file_delivery[name] = delivery
        return self.url(name)

    def remove(self, name: str) -> None:
        """Stop serving /f/<name>: its URL answers 404 from now on."""
        with self._lock:
            self._files.pop(name, None)
            self._file_delivery.pop(name, None)

    def url(
        self, name: str, *, delay: float = 0, trickle: float = 0, status: int = 200, length: str = "exact"
    ) -> str:
        query = Delivery(delay, trickle, status, length).query()
        return self._link(f"/f/{quote(name, safe='')}", query)

    def generated(
        self,
        seed: int,
        fmt: str = "jpeg",
        *,
        width: int = 320,
        height: int = 320,
        size: int | None = None,
        **delivery,
    ) -> str:
        """URL of factory.product_image(seed, ...), padded to exactly `size` bytes when given (made now, cached)."""
        spec = GenSpec(seed, fmt, width, height, size)
        query = {**spec.query(), **Delivery(**delivery).query()}
        self._bytes_of(spec)
        return self._link(f"/g/{seed}.{fmt}", query)

    def redirect(self, to_url: str, *, code: int = 302) -> str:
        if code not in REDIRECT_CODES:
            raise ValueError(f"code must be one of {REDIRECT_CODES}")
        return self._link("/r", {"to": to_url, **({"code": str(code)} if code != 302 else {})})

    def status_url(self, code: int) -> str:
        Delivery(status=code)
        return self._link(f"/s/{code}", {})

    def hang_url(self) -> str:
        return self._link("/hang", {})

    def reset_url(self) -> str:
        return self._link("/reset", {})

    def _link(self, path: str, query: dict[str, str]) -> str:
        return self.base_url + path + (f"?{urlencode(query)}" if query else "")

    def _bytes_of(self, spec: GenSpec) -> bytes:
        """The generated image for `spec`, from the cache or rendered now (and cached, oldest evicted first)."""
        with self._lock:
            data = self._generated.get(spec)
        if data is not None:
            return data
        data = spec.render()
        with self._lock:
            if spec in self._generated:
                return data
            self._generated[spec] = data
            self._generated_bytes += len(data)
            while self._generated_bytes > GEN_CACHE_BYTES and len(self._generated) > 1:
                self._generated_bytes -= len(self._generated.popitem(last=False)[1])
        return data

    # counters

    @property
    def connections(self) -> int:
        """TCP connections accepted since start or reset_counters()."""
        with self._lock:
            return self._connections

    @property
    def requests(self) -> list[str]:
        """Paths (without query) of the requests since start or reset_counters(), oldest first (the last 100,000)."""
        with self._lock:
            return list(self._requests)

    def reset_counters(self) -> None:
        with self._lock:
            self._connections = 0
            self._requests.clear()
            self._fetches.clear()

    # serving

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self._lock:
            self._connections += 1
        try:
            await self._exchange(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        except asyncio.CancelledError:
            pass  # stop() ends the connection; ending normally keeps asyncio's connection callback quiet
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
        started = asyncio.get_running_loop().time()
        parts = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            await self._send(writer, "GET", _text(400, "malformed request line"), Delivery(), started)
            return
        method, target = parts[0], parts[1]
        split = urlsplit(target)
        sockname = writer.get_extra_info("sockname")
        local_port = sockname[1] if isinstance(sockname, tuple) and len(sockname) >= 2 else 0
        with self._lock:
            self._requests.append(split.path)
            self._fetches[local_port] = self._fetches.get(local_port, 0) + 1
        if split.path == "/hang":
            while await reader.read(HEAD_LIMIT):  # never answer; end when the client leaves (or at stop)
                pass
            return
        if split.path == "/reset":
            writer.transport.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            writer.transport.abort()
            return
        try:
            if method not in ("GET", "HEAD"):
                raise _HTTPError(405, "only GET and HEAD")
            params = dict(parse_qsl(split.query, keep_blank_values=True))
            delivery = Delivery.from_query(params)
            answer = await self._answer(split.path, params, delivery)
            if split.path.startswith("/f/") and not {"delay", "trickle"} & params.keys():
                with self._lock:
                    stored = self._file_delivery.get(split.path[3:])
                if stored is not None:
                    delivery = Delivery(stored.delay, stored.trickle, delivery.status, delivery.length)
        except _HTTPError as exc:
            answer, delivery = _text(exc.status, str(exc)), Delivery()
        except ValueError as exc:
            answer, delivery = _text(400, str(exc)), Delivery()
        log.info("%s %s -> %d", method, target, answer.status)
        await self._send(writer, method, answer, delivery, started)

    async def _answer(self, path: str, params: dict[str, str], delivery: Delivery) -> _Answer:
        if path.startswith("/f/"):
            with self._lock:
                found = self._files.get(path[3:])
            if found is None:
                raise _HTTPError(404, "no such file")
            return _Answer(delivery.status, found[1], found[0])
        if m := GEN_PATH_RE.fullmatch(path):
            spec = GenSpec.from_request(m[1], m[2], params)
            data = await asyncio.to_thread(self._bytes_of, spec)
            return _Answer(delivery.status, content_type_for(f".{spec.fmt}"), data)
        if path == "/r":
            code = _integer(params.get("code", "302"), "code")
            if code not in REDIRECT_CODES or not params.get("to"):
                raise ValueError(f"a redirect needs `to` and a code in {REDIRECT_CODES}")
            return _Answer(
                code, "text/plain; charset=utf-8", b"", (("Location", quote(params["to"], safe=URL_SAFE)),)
            )
        if m := STATUS_PATH_RE.fullmatch(path):
            return _text(Delivery(status=int(m[1])).status, f"status {m[1]}")
        raise _HTTPError(404, "no such route")

    async def _send(
        self, writer: asyncio.StreamWriter, method: str, answer: _Answer, delivery: Delivery, started: float
    ) -> None:
        await _sleep_until(started + delivery.delay)
        has_body = answer.status not in (204, 304)
        body = answer.body if has_body else b""
        headers = [("Content-Type", answer.content_type), *answer.headers]
        if has_body:
            headers.append(_framing(body, delivery.length))
        headers += [("Connection", "close"), ("Server", "fashion-conformance-imagehost")]
        head = f"HTTP/1.1 {answer.status} {_reason(answer.status)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        writer.write(head.encode("latin-1"))
        await writer.drain()
        if method == "HEAD" or not has_body:
            return
        loop = asyncio.get_running_loop()
        chunked = delivery.length == "absent"
        begun = loop.time()
        pieces = _chunks(body, delivery.trickle)
        for i, piece in enumerate(pieces):
            if delivery.trickle:
                await _sleep_until(begun + (i + 1) * delivery.trickle / len(pieces))
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            await writer.drain()
        await _sleep_until(begun + delivery.trickle)
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()


def _text(status: int, message: str) -> _Answer:
    return _Answer(status, "text/plain; charset=utf-8", message.encode() + b"\n")


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Status"


def _parse_bind(bind: str) -> tuple[str, int]:
    if bind.startswith("["):
        host, sep, port = bind[1:].partition("]:")
    else:
        host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"bind must be host:port, got {bind!r}")
    return host, int(port)


def main(argv: list[str] | None = None) -> int:
    """`python -m fashion_conformance.imagehost.server`: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(
        description="Serve test images with controlled timing, sizes and statuses."
    )
    parser.add_argument(
        "--bind", default="127.0.0.1:0", help="host:port (port 0: a free port in the image guide's range)"
    )
    parser.add_argument("--public-url", help="the URL under which the API under test reaches this host")
    parser.add_argument("--files", type=Path, help="serve every file of this directory at /f/<file name>")
    parser.add_argument("--quiet", action="store_true", help="do not log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO, format="%(asctime)s %(message)s"
    )
    host = ImageHost(args.bind, args.public_url)
    with host:
        if args.files:
            for path in sorted(args.files.iterdir()):
                if path.is_file() and NAME_RE.fullmatch(path.name):
                    host.put(path.name, path.read_bytes())
        print(f"serving {host.base_url} (Ctrl-C to stop)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
