"""v2 searches: by product id, by detected item link, by image (URL or upload); parameters, results, filters.

Sources: nhn-ai-fashion-v2.0-api-guide.ko.txt / 유사 이미지 상품 추천, 카메라 검색, API 공통 정보 > 필터링 가이드
(errata E1, E2, E10, E11, E15). The catalog fixture indexed every product, so each result can be checked
field by field and every filter against filters.matches.
"""

from __future__ import annotations

import base64
import io
import json

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from fashion_conformance import checks, filters, waits
from fashion_conformance.imagehost import factory

from . import helpers as h
from .conftest import SEARCH_KINDS, wire

pytestmark = pytest.mark.destructive

INVALID, NOT_EXIST = h.code("InvalidParam"), h.code("NotExistService")
NOT_FOUND_PRODUCT, NO_ITEMS = h.code("NotFoundProductId"), h.code("NoDetectedFashionItems")
LIMIT = h.lim("search.limit")
HYPO = settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
KIND_INVALID = {
    "product": "V2-SEARCH-PRODUCT-INVALID-40000",
    "link": "V2-SEARCH-LINK-INVALID-40000",
    "image": "V2-SEARCH-IMAGE-INVALID-40000",
}
KIND_NOT_EXIST = {
    "product": "V2-SEARCH-PRODUCT-NOT-EXIST-42000",
    "link": "V2-SEARCH-LINK-NOT-EXIST-42000",
    "image": "V2-SEARCH-IMAGE-NOT-EXIST-42000",
}
def kinds(*reqs: str, extra: dict[str, str] | None = None) -> list:
    """The three searches as parameters, each marked with `reqs` (+ its own requirement from `extra`)."""
    return [
        pytest.param(k, marks=pytest.mark.req(*reqs, *([extra[k]] if extra else [])), id=k)
        for k in SEARCH_KINDS
    ]


def check_results(
    ex, catalog, *, limit: int, min_similarity: float | None = None, clauses: tuple[filters.Clause, ...] = ()
) -> list[dict]:
    """The answer succeeded and its items are products of the catalog that satisfy every stated bound."""
    items = h.items_of(ex)
    checks.that(ex, len(items) <= limit, f"at most limit={limit} items; got {len(items)}")
    for it in items:
        p = catalog.products.get(it["productId"])
        checks.that(ex, p is not None, f"item {it['productId']!r} is a product indexed in the service")
        if min_similarity is not None:
            checks.that(
                ex,
                it["similarity"] >= min_similarity,
                f"similarity {it['similarity']} of {it['productId']} >= minSimilarity {min_similarity}",
            )
        if clauses:
            checks.that(
                ex,
                filters.matches(clauses, h.record_of(p)),
                f"item {it['productId']} {h.record_of(p)} satisfies the filters {clauses}",
            )
    return items


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize("kind", kinds("V2-SEARCH-LIMIT-RANGE", "V2-SEARCH-LIMIT-MAX-ITEMS"))
@pytest.mark.parametrize("limit", [LIMIT.min, 3, LIMIT.max])
def test_search_limit_accepted(search, catalog, kind, limit):
    check_results(search(kind, limit=limit), catalog, limit=limit)


@pytest.mark.parametrize("kind", kinds("V2-SEARCH-LIMIT-RANGE", extra=KIND_INVALID))
@pytest.mark.parametrize("limit", [None, LIMIT.min - 1, LIMIT.max + 1, -5, "abc", "1.5", ""])
def test_search_limit_refused(search, kind, limit):
    ex = search(kind) if limit is None else search(kind, limit=limit)
    checks.error(ex, INVALID)


@pytest.mark.req("V2-SEARCH-LIMIT-MAX-ITEMS", "V2-SEARCH-LIMIT-RANGE")
@HYPO
@given(limit=st.integers(LIMIT.min, LIMIT.max), kind=st.sampled_from(SEARCH_KINDS))
def test_search_limit_any_valid_value(search, catalog, limit, kind):
    check_results(search(kind, limit=limit), catalog, limit=limit)


@pytest.mark.parametrize("kind", kinds("V2-SEARCH-MIN-SIMILARITY-RANGE", "V2-SEARCH-MIN-SIMILARITY-APPLIED"))
@pytest.mark.parametrize("value", [1.0, 0.0001, 0.5, 0.8])
def test_search_min_similarity_accepted_and_applied(search, catalog, kind, value):
    check_results(
        search(kind, limit=LIMIT.max, minSimilarity=value), catalog, limit=LIMIT.max, min_similarity=value
    )


