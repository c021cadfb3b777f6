"""What the NHN APIs (v1, v2, Maker) share: image loading, detection, links, search, tagging, indexing."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from .. import contracts, filters
from . import cpu, forms, imaging, indexing, store, vision
from .envelope import NhnError
from .fetch import FetchError
from .links import LinkError, LinkTarget
from .search import Hit, ServiceIndex

INVALID_PARAM = -40000
NO_ITEMS = -45070
FETCH_CODES = {"invalid_url": -45050, "port": -45050, "private": -45050, "unreachable": -45050,
               "timeout": -45060, "too_large": -45020}
FORMAT_ERROR = -45040


@dataclass(frozen=True)
class Loaded:
    image: imaging.Decoded
    sha: str
    items: list[vision.Item]


class LinkVectors:
    """Item vectors by (image sha256, item box): a search by link downloads the image again (E215) but skips
    decoding and analysis when the image is unchanged. Thread-safe."""

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, tuple[int, ...]], np.ndarray] = OrderedDict()

    def get(self, sha: str, box: tuple[int, ...]) -> np.ndarray | None:
        with self._lock:
            vec = self._cache.get((sha, box))
            if vec is not None:
                self._cache.move_to_end((sha, box))
            return vec

    def put(self, sha: str, box: tuple[int, ...], vec: np.ndarray) -> None:
        with self._lock:
            self._cache[(sha, box)] = vec
            self._cache.move_to_end((sha, box))
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)


def _analyse(data: bytes) -> Loaded:
    try:
        image = imaging.decode(data)
    except imaging.ImageFormatError:
        raise NhnError(FORMAT_ERROR, "unsupported or undecodable image") from None
    return Loaded(image, hashlib.sha256(data).hexdigest(), vision.detect(image))


async def fetch_image(emu, url: str | None, *, max_bytes: int) -> bytes:
    """The image's bytes; fetch failures become the image-guide codes."""
    if not url:
        raise NhnError(INVALID_PARAM, "image url missing")
    try:
        fetched = await emu.fetch(
            url, max_bytes=max_bytes, deadline_s=emu.config.fetch_deadline_s,
            allow_private=emu.config.allow_private_image_hosts,
        )
    except FetchError as exc:
        raise NhnError(FETCH_CODES[exc.kind], exc.kind) from None
    return fetched.data


async def load_image(emu, url: str | None, *, max_bytes: int) -> Loaded:
    """Fetch, decode and detect; fetch and format failures become the image-guide codes."""
    data = await fetch_image(emu, url, max_bytes=max_bytes)
    return await cpu.run(_analyse, data)


def analyse_bytes(data: bytes, max_bytes: int) -> Loaded:
    if len(data) > max_bytes:
        raise NhnError(FETCH_CODES["too_large"], "uploaded image too large")
    return _analyse(data)


def geometry(item: vision.Item) -> dict[str, Any]:
    return {"center": list(item.center), "b0": list(item.b0), "b1": list(item.b1), "score": item.score}


def detect_items(emu, path: str, loaded: Loaded) -> list[dict[str, Any]]:
    """Detect's items: a link (its item vector cached) and the geometry of each. CPU work: run in a thread."""
    items = []
    for item in loaded.items:
        box = tuple(item.box_px)
        emu.link_vectors.put(loaded.sha, box, vision.embed(loaded.image, item))
        items.append({"link": emu.signer.issue(LinkTarget(path, loaded.sha, box)), **geometry(item)})
    return items


def _item_vector(data: bytes, box: tuple[int, ...]) -> np.ndarray | None:
    """The vector of the item at `box` in the image, or None when no item has that box. CPU work."""
    loaded = _analyse(data)
    for item in loaded.items:
        if tuple(item.box_px) == box:
            return vision.embed(loaded.image, item)
    return None


async def vector_for_link(emu, token: str | None, *, max_bytes: int, gone_code: int) -> np.ndarray:
    """The vector of the item a link stands for. The image is downloaded again (E215); when it no longer shows
    an item at the link's box the answer is `gone_code` (v2: -45070; v1, whose table lacks it: -40000)."""
    if not token:
        raise NhnError(INVALID_PARAM, "link missing")
    try:
        target = emu.signer.verify(token)
    except LinkError:
        raise NhnError(INVALID_PARAM, "invalid link") from None
    data = await fetch_image(emu, target.path, max_bytes=max_bytes)
    sha = hashlib.sha256(data).hexdigest()
    vec = emu.link_vectors.get(sha, target.box)
    if vec is None:
        vec = await cpu.run(_item_vector, data, target.box)
        if vec is None:
            raise NhnError(gone_code, "the linked item is no longer in the image")
        emu.link_vectors.put(sha, target.box, vec)
    return vec


