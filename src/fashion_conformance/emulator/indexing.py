"""Index files (v2 and Maker): parsing and checking at request time, and the job runner that indexes them.

File rules (v2 "색인 가이드" / "색인 요청 > 파일 데이터 포맷"; Maker "インデックス入力ファイル情報" /
"ファイルデータフォーマット"): JSONL or CSV, UTF-8, no blank lines, one product per line, nine string fields in
the order productId, status, name, category1Id, category2Id, category3Id, imageUrl, s1, s2 (Maker: snake_case
names), each within its max length; status enable (add or update) or disable (delete): contracts
`index.product_statuses`, in that order. Only the first line is
checked before the request is accepted; later malformed lines fail when the job runs.

Decisions where the documents are silent:
- A leading UTF-8 byte order mark is ignored; lines end with LF or CRLF; one line end after the last line is
  fine. A blank line anywhere else (also a whitespace-only line, or a second line end at the end of the file)
  rejects the file at once with -40010.
- A CSV record is one line: standard quoting (the csv module, strict), no header, no line breaks inside fields.
- JSONL: each line one JSON object with exactly the nine names, string values, no repeated names.
- productId must not be empty (it is the unique key); other fields may be empty strings.
- A later line for a productId already seen in the same file wins: lines are committed in file order, each
  counted once (e.g. added, then updated).
- A line that cannot name its product (unparseable) is listed among the failed ids as "line:<n>" (1-based), so
  every count equals the length of its id list and totalCount is the number of data lines.
- A job whose every line failed is "failed"; otherwise "finished" (also when all lines were "exceeded").
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import numpy as np

from .. import contracts
from . import cpu, imaging, vision
from .store import DailyQuota, JobGone, LineOp, Product, Store

log = logging.getLogger(__name__)

INVALID_PARAM = -40000  # format is not jsonl or csv
INVALID_FILE = -40010  # not UTF-8, blank line, malformed first line
NO_DATA = -40020  # no data line
EXCEEDED_SIZE = -40030  # too many bytes or lines
# Neutral names of the file's fields, in the documents' order (the APIs' names come from contracts index.fields).
FIELDS = ("product_id", "status", "name", "category1", "category2", "category3", "image_url", "s1", "s2")


class IndexFileError(Exception):
    """An index file refused at request time; `code` is the NHN result code to answer."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def _cap(limit: contracts.Limit) -> int:
    """The largest accepted size: below `reject_from` where the document's "MB" is ambiguous (DESIGN 5)."""
    reject_from = limit.extra.get("reject_from")
    return int(reject_from) - 1 if reject_from is not None else int(limit.value)


@dataclass(frozen=True)
class IndexLimits:
    """One API's index-file limits. `fields` are the API's names in file order; `field_max_length` by name;
    `product_statuses` the line status values (enable, disable)."""

    formats: tuple[str, ...]
    fields: tuple[str, ...]
    field_max_length: dict[str, int]
    product_statuses: tuple[str, str]
    max_lines: int
    max_file_bytes: int
    image_max_bytes: int
    max_docs_per_service: int
    daily_quota: DailyQuota | None

    @staticmethod
    @cache
    def of(api: str) -> IndexLimits:
        """From contracts/<api>/limits.yaml (api "v2" or "maker"); a daily quota only where one is stated."""
        names = contracts.limits(api)
        quota = names.get("index.daily_quota")
        return IndexLimits(
            formats=tuple(names["index.formats"].value),
            fields=tuple(names["index.fields"].value),
            field_max_length={k: int(v) for k, v in names["index.field_max_length"].value.items()},
            product_statuses=tuple(names["index.product_statuses"].value),
            max_lines=int(names["index.max_lines"].value),
            max_file_bytes=_cap(names["index.max_file_bytes"]),
            image_max_bytes=_cap(names["index.image_max_bytes"]),
            max_docs_per_service=int(names["index.max_docs_per_service"].value),
            daily_quota=DailyQuota(int(quota.value), quota.extra["timezone"]) if quota else None,
        )