def cut_below(sims: list[float], rank: int) -> tuple[float, int]:
    """(t, n): a threshold t strictly between two distinct similarities of a descending list, at or after `rank`,
    and the number n of items above it (half the lowest similarity, and all items, when there is no such pair)."""
    for j in range(rank, len(sims) - 1):
        if sims[j] > sims[j + 1]:
            return (sims[j] + sims[j + 1]) / 2, j + 1
    return sims[-1] / 2, len(sims)


@pytest.mark.parametrize("kind", kinds("V2-SEARCH-MIN-SIMILARITY-APPLIED"))
@pytest.mark.parametrize("rank", [0, 2])
def test_search_min_similarity_keeps_items_above(search, catalog, kind, rank):
    """minSimilarity removes only the items below it (guide: items with similarity >= minSimilarity match): the
    best items of the same search without it, whose similarities lie above the threshold, all come back."""
    unbounded = search(kind, limit=LIMIT.max)
    base = check_results(unbounded, catalog, limit=LIMIT.max)
    checks.that(unbounded, len(base) > 0, "a search in a catalog of indexed products finds some")
    sims = h.similarities(base)
    t, n = cut_below(sims, min(rank, len(sims) - 1))
    ex = search(kind, limit=LIMIT.max, minSimilarity=t)
    items = check_results(ex, catalog, limit=LIMIT.max, min_similarity=t)
    want = [it["productId"] for it in base[:n]]
    got = {it["productId"] for it in items}
    checks.that(
        ex,
        set(want) <= got,
        f"minSimilarity={t:.6f}: the {n} items above it in the same search without a threshold ({want}) all come "
        f"back; got {sorted(got)}",
    )


@pytest.mark.parametrize("kind", kinds("V2-SEARCH-MIN-SIMILARITY-RANGE", extra=KIND_INVALID))
@pytest.mark.parametrize("value", [0, -0.5, 1.0001, 2, "abc"])
def test_search_min_similarity_refused(search, kind, value):
    checks.error(search(kind, limit=5, minSimilarity=value), INVALID)


@pytest.mark.req("V2-SEARCH-MIN-SIMILARITY-APPLIED", "V2-SEARCH-MIN-SIMILARITY-RANGE")
@HYPO
@given(value=st.floats(min_value=0.0, max_value=1.0, exclude_min=True), kind=st.sampled_from(SEARCH_KINDS))
def test_search_min_similarity_any_valid_value(search, catalog, value, kind):
    check_results(search(kind, limit=50, minSimilarity=value), catalog, limit=50, min_similarity=value)


@pytest.fixture(scope="module")
def same_image_link(v2, catalog) -> str:
    """The link of the garment in the image that catalog.shared (p0 in the drawn catalogue) and its duplicates
    share."""
    ex = v2.call("detect", path={"serviceName": catalog.service}, params={"path": catalog.shared.imageUrl})
    return h.detected_items(ex, catalog.describe(catalog.shared_id))[0]["link"]


def same_image_search(v2, catalog, link: str, kind: str, include: bool | None):
    """A search (limit 200) by the image of catalog.same_image: by the shared product's id, by its item link, or by
    its URL."""
    params = [("limit", LIMIT.max)] + ([] if include is None else [("includeDuplicates", wire(include))])
    svc = {"serviceName": catalog.service}
    if kind == "product":
        return v2.call("search.product", path=svc | {"productId": catalog.shared_id}, params=params)
    if kind == "link":
        return v2.call("search.link", path=svc, params=[("link", link), *params])
    fields = h.form(imageUrl=catalog.shared.imageUrl, **{k: str(v) for k, v in params})
    return v2.call("search.image", path=svc, files=fields)


@pytest.mark.parametrize("kind", kinds("V2-SEARCH-DEDUP-DEFAULT"))
@pytest.mark.parametrize("include", [None, False], ids=["omitted", "false"])
def test_search_dedup_same_image_once(v2, catalog, same_image_link, kind, include):
    """includeDuplicates omitted or false removes duplicate images (v2 guide, 유사 이미지 상품 추천 > URL Parameter):
    of the three products indexed with the query's image, at most one comes back; by link and by image, where that
    image is the best match, exactly one. No productId appears twice."""
    ex = same_image_search(v2, catalog, same_image_link, kind, include)
    ids = [it["productId"] for it in check_results(ex, catalog, limit=LIMIT.max)]
    checks.that(ex, len(ids) == len(set(ids)), f"no productId appears twice: {ids}")
    kept = [pid for pid in ids if pid in catalog.same_image]
    checks.that(
        ex,
        len(kept) <= 1 if kind == "product" else len(kept) == 1,
        f"{catalog.same_image} share one image, so {'at most' if kind == 'product' else 'exactly'} one of them comes back "
        f"without includeDuplicates=true; got {kept}",
    )


