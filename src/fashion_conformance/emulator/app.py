"""The emulator's ASGI app: all four APIs on one port, state under the data directory."""

from __future__ import annotations

import contextlib
import functools
import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import api_maker, api_v1, api_v2, fetch, indexing, tagger
from . import operations as ops
from .config import EmulatorConfig
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


class Emulator:
    """Everything one running emulator holds: config, store, search indexes, link signer, job runner."""

    def __init__(self, config: EmulatorConfig) -> None:
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.store = Store(config.data_dir / "emulator.sqlite3")
        self.indexes = SearchIndexes()
        self.link_vectors = ops.LinkVectors()
        self.signer = LinkSigner.from_data_dir(config.data_dir)
        self.fetch = fetch.fetch
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


async def unknown_path(request: Request, exc: Exception) -> Response:
    for prefix, api, code in UNKNOWN_PATH:
        if request.url.path.startswith(prefix):
            return nhn_error(api, code)
    return JSONResponse({"detail": "Not Found"}, status_code=404)


def create_app(config: EmulatorConfig) -> Starlette:
    emu = Emulator(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        try:
            yield
        finally:
            await emu.aclose()

    app = Starlette(
        routes=[*api_v1.routes(), *api_v2.routes(), *api_maker.routes(), *tagger.routes(emu)],
        exception_handlers={404: unknown_path, 405: unknown_path},
        lifespan=lifespan,
    )
    app.state.emu = emu
    return app
