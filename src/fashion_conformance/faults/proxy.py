"""FaultProxy: a reverse proxy (raw ASGI on uvicorn, in a thread, on 127.0.0.1) in front of a target that applies
one named fault (or several rewrites composed, as the benign variants are) to the traffic, plus a relay for the files
the target downloads (images, index files)."""

from __future__ import annotations

import asyncio
import errno
import gzip
import random
import secrets as pysecrets
import socket
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx
import uvicorn

from ..imagehost.server import fetchable_ports
from .traffic import Req, Resp

RELAY_PREFIX = "/__fault/relay/"
UNKNOWN_PATH = "unknown-path"  # Fault.endpoints entry: a path under an API prefix that is no endpoint
HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding", "keep-alive", "accept-encoding",
              "content-encoding", "upgrade", "te", "trailer", "proxy-connection"}
UPSTREAM_TIMEOUT_S = 120.0

CODINGS = {"gzip": gzip.compress, "deflate": zlib.compress}  # Resp.content_encoding -> how the body is encoded

# A relay transform: (downloaded bytes, content type) -> (bytes to serve, content type).
Transform = Callable[[bytes, str], tuple[bytes, str]]


@dataclass
class Context:
    """What a rewrite may use: the target's right keys, the relay, and state kept across requests."""

    keys: dict[str, str]
    relay_base: str = ""
    state: dict = field(default_factory=dict)
    _relays: dict[str, tuple[str, Transform | None]] = field(default_factory=dict, repr=False)

    def relay(self, url: str, transform: Transform | None = None) -> str:
        """A URL on the proxy (an allowed port) that serves what `url` serves, passed through `transform`."""
        token = pysecrets.token_hex(8)
        self._relays[token] = (url, transform)
        return f"{self.relay_base}{RELAY_PREFIX}{token}"

    def relayed(self, token: str) -> tuple[str, Transform | None] | None:
        return self._relays.get(token)


@dataclass(frozen=True)
class Fault:
    """One deviation from the documents: where it applies, what it rewrites, which requirements it must trip."""

    name: str
    api: str
    description: str
    requirements: tuple[str, ...]
    endpoints: tuple[str, ...] = ()  # empty: every request of the API; UNKNOWN_PATH: paths that are no endpoint
    request: Callable[[Req, Context], None] | None = None
    response: Callable[[Req, Resp, Context], None] | None = None
    isolated: bool = False  # the fault leaves state behind (services, quotas): give it its own target

    def applies(self, api: str | None, endpoint: str | None) -> bool:
        if api != self.api:
            return False
        return not self.endpoints or (endpoint or UNKNOWN_PATH) in self.endpoints


def _bind(host: str) -> socket.socket:
    """A listening socket on a free port the image guide allows (so the target may download from the relay)."""
    ports = fetchable_ports()
    random.shuffle(ports)
    for port in ports:
        sock = socket.socket()
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EADDRINUSE:
                raise
            continue
        sock.listen(128)
        return sock
    raise OSError(errno.EADDRINUSE, f"no free port in {min(ports)}..{max(ports)} on {host}")


def _request_state(req: Req) -> tuple:
    return req.method, req.path, tuple(req.query), tuple(req.headers), req.body


def _response_state(resp: Resp) -> tuple:
    return (resp.status, tuple(resp.headers), resp.body, resp.content_encoding, resp.chunks, resp.close,
            resp.delay_s)