@pytest.mark.parametrize("kind", kinds("V2-SEARCH-INCLUDE-DUPLICATES-TRUE"))
def test_search_include_duplicates_true_keeps_same_image(v2, catalog, same_image_link, kind):
    """includeDuplicates=true keeps duplicate images: the products indexed with the query's image, its best matches,
    all come back (by product id: the two other than the shared product itself)."""
    ex = same_image_search(v2, catalog, same_image_link, kind, True)
    ids = {it["productId"] for it in check_results(ex, catalog, limit=LIMIT.max)}
    want = set(catalog.duplicates) if kind == "product" else set(catalog.same_image)
    checks.that(
        ex,
        want <= ids,
        f"with includeDuplicates=true the products sharing the query's image {sorted(want)} all come back; "
        f"got {sorted(ids & set(catalog.same_image))}",
    )


@pytest.mark.parametrize("kind", kinds("V2-SEARCH-INCLUDE-DUPLICATES-VALUES"))
@pytest.mark.parametrize("value", ["yes", "2", "maybe"])
def test_search_include_duplicates_refused(search, kind, value):
    checks.error(search(kind, limit=5, includeDuplicates=value), INVALID)


# ---------------------------------------------------------------- results


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(k, marks=pytest.mark.req("V2-SEARCH-QUERY"), id=k) if k != "image" else pytest.param(k, id=k)
        for k in SEARCH_KINDS
    ],
)
@pytest.mark.req(
    "V2-SEARCH-ITEM-FIELDS", "V2-SEARCH-ITEMS-IN-SERVICE", "V2-SEARCH-ITEM-VALUES", "V2-INDEX-SEARCHABLE-AFTER-FINISH"
)
def test_search_results_fields_and_values(search, catalog, kind):
    """Search tables: items of the service with their indexed values; query a string (product, link). Names
    outside ASCII rest on the UTF-8 reading (test_search_results_as_read)."""
    ex = search(kind, limit=LIMIT.max)
    data = checks.success(ex)
    items = check_results(ex, catalog, limit=LIMIT.max)
    checks.that(ex, len(items) > 0, "a search in a catalog of indexed products finds some")
    checks.that(ex, isinstance(data["totalCount"], int), "data.totalCount is an integer")
    if kind != "image":
        checks.that(ex, isinstance(data.get("query"), str), "data.query is present and a string")
    for s in h.similarities(items):
        checks.that(ex, isinstance(s, int | float), f"similarity {s!r} is a number")
    for it in items:
        p = catalog.products[it["productId"]]
        if p.name.isascii():
            checks.that(ex, it["name"] == p.name, f"name of {p.productId} is the indexed {p.name!r}")
        checks.that(ex, it["imageUrl"] == p.imageUrl, f"imageUrl of {p.productId} is the indexed {p.imageUrl!r}")
        for f in h.FILTER_FIELDS:
            if f in it:
                checks.that(
                    ex, it[f] == getattr(p, f), f"{f} of {p.productId} is the indexed {getattr(p, f)!r}"
                )


def _results_total(ex, data, catalog) -> None:
    checks.that(ex, data["totalCount"] == len(data["items"]),
                f"totalCount {data['totalCount']} equals {len(data['items'])} items")


def _results_similarity(ex, data, catalog) -> None:
    for s in h.similarities(data["items"]):
        checks.that(ex, 0 < s <= 1, f"similarity {s} lies in (0, 1]")


def _results_utf8_names(ex, data, catalog) -> None:
    for it in data["items"]:
        want = catalog.products[it["productId"]].name
        checks.that(ex, it["name"] == want, f"name of {it['productId']} is the indexed UTF-8 {want!r}")


def _results_image_query(ex, data, catalog) -> None:
    checks.that(ex, "query" not in data or isinstance(data["query"], str), "data.query, when present, is a string")


