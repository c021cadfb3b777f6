"""The per-service document cap (100,000): filled with full index files, then one file more."""

from __future__ import annotations

import pytest

from fashion_conformance import checks

from . import helpers as h

CAP = h.lim("index.max_docs_per_service").value
MAX_LINES = h.lim("index.max_lines").value


@pytest.mark.destructive
@pytest.mark.req("V2-INDEX-MAX-DOCS")
def test_index_create_beyond_document_cap_counts_exceeded(v2, fresh_service, image_host):
    """Fill a service to the cap with files of the maximum line count, then add a few more products.

    Every line names the same image, so a target that caches downloads indexes the files quickly.
    """
    url = image_host.generated(7, "jpeg")
    files = -(-CAP // MAX_LINES)
    for n in range(files):
        lines = [h.Product(f"cap{n}-{i}", url, name=f"cap {n}-{i}") for i in range(min(MAX_LINES, CAP - n * MAX_LINES))]
        detail = h.index_and_wait(v2, fresh_service, h.jsonl(lines))
        assert detail["addedCount"] == len(lines), f"file {n}: {detail['addedCount']} of {len(lines)} added"
    info = h.service_info(v2, fresh_service)
    checks.that(v2.history[-1], int(info["documentCount"]) == CAP, f"the service holds {CAP} documents")
    extra = [h.Product(f"over-{i}", url) for i in range(3)]
    existing = h.Product("cap0-0", url, name="updated at the cap")
    detail = h.index_and_wait(v2, fresh_service, h.jsonl([*extra, existing]))
    h.expect_counts(detail, {"exceeded": [p.productId for p in extra], "updated": [existing.productId]},
                    "new products beyond the cap are exceeded, an existing one is still updated")
    checks.that(v2.history[-1], int(h.service_info(v2, fresh_service)["documentCount"]) == CAP,
                "the document count stays at the cap")
