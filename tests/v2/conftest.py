"""Fixtures of the AI Fashion v2.0 tests: a catalog the suite indexes itself, fresh services, a searcher."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from fashion_conformance import checks, photos, waits
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
    """A service holding products the suite indexed and therefore knows field by field.

    The drawn catalogue (default): products p0..p39 with the fields of VALUES; a photo catalogue (--photos): one
    product per photo with the manifest's fields. Either way `duplicates` are indexed with the image of `shared`.
    """

    service: str
    products: dict[str, h.Product]
    index_id: str
    query_id: str = f"p{QUERY_SEED}"
    shared_id: str = "p0"  # the product whose image the duplicates share
    duplicates: tuple[str, ...] = DUPLICATES
    pair_ids: tuple[str, str] = ("p9", "p12")  # two more products, each with an image of its own
    values: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(VALUES))  # filterable values, "" first
    photos: dict[str, Any] = field(default_factory=dict)  # productId -> photos.Photo (a photo catalogue)
    links: dict[str, str] = field(default_factory=dict)

    @property
    def query(self) -> h.Product:
        return self.products[self.query_id]

    @property
    def shared(self) -> h.Product:
        return self.products[self.shared_id]

    @property
    def pair(self) -> tuple[h.Product, h.Product]:
        return self.products[self.pair_ids[0]], self.products[self.pair_ids[1]]

    @property
    def same_image(self) -> tuple[str, ...]:
        """The products indexed with one image: `shared` and its duplicates."""
        return (self.shared_id, *self.duplicates)

    def filled(self, field_name: str) -> list[str]:
        """The non-empty values of a filter field that products of the catalog hold (drawn: VALUES' order)."""
        return [v for v in self.values[field_name] if v]

    def describe(self, product_id: str) -> str:
        """How a product's image is named in a blocked test's reason."""
        photo = self.photos.get(product_id)
        return photo.describe() if photo is not None else f"the drawn image of catalog product {product_id}"


def _duplicates(ids: tuple[str, ...], image_url: str, fields: dict[str, str]) -> list[h.Product]:
    return [h.Product(pid, image_url, name=f"duplicate {pid}", **fields) for pid in ids]


def drawn_catalog(image_host) -> list[h.Product]:
    out = []
    for i in range(CATALOG_SIZE):
        rng = random.Random(1000 + i)
        values = {f: rng.choice(vs) for f, vs in VALUES.items()}
        out.append(h.Product(f"p{i}", image_host.generated(i), name=f"상품 {i} ワンピース", **values))
    fields = dict(category1Id="top", category2Id="c2a", category3Id="c3a", s1="red", s2="sale")
    return out + _duplicates(DUPLICATES, image_host.generated(0), fields)


def _free_id(wanted: str, taken: set[str]) -> str:
    """`wanted`, or it with a number, so that no photo's product has it (at most 72 characters: index guide)."""
    n = 0
    while (pid := (wanted if n == 0 else f"{wanted}{n}")[-72:]) in taken:
        n += 1
    return pid


def photo_catalog(image_host, catalogue, seen: list[Any]) -> dict[str, Any]:
    """Catalog fields (products, query, shared, pair, values, photos) of a photo catalogue's `seen` photos (roles:
    photos.PhotoCatalogue.roles)."""
    chosen = list(seen)
    query, shared, pair = catalogue.roles(chosen)
    products = [h.Product(p.product_id, image_host.url(p.host_name), **p.fields) for p in chosen]
    taken = {p.product_id for p in catalogue.photos}
    duplicates = tuple(_free_id(f"{shared.product_id}-{d}", taken) for d in DUPLICATES)
    fields = {k: v for k, v in shared.fields.items() if k != "name"}
    products += _duplicates(duplicates, image_host.url(shared.host_name), fields)
    values = {f: tuple(sorted({getattr(p, f) for p in products})) for f in VALUES}
    return dict(products={p.productId: p for p in products}, query_id=query.product_id, shared_id=shared.product_id,
                duplicates=duplicates, pair_ids=(pair[0].product_id, pair[1].product_id), values=values,
                photos={p.product_id: p for p in chosen})


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
def catalog(request, v2, image_host, services, photo_catalogue) -> Catalog:
    """The drawn catalogue, or the user's photo catalogue (--photos), indexed into a new service."""
    require_destructive(request)
    name = create_service(v2, services, "cat")
    if photo_catalogue is None:
        parts: dict[str, Any] = {"products": {p.productId: p for p in drawn_catalog(image_host)}}
    else:
        with waits.precondition("v2 photos", "V2-DETECT-ITEM-FIELDS"):
            seen = photos.seen(photo_catalogue, lambda p: v2.call(
                "detect", path={"serviceName": name}, params={"path": image_host.url(p.host_name)}), "v2")
            parts = photo_catalog(image_host, photo_catalogue, seen)
    products = list(parts["products"].values())
    with waits.precondition("v2 catalog", "V2-INDEX-ENABLE-ADD"):
        ex = h.submit(v2, name, h.jsonl(products))
        index_id = checks.success(ex)["indexId"]
        detail, _ = h.wait_index(v2, name, index_id)
        h.expect_counts(detail, {"added": [p.productId for p in products]}, "the catalog index")
        checks.that(v2.history[-1], detail["status"] == "finished", "the catalog index finished")
    return Catalog(name, index_id=index_id, **parts)


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
        return h.detected_items(ex, catalog.describe(catalog.query_id))[0]["link"]


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