@pytest.mark.parametrize("kind", SEARCH_KINDS)
@pytest.mark.parametrize("check", [
    pytest.param(_results_total, marks=pytest.mark.req("V2-SEARCH-TOTAL-COUNT"), id="totalCount"),
    pytest.param(_results_similarity, marks=pytest.mark.req("V2-SEARCH-SIMILARITY-RANGE"), id="similarity"),
    pytest.param(_results_utf8_names, marks=pytest.mark.req("V2-INDEX-UTF8"), id="utf8"),
])
def test_search_results_as_read(search, catalog, kind, check):
    """Readings of the search tables: totalCount counts the items, similarity in (0, 1], Korean and Japanese names
    round-trip (UTF-8)."""
    ex = search(kind, limit=LIMIT.max)
    check(ex, checks.success(ex), catalog)


@pytest.mark.req("V2-SEARCH-IMAGE-QUERY-OPTIONAL")
def test_search_image_query_optional(search, catalog):
    """E2: the search by image may leave data.query out; when present it is a string."""
    ex = search("image", limit=LIMIT.max)
    _results_image_query(ex, checks.success(ex), catalog)


@pytest.mark.req("V2-SEARCH-SORTED")
@pytest.mark.parametrize("kind", SEARCH_KINDS)
def test_search_results_sorted(search, kind):
    ex = search(kind, limit=LIMIT.max)
    sims = h.similarities(checks.success(ex)["items"])
    checks.that(ex, sims == sorted(sims, reverse=True), f"items sorted by similarity, highest first: {sims}")


@pytest.fixture(scope="module")
def p0_search(search, catalog):
    """The search by the productId of catalog.shared (p0), duplicates kept (the known-product tests share it)."""
    return search("product", product_id=catalog.shared_id, limit=LIMIT.max, includeDuplicates="true")


@pytest.mark.req("V2-SEARCH-PRODUCT-KNOWN")
def test_search_product_known_succeeds(p0_search):
    checks.success(p0_search)


@pytest.mark.req("V2-SEARCH-PRODUCT-SIMILAR")
def test_search_product_same_image_found(p0_search, catalog):
    ex = p0_search
    items = check_results(ex, catalog, limit=LIMIT.max)
    high = {it["productId"]: it["similarity"] for it in items if it["similarity"] >= 0.9}
    checks.that(
        ex,
        set(catalog.duplicates) <= set(high),
        f"products indexed with the same image as {catalog.shared_id} ({catalog.duplicates}) come with a high similarity (>= 0.9); "
        f"got {high}",
    )


@pytest.mark.req("V2-SEARCH-PRODUCT-NOT-FOUND-PRODUCT-40050")
@pytest.mark.parametrize("product_id", ["never-indexed", "p0-x", "P0"])
def test_search_product_unknown_product(search, product_id):
    checks.error(search("product", product_id=product_id, limit=5), NOT_FOUND_PRODUCT)


@pytest.mark.parametrize("kind", kinds(extra=KIND_NOT_EXIST))
def test_search_unknown_service(search, run_prefix, kind):
    checks.error(search(kind, service=f"{run_prefix}-nosuch", limit=5), NOT_EXIST)


@pytest.mark.req("V2-SEARCH-EMPTY-SERVICE")
@pytest.mark.parametrize("kind", ["link", "image"])
def test_search_empty_service(search, fresh_service, kind):
    ex = search(kind, service=fresh_service, limit=10)
    checks.that(ex, h.items_of(ex) == [], "a search in a service without documents has zero items")


@pytest.mark.req("V2-SEARCH-PRODUCT-NOT-FOUND-PRODUCT-40050")
def test_search_product_in_empty_service(search, fresh_service):
    checks.error(search("product", service=fresh_service, limit=10), NOT_FOUND_PRODUCT)


# ---------------------------------------------------------------- by link


@pytest.fixture(scope="module")
def query_link_search(search):
    """The search by the link detect gave for the query product's image (shared by the two tests below)."""
    return search("link", limit=10)


@pytest.mark.req("V2-SEARCH-LINK-FROM-DETECT")
def test_search_link_from_detect_accepted(query_link_search):
    checks.success(query_link_search)


@pytest.mark.req("V2-SEARCH-LINK-SIMILAR")
def test_search_link_finds_detected_product(query_link_search, catalog):
    ex = query_link_search
    items = check_results(ex, catalog, limit=10)
    checks.that(
        ex,
        items and items[0]["productId"] == catalog.query.productId,
        f"the link of {catalog.query.productId}'s own image returns that product first",
    )


