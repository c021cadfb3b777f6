"""Turning a handler into a Starlette route for a contracts endpoint: auth, parameters, error envelope."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Collection
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
Endpoint = Callable[[Request], Awaitable[Response]]


def authorized(api: str, request: Request, config) -> bool:
    if request.path_params.get("appKey") != config.appkey:
        return False
    return api != "v2" or params.header(request, b"authorization") == config.secret_key


def nhn_endpoint(api: str, emu: Any, endpoint_id: str, handler: Handler, *, reads_params: bool = True) -> Endpoint:
    """`handler(request, emu, params)` as a Starlette endpoint for the contract endpoint.

    Auth comes first (-41000 / -41005), then the parameter schema (-40000); an NhnError raised anywhere becomes
    the error envelope, and any other exception the -50000 envelope (logged without the request's secrets).
    """
    codes = contracts.endpoint(api, endpoint_id).codes

    async def endpoint(request: Request) -> Response:
        try:
            if not authorized(api, request, emu.config):
                raise NhnError(AUTH_CODE[api], "unauthorized")
            values = params.read(api, endpoint_id, request) if reads_params else {}
            return await handler(request, emu, values)
        except NhnError as exc:
            if exc.code not in codes and exc.code != INTERNAL_ERROR:
                log.error("%s %s: code %s is not in its table", api, endpoint_id, exc.code)
            return nhn_error(api, exc.code)
        except Exception as exc:  # the documented envelope, never a traceback to the client
            where = traceback.extract_tb(exc.__traceback__)[-1]
            log.error("%s %s failed: %s at %s:%d", api, endpoint_id, type(exc).__name__, where.filename, where.lineno)
            return nhn_error(api, INTERNAL_ERROR)

    return endpoint


def nhn_routes(api: str, emu: Any, handlers: dict[str, Handler], *, own_params: Collection[str] = (),
               prefix: tuple[str, str] | None = None) -> list[Route]:
    """One route per contract path of `handlers` (endpoint id -> handler, called with the emulator `emu`), in
    their order; endpoints that share a path share its route, the request's method picking the handler (HEAD
    goes with GET).

    `own_params`: endpoints whose handler reads its parameters itself (form bodies); `prefix` (old, new): the
    routes at another path prefix."""
    by_path: dict[str, dict[str, Endpoint]] = {}
    for endpoint_id, handler in handlers.items():
        ep = contracts.endpoint(api, endpoint_id)
        path = ep.path.replace(*prefix, 1) if prefix else ep.path
        methods = by_path.setdefault(path, {})
        methods[ep.method] = nhn_endpoint(api, emu, endpoint_id, handler, reads_params=endpoint_id not in own_params)
        if ep.method == "GET":
            methods["HEAD"] = methods["GET"]
    return [_route(api, path, methods) for path, methods in by_path.items()]


def _route(api: str, path: str, methods: dict[str, Endpoint]) -> Route:
    """A route for the endpoints of one path (Starlette answers 405 for any other method)."""
    if len(methods) == 1 or set(methods) == {"GET", "HEAD"}:
        endpoint = methods.get("GET") or next(iter(methods.values()))
    else:
        async def endpoint(request: Request) -> Response:
            return await methods[request.scope["method"]](request)
    return Route(path, endpoint, methods=list(methods), name=f"{api} {path}")