class FaultProxy:
    """Forwards every request to `upstream`; `fault` (None: a faithful proxy) rewrites requests and responses.
    `fault` may also be a sequence of rewrites (e.g. benign variants): each applies where it applies, requests and
    responses pass through them in the given order."""

    def __init__(self, upstream: str, fault: Fault | Sequence[Fault] | None, keys: dict[str, str],
                 host: str = "127.0.0.1") -> None:
        self.upstream = upstream.rstrip("/")
        self.faults: tuple[Fault, ...] = (() if fault is None else (fault,) if isinstance(fault, Fault)
                                          else tuple(fault))
        self.fault = fault if isinstance(fault, Fault) else None
        self.host = host
        self.context = Context(dict(keys))
        self.applied = 0  # requests a fault applied to
        self.applied_by: dict[str, int] = {f.name: 0 for f in self.faults}  # requests each one applied to
        self.changed_by: dict[str, int] = {f.name: 0 for f in self.faults}  # requests or responses it really changed
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._client: httpx.AsyncClient | None = None
        self._port = 0

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self._port}"

    def start(self) -> FaultProxy:
        sock = _bind(self.host)
        self._port = sock.getsockname()[1]
        self.context.relay_base = self.base_url
        config = uvicorn.Config(self._app, log_level="warning", access_log=False, lifespan="on", interface="asgi3")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, name="fault-proxy",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the fault proxy did not start")
            time.sleep(0.01)
        sock.close()
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
        self._server = self._thread = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ASGI

    async def _app(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1")
        query = scope.get("query_string", b"").decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        if path.startswith(RELAY_PREFIX) and scope["method"] in ("GET", "HEAD"):
            resp = await self._relay(path[len(RELAY_PREFIX):])
        else:
            resp = await self._forward(Req.make(scope["method"], path, query, headers, bytes(body)), query)
        await self._send(resp, scope["method"] == "HEAD", send)

    @staticmethod
    async def _send(resp: Resp, head: bool, send) -> None:
        """The response on the wire, in the form its wire fields ask for (coding, pieces, close, delay)."""
        if resp.delay_s > 0:
            await asyncio.sleep(resp.delay_s)
        body = resp.body
        out_headers = [(k, v) for k, v in resp.headers if k.lower() not in HOP_BY_HOP]
        if resp.content_encoding:
            body = CODINGS[resp.content_encoding](body)
            out_headers.append(("content-encoding", resp.content_encoding))
        if resp.close:
            out_headers.append(("connection", "close"))
        pieces = max(1, resp.chunks) if body and not head else 1
        if pieces == 1:
            out_headers.append(("content-length", str(len(body))))
        await send({"type": "http.response.start", "status": resp.status,
                    "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in out_headers]})
        if head:
            await send({"type": "http.response.body", "body": b""})
            return
        size = -(-len(body) // pieces)
        for i in range(pieces):
            piece = body[i * size:(i + 1) * size]
            await send({"type": "http.response.body", "body": piece, "more_body": i < pieces - 1})

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._client = httpx.AsyncClient(timeout=UPSTREAM_TIMEOUT_S, follow_redirects=False)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _forward(self, req: Req, raw_query: str) -> Resp:
        assert self._client is not None
        active = [f for f in self.faults if f.applies(req.api, req.endpoint)]
        original_query, original_body = list(req.query), req.body
        if active:
            self.applied += 1
        for fault in active:
            self.applied_by[fault.name] += 1
            if fault.request:
                before = _request_state(req)
                fault.request(req, self.context)
                if _request_state(req) != before:
                    self.changed_by[fault.name] += 1
        query = raw_query if req.query == original_query else req.query_string
        url = self.upstream + req.path + (f"?{query}" if query else "")
        headers = [(k, v) for k, v in req.headers if k not in HOP_BY_HOP]
        content = req.body if req.body or original_body else None
        try:
            upstream = await self._client.request(req.method, url, headers=headers, content=content)
        except httpx.HTTPError as exc:
            return Resp(502, [("content-type", "text/plain")], f"fault proxy: upstream failed: {type(exc).__name__}"
                        .encode())
        resp = Resp(upstream.status_code, list(upstream.headers.multi_items()), upstream.content)
        for fault in active:
            if fault.response:
                before = _response_state(resp)
                fault.response(req, resp, self.context)
                if _response_state(resp) != before:
                    self.changed_by[fault.name] += 1
        return resp

    async def _relay(self, token: str) -> Resp:
        assert self._client is not None
        found = self.context.relayed(token)
        if found is None:
            return Resp(404, [("content-type", "text/plain")], b"no such relay\n")
        url, transform = found
        try:
            got = await self._client.get(url, follow_redirects=True)
        except httpx.HTTPError:
            return Resp(502, [("content-type", "text/plain")], b"relay: the original is unreachable\n")
        data, ctype = got.content, got.headers.get("content-type", "application/octet-stream")
        if got.status_code == 200 and transform is not None:
            data, ctype = await asyncio.to_thread(transform, data, ctype)
        return Resp(got.status_code, [("content-type", ctype)], data)