@pytest.mark.req("V2-SEARCH-LINK-SIMILAR")
def test_search_link_per_item(v2, catalog, image_host):
    """Each item's link searches that item: in an image holding two catalog products' garments side by side, the
    link of the left item returns the left product first and the link of the right one the right product (that
    the links are accepted is V2-SEARCH-LINK-FROM-DETECT's test)."""
    left, right = catalog.pair
    photos = [Image.open(io.BytesIO(image_bytes(p.imageUrl))).convert("RGB") for p in (left, right)]
    canvas = Image.new("RGB", (photos[0].width + photos[1].width + 40, max(p.height for p in photos)), "white")
    canvas.paste(photos[0], (0, 0))
    canvas.paste(photos[1], (photos[0].width + 40, 0))
    url = image_host.put("v2-two-products.png", factory.encode(canvas, "png"))
    ex = v2.call("detect", path={"serviceName": catalog.service}, params={"path": url})
    items = h.detected_items(ex, f"the image of {left.productId} and {right.productId} side by side")
    split = (photos[0].width + 20) / canvas.width
    if not catalog.photos:
        checks.that(ex, len(items) == 2, f"two garments side by side are two items; got {len(items)}")
    else:  # a photo may show more than its product: the largest item of each side is that product's
        sides = [[it for it in items if (it["center"][0] < split) == left_side] for left_side in (True, False)]
        if not all(sides):
            waits.no_item(f"one side of the image of {left.productId} and {right.productId} side by side")
        items = [max(side, key=lambda it: (it["b1"][0] - it["b0"][0]) * (it["b1"][1] - it["b0"][1])) for side in sides]
    for item in items:
        want = (left if item["center"][0] < split else right).productId
        found = search_link_items(v2, catalog, item["link"], limit=5)
        got = [it["productId"] for it in found[1]]
        checks.that(
            found[0],
            got[:1] == [want],
            f"the link of the item at {item['b0']}-{item['b1']} returns {want}, whose garment it is, first; got {got}",
        )


def search_link_items(v2, catalog, link: str, *, limit: int):
    ex = v2.call("search.link", path={"serviceName": catalog.service}, params={"link": link, "limit": limit})
    return ex, check_results(ex, catalog, limit=limit)


@pytest.mark.req("V2-SEARCH-LINK-URL-ENCODED", "V2-SEARCH-LINK-FROM-DETECT")
def test_search_link_fully_percent_encoded(v2, catalog, query_link):
    encoded = "".join(f"%{b:02X}" for b in query_link.encode())
    raw = v2.path("search.link", serviceName=catalog.service) + f"?limit=5&link={encoded}"
    ex = v2.call("search.link", raw_path=raw)
    items = check_results(ex, catalog, limit=5)
    checks.that(
        ex,
        items and items[0]["productId"] == catalog.query.productId,
        "a link sent with every character percent-encoded is decoded by the server",
    )


