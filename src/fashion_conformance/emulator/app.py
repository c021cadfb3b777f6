"""The emulator's ASGI app: all four APIs on one port, state under the data directory."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import ipaddress
import logging

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import api_maker, api_v1, api_v2, fetch, indexing, tagger
from . import operations as ops
from .config import EmulatorConfig
from .datadir import DataDirLock
from .envelope import nhn_error
from .links import LinkSigner
from .search import SearchIndexes
from .store import Store

log = logging.getLogger("fashion_conformance.emulator")

# E13: an unknown path under an NHN prefix gets that API's error envelope (Maker: -40400 NoApiFound).
UNKNOWN_PATH = (
    ("/nhn-ai-fashion-maker/", "maker", -40400),
    ("/ai-fashion-maker/", "maker", -40400),
    ("/nhn-ai-fashion/", "v1", -40000),
    ("/v2.0/", "v2", -40000),
)


M_ARENA_MAX, M_MMAP_THRESHOLD = -8, -3  # glibc mallopt parameters
MALLOC_ARENAS = 2
MMAP_THRESHOLD_BYTES = 1 << 20


def release_large_buffers() -> None:
    """Make freed image buffers go back to the system (glibc; a no-op where the C library has no mallopt).

    Every allocation of 1 MiB or more is served by mmap: glibc otherwise raises its mmap threshold after the
    first large free and keeps later rasters in heaps that never shrink. At most MALLOC_ARENAS heaps: with one
    per executor thread, each thread that once decoded a big image would keep tens of megabytes for good."""
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(M_ARENA_MAX, MALLOC_ARENAS)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError):
        pass


async def _localhost_only(host: str, port: int) -> list[str]:
    """Offline resolver: only `localhost` has an address; no other name is ever looked up."""
    if host.rstrip(".").lower() != "localhost":
        raise OSError("offline: host names are not resolved")
    return ["127.0.0.1"]


class _LoopbackOnly(httpx.AsyncBaseTransport):
    """Offline transport: connects to loopback addresses only; anything else fails before connecting."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport(retries=0, limits=httpx.Limits(max_keepalive_connections=0))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            loopback = ipaddress.ip_address(request.url.host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise httpx.ConnectError("offline: only loopback addresses are contacted", request=request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def offline_fetch(url: str, *, max_bytes: int, deadline_s: float, allow_private: bool) -> fetch.Fetched:
    """fetch.fetch that never leaves the machine (test-only guard): every non-loopback destination, named or
    numeric, also after redirects, is refused as unreachable (-45050) without a DNS query or a connection."""
    return await fetch.fetch(url, max_bytes=max_bytes, deadline_s=deadline_s, allow_private=allow_private,
                             resolver=_localhost_only, transport=_LoopbackOnly())


class Emulator:
    """Everything one running emulator holds: config, store, search indexes, link signer, job runner."""

    def __init__(self, config: EmulatorConfig, *, offline: bool = False) -> None:
        """Raises datadir.DataDirInUse when another emulator runs on the data directory."""
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.dir_lock = DataDirLock(config.data_dir)
        try:
            self.store = Store(config.data_dir / "emulator.sqlite3", clock=config.clock)
        except BaseException:
            self.dir_lock.release()
            raise
        self.indexes = SearchIndexes()
        self.index_loads: dict[tuple[str, str, str], asyncio.Future] = {}  # indexes being loaded from the store
        self.link_vectors = ops.LinkVectors()
        self.signer = LinkSigner.from_data_dir(config.data_dir)
        self.fetch = offline_fetch if offline else fetch.fetch
        self.runner = indexing.JobRunner(
            self.store,
            fetch=self.fetch,
            clock=config.clock,
            concurrency=config.index_concurrency,
            deadline_s=config.fetch_deadline_s,
            allow_private=config.allow_private_image_hosts,
            on_commit=functools.partial(ops.on_commit, self),
        )

    async def aclose(self) -> None:
        await self.runner.aclose()
        self.store.close()
        self.dir_lock.release()


class ApiDispatch:
    """The emulator's ASGI entry: an HTTP request under an NHN API's path prefix goes to that API's own app (so
    it is matched against that API's routes only), everything else (lifespan, Tagger, unknown paths) to `main`."""

    def __init__(self, main: Starlette, apis: dict[str, Starlette]) -> None:
        self.main = main
        self.apis = tuple(apis.items())

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            for prefix, app in self.apis:
                if path.startswith(prefix):
                    return await app(scope, receive, send)
        await self.main(scope, receive, send)


def api_prefix(routes: list[Route]) -> str:
    """The path prefix all of an NHN API's routes share (up to `/appkeys/`, e.g. `/v2.0/`)."""
    prefixes = {route.path.partition("/appkeys/")[0] + "/" for route in routes}
    if len(prefixes) != 1 or not all("/appkeys/" in route.path for route in routes):
        raise ValueError(f"routes without one common prefix: {sorted(prefixes)}")
    return prefixes.pop()


async def unknown_path(request: Request, exc: Exception) -> Response:
    for prefix, api, code in UNKNOWN_PATH:
        if request.url.path.startswith(prefix):
            return nhn_error(api, code)
    return JSONResponse({"detail": "Not Found"}, status_code=404)


def create_app(config: EmulatorConfig, *, offline_fetch: bool = False) -> ApiDispatch:
    """The ASGI app; `offline_fetch` (tests only) keeps every image and index download on loopback."""
    release_large_buffers()
    emu = Emulator(config, offline=offline_fetch)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        try:
            yield
        finally:
            await emu.aclose()

    handlers = {404: unknown_path, 405: unknown_path}
    main = Starlette(routes=tagger.routes(emu), exception_handlers=handlers, lifespan=lifespan)
    apis: dict[str, Starlette] = {}
    for routes in (api_v1.routes(emu), api_v2.routes(emu), *api_maker.route_groups(emu)):
        apis[api_prefix(routes)] = Starlette(routes=routes, exception_handlers=handlers)
    return ApiDispatch(main, apis)
