"""The emulator's vector search on a service large enough for the split scan: same similarities, exact ranking."""

from __future__ import annotations

import numpy as np
import pytest

from fashion_conformance.emulator import search, vision


@pytest.fixture(scope="module")
def catalog():
    rng = np.random.default_rng(5)
    rows = search.SCAN_SPLIT_ROWS + 5_001
    matrix = rng.standard_normal((rows, vision.DIM)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    index = search.ServiceIndex()
    for i, vector in enumerate(matrix):
        index.upsert(f"p{i:06d}", vector, {"category1": str(i % 3), "image_sha256": f"h{i}"})
    return matrix, index


def test_scan_of_a_large_matrix_equals_one_pass(catalog):
    matrix, _ = catalog
    query = matrix[17]
    assert len(matrix) >= search.SCAN_SPLIT_ROWS
    np.testing.assert_allclose(search.scan(query, matrix), vision.similarity(query, matrix), rtol=0, atol=1e-6)


def test_search_ranks_exactly_by_similarity(catalog):
    matrix, index = catalog
    query = matrix[4242] + 0.01 * matrix[7]
    query /= np.linalg.norm(query)
    hits = index.search(query, limit=25, min_similarity=None, clauses=(), include_duplicates=True)
    expected = np.argsort(-vision.similarity(query, matrix), kind="stable")[:25]
    assert [h.product_id for h in hits] == [f"p{i:06d}" for i in expected]
    assert hits[0].product_id == "p004242" and hits[0].similarity > 0.99
    assert all(a.similarity >= b.similarity for a, b in zip(hits, hits[1:], strict=False))
