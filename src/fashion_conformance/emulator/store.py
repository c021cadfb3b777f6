"""The emulator's durable state: services, products (with vectors), index jobs and Maker uploads, in SQLite.

Everything is keyed by (namespace, appkey, service name). Namespaces: "v1" (API v1 and Maker: Maker indexes
products into v1 service IDs) and "v2". One Store per data directory at a time: opening it runs `recover()`.

Durability: WAL journal with synchronous=NORMAL (a crash may lose the last commits, never corrupts the file),
foreign keys on. Every write is one `BEGIN IMMEDIATE` transaction, so checks and inserts (service quota, one
active job per service, Maker's daily uploads, the per-service document cap) are atomic also across
connections. One connection guarded by a lock serves all threads.

Services are also held in memory (`get_service`, the one method that never blocks: it runs on the event loop of
every request). The copy is read from the file at open and refreshed, still under the lock, after each commit
for exactly the services that transaction touched, so it never shows a state the file does not hold (as long
as this Store is the file's only writer: the emulator holds its data directory alone, see datadir.py).

Jobs of a deleted service are removed with it (its index list is then unreachable anyway: -42000); a runner
committing into such a job gets `JobGone`. Maker uploads are kept apart from jobs and survive a service's
deletion, so deleting and re-creating a service does not reset its daily quota.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from .. import contracts

# Job lifecycle (v2 and Maker documents, index status tables): reserved -> running -> finished | failed.
RESERVED, RUNNING, FINISHED, FAILED = "reserved", "running", "finished", "failed"
ACTIVE = (RESERVED, RUNNING)
# Per-line outcomes; each has a count and (v2 detail) an id list.
OUTCOMES = ("added", "updated", "deleted", "failed", "exceeded")
# Sortable job columns, by neutral name (the handlers map each API's wire names onto these).
ORDER_COLUMNS = {
    "requested_time": "requested_time",
    "start_time": "start_time",
    "finish_time": "finish_time",
    **{f"{o}_count": f"{o}_count" for o in OUTCOMES},
    "total_count": "total_count",
}
_PAGE = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS services (
    id INTEGER PRIMARY KEY,
    ns TEXT NOT NULL,
    appkey TEXT NOT NULL,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    doc_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE (ns, appkey, name)
);
CREATE TABLE IF NOT EXISTS products (
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    product_id TEXT NOT NULL,
    name TEXT NOT NULL,
    category1 TEXT NOT NULL,
    category2 TEXT NOT NULL,
    category3 TEXT NOT NULL,
    image_url TEXT NOT NULL,
    s1 TEXT NOT NULL,
    s2 TEXT NOT NULL,
    image_sha256 TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (service_id, product_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    api TEXT NOT NULL,
    filename TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_time INTEGER NOT NULL,
    start_time INTEGER NOT NULL DEFAULT 0,
    finish_time INTEGER NOT NULL DEFAULT 0,
    added_count INTEGER NOT NULL DEFAULT 0,
    updated_count INTEGER NOT NULL DEFAULT 0,
    deleted_count INTEGER NOT NULL DEFAULT 0,
    failed_count INTEGER NOT NULL DEFAULT 0,
    exceeded_count INTEGER NOT NULL DEFAULT 0,
    total_count INTEGER NOT NULL,
    line_ids TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_service ON jobs (service_id, status);
CREATE TABLE IF NOT EXISTS job_lines (
    job_seq INTEGER NOT NULL REFERENCES jobs(seq) ON DELETE CASCADE,
    line_no INTEGER NOT NULL,
    product_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (job_seq, line_no)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS uploads (
    ns TEXT NOT NULL,
    appkey TEXT NOT NULL,
    service TEXT NOT NULL,
    time REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS uploads_by_service ON uploads (ns, appkey, service, time);
"""


class StoreError(Exception):
    """Base of the store's refusals (messages name services, never keys)."""


class ServiceExists(StoreError):
    pass


class ServiceQuotaExceeded(StoreError):
    pass


class NoSuchService(StoreError):
    pass


class JobBusy(StoreError):
    """The service already has a reserved or running job."""


