"""AI Fashion v2.0: services, product search, detect, search by link and by image, tag, indexes."""

from __future__ import annotations

import asyncio
import json

from starlette.datastructures import UploadFile
from starlette.requests import Request

from .. import contracts
from . import cpu, forms
from . import operations as ops
from .envelope import NhnError, nhn_ok
from .params import coerce
from .routing import nhn_routes

API = "v2"
NS = "v2"
INVALID_PARAM = -40000
NOT_FOUND_PRODUCT = -40050
NOT_FOUND_INDEX = -40090


def require_service(emu, request: Request):
    return ops.require_service(emu, NS, request.path_params["serviceName"])


def service_info(service) -> dict:
    cap = contracts.limit(API, "index.max_docs_per_service").value
    return {
        "serviceName": service.name,
        "documentCount": service.document_count,
        "remainInsertCount": max(0, cap - service.document_count),
    }


def search_items(hits) -> list[dict]:
    return [
        {
            "similarity": h.similarity,
            "productId": h.product_id,
            "name": h.record["name"],
            "imageUrl": h.record["image_url"],
            "category1Id": h.record["category1"],
            "category2Id": h.record["category2"],
            "category3Id": h.record["category3"],
            "s1": h.record["s1"],
            "s2": h.record["s2"],
        }
        for h in hits
    ]


async def create_service(request, emu, p):
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise NhnError(INVALID_PARAM, "body is not JSON") from None
    if contracts.validate(API, "service.create", "body", body):
        raise NhnError(INVALID_PARAM, "body breaks the schema")
    await ops.create_service(emu, NS, body["serviceName"])
    return nhn_ok(API)


async def delete_service(request, emu, p):
    key, _ = require_service(emu, request)
    await ops.delete_service(emu, key)
    return nhn_ok(API)


async def list_services(request, emu, p):
    services = await asyncio.to_thread(emu.store.list_services, NS, emu.config.appkey)
    return nhn_ok(API, {"totalCount": len(services), "items": [service_info(s) for s in services]})


async def get_service(request, emu, p):
    _, service = require_service(emu, request)
    return nhn_ok(API, service_info(service))


def _search_options(p: dict) -> dict:
    return {
        "limit": p["limit"],
        "min_similarity": p.get("minSimilarity"),
        "include_duplicates": bool(p.get("includeDuplicates", False)),
    }


async def search_product(request, emu, p):
    key, _ = require_service(emu, request)
    product = await asyncio.to_thread(emu.store.get_product, *key, p["productId"])
    if product is None:
        raise NhnError(NOT_FOUND_PRODUCT)
    clauses = ops.parse_filters(API, request.query_params.multi_items())
    hits = await ops.search(emu, key, product.vector, clauses=clauses, **_search_options(p))
    query = f"productId={p['productId']}&{request.url.query}"
    return nhn_ok(API, {"totalCount": len(hits), "query": query, "items": search_items(hits)})


async def detect(request, emu, p):
    require_service(emu, request)
    loaded = await ops.load_image(emu, p.get("path"), max_bytes=contracts.limit(API, "image.max_bytes").value)
    items = await cpu.run(ops.detect_items, emu, p["path"], loaded)
    return nhn_ok(API, {"totalCount": len(items), "query": request.url.query, "items": items})


async def search_link(request, emu, p):
    key, _ = require_service(emu, request)
    clauses = ops.parse_filters(API, request.query_params.multi_items())
    vector = await ops.vector_for_link(emu, p.get("link"), max_bytes=contracts.limit(API, "image.max_bytes").value,
                                       gone_code=ops.NO_ITEMS)
    hits = await ops.search(emu, key, vector, clauses=clauses, **_search_options(p))
    return nhn_ok(API, {"totalCount": len(hits), "query": request.url.query, "items": search_items(hits)})


