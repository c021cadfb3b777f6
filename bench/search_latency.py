"""(b) Server-side search latency: one ServiceIndex of 100,000 documents, 1,000 searches per variant.

The catalog's vectors are real embeddings (vision.embed of the largest item of a few hundred
factory.product_image photos) plus Gaussian noise, so neighbourhoods look like a product catalog's; a
share of the documents repeats another document's image (same vector and content hash) so that
deduplication has work to do. The timed call is ServiceIndex.search, the work a search request runs
in its worker thread (the HTTP layer is benchmark (a)'s subject). Besides wall-clock percentiles, the mean
CPU time per search (all threads of the process, BLAS threads included) is printed: it hardly depends on
what else the machine runs.

BLAS runs single-threaded, as in `fashion-emulator serve` (OPENBLAS_NUM_THREADS=1 unless set); the scan of a
large service is split over the CPUs by search.scan itself.

    PYTHONPATH=src python bench/search_latency.py [--docs 100000] [--searches 1000] [--json out.json]
"""

# ruff: noqa: E402  (numpy is imported after the BLAS setting below)
from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy: the emulator's setting (cli.emulator_main)

import common
import numpy as np

from fashion_conformance import filters
from fashion_conformance.emulator import imaging, search, vision
from fashion_conformance.imagehost import factory

VARIANTS = {  # name -> (filter clauses, include_duplicates)
    "plain": ((), True),
    "filter": (
        (filters.Clause("category1", False, ("c1-2", "c1-5")), filters.Clause("s1", True, ("s1-0",))),
        True,
    ),
    "dedup": ((), False),
    "filter+dedup": (
        (filters.Clause("category1", False, ("c1-2", "c1-5")), filters.Clause("s1", True, ("s1-0",))),
        False,
    ),
}


def base_vectors(count: int, seed0: int = 0) -> np.ndarray:
    """Embeddings of the largest item of `count` generated product photos."""
    rows = []
    for seed in range(seed0, seed0 + count):
        img = imaging.decode(factory.product_image(seed))
        items = vision.detect(img)
        rows.append(vision.embed(img, items[0] if items else None))
    return np.stack(rows)


def noisy(vectors: np.ndarray, rng: np.random.Generator, level: float) -> np.ndarray:
    """Unit vectors near `vectors`: noise of norm about `level` added to each, then renormalised."""
    out = vectors + rng.normal(0.0, level / np.sqrt(vectors.shape[1]), vectors.shape).astype(np.float32)
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def build_index(docs: int, bases: np.ndarray, dup_share: float, seed: int) -> search.ServiceIndex:
    rng = np.random.default_rng(seed)
    pick = random.Random(seed)
    vectors = noisy(bases[rng.integers(0, len(bases), docs)], rng, 0.3)
    index = search.ServiceIndex()
    for i in range(docs):
        dup_of = pick.randrange(i) if i and pick.random() < dup_share else None
        vec = vectors[dup_of] if dup_of is not None else vectors[i]
        index.upsert(f"p{i:06d}", vec, {
            "category1": f"c1-{pick.randrange(8)}",
            "category2": f"c2-{pick.randrange(40)}",
            "category3": f"c3-{pick.randrange(200)}",
            "s1": f"s1-{pick.randrange(20)}",
            "s2": f"s2-{pick.randrange(1000)}",
            "name": f"product {i}",
            "image_url": f"http://127.0.0.1:10080/f/p{dup_of if dup_of is not None else i}.jpg",
            "image_sha256": f"sha-{dup_of if dup_of is not None else i}",
        })
    return index


def run(docs: int, searches: int, limit: int, base_images: int, dup_share: float) -> dict:
    t0 = time.perf_counter()
    bases = base_vectors(base_images)
    queries_seen = noisy(bases, np.random.default_rng(1), 0.2)  # near catalog items
    queries_new = base_vectors(max(1, base_images // 4), seed0=10**6)  # photos the catalog lacks
    queries = np.concatenate([queries_seen, queries_new])
    t_embed = time.perf_counter() - t0

    t0 = time.perf_counter()
    index = build_index(docs, bases, dup_share, seed=7)
    t_upsert = time.perf_counter() - t0
    t0 = time.perf_counter()
    index.search(queries[0], limit=limit, min_similarity=None, clauses=(), include_duplicates=True)
    t_first = time.perf_counter() - t0  # includes building the snapshot (matrix + columns)

    results = {}
    order = np.random.default_rng(3).integers(0, len(queries), searches)
    for name, (clauses, include_duplicates) in VARIANTS.items():
        for q in order[:20]:  # warm-up
            index.search(queries[q], limit=limit, min_similarity=None, clauses=clauses,
                         include_duplicates=include_duplicates)
        samples, returned = [], 0
        cpu0 = time.process_time()
        for q in order:
            t0 = time.perf_counter()
            hits = index.search(queries[q], limit=limit, min_similarity=None, clauses=clauses,
                                include_duplicates=include_duplicates)
            samples.append(time.perf_counter() - t0)
            returned += len(hits)
        cpu_ms = (time.process_time() - cpu0) / searches * 1e3  # all threads of the process (BLAS included)
        results[name] = {**common.latency_summary(samples), "cpu_ms_mean": cpu_ms, "mean_hits": returned / searches}
        print(f"{name:13s} p50 {results[name]['p50_ms']:7.2f} ms  p99 {results[name]['p99_ms']:7.2f} ms  "
              f"max {results[name]['max_ms']:7.2f} ms  CPU {cpu_ms:6.2f} ms/search  "
              f"mean hits {results[name]['mean_hits']:.1f}", flush=True)
    return {
        "docs": docs, "dim": vision.DIM, "limit": limit, "searches_per_variant": searches,
        "base_images": base_images, "dup_share": dup_share,
        "openblas_num_threads_env": os.environ.get("OPENBLAS_NUM_THREADS"),
        "embed_setup_s": t_embed, "upsert_s": t_upsert, "first_search_with_snapshot_s": t_first,
        "variants": results,
        "target": "p50 <= 5 ms",
        "p50_ms_worst_variant": max(r["p50_ms"] for r in results.values()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--searches", type=int, default=1000, help="timed searches per variant")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--base-images", type=int, default=300, help="distinct product photos embedded")
    parser.add_argument("--dup-share", type=float, default=0.1, help="share of documents repeating an image")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = run(args.docs, args.searches, args.limit, args.base_images, args.dup_share)
    print(f"{args.docs} docs, dim {vision.DIM}: upsert {figures['upsert_s']:.1f} s, first search (snapshot) "
          f"{figures['first_search_with_snapshot_s'] * 1e3:.0f} ms")
    common.emit("search_latency", figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