@pytest.mark.parametrize(
    "case",
    [
        *(pytest.param(c, marks=pytest.mark.req("V2-SEARCH-LINK-INVALID-40000"), id=c) for c in ("missing", "empty")),
        *(pytest.param(c, marks=pytest.mark.req("V2-SEARCH-LINK-FORGED"), id=c)
          for c in ("garbage", "forged", "truncated")),
    ],
)
def test_search_link_invalid(v2, catalog, query_link, case):
    forged = base64.urlsafe_b64encode(
        json.dumps({"path": catalog.query.imageUrl, "box": [0, 0, 10, 10]}).encode()
    )
    link = {
        "missing": None,
        "empty": "",
        "garbage": "not a link %%",
        "forged": forged.decode().rstrip("="),
        "truncated": query_link[: len(query_link) // 2],
    }[case]
    params = {"limit": 5} | ({} if link is None else {"link": link})
    checks.error(v2.call("search.link", path={"serviceName": catalog.service}, params=params), INVALID)


# ---------------------------------------------------------------- by image


def image_bytes(url: str) -> bytes:
    return httpx.get(url, timeout=10).content


@pytest.mark.req("V2-SEARCH-IMAGE-URL", "V2-SEARCH-IMAGE-MULTIPART")
def test_search_image_by_url(search, catalog):
    ex = search("image", limit=10)
    items = check_results(ex, catalog, limit=10)
    checks.that(
        ex,
        items and items[0]["productId"] == catalog.query.productId,
        f"an imageUrl of {catalog.query.productId}'s image returns that product first",
    )


@pytest.mark.req("V2-SEARCH-IMAGE-FILE", "V2-SEARCH-IMAGE-MULTIPART")
def test_search_image_by_uploaded_file(v2, catalog):
    files = [
        ("imageFile", ("query.jpg", image_bytes(catalog.query.imageUrl), "image/jpeg")),
        *h.form(limit=10),
    ]
    ex = v2.call("search.image", path={"serviceName": catalog.service}, files=files)
    items = check_results(ex, catalog, limit=10)
    checks.that(
        ex,
        items and items[0]["productId"] == catalog.query.productId,
        f"an uploaded copy of {catalog.query.productId}'s image returns that product first",
    )


@pytest.mark.req("V2-SEARCH-IMAGE-SOURCE")
def test_search_image_without_image(v2, catalog):
    checks.error(
        v2.call("search.image", path={"serviceName": catalog.service}, files=h.form(limit=10)), INVALID
    )


@pytest.mark.req("V2-SEARCH-IMAGE-LARGEST-ITEM")
@pytest.mark.parametrize("small_at", ["after", "before"])
def test_search_image_uses_largest_item(v2, catalog, small_at):
    """The largest item is searched wherever it lies: a small garment after the product's one (right of it), or
    before it (left of and above it), must not be what the search uses."""
    target = catalog.pair[0]
    product = np.asarray(Image.open(io.BytesIO(image_bytes(target.imageUrl))).convert("RGB"))
    height, width = product.shape[:2]
    # The product's photo extended by repeating its edge pixels (so its background goes on), a small red garment
    # (60 x 60 px) in the extension.
    if small_at == "after":
        pad, small = ((20, 60), (0, 260)), (width + 115, 135)
    else:
        pad, small = ((80, 0), (260, 0)), (25, 15)
    canvas = Image.fromarray(np.pad(product, (*pad, (0, 0)), mode="edge"))
    canvas.paste((200, 30, 40), (*small, small[0] + 60, small[1] + 60))
    files = [("imageFile", ("two-items.png", factory.encode(canvas, "png"), "image/png")), *h.form(limit=5)]
    ex = v2.call("search.image", path={"serviceName": catalog.service}, files=files)
    items = check_results(ex, catalog, limit=5)
    checks.that(
        ex,
        items and items[0]["productId"] == target.productId,
        f"the largest item is {target.productId}'s garment, so that product comes first",
    )


@pytest.mark.req("V2-SEARCH-IMAGE-NO-ITEM-45070")
@pytest.mark.parametrize("source", ["url", "file"])
def test_search_image_without_fashion_item(v2, catalog, image_host, source):
    blank = factory.encode(factory.render(200, 200, []), "png")
    if source == "url":
        fields = h.form(imageUrl=image_host.put("blank.png", blank), limit=5)
    else:
        fields = [("imageFile", ("blank.png", blank, "image/png")), *h.form(limit=5)]
    checks.error(v2.call("search.image", path={"serviceName": catalog.service}, files=fields), NO_ITEMS)


# ---------------------------------------------------------------- filters (E10, E11)


def filtered(search, kind: str, clauses, *, bare: bool = False, limit: int = LIMIT.max):
    pairs = [h.render_clause(c, bare) for c in clauses]
    return search(kind, pairs=pairs, limit=limit)


def admitted(catalog, clauses) -> list[str]:
    return [pid for pid, p in catalog.products.items() if filters.matches(clauses, h.record_of(p))]


def expect_admitted(ex, catalog, kind: str, clauses, items) -> None:
    """A filter that admits indexed products returns some of them; the searches by the query product's own image
    (link, image) return that product whenever the filter admits it, since it is their best match."""
    n = len(admitted(catalog, clauses))
    checks.that(ex, n == 0 or items, f"a filter that admits {n} indexed products returns some of them")
    q = catalog.query
    if kind != "product" and filters.matches(clauses, h.record_of(q)):
        checks.that(
            ex,
            q.productId in {it["productId"] for it in items},
            f"the filters {clauses} admit {q.productId} {h.record_of(q)}, the best match of its own image, "
            "so it comes back",
        )


def expect_filtered(search, catalog, kind, clauses, *, bare: bool = False) -> None:
    ex = filtered(search, kind, clauses, bare=bare)
    items = check_results(ex, catalog, limit=LIMIT.max, clauses=tuple(clauses))
    expect_admitted(ex, catalog, kind, clauses, items)


def list_values(catalog, field: str, order: str) -> tuple[str, ...]:
    """A value list for `field` holding the query product's value q: after another indexed value o
    ("other-first"), before it ("query-first"), or after a value no product has ("absent-first")."""
    q = getattr(catalog.query, field)
    o = next((v for v in catalog.filled(field) if v != q), None)
    if not q or o is None:
        pytest.skip(f"the catalog holds no two {field} values (the query product's and another)")
    return {"other-first": (o, q), "query-first": (q, o), "absent-first": (ABSENT, q)}[order]


C = filters.Clause
FILTER_REQS = ("V2-FILTER-FIELDS",)
ABSENT = "zz-none"  # a filter value no catalog product holds
LIST_ORDERS = ("other-first", "query-first", "absent-first")


@pytest.mark.parametrize("kind", kinds("V2-FILTER-EQUAL", *FILTER_REQS))
@pytest.mark.parametrize("field", h.FILTER_FIELDS)
def test_search_filter_equal(search, catalog, kind, field):
    value = getattr(catalog.query, field) or next(iter(catalog.filled(field)), None)
    if not value:
        pytest.skip(f"no product of the catalog has a {field} value")
    expect_filtered(search, catalog, kind, [C(field, False, (value,))])


@pytest.mark.parametrize("kind", kinds("V2-FILTER-DEFAULT-EQUAL", *FILTER_REQS))
@pytest.mark.parametrize("field", ["category1Id", "s1"])
def test_search_filter_default_operator_is_equal(search, catalog, kind, field):
    if not getattr(catalog.query, field):
        pytest.skip(f"the query product has no {field} value")
    clause = C(field, False, (getattr(catalog.query, field),))
    expect_filtered(search, catalog, kind, [clause], bare=True)
    ex = filtered(search, kind, [clause], bare=True)
    bare = [it["productId"] for it in h.items_of(ex)]
    explicit = [it["productId"] for it in h.items_of(filtered(search, kind, [clause]))]
    checks.that(ex, bare == explicit, f"v and equal:v select the same items: {bare} vs {explicit}")


@pytest.mark.parametrize("kind", kinds("V2-FILTER-EQUAL-LIST", *FILTER_REQS))
@pytest.mark.parametrize("bare", [False, True], ids=["equal", "bare"])
@pytest.mark.parametrize("field", ["s1", "category2Id"])
@pytest.mark.parametrize("order", LIST_ORDERS)
def test_search_filter_equal_list(search, catalog, kind, bare, field, order):
    """Every value of the list applies, whatever its place (E10): a server that reads only the first or the last
    value misses the query product or answers nothing."""
    expect_filtered(search, catalog, kind, [C(field, False, list_values(catalog, field, order))], bare=bare)


@pytest.mark.parametrize("kind", kinds("V2-FILTER-NOT-EQUAL", *FILTER_REQS))
@pytest.mark.parametrize("field", ["category1Id", "category2Id", "s2"])
def test_search_filter_not_equal(search, catalog, kind, field):
    values = catalog.values[field]
    if len(values) < 2 or not values[1]:
        pytest.skip(f"the catalog holds fewer than two {field} values")
    expect_filtered(search, catalog, kind, [C(field, True, (values[1],))])


@pytest.mark.parametrize("kind", kinds("V2-FILTER-NOT-EQUAL-LIST"))
def test_search_filter_not_equal_list(search, catalog, kind):
    values = tuple(catalog.filled("category2Id")[:2])
    if len(values) < 2:
        pytest.skip("the catalog holds fewer than two category2Id values")
    expect_filtered(search, catalog, kind, [C("category2Id", True, values)])


@pytest.mark.parametrize("kind", kinds("V2-FILTER-NOT-EQUAL-LIST"))
@pytest.mark.parametrize("field", ["s1", "category2Id"])
@pytest.mark.parametrize("order", LIST_ORDERS)
def test_search_filter_not_equal_list_each_value(search, catalog, kind, field, order):
    """Every value of a !equal list is excluded, whatever its place (E10): the query product, whose value is in
    the list, must not come back, and products with other values must."""
    expect_filtered(search, catalog, kind, [C(field, True, list_values(catalog, field, order))])


@pytest.mark.parametrize("kind", kinds("V2-FILTER-BEFORE-LIMIT"))
@pytest.mark.parametrize("case", ["not-query", "rare"])
def test_search_filter_applied_before_limit(search, catalog, kind, case):
    """With limit 1 and a filter that leaves out the best match (the query product), or admits only the products of
    the catalog's rarest s1 value, the best admitted product still comes back: filters restrict the search, not the
    answer cut to limit."""
    q = catalog.query
    others = [v for v in catalog.filled("s1") if v != q.s1]
    if not q.s1 or not others:
        pytest.skip("the catalog holds no two s1 values (the query product's and another)")
    if case == "not-query":
        clause = C("s1", True, (q.s1,))
    else:
        counts = {v: len(admitted(catalog, [C("s1", False, (v,))])) for v in others}
        clause = C("s1", False, (min((n, v) for v, n in counts.items() if n)[1],))
    ex = filtered(search, kind, [clause], limit=1)
    items = check_results(ex, catalog, limit=1, clauses=(clause,))
    n = len(admitted(catalog, [clause]))
    checks.that(ex, len(items) == 1, f"the filter {clause} admits {n} indexed products: one of them comes back")


@pytest.mark.parametrize("kind", kinds("V2-FILTER-COMBINED"))
def test_search_filter_combined(search, catalog, kind):
    """category1Id equal to the query's, s1 !equal the catalog's last s1 value, category3Id one of two values."""
    q, s1, c3 = catalog.query, catalog.filled("s1"), catalog.filled("category3Id")
    if not q.category1Id or not s1 or not c3:
        pytest.skip("the catalog lacks a category1Id of the query product, an s1 or a category3Id value")
    expect_filtered(
        search,
        catalog,
        kind,
        [
            C("category1Id", False, (q.category1Id,)),
            C("s1", True, (s1[-1],)),
            C("category3Id", False, tuple(c3[:2])),
        ],
    )


@st.composite
def clause_lists(draw, domain: dict[str, tuple[str, ...]], *, reading: bool) -> list[filters.Clause]:
    """As the text has it (reading False): one field, equal with one or more values or !equal with one; with the
    readings (True): two or three fields (AND), a !equal clause may list several values."""
    fields = draw(st.lists(st.sampled_from(h.FILTER_FIELDS), min_size=2 if reading else 1,
                           max_size=3 if reading else 1, unique=True))
    out = []
    for f in fields:
        pool = [v for v in domain[f] if v] + [ABSENT]
        negate = draw(st.booleans())
        values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3 if reading or not negate else 1,
                               unique=True))
        out.append(C(f, negate, tuple(values)))
    return out