class QuotaExceeded(StoreError):
    """The service has used its daily index requests (Maker)."""


class JobGone(StoreError):
    """The job no longer exists or is no longer running (its service was deleted, or it was recovered)."""


@dataclass(frozen=True)
class Service:
    name: str
    document_count: int
    created: int


@dataclass(frozen=True)
class Product:
    """One indexed product; `vector` is a read-only float32 unit vector (the largest item's embedding)."""

    product_id: str
    name: str
    category1: str
    category2: str
    category3: str
    image_url: str
    s1: str
    s2: str
    image_sha256: str
    vector: np.ndarray


@dataclass(frozen=True)
class Job:
    """One index request. Times are unix seconds, 0 until they happen. The `*_ids` lists (in file order)
    are filled by `get_job` and are None in `list_jobs` rows."""

    id: str
    ns: str
    service: str
    api: str
    filename: str
    status: str
    requested_time: int
    start_time: int
    finish_time: int
    added_count: int
    updated_count: int
    deleted_count: int
    failed_count: int
    exceeded_count: int
    total_count: int
    added_ids: tuple[str, ...] | None = None
    updated_ids: tuple[str, ...] | None = None
    deleted_ids: tuple[str, ...] | None = None
    failed_ids: tuple[str, ...] | None = None
    exceeded_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DailyQuota:
    """At most `limit` index requests per service per day; the day starts at 00:00 in `tz`."""

    limit: int
    tz: str


@dataclass(frozen=True)
class LineOp:
    """What one data line of a job asks, ready to commit: action "upsert" (with `product`), "delete" or
    "fail" (the line was malformed or its image could not be fetched, decoded or had no item)."""

    line_no: int
    product_id: str
    action: str
    product: Product | None = None


def day_start(now: float, tz: str) -> float:
    """The unix time of the last 00:00 in `tz` at or before `now`."""
    local = datetime.fromtimestamp(now, ZoneInfo(tz))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def _default_max_services(ns: str) -> int:
    return int(contracts.limit(ns, "service.max_per_appkey").value)