@dataclass(frozen=True)
class IndexLine:
    """One well-formed data line, in neutral field names."""

    product_id: str
    status: str
    name: str
    category1: str
    category2: str
    category3: str
    image_url: str
    s1: str
    s2: str


@dataclass(frozen=True)
class ParsedLine:
    """A data line: `record` is None when malformed; `product_id` is its id or "line:<n>"."""

    line_no: int
    product_id: str
    record: IndexLine | None


@dataclass(frozen=True)
class ParsedFile:
    api: str
    fmt: str
    lines: tuple[ParsedLine, ...]

    @property
    def product_ids(self) -> list[str]:
        return [line.product_id for line in self.lines]


class _Malformed(ValueError):
    def __init__(self, detail: str, product_id: str | None = None) -> None:
        super().__init__(detail)
        self.product_id = product_id


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [k for k, _ in pairs]
    if len(set(names)) != len(names):
        raise _Malformed("a name appears twice")
    return dict(pairs)


def _values(fmt: str, text: str, limits: IndexLimits) -> list[Any]:
    """The line's nine values in file order, or _Malformed (carrying the product id when one is readable)."""
    if fmt == "csv":
        try:
            rows = list(csv.reader([text], strict=True))
        except csv.Error:
            raise _Malformed("bad CSV quoting") from None
        row = rows[0] if len(rows) == 1 else []
        if len(row) != len(limits.fields):
            raise _Malformed(f"{len(row)} columns, not {len(limits.fields)}", row[0] if row else None)
        return row
    try:
        obj = json.loads(text, object_pairs_hook=_no_repeats)
    except _Malformed:
        raise
    except (ValueError, RecursionError):
        raise _Malformed("not JSON") from None
    if not isinstance(obj, dict):
        raise _Malformed("not a JSON object")
    pid = obj.get(limits.fields[0])
    if set(obj) != set(limits.fields):
        raise _Malformed("missing or unknown names", pid if isinstance(pid, str) else None)
    return [obj[name] for name in limits.fields]