async def search_image(request, emu, p):
    key, _ = require_service(emu, request)
    max_bytes = contracts.limit(API, "image.max_bytes").value
    form = await forms.read(request, max_upload=max_bytes, too_large=ops.FETCH_CODES["too_large"], max_fields=32)
    fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    upload = form.get("imageFile")
    values = _form_params(dict(fields), has_file=isinstance(upload, UploadFile))
    clauses = ops.parse_filters(API, fields)
    if values.get("imageUrl"):  # E15: imageUrl wins over imageFile
        loaded = await ops.load_image(emu, values["imageUrl"], max_bytes=max_bytes)
    elif isinstance(upload, UploadFile):
        data = await upload.read(max_bytes + 1)
        loaded = await cpu.run(ops.analyse_bytes, data, max_bytes)
    else:
        raise NhnError(INVALID_PARAM, "imageUrl or imageFile is required")
    vector = await cpu.run(ops.largest_item_vector, loaded)
    hits = await ops.search(emu, key, vector, clauses=clauses, **_search_options(values))
    return nhn_ok(API, {"totalCount": len(hits), "items": search_items(hits)})


def _form_params(fields: dict[str, str], *, has_file: bool) -> dict:
    """Typed form fields of the POST search, checked against its body schema (-40000); filters are checked by
    ops.parse_filters."""
    props = contracts.schema(API, contracts.endpoint(API, "search.image").body)["properties"]
    values = {k: coerce(v, props[k]) for k, v in fields.items() if k in props}
    checked = {k: v for k, v in values.items() if not k.startswith("filter.")}
    if has_file:
        checked["imageFile"] = "<file>"
    errors = contracts.validate(API, "search.image", "body", checked)
    if errors:
        raise NhnError(INVALID_PARAM, "; ".join(errors))
    return values


async def tag(request, emu, p):
    require_service(emu, request)
    lang = p.get("lang", contracts.limit(API, "tag.lang").default)
    item_limit = p.get("itemLimit", contracts.limit(API, "tag.item_limit").default)
    loaded = await ops.load_image(emu, p.get("path"), max_bytes=contracts.limit(API, "image.tag_max_bytes").value)
    items = await cpu.run(ops.tag_items, loaded, lang, item_limit)
    return nhn_ok(API, {"totalCount": len(items), "query": request.url.query, "items": items})


async def create_index(request, emu, p):
    key, _ = require_service(emu, request)
    form = await ops.read_index_form(request, API, max_fields=32)
    fmt = form.get("format")
    if fmt not in contracts.limit(API, "index.formats").value:
        raise NhnError(INVALID_PARAM, "format must be jsonl or csv")
    link = form.get("link")
    upload = form.get("file")
    job_id = await ops.submit_index(emu, API, key, fmt, link if isinstance(link, str) else None,
                                    upload if isinstance(upload, UploadFile) else None)
    return nhn_ok(API, {"indexId": job_id})


def job_summary(job) -> dict:
    return {
        "id": job.id,
        "serviceName": job.service,
        "filename": job.filename,
        "status": job.status,
        "requestedTime": job.requested_time,
        "startTime": job.start_time,
        "finishTime": job.finish_time,
        "addedCount": job.added_count,
        "failedCount": job.failed_count,
        "exceededCount": job.exceeded_count,
        "deletedCount": job.deleted_count,
        "updatedCount": job.updated_count,
        "totalCount": job.total_count,
    }


async def list_indexes(request, emu, p):
    key, _ = require_service(emu, request)
    statuses = p.get("statuses")
    if statuses is None and "status" in request.query_params:  # E7: the example's spelling is accepted too
        statuses = request.query_params["status"].split(",")
    total, jobs = await ops.list_jobs(emu, API, key, p, statuses)
    return nhn_ok(API, {"total": total, "items": [job_summary(j) for j in jobs]})


async def get_index(request, emu, p):
    key, _ = require_service(emu, request)
    job = await asyncio.to_thread(emu.store.get_job, *key, p["indexId"])
    if job is None:
        raise NhnError(NOT_FOUND_INDEX)
    detail = job_summary(job)
    for kind in ("added", "failed", "exceeded", "deleted", "updated"):
        detail[f"{kind}ProductIds"] = list(getattr(job, f"{kind}_ids"))
    return nhn_ok(API, {"total": 1, "items": [detail]})  # E8: one item in a list


def routes(emu):
    return nhn_routes(
        API,
        emu,
        {
            "service.create": create_service,
            "service.delete": delete_service,
            "service.list": list_services,
            "service.get": get_service,
            "search.product": search_product,
            "detect": detect,
            "search.link": search_link,
            "search.image": search_image,
            "tag": tag,
            "index.create": create_index,
            "index.list": list_indexes,
            "index.get": get_index,
        },
        own_params={"search.image", "index.create"},
    )
