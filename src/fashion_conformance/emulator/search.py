"""In-memory vector search per service: exact cosine over a numpy matrix, filters, threshold, dedup."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .. import filters
from . import cpu, vision

# Record fields every product carries, in the neutral naming that the handlers map to each API's names.
FIELDS = ("category1", "category2", "category3", "s1", "s2")
# The similarity scan of a large service is split over the CPUs (the emulator runs BLAS single-threaded, and
# one core cannot read a 100,000 x 202 float32 matrix as fast as two), on threads of its own: the search that
# waits for them runs on a pool thread itself.
SCAN_WORKERS = cpu.WORKERS
SCAN_SPLIT_ROWS = 20_000
_scan_pool = ThreadPoolExecutor(max_workers=SCAN_WORKERS, thread_name_prefix="search-scan")


def scan(query: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """vision.similarity of `query` to every row of `matrix`, in row chunks on the scan threads when it is large."""
    if SCAN_WORKERS == 1 or len(matrix) < SCAN_SPLIT_ROWS:
        return vision.similarity(query, matrix)
    parts = np.array_split(matrix, SCAN_WORKERS)
    return np.concatenate(list(_scan_pool.map(lambda part: vision.similarity(query, part), parts)))


@dataclass(frozen=True)
class Hit:
    product_id: str
    similarity: float
    record: dict[str, str]


class ServiceIndex:
    """The vectors and filterable fields of one service. Writers and readers may run in different threads.

    An index made with `loading=True` is being filled from the store by `load` while live updates (`upsert`,
    `delete`: index jobs committing) already arrive; a live update is newer than what `load` read, so `load`
    never overwrites or resurrects a product that a live update wrote or deleted meanwhile.
    """

    def __init__(self, *, loading: bool = False) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, tuple[np.ndarray, dict[str, str]]] = {}
        self._snapshot: tuple[list[str], np.ndarray, dict[str, np.ndarray], np.ndarray] | None = None
        self._live: set[str] | None = set() if loading else None  # ids of live updates while loading

    def __len__(self) -> int:
        return len(self._rows)

    def upsert(self, product_id: str, vector: np.ndarray, record: dict[str, str]) -> None:
        with self._lock:
            self._rows[product_id] = (np.asarray(vector, dtype=np.float32), dict(record))
            if self._live is not None:
                self._live.add(product_id)
            self._snapshot = None

    def delete(self, product_ids: Iterable[str]) -> None:
        with self._lock:
            for pid in product_ids:
                self._rows.pop(pid, None)
                if self._live is not None:
                    self._live.add(pid)
            self._snapshot = None

    def load(self, rows: Iterable[tuple[str, np.ndarray, dict[str, str]]], batch: int = 1000) -> None:
        """Fill a loading index with the stored products (blocking: call it in a thread); it is loaded after."""
        pending: list[tuple[str, np.ndarray, dict[str, str]]] = []
        for row in rows:
            pending.append(row)
            if len(pending) >= batch:
                self._load_batch(pending)
                pending = []
        self._load_batch(pending)
        with self._lock:
            self._live = None

    def _load_batch(self, rows: list[tuple[str, np.ndarray, dict[str, str]]]) -> None:
        with self._lock:
            live = self._live or set()
            for pid, vector, record in rows:
                if pid not in live:
                    self._rows[pid] = (np.asarray(vector, dtype=np.float32), dict(record))
            self._snapshot = None

    def _view(self):
        with self._lock:
            if self._snapshot is None:
                ids = list(self._rows)
                if ids:
                    matrix = np.stack([self._rows[i][0] for i in ids])
                else:
                    matrix = np.zeros((0, vision.DIM), dtype=np.float32)
                columns = {}
                for f in FIELDS:  # each filterable field as integer codes into its vocabulary
                    vocab, codes = np.unique(np.array([self._rows[i][1].get(f, "") for i in ids], dtype=str),
                                             return_inverse=True)
                    columns[f] = (codes.astype(np.int32), {v: n for n, v in enumerate(vocab.tolist())})
                columns["_id"] = np.array(ids, dtype=str)
                columns["_dup"] = np.array([self._rows[i][1].get("image_sha256", i) for i in ids], dtype=object)
                records = np.array([self._rows[i][1] for i in ids], dtype=object)
                self._snapshot = (ids, matrix, columns, records)
            return self._snapshot

    def search(
        self,
        query: np.ndarray,
        *,
        limit: int,
        min_similarity: float | None,
        clauses: Sequence[filters.Clause],
        include_duplicates: bool,
    ) -> list[Hit]:
        """The best `limit` products by similarity (descending), filtered and thresholded.

        Without `include_duplicates`, products whose images are identical (same content hash) count once:
        only the most similar of them is returned.
        """
        ids, matrix, columns, records = self._view()
        if not ids:
            return []
        sims = scan(np.asarray(query, dtype=np.float32), matrix)
        keep = np.ones(len(ids), dtype=bool)
        for clause in clauses:
            codes, vocab = columns[clause.field]
            table = np.zeros(len(vocab) + 1, dtype=bool)
            table[[vocab[v] for v in clause.values if v in vocab]] = True
            inside = table[codes]
            keep &= ~inside if clause.negate else inside
        if min_similarity is not None:
            keep &= sims >= min_similarity
        candidates = np.flatnonzero(keep)
        id_array = columns["_id"]
        # Top-k by partial selection; widened when deduplication drops too many of the first k.
        k = min(len(candidates), limit if include_duplicates else 4 * limit)
        while True:
            cand_sims = sims[candidates]
            part = np.argpartition(-cand_sims, k - 1)[:k] if 0 < k < len(candidates) else np.arange(len(candidates))
            chosen = candidates[part]
            order = chosen[np.lexsort((id_array[chosen], -sims[chosen]))]
            hits: list[Hit] = []
            seen: set[str] = set()
            for i in order:
                if not include_duplicates:
                    key = columns["_dup"][i]
                    if key in seen:
                        continue
                    seen.add(key)
                hits.append(Hit(ids[i], float(sims[i]), records[i]))
                if len(hits) >= limit:
                    break
            if len(hits) >= limit or k >= len(candidates):
                break
            k = min(len(candidates), 4 * k)
        return hits


class SearchIndexes:
    """One ServiceIndex per (namespace, appkey, service), created on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._indexes: dict[tuple[str, str, str], ServiceIndex] = {}

    def get(self, key: tuple[str, str, str]) -> ServiceIndex | None:
        return self._indexes.get(key)

    def ensure(self, key: tuple[str, str, str]) -> tuple[ServiceIndex, bool]:
        """The index for `key` and whether it was just created, in loading state (then the caller `load`s it)."""
        with self._lock:
            index = self._indexes.get(key)
            if index is not None:
                return index, False
            index = self._indexes[key] = ServiceIndex(loading=True)
            return index, True

    def drop(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            self._indexes.pop(key, None)