def _text(value: Any) -> bool:
    """A string that UTF-8 can carry (JSON escapes can spell lone surrogates, which it cannot)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _parse_line(fmt: str, text: str, limits: IndexLimits) -> IndexLine:
    try:
        values = _values(fmt, text, limits)
    except _Malformed as exc:
        raise _Malformed(str(exc), exc.product_id if _text(exc.product_id) else None) from None
    pid = values[0] if _text(values[0]) and values[0] else None
    for name, value in zip(limits.fields, values, strict=True):
        if not _text(value):
            raise _Malformed(f"{name} is not a string", pid)
        if len(value) > limits.field_max_length[name]:
            raise _Malformed(f"{name} longer than {limits.field_max_length[name]}", pid)
    record = IndexLine(*values)
    if not record.product_id:
        raise _Malformed("empty product id")
    if record.status not in limits.product_statuses:
        raise _Malformed("unknown status", pid)
    return record


def _line(fmt: str, line_no: int, text: str, limits: IndexLimits) -> ParsedLine:
    try:
        record = _parse_line(fmt, text, limits)
    except _Malformed as exc:
        return ParsedLine(line_no, exc.product_id or f"line:{line_no}", None)
    return ParsedLine(line_no, record.product_id, record)


def parse_file(api: str, fmt: str, data: bytes, *, limits: IndexLimits | None = None) -> ParsedFile:
    """Check an index file as the request does, and parse every line (CPU work: call it in a thread).

    Raises IndexFileError: -40000 format not allowed; -40030 over the byte cap (checked first) or over the line
    cap; -40010 not UTF-8, a blank line, or a malformed first line; -40020 no data line.
    """
    limits = limits or IndexLimits.of(api)
    if fmt not in limits.formats:
        raise IndexFileError(INVALID_PARAM, "format is not one of " + ", ".join(limits.formats))
    if len(data) > limits.max_file_bytes:
        raise IndexFileError(EXCEEDED_SIZE, f"file over {limits.max_file_bytes} bytes")
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise IndexFileError(INVALID_FILE, "file is not UTF-8") from None
    raw = text.split("\n")
    if raw[-1] == "":
        raw.pop()
    raw = [line.removesuffix("\r") for line in raw]
    blank = [not line.strip() for line in raw]
    if all(blank):
        raise IndexFileError(NO_DATA, "no data line")
    if len(raw) > limits.max_lines:
        raise IndexFileError(EXCEEDED_SIZE, f"more than {limits.max_lines} lines")
    if any(blank):
        raise IndexFileError(INVALID_FILE, f"blank line {blank.index(True) + 1}")
    lines = tuple(_line(fmt, no, line, limits) for no, line in enumerate(raw, 1))
    if lines[0].record is None:
        raise IndexFileError(INVALID_FILE, "first line malformed")
    return ParsedFile(api, fmt, lines)


def embed_largest_item(data: bytes) -> np.ndarray | None:
    """The embedding of the image's largest item, or None when no item is found (CPU work).

    Raises imaging.ImageFormatError for bytes that are not an acceptable image."""
    image = imaging.decode(data)
    items = vision.detect(image)
    return vision.embed(image, items[0]) if items else None


class Fetch(Protocol):
    def __call__(self, url: str, *, max_bytes: int, deadline_s: float, allow_private: bool) -> Awaitable[Any]: ...


OnCommit = Callable[[str, str, str, list[Product], list[str]], None]


class JobRunner:
    """Runs accepted index files as asyncio tasks: reserved -> running -> finished | failed.

    Images are fetched and analysed concurrently (at most `concurrency` at once over all jobs), lines are
    committed in file order in small transactions, and after each commit `on_commit(ns, appkey, service,
    upserted, deleted_ids)` runs on the event loop with the batch's net effect (an id is in at most one list;
    a deleted id may be one the caller never saw). Job times come from `clock`.
    """

    def __init__(
        self,
        store: Store,
        *,
        fetch: Fetch,
        embed: Callable[[bytes], np.ndarray | None] = embed_largest_item,
        clock: Callable[[], float] = time.time,
        concurrency: int = 8,
        deadline_s: float = 3.0,
        allow_private: bool = False,
        on_commit: OnCommit | None = None,
        limits: Callable[[str], IndexLimits] = IndexLimits.of,
    ) -> None:
        self._store = store
        self._fetch = fetch
        self._embed = embed
        self._clock = clock
        self._sem = asyncio.Semaphore(concurrency)
        self._window = 4 * concurrency
        self._deadline_s = deadline_s
        self._allow_private = allow_private
        self._on_commit = on_commit
        self._limits = limits
        self._tasks: dict[str, asyncio.Task[None]] = {}

    async def submit(self, ns: str, appkey: str, service: str, parsed: ParsedFile, filename: str) -> str:
        """Reserve a job for `parsed` and start it; returns the job id.

        Raises store.NoSuchService, store.QuotaExceeded (-40040; Maker's daily quota) or store.JobBusy (-40080).
        """
        quota = self._limits(parsed.api).daily_quota
        job_id = await asyncio.to_thread(
            self._store.create_job, ns, appkey, service, parsed.api, filename, parsed.product_ids,
            quota=quota, now=self._clock(),
        )
        task = asyncio.create_task(self._run(job_id, (ns, appkey, service), parsed), name=f"index-{job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(job_id, None))
        return job_id

    async def wait(self, job_id: str) -> None:
        """Until the job's task has ended (returns at once for an unknown or ended job)."""
        task = self._tasks.get(job_id)
        if task is not None:
            await asyncio.shield(task)

    async def aclose(self) -> None:
        """Cancel the running jobs and mark them failed."""
        tasks = dict(self._tasks)
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        for job_id in tasks:
            await self._close(job_id, internal_error=True)

    async def _close(self, job_id: str, *, internal_error: bool) -> None:
        try:
            await asyncio.to_thread(self._store.finish_job, job_id, internal_error=internal_error, now=self._clock())
        except JobGone:
            pass

    async def _run(self, job_id: str, key: tuple[str, str, str], parsed: ParsedFile) -> None:
        limits = self._limits(parsed.api)
        window: deque[asyncio.Task[LineOp]] = deque()
        images: dict[str, asyncio.Future[tuple[str, np.ndarray | None]]] = {}
        pending = iter(parsed.lines)
        try:
            await asyncio.to_thread(self._store.start_job, job_id, now=self._clock())
            while True:
                while len(window) < self._window and (line := next(pending, None)) is not None:
                    window.append(asyncio.create_task(self._prepare(line, limits, images)))
                if not window:
                    break
                await asyncio.wait([window[0]])
                ops = []
                while window and window[0].done():
                    ops.append(window.popleft().result())
                outcomes = await asyncio.to_thread(
                    self._store.commit_lines, job_id, ops, max_docs=limits.max_docs_per_service
                )
                self._notify(key, ops, outcomes)
            await self._close(job_id, internal_error=False)
        except JobGone:
            log.info("index job %s ended: its service was deleted", job_id)
        except Exception:
            log.exception("index job %s failed", job_id)
            await self._close(job_id, internal_error=True)
        finally:
            for task in (*window, *images.values()):
                task.cancel()

    async def _image(self, url: str, limits: IndexLimits) -> tuple[str, np.ndarray | None]:
        """(sha256, the largest item's vector or None) of the image at `url`."""
        async with self._sem:
            fetched = await self._fetch(
                url, max_bytes=limits.image_max_bytes, deadline_s=self._deadline_s, allow_private=self._allow_private,
            )
            vector = await cpu.run(self._embed, fetched.data)
        return hashlib.sha256(fetched.data).hexdigest(), vector

    async def _prepare(self, line: ParsedLine, limits: IndexLimits, images: dict) -> LineOp:
        """The line's operation: delete, fail, or upsert with the largest item's vector.

        Within one job an image URL is fetched and analysed once; lines naming the same URL share the result.
        """
        record = line.record
        if record is None:
            return LineOp(line.line_no, line.product_id, "fail")
        if record.status == limits.product_statuses[1]:
            return LineOp(line.line_no, line.product_id, "delete")
        if record.image_url not in images:
            images[record.image_url] = asyncio.ensure_future(self._image(record.image_url, limits))
        try:
            sha, vector = await asyncio.shield(images[record.image_url])
        except Exception as exc:  # fetch, format and analysis failures fail the line alone
            log.debug("index line %d failed: %s", line.line_no, type(exc).__name__)
            return LineOp(line.line_no, line.product_id, "fail")
        if vector is None:
            return LineOp(line.line_no, line.product_id, "fail")
        fields = {f: getattr(record, f) for f in FIELDS if f != "status"}
        product = Product(**fields, image_sha256=sha, vector=np.asarray(vector, dtype=np.float32))
        return LineOp(line.line_no, line.product_id, "upsert", product)

    def _notify(self, key: tuple[str, str, str], ops: Sequence[LineOp], outcomes: Sequence[str]) -> None:
        if self._on_commit is None:
            return
        final: dict[str, Product | None] = {}
        for op, outcome in zip(ops, outcomes, strict=True):
            if outcome in ("added", "updated"):
                final[op.product_id] = op.product
            elif outcome == "deleted":
                final[op.product_id] = None
        if final:
            upserted = [p for p in final.values() if p is not None]
            deleted = [pid for pid, p in final.items() if p is None]
            self._on_commit(*key, upserted, deleted)
