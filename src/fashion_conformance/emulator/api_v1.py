"""AI Fashion v1.0: service IDs, search by product, detect, search by image link, tag."""

from __future__ import annotations

import asyncio

from starlette.requests import Request

from .. import contracts
from . import cpu
from . import operations as ops
from .envelope import NhnError, nhn_ok
from .routing import nhn_routes

API = "v1"
NS = "v1"
DELETE_WHILE_INDEXING = -42020
NOT_FOUND_PRODUCT = -40050
LANGS = {"jp": "ja"}  # v1 spells Japanese `jp`; the label sets use ISO `ja`


def require_service(emu, request: Request) -> tuple[str, str, str]:
    return ops.require_service(emu, NS, request.path_params["serviceID"])[0]


def search_body(request: Request, hits) -> dict:
    return {
        "totalCount": len(hits),
        "query": request.url.query,
        "items": [{"similarity": h.similarity, "productID": h.product_id} for h in hits],
    }


async def create_service(request, emu, p):
    await ops.create_service(emu, NS, p["serviceID"])
    return nhn_ok(API)


async def delete_service(request, emu, p):
    # E17: refused while a Maker index job is reserved or running
    await ops.delete_service(emu, require_service(emu, request), busy_code=DELETE_WHILE_INDEXING)
    return nhn_ok(API)


async def list_services(request, emu, p):
    services = await asyncio.to_thread(emu.store.list_services, NS, emu.config.appkey)
    return nhn_ok(API, {"totalCount": len(services), "items": [{"serviceID": s.name} for s in services]})


async def search_product(request, emu, p):
    key = require_service(emu, request)
    product = await asyncio.to_thread(emu.store.get_product, *key, p["productID"])
    if product is None:
        raise NhnError(NOT_FOUND_PRODUCT)
    clauses = ops.parse_filters(API, request.query_params.multi_items())
    hits = await ops.search(emu, key, product.vector, limit=p["limit"], min_similarity=p.get("threshold"),
                            clauses=clauses, include_duplicates=True)
    body = search_body(request, hits)
    body["query"] = f"productID={p['productID']}&{request.url.query}"
    return nhn_ok(API, body)


async def detect(request, emu, p):
    require_service(emu, request)
    loaded = await ops.load_image(emu, p.get("path"), max_bytes=contracts.limit(API, "image.max_bytes").value)
    items = await cpu.run(ops.detect_items, emu, p["path"], loaded)
    return nhn_ok(API, {"totalCount": len(items), "query": request.url.query, "items": items})


async def search_image(request, emu, p):
    key = require_service(emu, request)
    clauses = ops.parse_filters(API, request.query_params.multi_items())
    vector = await ops.vector_for_link(emu, p.get("link"), max_bytes=contracts.limit(API, "image.max_bytes").value,
                                       gone_code=ops.INVALID_PARAM)
    hits = await ops.search(emu, key, vector, limit=p["limit"], min_similarity=p.get("threshold"),
                            clauses=clauses, include_duplicates=True)
    return nhn_ok(API, search_body(request, hits))


async def tag(request, emu, p):
    require_service(emu, request)
    lang = p.get("lang", contracts.limit(API, "tag.lang").default)
    item_limit = p.get("item_limit", contracts.limit(API, "tag.item_limit").default)
    loaded = await ops.load_image(emu, p.get("path"), max_bytes=contracts.limit(API, "image.tag_max_bytes").value)
    items = await cpu.run(ops.tag_items, loaded, LANGS.get(lang, lang), item_limit)
    return nhn_ok(API, {"totalCount": len(items), "query": request.url.query, "items": items})


def routes(emu):
    return nhn_routes(
        API,
        emu,
        {
            "service.create": create_service,
            "service.delete": delete_service,
            "service.list": list_services,
            "search.product": search_product,
            "detect": detect,
            "search.image": search_image,
            "tag": tag,
        },
    )