GENERATED = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def expect_generated(search, catalog, clauses, kind, bare) -> None:
    ex = filtered(search, kind, clauses, bare=bare)
    items = check_results(ex, catalog, limit=LIMIT.max, clauses=tuple(clauses))
    expect_admitted(ex, catalog, kind, clauses, items)


@pytest.mark.req("V2-FILTER-EQUAL", "V2-FILTER-NOT-EQUAL", "V2-FILTER-EQUAL-LIST", "V2-FILTER-DEFAULT-EQUAL",
                 "V2-FILTER-FIELDS")
@GENERATED
@given(data=st.data(), kind=st.sampled_from(SEARCH_KINDS), bare=st.booleans())
def test_search_filter_generated(search, catalog, data, kind, bare):
    expect_generated(search, catalog, data.draw(clause_lists(catalog.values, reading=False)), kind, bare)


@pytest.mark.req("V2-FILTER-NOT-EQUAL-LIST", "V2-FILTER-COMBINED")
@GENERATED
@given(data=st.data(), kind=st.sampled_from(SEARCH_KINDS), bare=st.booleans())
def test_search_filter_generated_combined(search, catalog, data, kind, bare):
    """The readings: several filter fields all apply (AND), !equal:a,b excludes every listed value."""
    expect_generated(search, catalog, data.draw(clause_lists(catalog.values, reading=True)), kind, bare)


@pytest.mark.parametrize("kind", kinds("V2-FILTER-INVALID"))
@pytest.mark.parametrize(
    "name,value",
    [
        ("filter.color", "red"),
        ("filter.s1", "like:red"),
        ("filter.s1", "equal:"),
        ("filter.s1", ""),
        ("filter.s1", "red,,blue"),
        ("filter.s1", "!equal:"),
        ("filter.category1", "top"),
    ],
)
def test_search_filter_invalid(search, kind, name, value):
    checks.error(search(kind, pairs=[(name, value)], limit=5), INVALID)


@pytest.mark.parametrize("kind", kinds("V2-FILTER-CAMEL-CASE", "V2-FILTER-INVALID"))
@pytest.mark.parametrize("name", ["filter.category1_id", "filter.category2_id", "filter.category3_id"])
def test_search_filter_snake_case_refused(search, kind, name):
    checks.error(search(kind, pairs=[(name, "top")], limit=5), INVALID)
