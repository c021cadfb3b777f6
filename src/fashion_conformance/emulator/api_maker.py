"""AI Fashion Maker v1.0: indexing into v1 service IDs, service info, index status."""

from __future__ import annotations

import asyncio

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.routing import Route

from .. import contracts
from . import operations as ops
from .envelope import nhn_ok
from .routing import nhn_routes

API = "maker"
NS = "v1"  # Maker indexes the products that v1 searches
# E12: the index URI table names /ai-fashion-maker; the normative prefix is /nhn-ai-fashion-maker. Both are served.
ALT_PREFIX = ("/nhn-ai-fashion-maker/", "/ai-fashion-maker/")


def require_service(emu, request: Request) -> tuple[str, str, str]:
    return ops.require_service(emu, NS, request.path_params["serviceID"])[0]


async def create_index(request, emu, p):
    key = require_service(emu, request)
    form = await ops.read_index_form(request, API, max_fields=16)
    link, upload = form.get("link"), form.get("file")
    job_id = await ops.submit_index(emu, API, key, p["format"], link if isinstance(link, str) else None,
                                    upload if isinstance(upload, UploadFile) else None)
    return nhn_ok(API, {"indexID": job_id})


async def list_services(request, emu, p):
    quota = contracts.limit(API, "index.daily_quota").value
    now = emu.config.clock()
    appkey = emu.config.appkey
    services = await asyncio.to_thread(emu.store.list_services, NS, appkey)
    items = []
    for s in services:
        used = await asyncio.to_thread(emu.store.uploads_today, NS, appkey, s.name, now)
        items.append({"service": s.name, "remainInsertCnt": max(0, quota - used), "documentCnt": s.document_count})
    return nhn_ok(API, {"totalService": len(items), "items": items})


async def list_indexes(request, emu, p):
    key = require_service(emu, request)
    total, jobs = await ops.list_jobs(emu, API, key, p, [p["status"]] if "status" in p else None)
    items = [
        {
            "service": j.service,
            "id": j.id,
            "filename": j.filename,
            "status": j.status,
            "reservedTime": j.requested_time,
            "startTime": j.start_time,
            "finishTime": j.finish_time,
            "addCnt": j.added_count,
            "failCnt": j.failed_count + j.exceeded_count,  # E108: Maker counts documents over the cap as failed
            "deleteCnt": j.deleted_count,
            "updateCnt": j.updated_count,
            "totalCnt": j.total_count,
        }
        for j in jobs
    ]
    return nhn_ok(API, {"total": total, "items": items})


def route_groups(emu) -> tuple[list[Route], list[Route]]:
    """The routes under the documented prefix and under its alternative (ALT_PREFIX)."""
    handlers = {"index.create": create_index, "service.list": list_services, "index.list": list_indexes}
    return nhn_routes(API, emu, handlers), nhn_routes(API, emu, handlers, prefix=ALT_PREFIX)
