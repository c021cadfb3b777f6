"""Fixtures of the AI Fashion v2.0 tests: a catalog the suite indexes itself, fresh services, a searcher."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from fashion_conformance import checks, waits
from fashion_conformance.clients import ApiClient, Exchange

from . import helpers as h

# Filterable values of the catalog (no ',' or ':', which the filter grammar reserves); s2 may be empty (E211).
VALUES: dict[str, tuple[str, ...]] = {
    "category1Id": ("top", "bottom", "shoes"),
    "category2Id": ("c2a", "c2b", "c2c", "c2d"),
    "category3Id": ("c3a", "c3b"),
    "s1": ("red", "blue", "green", "black", "white"),
    "s2": ("", "sale", "new"),
}
CATALOG_SIZE = 40
QUERY_SEED = 5  # the catalog product whose image the searches use (no duplicate image in the catalog)
DUPLICATES = ("dup-a", "dup-b")  # products indexed with the image of product p0


@dataclass
class Catalog:
    """A service holding products the suite indexed and therefore knows field by field."""

    service: str
    products: dict[str, h.Product]
    index_id: str
    links: dict[str, str] = field(default_factory=dict)

    @property
    def query(self) -> h.Product:
        return self.products[f"p{QUERY_SEED}"]


def catalog_products(image_host) -> list[h.Product]:
    out = []
    for i in range(CATALOG_SIZE):
        rng = random.Random(1000 + i)
        values = {f: rng.choice(vs) for f, vs in VALUES.items()}
        out.append(h.Product(f"p{i}", image_host.generated(i), name=f"상품 {i} ワンピース", **values))
    for pid in DUPLICATES:
        out.append(
            h.Product(
                pid,
                image_host.generated(0),
                name=f"duplicate {pid}",
                category1Id="top",
                category2Id="c2a",
                category3Id="c3a",
                s1="red",
                s2="sale",
            )
        )
    return out


def require_destructive(request: pytest.FixtureRequest) -> None:
    """Session fixtures create resources before the per-test guard runs: guard them the same way."""
    target = request.getfixturevalue("target")
    if not getattr(target, "embedded", False) and not request.config.getoption("--allow-destructive"):
        pytest.skip("destructive: needs --allow-destructive against a non-embedded target")


SERVICE_CREATE = "V2-SERVICE-CREATE-VISIBLE"  # the requirement the fixtures' service creation rests on


def create_service(v2: ApiClient, services, label: str) -> str:
    name = services.name(label)
    with waits.precondition("v2 service creation", SERVICE_CREATE):
        checks.success(v2.call("service.create", json={"serviceName": name}))
    services.track(v2, name)
    return name


@pytest.fixture(scope="session")
def catalog(request, v2, image_host, services) -> Catalog:
    require_destructive(request)
    name = create_service(v2, services, "cat")
    products = catalog_products(image_host)
    with waits.precondition("v2 catalog", "V2-INDEX-ENABLE-ADD"):
        ex = h.submit(v2, name, h.jsonl(products))
        index_id = checks.success(ex)["indexId"]
        detail, _ = h.wait_index(v2, name, index_id)
        h.expect_counts(detail, {"added": [p.productId for p in products]}, "the catalog index")
        checks.that(v2.history[-1], detail["status"] == "finished", "the catalog index finished")
    return Catalog(name, {p.productId: p for p in products}, index_id)


@pytest.fixture
def fresh_service(request, v2, services) -> Iterator[str]:
    """A new, empty service, deleted after the test."""
    require_destructive(request)
    name = create_service(v2, services, "t")
    yield name
    v2.call("service.delete", path={"serviceName": name})


@pytest.fixture(scope="session")
def query_link(v2, catalog) -> str:
    """The link of the item that detect finds in the query product's image."""
    with waits.precondition("v2 query link", "V2-DETECT-ITEM-FIELDS"):
        ex = v2.call("detect", path={"serviceName": catalog.service}, params={"path": catalog.query.imageUrl})
        items = checks.success(ex)["items"]
        checks.that(ex, len(items) >= 1, "detect finds the garment of a catalog product image")
        return items[0]["link"]


SEARCH_KINDS = ("product", "link", "image")
Search = Callable[..., Exchange]


def wire(value: Any) -> str:
    """A parameter value as the query string or a form field carries it (booleans in lower case)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


@pytest.fixture(scope="session")
def search(v2, catalog, query_link) -> Search:
    """search(kind, **params): the three searches of v2 with the catalog's query product / its image.

    `params` are wire parameters (limit, minSimilarity, includeDuplicates, filter.*); pass `pairs` for
    repeated or raw (name, value) pairs. The image search sends them as multipart form fields.
    """

    def run(
        kind: str,
        *,
        pairs: list[tuple[str, Any]] | None = None,
        service: str | None = None,
        product_id: str | None = None,
        **params: Any,
    ) -> Exchange:
        items = list(params.items()) + list(pairs or ())
        svc = service or catalog.service
        if kind == "product":
            return v2.call(
                "search.product",
                path={"serviceName": svc, "productId": product_id or catalog.query.productId},
                params=items,
            )
        if kind == "link":
            return v2.call("search.link", path={"serviceName": svc}, params=[("link", query_link), *items])
        if kind == "image":
            fields = [("imageUrl", (None, catalog.query.imageUrl))] + [(k, (None, wire(v))) for k, v in items]
            return v2.call("search.image", path={"serviceName": svc}, files=fields)
        raise ValueError(kind)

    return run
