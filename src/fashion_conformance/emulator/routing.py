"""Turning a handler into a Starlette route for a contracts endpoint: auth, parameters, error envelope."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import contracts
from . import params
from .envelope import NhnError, nhn_error

log = logging.getLogger("fashion_conformance.emulator")

INTERNAL_ERROR = -50000
# The auth code of each NHN API (v2 also checks the secret key header).
AUTH_CODE = {"v1": -41000, "maker": -41000, "v2": -41005}

Handler = Callable[[Request, Any, dict[str, Any]], Awaitable[Response]]


def authorized(api: str, request: Request, config) -> bool:
    if request.path_params.get("appKey") != config.appkey:
        return False
    return api != "v2" or request.headers.get("authorization") == config.secret_key


def nhn_route(api: str, endpoint_id: str, handler: Handler, *, path: str | None = None,
              reads_query: bool = True) -> Route:
    """A route serving `handler(request, emulator, params)` at the endpoint's contract path.

    Auth comes first (-41000 / -41005), then the parameter schema (-40000); an NhnError raised anywhere becomes
    the error envelope, and any other exception the -50000 envelope (logged without the request's secrets).
    """
    ep = contracts.endpoint(api, endpoint_id)

    async def endpoint(request: Request) -> Response:
        emu = request.app.state.emu
        try:
            if not authorized(api, request, emu.config):
                raise NhnError(AUTH_CODE[api], "unauthorized")
            values = params.read(api, endpoint_id, request) if reads_query else {}
            return await handler(request, emu, values)
        except NhnError as exc:
            if exc.code not in ep.codes and exc.code != INTERNAL_ERROR:
                log.error("%s %s: code %s is not in its table", api, endpoint_id, exc.code)
            return nhn_error(api, exc.code)
        except Exception as exc:  # the documented envelope, never a traceback to the client
            where = traceback.extract_tb(exc.__traceback__)[-1]
            log.error("%s %s failed: %s at %s:%d", api, endpoint_id, type(exc).__name__, where.filename, where.lineno)
            return nhn_error(api, INTERNAL_ERROR)

    return Route(path or ep.path, endpoint, methods=[ep.method], name=f"{api}.{endpoint_id}")