class Store:
    """The SQLite state of one emulator. Thread-safe; every method but `get_service` blocks (call it via
    asyncio.to_thread)."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        max_services: Callable[[str], int] = _default_max_services,
    ) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._max_services = max_services
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
        self._db.row_factory = sqlite3.Row
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
            self._db.execute(f"PRAGMA {pragma}")
        self._services: dict[tuple[str, str, str], Service] = {}
        self._service_keys: dict[int, tuple[str, str, str]] = {}
        self._touched: set[int] = set()  # services written by the open transaction
        with self._lock:
            self._db.executescript(_SCHEMA)
            for (sid,) in self._db.execute("SELECT id FROM services").fetchall():
                self._refresh(sid)
        self.recover()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _now(self, now: float | None = None) -> int:
        return int(self._clock() if now is None else now)

    # -- transactions -------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE): committed on success, rolled back on any exception."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            finally:
                touched, self._touched = self._touched, set()
            for sid in touched:
                self._refresh(sid)

    def _touch(self, sid: int) -> None:
        """Mark a service as written by the open transaction (its in-memory copy is refreshed at commit)."""
        self._touched.add(sid)

    def _refresh(self, sid: int) -> None:
        """The in-memory copy of one service as the file now holds it (gone when the row is)."""
        row = self._db.execute("SELECT ns, appkey, name, created, doc_count FROM services WHERE id=?", (sid,)).fetchone()
        if row is None:
            key = self._service_keys.pop(sid, None)
            if key is not None:
                self._services.pop(key, None)
            return
        key = (row["ns"], row["appkey"], row["name"])
        self._service_keys[sid] = key
        self._services[key] = Service(row["name"], int(row["doc_count"]), int(row["created"]))

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    @staticmethod
    def _service_id(db: sqlite3.Connection, ns: str, appkey: str, name: str) -> int:
        row = db.execute("SELECT id FROM services WHERE ns=? AND appkey=? AND name=?", (ns, appkey, name)).fetchone()
        if row is None:
            raise NoSuchService(f"no service {name!r} in {ns}")
        return int(row[0])

    @staticmethod
    def _active(db: sqlite3.Connection, sid: int) -> bool:
        return db.execute(
            f"SELECT 1 FROM jobs WHERE service_id=? AND status IN ({','.join('?' * len(ACTIVE))}) LIMIT 1", (sid, *ACTIVE)
        ).fetchone() is not None

    # -- services -----------------------------------------------------------------------------------

    def create_service(self, ns: str, appkey: str, name: str) -> None:
        """Raises ServiceExists, or ServiceQuotaExceeded when the appkey already has the maximum in `ns`."""
        cap = self._max_services(ns)
        with self._write() as db:
            if db.execute("SELECT 1 FROM services WHERE ns=? AND appkey=? AND name=?", (ns, appkey, name)).fetchone():
                raise ServiceExists(f"service {name!r} exists in {ns}")
            (count,) = db.execute("SELECT COUNT(*) FROM services WHERE ns=? AND appkey=?", (ns, appkey)).fetchone()
            if count >= cap:
                raise ServiceQuotaExceeded(f"{ns} already has {count} services")
            self._touch(db.execute(
                "INSERT INTO services (ns, appkey, name, created) VALUES (?, ?, ?, ?)", (ns, appkey, name, self._now())
            ).lastrowid)

    def delete_service(self, ns: str, appkey: str, name: str, *, if_idle: bool = False) -> None:
        """Removes the service with its products and jobs. Raises NoSuchService, or (with `if_idle`, checked in
        the same transaction) JobBusy while the service has a reserved or running job."""
        with self._write() as db:
            sid = self._service_id(db, ns, appkey, name)
            if if_idle and self._active(db, sid):
                raise JobBusy(f"service {name!r} has an index job in progress")
            db.execute("DELETE FROM services WHERE id=?", (sid,))
            self._touch(sid)

    _SERVICE_SQL = "SELECT s.name, s.created, s.doc_count AS docs FROM services s WHERE s.ns=? AND s.appkey=?"

    def list_services(self, ns: str, appkey: str) -> list[Service]:
        """In creation order."""
        rows = self._read(self._SERVICE_SQL + " ORDER BY s.id", (ns, appkey))
        return [Service(r["name"], int(r["docs"]), int(r["created"])) for r in rows]

    def get_service(self, ns: str, appkey: str, name: str) -> Service | None:
        """From memory, as of the last commit: never blocks, so handlers call it on the event loop."""
        return self._services.get((ns, appkey, name))

    # -- products -----------------------------------------------------------------------------------

    @staticmethod
    def _product(row: sqlite3.Row) -> Product:
        return Product(
            product_id=row["product_id"], name=row["name"], category1=row["category1"], category2=row["category2"],
            category3=row["category3"], image_url=row["image_url"], s1=row["s1"], s2=row["s2"],
            image_sha256=row["image_sha256"], vector=np.frombuffer(row["vector"], dtype=np.float32),
        )

    def _put(self, db: sqlite3.Connection, sid: int, p: Product, max_docs: int | None) -> str:
        """"added", "updated" or (a new product when the service holds `max_docs`) "exceeded"."""
        exists = db.execute("SELECT 1 FROM products WHERE service_id=? AND product_id=?", (sid, p.product_id)).fetchone()
        if not exists and max_docs is not None:
            (count,) = db.execute("SELECT doc_count FROM services WHERE id=?", (sid,)).fetchone()
            if count >= max_docs:
                return "exceeded"
        vector = np.ascontiguousarray(p.vector, dtype=np.float32).tobytes()
        db.execute(
            "INSERT OR REPLACE INTO products (service_id, product_id, name, category1, category2, category3, "
            "image_url, s1, s2, image_sha256, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sid, p.product_id, p.name, p.category1, p.category2, p.category3, p.image_url, p.s1, p.s2,
             p.image_sha256, vector),
        )
        if exists:
            return "updated"
        db.execute("UPDATE services SET doc_count = doc_count + 1 WHERE id=?", (sid,))
        self._touch(sid)
        return "added"

    def _drop(self, db: sqlite3.Connection, sid: int, product_id: str) -> bool:
        if not db.execute("DELETE FROM products WHERE service_id=? AND product_id=?", (sid, product_id)).rowcount:
            return False
        db.execute("UPDATE services SET doc_count = doc_count - 1 WHERE id=?", (sid,))
        self._touch(sid)
        return True

    def upsert_product(self, ns: str, appkey: str, service: str, product: Product) -> str:
        """"added" or "updated". Raises NoSuchService. (No document cap: jobs apply it.)"""
        with self._write() as db:
            return self._put(db, self._service_id(db, ns, appkey, service), product, None)

    def delete_product(self, ns: str, appkey: str, service: str, product_id: str) -> bool:
        with self._write() as db:
            return self._drop(db, self._service_id(db, ns, appkey, service), product_id)

    def get_product(self, ns: str, appkey: str, service: str, product_id: str) -> Product | None:
        rows = self._read(
            "SELECT p.* FROM products p JOIN services s ON s.id = p.service_id "
            "WHERE s.ns=? AND s.appkey=? AND s.name=? AND p.product_id=?",
            (ns, appkey, service, product_id),
        )
        return self._product(rows[0]) if rows else None

    def count_products(self, ns: str, appkey: str, service: str) -> int:
        service_row = self.get_service(ns, appkey, service)
        return service_row.document_count if service_row else 0

    def iter_products(self, ns: str, appkey: str, service: str) -> Iterator[Product]:
        """Every product of the service by product id, read in pages (the lock is not held between pages)."""
        after = ""
        first = True
        while True:
            rows = self._read(
                "SELECT p.* FROM products p JOIN services s ON s.id = p.service_id "
                "WHERE s.ns=? AND s.appkey=? AND s.name=? AND (? OR p.product_id > ?) ORDER BY p.product_id LIMIT ?",
                (ns, appkey, service, first, after, _PAGE),
            )
            yield from (self._product(r) for r in rows)
            if len(rows) < _PAGE:
                return
            after, first = rows[-1]["product_id"], False

    # -- jobs ---------------------------------------------------------------------------------------

    def create_job(
        self,
        ns: str,
        appkey: str,
        service: str,
        api: str,
        filename: str,
        line_ids: Sequence[str],
        *,
        quota: DailyQuota | None = None,
        now: float | None = None,
    ) -> str:
        """Reserve a job for a file whose data lines carry `line_ids` (one product id per line, in order;
        total count = len(line_ids)). Returns the job id (uuid4).

        Atomically refuses with NoSuchService, QuotaExceeded (when `quota` is given and the service already
        had `quota.limit` requests since the day started; checked first) or JobBusy (a reserved or running job).
        An accepted request under a quota is recorded as one upload. `now` defaults to the store's clock.
        """
        now = self._clock() if now is None else now
        with self._write() as db:
            sid = self._service_id(db, ns, appkey, service)
            if quota is not None and self._uploads_since(db, ns, appkey, service, day_start(now, quota.tz)) >= quota.limit:
                raise QuotaExceeded(f"service {service!r} used its {quota.limit} daily index requests")
            if self._active(db, sid):
                raise JobBusy(f"service {service!r} has an index job in progress")
            job_id = str(uuid.uuid4())
            db.execute(
                "INSERT INTO jobs (id, service_id, api, filename, status, requested_time, total_count, line_ids) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, sid, api, filename, RESERVED, int(now), len(line_ids), json.dumps(list(line_ids))),
            )
            if quota is not None:
                db.execute("INSERT INTO uploads (ns, appkey, service, time) VALUES (?, ?, ?, ?)", (ns, appkey, service, now))
            return job_id

    def start_job(self, job_id: str, *, now: float | None = None) -> None:
        """reserved -> running, with the start time. Raises JobGone."""
        with self._write() as db:
            updated = db.execute(
                "UPDATE jobs SET status=?, start_time=? WHERE id=? AND status=?",
                (RUNNING, self._now(now), job_id, RESERVED),
            ).rowcount
            if not updated:
                raise JobGone(f"job {job_id} is not reserved")

    def commit_lines(self, job_id: str, ops: Sequence[LineOp], *, max_docs: int | None) -> list[str]:
        """Apply the lines' products and record their outcomes, in order, in one transaction.

        Returns each line's outcome: upsert -> "added" | "updated" | "exceeded" (a new product while the
        service holds `max_docs`); delete -> "deleted" | "failed" (unknown id); fail -> "failed".
        Raises JobGone when the job is not running (its service was deleted, or it was recovered).
        """
        with self._write() as db:
            job = db.execute("SELECT seq, service_id FROM jobs WHERE id=? AND status=?", (job_id, RUNNING)).fetchone()
            if job is None:
                raise JobGone(f"job {job_id} is not running")
            outcomes = []
            for op in ops:
                if op.action == "upsert" and op.product is not None:
                    outcome = self._put(db, job["service_id"], op.product, max_docs)
                elif op.action == "delete":
                    outcome = "deleted" if self._drop(db, job["service_id"], op.product_id) else "failed"
                else:
                    outcome = "failed"
                outcomes.append(outcome)
            self._record(db, job["seq"], [(op.line_no, op.product_id) for op in ops], outcomes)
            return outcomes

    @staticmethod
    def _record(db: sqlite3.Connection, seq: int, lines: Sequence[tuple[int, str]], outcomes: Sequence[str]) -> None:
        db.executemany(
            "INSERT INTO job_lines (job_seq, line_no, product_id, outcome) VALUES (?, ?, ?, ?)",
            [(seq, no, pid, outcome) for (no, pid), outcome in zip(lines, outcomes, strict=True)],
        )
        for outcome in OUTCOMES:
            n = sum(1 for o in outcomes if o == outcome)
            if n:
                db.execute(f"UPDATE jobs SET {outcome}_count = {outcome}_count + ? WHERE seq=?", (n, seq))

    @staticmethod
    def _close_job(db: sqlite3.Connection, seq: int, now: int, *, failed: bool) -> None:
        """Count every line not yet committed as failed, then set the final status and finish time.

        The job is "failed" when `failed` (an internal error or an interruption) or when every line failed;
        otherwise "finished" (partial failure included)."""
        row = db.execute("SELECT line_ids FROM jobs WHERE seq=?", (seq,)).fetchone()
        done = {r[0] for r in db.execute("SELECT line_no FROM job_lines WHERE job_seq=?", (seq,))}
        rest = [(no, pid) for no, pid in enumerate(json.loads(row[0]), 1) if no not in done]
        Store._record(db, seq, rest, ["failed"] * len(rest))
        counts = db.execute("SELECT failed_count, total_count FROM jobs WHERE seq=?", (seq,)).fetchone()
        status = FAILED if failed or counts[0] == counts[1] else FINISHED
        db.execute("UPDATE jobs SET status=?, finish_time=?, line_ids='[]' WHERE seq=?", (status, now, seq))

    def finish_job(self, job_id: str, *, internal_error: bool = False, now: float | None = None) -> str:
        """Close a running job (see `_close_job`); returns its final status. Raises JobGone."""
        with self._write() as db:
            job = db.execute("SELECT seq FROM jobs WHERE id=? AND status IN (?, ?)", (job_id, *ACTIVE)).fetchone()
            if job is None:
                raise JobGone(f"job {job_id} is not active")
            self._close_job(db, job["seq"], self._now(now), failed=internal_error)
            return db.execute("SELECT status FROM jobs WHERE seq=?", (job["seq"],)).fetchone()[0]

    def recover(self) -> int:
        """Fail every reserved or running job (left by a crash or a stop); returns how many."""
        with self._write() as db:
            seqs = [r[0] for r in db.execute(f"SELECT seq FROM jobs WHERE status IN ({','.join('?' * len(ACTIVE))})", ACTIVE)]
            now = self._now()
            for seq in seqs:
                self._close_job(db, seq, now, failed=True)
            return len(seqs)

    _JOB_SQL = (
        "SELECT j.*, s.ns, s.name AS service FROM jobs j JOIN services s ON s.id = j.service_id "
        "WHERE s.ns=? AND s.appkey=? AND s.name=?"
    )

    @staticmethod
    def _job(row: sqlite3.Row, ids: dict[str, tuple[str, ...]] | None = None) -> Job:
        fields = {k: row[k] for k in ("id", "ns", "service", "api", "filename", "status", "requested_time",
                                      "start_time", "finish_time", "total_count")}
        fields.update({f"{o}_count": row[f"{o}_count"] for o in OUTCOMES})
        if ids is not None:
            fields.update({f"{o}_ids": ids[o] for o in OUTCOMES})
        return Job(**fields)

    def _require_service(self, ns: str, appkey: str, service: str) -> None:
        if self.get_service(ns, appkey, service) is None:
            raise NoSuchService(f"no service {service!r} in {ns}")

    def get_job(self, ns: str, appkey: str, service: str, job_id: str) -> Job | None:
        """The job with its id lists, or None. Raises NoSuchService."""
        with self._lock:
            self._require_service(ns, appkey, service)
            rows = self._read(self._JOB_SQL + " AND j.id=?", (ns, appkey, service, job_id))
            if not rows:
                return None
            ids: dict[str, list[str]] = {o: [] for o in OUTCOMES}
            for pid, outcome in self._read(
                "SELECT product_id, outcome FROM job_lines WHERE job_seq=? ORDER BY line_no", (rows[0]["seq"],)
            ):
                ids[outcome].append(pid)
            return self._job(rows[0], {o: tuple(v) for o, v in ids.items()})

    def list_jobs(
        self,
        ns: str,
        appkey: str,
        service: str,
        *,
        statuses: Sequence[str] | None = None,
        order_field: str = "requested_time",
        order_dir: str = "desc",
        start: int = 0,
        limit: int = 100,
    ) -> tuple[int, list[Job]]:
        """(number of matching jobs, the page). `order_field` is a key of ORDER_COLUMNS, `order_dir` asc|desc;
        ties keep request order in the same direction. Raises NoSuchService, ValueError for a bad order."""
        if order_field not in ORDER_COLUMNS or order_dir not in ("asc", "desc"):
            raise ValueError("unknown order")
        where, args = "", [ns, appkey, service]
        if statuses:
            where = f" AND j.status IN ({','.join('?' * len(statuses))})"
            args += list(statuses)
        with self._lock:
            self._require_service(ns, appkey, service)
            (total,) = self._read(f"SELECT COUNT(*) FROM ({self._JOB_SQL}{where})", args)[0]
            rows = self._read(
                f"{self._JOB_SQL}{where} ORDER BY j.{ORDER_COLUMNS[order_field]} {order_dir}, j.seq {order_dir} "
                "LIMIT ? OFFSET ?",
                [*args, limit, start],
            )
        return int(total), [self._job(r) for r in rows]

    def has_active_job(self, ns: str, appkey: str, service: str) -> bool:
        """Whether the service (if it exists) has a reserved or running job."""
        with self._lock:
            try:
                return self._active(self._db, self._service_id(self._db, ns, appkey, service))
            except NoSuchService:
                return False

    # -- Maker daily uploads ------------------------------------------------------------------------

    @staticmethod
    def _uploads_since(db: sqlite3.Connection, ns: str, appkey: str, service: str, since: float) -> int:
        (n,) = db.execute(
            "SELECT COUNT(*) FROM uploads WHERE ns=? AND appkey=? AND service=? AND time >= ?", (ns, appkey, service, since)
        ).fetchone()
        return int(n)

    def uploads_today(self, ns: str, appkey: str, service: str, now: float | None = None, *, tz: str | None = None) -> int:
        """Accepted index requests of the service since the last 00:00 in `tz` at or before `now` (defaults:
        the store's clock, and the timezone of Maker's daily quota in contracts)."""
        now = self._clock() if now is None else now
        tz = tz or contracts.limit("maker", "index.daily_quota").extra["timezone"]
        with self._lock:
            return self._uploads_since(self._db, ns, appkey, service, day_start(now, tz))