def largest_item_vector(loaded: Loaded) -> np.ndarray:
    """The largest item's vector (-45070 when there is none). CPU work: run in a thread."""
    if not loaded.items:
        raise NhnError(NO_ITEMS, "no fashion item detected")
    return vision.embed(loaded.image, loaded.items[0])


def parse_filters(api: str, request_items: Sequence[tuple[str, str]]) -> list[filters.Clause]:
    """Filter clauses in the neutral field names of search.FIELDS."""
    fields = contracts.limit(api, "filter.fields").value
    try:
        clauses = filters.parse(request_items, fields)
    except filters.FilterError as exc:
        raise NhnError(INVALID_PARAM, str(exc)) from None
    neutral = dict(zip(fields, ("category1", "category2", "category3", "s1", "s2"), strict=True))
    return [filters.Clause(neutral[c.field], c.negate, c.values) for c in clauses]


async def search(
    emu, key: tuple[str, str, str], query: np.ndarray, *, limit: int, min_similarity: float | None,
    clauses: Sequence[filters.Clause], include_duplicates: bool,
) -> list[Hit]:
    index = await service_index(emu, key)
    return await asyncio.to_thread(
        index.search, query, limit=limit, min_similarity=min_similarity, clauses=clauses,
        include_duplicates=include_duplicates,
    )


def product_record(product) -> dict[str, str]:
    return {
        "category1": product.category1, "category2": product.category2, "category3": product.category3,
        "s1": product.s1, "s2": product.s2, "name": product.name, "image_url": product.image_url,
        "image_sha256": product.image_sha256,
    }


async def service_index(emu, key: tuple[str, str, str]) -> ServiceIndex:
    """The service's in-memory index, loaded from the store on first use; concurrent first users all wait for
    the one load (a load that fails is retried by the next request)."""
    index, created = emu.indexes.ensure(key)
    if created:
        def fill() -> None:
            index.load((p.product_id, p.vector, product_record(p)) for p in emu.store.iter_products(*key))

        def loaded(task: asyncio.Future) -> None:
            if emu.index_loads.get(key) is task:
                del emu.index_loads[key]
            if (task.cancelled() or task.exception() is not None) and emu.indexes.get(key) is index:
                emu.indexes.drop(key)

        task = emu.index_loads[key] = asyncio.ensure_future(asyncio.to_thread(fill))
        task.add_done_callback(loaded)
    loading = emu.index_loads.get(key)
    if loading is not None:
        await asyncio.shield(loading)
    return index


def on_commit(emu, ns: str, appkey: str, service: str, upserted, deleted_ids) -> None:
    """Called by the job runner after each committed batch: keep a loaded index in step with the store."""
    index = emu.indexes.get((ns, appkey, service))
    if index is None:
        return
    for product in upserted:
        index.upsert(product.product_id, product.vector, product_record(product))
    if deleted_ids:
        index.delete(deleted_ids)


def tag_items(loaded: Loaded, lang: str, item_limit: int) -> list[dict[str, Any]]:
    """Up to item_limit items, widest first, with tags in `lang` (en, ko or ja). CPU work: run in a thread."""
    widest = sorted(loaded.items, key=lambda it: (-(it.b1[0] - it.b0[0]), it.b0[0]))[:item_limit]
    return [
        {"type": it.type, "score": it.score, "tags": vision.nhn_tags(loaded.image, it, lang), **geometry(it)}
        for it in widest
    ]


NOT_EXIST_SERVICE = -42000
DUPLICATE_SERVICE = -42010
SERVICE_QUOTA = -42030


async def create_service(emu, ns: str, name: str) -> None:
    """A new service in namespace `ns` (v1 and Maker share "v1"); -42010 when it exists, -42030 past the quota."""
    try:
        await asyncio.to_thread(emu.store.create_service, ns, emu.config.appkey, name)
    except store.ServiceExists:
        raise NhnError(DUPLICATE_SERVICE) from None
    except store.ServiceQuotaExceeded:
        raise NhnError(SERVICE_QUOTA) from None


def require_service(emu, ns: str, name: str) -> tuple[tuple[str, str, str], store.Service]:
    """The service's store key and record (from memory, no thread hop); -42000 when it does not exist."""
    key = (ns, emu.config.appkey, name)
    service = emu.store.get_service(*key)
    if service is None:
        raise NhnError(NOT_EXIST_SERVICE, "unknown service")
    return key, service


