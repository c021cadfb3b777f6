"""Fixtures of the AI Fashion v1.0 suite: one registered service ID, a catalog indexed through Maker, a wrong-appKey
client."""

from __future__ import annotations

import random
import socket

import pytest
import v1_kit as kit

from fashion_conformance import checks, photos, waits
from fashion_conformance.imagehost import factory
from fashion_conformance.imagehost.server import fetchable_ports

CATALOG_SIZE = 18
FIELD_VALUES = {
    "category1_id": ("top", "bottom"),
    "category2_id": ("c2a", "c2b", "c2c"),
    "category3_id": ("c3a", "c3b"),
    "s1": ("red", "blue", "green"),
    "s2": ("x", "y"),
}
FIELD_STRIDE = {"category1_id": 1, "category2_id": 1, "category3_id": 2, "s1": 3, "s2": 9}


@pytest.fixture(scope="session")
def v1_service(request, v1, services) -> str:
    """A service ID registered for the whole session (detect, tag, search)."""
    kit.need_destructive(request)
    return kit.create_service(v1, services, "v1")


def _fields(i: int) -> dict[str, str]:
    return {f: vals[(i // FIELD_STRIDE[f]) % len(vals)] for f, vals in FIELD_VALUES.items()}


PHOTO_FIELDS = {"category1Id": "category1_id", "category2Id": "category2_id", "category3Id": "category3_id",
                "s1": "s1", "s2": "s2"}  # photo manifest (v2 index names) -> Maker index names


def _photo_catalog(cat: kit.Catalog, image_host, catalogue, seen: list) -> None:
    """One product per seen photo; query, duplicated image and pair: photos.PhotoCatalogue.roles."""
    query, shared, pair = catalogue.roles(seen)
    cat.query_id, cat.duplicate_of = query.product_id, shared.product_id
    cat.pair_ids = (pair[0].product_id, pair[1].product_id)
    taken, cat.duplicate_id = {p.product_id for p in catalogue.photos}, f"{cat.duplicate_of}-dup"[-72:]
    while cat.duplicate_id in taken:
        cat.duplicate_id = (cat.duplicate_id + "x")[-72:]
    for photo in seen:
        cat.photos[photo.product_id] = photo
        cat.urls[photo.product_id] = image_host.url(photo.host_name)
        cat.records[photo.product_id] = {PHOTO_FIELDS[k]: photo.fields[k] for k in PHOTO_FIELDS}
    cat.urls[cat.duplicate_id] = cat.urls[cat.duplicate_of]
    cat.records[cat.duplicate_id] = dict(cat.records[cat.duplicate_of])


@pytest.fixture(scope="session")
def catalog(v1, maker, v1_service, image_host, photo_catalogue) -> kit.Catalog:
    """v1_service holding products indexed through Maker, each with known filter fields and image: 19 drawn ones, or
    the photos of the photo catalogue (--photos) the model finds an item in, and a duplicate."""
    cat = kit.Catalog(v1_service)
    if photo_catalogue is not None:
        with waits.precondition("v1 photos", "V1-DETECT-FIELDS"):
            seen = photos.seen(photo_catalogue, lambda p: v1.call(
                "detect", path={"serviceID": v1_service}, params={"path": image_host.url(p.host_name)}), "v1")
            _photo_catalog(cat, image_host, photo_catalogue, seen)
    else:
        for i in range(CATALOG_SIZE + 1):
            pid = f"p{i:02d}" if i < CATALOG_SIZE else kit.DUPLICATE_ID
            cat.seeds[pid] = i if i < CATALOG_SIZE else cat.seeds[kit.DUPLICATE_OF]
            cat.records[pid] = _fields(i)
            cat.urls[pid] = image_host.generated(cat.seeds[pid])
    names = {pid: cat.photos[pid].fields["name"] or None for pid in cat.photos}
    lines = [kit.product(pid, cat.urls[pid], name=names.get(pid), **cat.records[pid]) for pid in cat.records]
    with waits.precondition("v1 catalog (indexed through Maker)", "MAKER-INDEX-ENABLE-ADDS"):
        item = kit.index_products(maker, v1_service, lines)
        checks.that(maker.history[-1], item["addCnt"] == len(lines),
                    f"the catalog's {len(lines)} products must be added")
    return cat


@pytest.fixture(scope="session")
def bad_v1(v1):
    client = kit.bad_client(v1)
    yield client
    client.close()


@pytest.fixture
def closed_port_url(target) -> str:
    """An image URL on an allowed port where nothing listens (connection refused)."""
    kit.need_embedded(target)
    ports = fetchable_ports()
    random.shuffle(ports)
    for port in ports[:200]:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return f"http://127.0.0.1:{port}/g/1.png"
    pytest.skip("no closed port in the allowed range")


@pytest.fixture(scope="session")
def scene() -> kit.Scene:
    """Three garments of different widths side by side, and a 20 x 20 px one the guide says is not recognised."""
    edge = kit.limit("image.min_item_px").value
    spec = factory.ItemSpec
    return kit.Scene("scene3", 480, 320, (
        spec("shirt", (10, 20, 200, 200), (200, 30, 30)),
        spec("pants", (220, 30, 310, 300), (30, 30, 200), "stripe"),
        spec("dress", (330, 40, 470, 300), (30, 150, 40)),
    ), small=(spec("rect", (420, 5, 420 + edge, 5 + edge), (240, 140, 0)),))


@pytest.fixture(scope="session")
def catalog_link(v1, catalog, image_host) -> str:
    """The link of the garment in the query product's catalog image, as detect answers it."""
    with waits.precondition("v1 catalog link", "V1-DETECT-FIELDS"):
        ex = v1.call("detect", path={"serviceID": catalog.service}, params={"path": catalog.urls[catalog.query_id]})
        return checks.detected(ex, catalog.describe(catalog.query_id))[0]["link"]


@pytest.fixture
def search(v1, catalog, catalog_link):
    """search(endpoint, params): a catalog search by the query product (search.product) or its image's link."""
    def call(endpoint: str, params=(), *, service: str | None = None, client=None):
        pairs = list(params.items()) if isinstance(params, dict) else list(params)
        client, service = client or v1, service or catalog.service
        if endpoint == "search.product":
            return client.call(endpoint, path={"serviceID": service, "productID": catalog.query_id}, params=pairs)
        return client.call(endpoint, path={"serviceID": service}, params=[("link", catalog_link), *pairs])
    return call