async def delete_service(emu, key: tuple[str, str, str], *, busy_code: int | None = None) -> None:
    """Remove the service with its search index; -42000 when it is gone. With `busy_code`, refused with that
    code while an index job is reserved or running (checked in the same transaction)."""
    try:
        await asyncio.to_thread(emu.store.delete_service, *key, if_idle=busy_code is not None)
    except store.JobBusy:
        raise NhnError(busy_code) from None
    except store.NoSuchService:
        raise NhnError(NOT_EXIST_SERVICE) from None
    emu.indexes.drop(key)


INDEX_FILE_ERROR = -40010
INDEX_TOO_LARGE = -40030
INDEX_BUSY = -40080
INDEX_DAILY_QUOTA = -40040


async def read_index_form(request, api: str, *, max_fields: int):
    """The multipart form of an index request, read no further than the index file cap allows (-40030)."""
    return await forms.read(request, max_upload=indexing.IndexLimits.of(api).max_file_bytes,
                            too_large=INDEX_TOO_LARGE, max_fields=max_fields)


async def submit_index(emu, api: str, key: tuple[str, str, str], fmt: str, link: str | None, upload) -> str:
    """Read the index file (link over file), check it at once, and queue the job; returns the index id."""
    max_bytes = indexing.IndexLimits.of(api).max_file_bytes  # the same cap as parse_file's
    if link:
        try:
            fetched = await emu.fetch(link, max_bytes=max_bytes, deadline_s=emu.config.fetch_deadline_s,
                                      allow_private=emu.config.allow_private_image_hosts)
        except FetchError as exc:
            raise NhnError(INDEX_TOO_LARGE if exc.kind == "too_large" else INDEX_FILE_ERROR, exc.kind) from None
        data = fetched.data
        filename = urlsplit(link).path.rsplit("/", 1)[-1] or "index." + fmt
    elif upload is not None:
        data = await upload.read(max_bytes + 1)
        filename = upload.filename or "index." + fmt
    else:
        raise NhnError(INVALID_PARAM, "link or file is required")
    if len(data) > max_bytes:
        raise NhnError(INDEX_TOO_LARGE, "index file too large")
    try:
        parsed = await cpu.run(indexing.parse_file, api, fmt, data)
    except indexing.IndexFileError as exc:
        raise NhnError(exc.code, "index file rejected") from None
    try:
        return await emu.runner.submit(*key, parsed, filename)
    except store.QuotaExceeded:
        raise NhnError(INDEX_DAILY_QUOTA, "daily index quota used up") from None
    except store.JobBusy:
        raise NhnError(INDEX_BUSY, "an index job is already queued or running") from None
    except store.NoSuchService:
        raise NhnError(NOT_EXIST_SERVICE, "unknown service") from None


# Index-list order fields of v2 and Maker, in the store's neutral column names.
ORDER_FIELDS = {
    "requestedTime": "requested_time", "reservedTime": "requested_time", "startTime": "start_time",
    "finishTime": "finish_time", "addedCount": "added_count", "addCnt": "added_count",
    "failedCount": "failed_count", "failCnt": "failed_count", "deletedCount": "deleted_count",
    "deleteCnt": "deleted_count", "exceededCount": "exceeded_count", "updatedCount": "updated_count",
    "updateCnt": "updated_count", "totalCount": "total_count", "totalCnt": "total_count",
}


async def list_jobs(emu, api: str, key: tuple[str, str, str], p: dict, statuses: Sequence[str] | None):
    """(total, jobs) of the service's index list, with the paging window, order and status filter checked."""
    window = contracts.limit(api, "index.list.window").value
    start, limit = p["start"], p["limit"]
    if start + limit > window:
        raise NhnError(INVALID_PARAM, "start + limit beyond the paging window")
    order = p.get("order") or contracts.limit(api, "index.list.order_default").value
    field, _, direction = order.partition(":")
    if field not in contracts.limit(api, "index.list.order_fields").value or direction not in ("asc", "desc"):
        raise NhnError(INVALID_PARAM, "unknown order")
    wanted = list(statuses) if statuses is not None else None
    if wanted is not None and not (wanted and set(wanted) <= set(contracts.limit(api, "index.statuses").value)):
        raise NhnError(INVALID_PARAM, "unknown status")
    return await asyncio.to_thread(emu.store.list_jobs, *key, statuses=wanted, order_field=ORDER_FIELDS[field],
                                   order_dir=direction, start=start, limit=limit)
