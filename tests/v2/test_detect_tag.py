"""v2 detect and tag: item geometry, links, scores, itemLimit, lang, and their parameter errors.

Sources: nhn-ai-fashion-v2.0-api-guide.ko.txt / 카메라 검색 > 패션 아이템 감지; 딥 태깅 > 패션 아이템 태그 감지
(errata E208, E210, E214). Scenes are drawn by the image factory, so every item's box is known.
"""

from __future__ import annotations

import re

import pytest

from fashion_conformance import checks
from fashion_conformance.imagehost import factory

from . import helpers as h

pytestmark = pytest.mark.destructive

INVALID, NOT_EXIST = h.code("InvalidParam"), h.code("NotExistService")
ITEM_LIMIT, LANG = h.lim("tag.item_limit"), h.lim("tag.lang")
TAG_LIMIT_REFUSED = ("V2-TAG-ITEM-LIMIT-RANGE", "V2-TAG-INVALID-40000")
W, H = 900, 450
# Five garments side by side, widths 280 > 200 > 150 > 100 > 60 px (none overlaps another).
SCENE = (
    factory.ItemSpec("shirt", (20, 40, 300, 240), (200, 40, 40)),
    factory.ItemSpec("pants", (330, 30, 530, 420), (30, 60, 160)),
    factory.ItemSpec("skirt", (560, 40, 710, 200), (40, 150, 60), "stripe"),
    factory.ItemSpec("bag", (740, 40, 840, 160), (120, 70, 30)),
    factory.ItemSpec("rect", (600, 280, 660, 380), (230, 160, 20)),
)
ONE = factory.ItemSpec("dress", (140, 60, 300, 380), (150, 40, 120))
# The image guide leaves out items whose width AND height are both <= 20 px: one thin side is not enough.
MIN_PX = h.lim("image.min_item_px").value
THIN_W, THIN_H = 300, 240
THIN = (
    factory.ItemSpec("rect", (30, 40, 30 + 5 * MIN_PX, 40 + MIN_PX * 3 // 4), (30, 60, 160)),  # 100 x 15 px
    factory.ItemSpec("rect", (200, 30, 200 + MIN_PX * 3 // 4, 30 + 5 * MIN_PX), (160, 40, 40)),  # 15 x 100 px
    factory.ItemSpec("rect", (150, 170, 150 + MIN_PX + 1, 170 + MIN_PX + 1), (120, 70, 30)),  # 21 x 21 px
)
TINY = factory.ItemSpec("rect", (60, 180, 60 + MIN_PX * 3 // 4, 180 + MIN_PX * 3 // 4), (40, 140, 60))  # 15 x 15
SCRIPTS = {"ko": re.compile(r"[\uac00-\ud7a3]"), "ja": re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")}
KANA = re.compile(r"[\u3040-\u30ff]")  # Japanese, unlike Chinese, writes kana (kanji alone would pass as either)


@pytest.fixture(scope="module")
def scene_url(image_host) -> str:
    return image_host.put("v2-scene.png", factory.encode(factory.render(W, H, list(SCENE)), "png"))


@pytest.fixture(scope="module")
def one_item_url(image_host) -> str:
    return image_host.put("v2-one.png", factory.encode(factory.render(400, 440, [ONE]), "png"))


def detect(v2, service, **params):
    return v2.call("detect", path={"serviceName": service}, params=params)


def tag(v2, service, **params):
    return v2.call("tag", path={"serviceName": service}, params=params)


def fractions(spec: factory.ItemSpec, width: int, height: int) -> tuple[float, ...]:
    x0, y0, x1, y1 = spec.box
    return x0 / width, y0 / height, x1 / width, y1 / height


def box_of(item) -> tuple[float, ...]:
    return (*item["b0"], *item["b1"])


def labels(items) -> list[str]:
    return [lab["label"] for it in items for t in it["tags"] for lab in t["labels"]]


# ---------------------------------------------------------------- detect


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _points_ok(ex, it) -> None:
    for name in ("center", "b0", "b1"):
        point = it.get(name)
        checks.that(ex, isinstance(point, list) and len(point) == 2 and all(map(_number, point)),
                    f"{name} is two numbers, got {point!r}")


@pytest.mark.req("V2-DETECT-PATH-PARAM", "V2-DETECT-ITEM-FIELDS", "V2-DETECT-QUERY", "V2-DETECT-LINK-PER-ITEM")
def test_detect_scene_items(v2, catalog, scene_url):
    """패션 아이템 감지 > [응답 본문 데이터]: query, totalCount, per item link, center, b0, b1, score; one link each."""
    ex = detect(v2, catalog.service, path=scene_url)
    data = checks.success(ex)
    items = data["items"]
    checks.that(ex, isinstance(data.get("query"), str), "data.query is present and a string (E210)")
    checks.that(ex, isinstance(data["totalCount"], int), "data.totalCount is an integer")
    checks.seen(ex, len(items) >= 2, f"the {len(SCENE)} separate garments of the scene give items")
    for it in items:
        _points_ok(ex, it)
        checks.that(ex, _number(it.get("score")), f"every item has a numeric score, got {it.get('score')!r}")
        checks.that(ex, isinstance(it["link"], str) and it["link"], "every item has a non-empty link")
    links = [it["link"] for it in items]
    checks.that(ex, len(set(links)) == len(links), "links of different items of one image differ")


def _total(ex, data) -> None:
    checks.that(ex, data["totalCount"] == len(data["items"]),
                f"totalCount {data['totalCount']} equals {len(data['items'])} items")


def _range(ex, data) -> None:
    for it in data["items"]:
        for v in (*it["b0"], *it["b1"], *it["center"]):
            checks.that(ex, 0 <= v <= 1, f"every coordinate lies in [0, 1]; got {v} in {it}")


def _order(ex, data) -> None:
    for it in data["items"]:
        checks.that(ex, it["b0"][0] < it["b1"][0] and it["b0"][1] < it["b1"][1], f"b0 < b1 on both axes: {it}")


def _center(ex, data) -> None:
    for it in data["items"]:
        for axis in (0, 1):
            mid = (it["b0"][axis] + it["b1"][axis]) / 2
            checks.that(ex, abs(it["center"][axis] - mid) <= 1e-4,
                        f"center[{axis}] is the midpoint {mid:.6f} of b0 and b1 (1e-4, E208): {it}")


def _scores(ex, data) -> None:
    for it in data["items"]:
        checks.that(ex, 0 < it["score"] <= 1, f"score lies in (0, 1]; got {it['score']}")
        for t in it.get("tags", ()):
            for lab in t["labels"]:
                checks.that(ex, 0 < lab["score"] <= 1, f"label score {lab['score']} lies in (0, 1]")


GEOMETRY_READINGS = [
    pytest.param(_range, marks=pytest.mark.req("V2-GEOMETRY-RANGE"), id="range"),
    pytest.param(_order, marks=pytest.mark.req("V2-GEOMETRY-ORDER"), id="order"),
    pytest.param(_center, marks=pytest.mark.req("V2-GEOMETRY-CENTER"), id="center"),
]


@pytest.mark.parametrize("check", [
    pytest.param(_total, marks=pytest.mark.req("V2-DETECT-TOTAL-COUNT"), id="totalCount"),
    pytest.param(_scores, marks=pytest.mark.req("V2-DETECT-SCORE-RANGE"), id="score"),
    *GEOMETRY_READINGS,
])
def test_detect_scene_items_as_read(v2, catalog, scene_url, check):
    """The readings of the detect table: totalCount counts the items, score is a confidence, geometry in
    fractions with b0 top-left and center the midpoint (E208)."""
    ex = detect(v2, catalog.service, path=scene_url)
    check(ex, checks.success(ex))


@pytest.mark.req("V2-GEOMETRY-BOX-LOCATES-ITEM")
def test_detect_scene_items_boxed(v2, catalog, scene_url):
    """Every separate garment of the scene is detected and covered by a box (IoU >= 0.5)."""
    ex = detect(v2, catalog.service, path=scene_url)
    items = checks.success(ex)["items"]
    checks.seen(ex, len(items) == len(SCENE), f"all {len(SCENE)} separate garments of the scene are detected")
    for spec in SCENE:
        want = fractions(spec, W, H)
        best = max((h.iou(want, box_of(it)) for it in items), default=0.0)
        checks.seen(
            ex, best >= 0.5, f"the {spec.kind} at {spec.box} is covered by a box (best IoU {best:.2f})"
        )


@pytest.mark.req("V2-GEOMETRY-BOX-LOCATES-ITEM")
def test_detect_one_item_box(v2, catalog, one_item_url):
    ex = detect(v2, catalog.service, path=one_item_url)
    items = checks.success(ex)["items"]
    checks.seen(ex, len(items) == 1, "one garment on a plain background is one item")
    score = h.iou(fractions(ONE, 400, 440), box_of(items[0]))
    checks.seen(ex, score >= 0.5, f"the box covers the garment (IoU {score:.2f} >= 0.5)")


def _thin_scene(v2, catalog, image_host, operation):
    url = image_host.put("v2-thin.png", factory.encode(factory.render(THIN_W, THIN_H, [*THIN, TINY]), "png"))
    ex = detect(v2, catalog.service, path=url) if operation == "detect" else tag(
        v2, catalog.service, path=url, itemLimit=ITEM_LIMIT.max
    )
    return ex, checks.success(ex)["items"]


@pytest.mark.req("V2-IMAGE-MIN-ITEM-PX")
@pytest.mark.parametrize("operation", ["detect", "tag"])
def test_detect_thin_scene_tiny_item_not_detected(v2, catalog, image_host, operation):
    """Image guide: an item with width and height both <= 20 px is not recognised (15 x 15 px beside thin ones)."""
    ex, items = _thin_scene(v2, catalog, image_host, operation)
    tiny = any(h.iou(fractions(TINY, THIN_W, THIN_H), box_of(it)) > 0 for it in items)
    checks.that(ex, not tiny, f"the {TINY.box} px item (both sides <= {MIN_PX} px) is not detected")


@pytest.mark.req("V2-IMAGE-MIN-ITEM-PX-ONE-SIDE")
@pytest.mark.parametrize("operation", ["detect", "tag"])
def test_detect_thin_items_detected(v2, catalog, image_host, operation):
    """Our reading of the image guide: only items with width and height both <= 20 px are left out; a 100 x 15, a
    15 x 100 and a 21 x 21 px garment are recognised, the 15 x 15 px one beside them is not."""
    ex, items = _thin_scene(v2, catalog, image_host, operation)
    for spec in THIN:
        w, hh = spec.box[2] - spec.box[0], spec.box[3] - spec.box[1]
        hit = any(h.iou(fractions(spec, THIN_W, THIN_H), box_of(it)) > 0 for it in items)
        checks.seen(ex, hit, f"the {w} x {hh} px garment at {spec.box} (a side over {MIN_PX} px) is detected")
    tiny = any(h.iou(fractions(TINY, THIN_W, THIN_H), box_of(it)) > 0 for it in items)
    checks.that(ex, not tiny, f"the {TINY.box} px item (both sides <= {MIN_PX} px) is not detected")
    checks.seen(ex, len(items) == len(THIN), f"{len(THIN)} items (the garments with a side over {MIN_PX} px); "
                f"got {len(items)}")


@pytest.mark.req("V2-DETECT-NO-ITEM")
def test_detect_plain_background(v2, catalog, image_host):
    url = image_host.put("v2-blank.png", factory.encode(factory.render(300, 300, [], (240, 240, 240)), "png"))
    ex = detect(v2, catalog.service, path=url)
    data = checks.success(ex)
    checks.that(
        ex,
        data["totalCount"] == 0 and data["items"] == [],
        "an image without fashion items: success with totalCount 0 and no items (E214)",
    )


@pytest.mark.req("V2-DETECT-INVALID-40000")
@pytest.mark.parametrize("params", [{}, {"path": ""}], ids=["missing", "empty"])
def test_detect_without_path(v2, catalog, params):
    checks.error(detect(v2, catalog.service, **params), INVALID)


@pytest.mark.req("V2-DETECT-NOT-EXIST-42000", "V2-TAG-NOT-EXIST-42000")
def test_detect_and_tag_unknown_service(v2, run_prefix, one_item_url):
    checks.error(detect(v2, f"{run_prefix}-nosuch", path=one_item_url), NOT_EXIST)
    checks.error(tag(v2, f"{run_prefix}-nosuch", path=one_item_url), NOT_EXIST)


# ---------------------------------------------------------------- tag


@pytest.mark.req(
    "V2-TAG-PATH-PARAM",
    "V2-TAG-ITEM-FIELDS",
    "V2-TAG-QUERY",
    "V2-TAG-ITEM-LIMIT-MAX",
    "V2-TAG-ORDER-WIDTH",
    "V2-TAG-ITEM-LIMIT-RANGE",
)
@pytest.mark.parametrize("limit", range(ITEM_LIMIT.min, ITEM_LIMIT.max + 1))
def test_tag_widest_items_first(v2, catalog, scene_url, limit):
    ex = tag(v2, catalog.service, path=scene_url, itemLimit=limit)
    data = checks.success(ex)
    items = data["items"]
    checks.that(ex, isinstance(data.get("query"), str), "data.query is present and a string")
    checks.that(ex, isinstance(data["totalCount"], int), "data.totalCount is an integer")
    checks.seen(ex, len(items) == limit, f"a scene of {len(SCENE)} garments gives itemLimit={limit} items")
    for it in items:
        _points_ok(ex, it)
        checks.that(ex, _number(it.get("score")), f"every item has a numeric score, got {it.get('score')!r}")
        checks.that(ex, it["tags"], "every tagged item carries tags")
        for t in it["tags"]:
            for lab in t["labels"]:
                checks.that(ex, _number(lab.get("score")), f"every label has a numeric score: {lab}")
    widths = [it["b1"][0] - it["b0"][0] for it in items]
    checks.that(ex, widths == sorted(widths, reverse=True), f"items sorted by width, widest first: {widths}")
    expected = sorted(((s.box[2] - s.box[0]) / W for s in SCENE), reverse=True)[:limit]
    checks.that(
        ex,
        all(abs(w - e) <= 4 / W for w, e in zip(widths, expected, strict=True)),
        f"the items are the {limit} widest of the scene: widths {widths}, expected {expected}",
    )


@pytest.mark.parametrize("check", [
    pytest.param(_total, marks=pytest.mark.req("V2-TAG-TOTAL-COUNT"), id="totalCount"),
    pytest.param(_scores, marks=pytest.mark.req("V2-TAG-SCORE-RANGE"), id="scores"),
    *GEOMETRY_READINGS,
])
def test_tag_items_as_read(v2, catalog, scene_url, check):
    """The readings of the tag table: totalCount counts the items, item and label scores are confidences, geometry
    as for detect (E208)."""
    ex = tag(v2, catalog.service, path=scene_url, itemLimit=ITEM_LIMIT.max)
    check(ex, checks.success(ex))


@pytest.mark.req("V2-TAG-ITEM-LIMIT-DEFAULT", "V2-TAG-LANG-DEFAULT", "V2-TAG-LANG-VALUES")
def test_tag_defaults(v2, catalog, scene_url):
    """Without itemLimit the default (1) applies: a scene of five garments gives exactly one item, the widest."""
    ex = tag(v2, catalog.service, path=scene_url)
    data = checks.success(ex)
    checks.that(
        ex,
        len(data["items"]) == ITEM_LIMIT.default,
        f"without itemLimit a scene of {len(SCENE)} garments gives {ITEM_LIMIT.default} item; got {len(data['items'])}",
    )
    first, second = sorted((s.box[2] - s.box[0] for s in SCENE), reverse=True)[:2]
    widths = [it["b1"][0] - it["b0"][0] for it in data["items"]]
    checks.that(
        ex,
        all(w > (first + second) / 2 / W for w in widths),
        f"the item is the widest garment ({first} px of {W}); got widths {widths}",
    )
    en = checks.success(tag(v2, catalog.service, path=scene_url, lang=LANG.default))
    checks.that(ex, data["items"] == en["items"], f"without lang the answer equals lang={LANG.default}")


@pytest.fixture(scope="module")
def lang_answers(v2, catalog, scene_url) -> dict:
    """The scene tagged once per lang value (the language tests share these answers)."""
    return {lang: tag(v2, catalog.service, path=scene_url, lang=lang, itemLimit=ITEM_LIMIT.max) for lang in LANG.value}


@pytest.mark.req("V2-TAG-LANG-VALUES")
def test_tag_lang_each_value_accepted(lang_answers):
    for ex in lang_answers.values():
        checks.success(ex)


@pytest.mark.req("V2-TAG-LANG-LABELS")
def test_tag_labels_follow_lang(lang_answers):
    answers = {lang: (ex, checks.success(ex)["items"]) for lang, ex in lang_answers.items()}
    ex_en, en = answers["en"]
    checks.that(
        ex_en,
        not any(p.search(lab) for p in SCRIPTS.values() for lab in labels(en)),
        "English labels carry no Korean or Japanese script",
    )
    for lang, pattern in SCRIPTS.items():
        ex, items = answers[lang]
        others = [p for other, p in SCRIPTS.items() if other != lang]
        for it in items:
            texts = labels([it])
            checks.that(
                ex,
                any(pattern.search(lab) for lab in texts) and not any(p.search(t) for p in others for t in texts),
                f"lang={lang} gives every item labels in its script, none in another's: {texts}",
            )
        checks.that(ex, labels(items) != labels(en), f"lang={lang} labels differ from English ones")
        if lang == "ja":
            checks.that(
                ex,
                any(KANA.search(lab) for lab in labels(items)),
                "lang=ja labels are Japanese: some of them in kana, not all Han characters (Chinese)",
            )


@pytest.mark.req("V2-TAG-ATTRIBUTE-NAMES")
def test_tag_attribute_names_same_in_every_lang(lang_answers):
    """Our reading (the ko example keeps category, color, ... in English): attribute names do not depend on lang."""
    en = checks.success(lang_answers["en"])["items"]
    for lang, ex in lang_answers.items():
        items = checks.success(ex)["items"]
        checks.that(
            ex,
            [[t["attribute"] for t in it["tags"]] for it in items]
            == [[t["attribute"] for t in it["tags"]] for it in en],
            f"attribute names do not depend on lang (lang={lang})",
        )


@pytest.mark.parametrize(
    "params",
    [
        pytest.param(
            {"itemLimit": ITEM_LIMIT.min - 1}, marks=pytest.mark.req(*TAG_LIMIT_REFUSED), id="limit-0"
        ),
        pytest.param(
            {"itemLimit": ITEM_LIMIT.max + 1}, marks=pytest.mark.req(*TAG_LIMIT_REFUSED), id="limit-5"
        ),
        pytest.param({"itemLimit": "two"}, marks=pytest.mark.req(*TAG_LIMIT_REFUSED), id="limit-text"),
        pytest.param({"lang": "jp"}, marks=pytest.mark.req("V2-TAG-LANG-INVALID"), id="lang-jp"),
        pytest.param({"lang": "zh"}, marks=pytest.mark.req("V2-TAG-LANG-INVALID"), id="lang-zh"),
        pytest.param({"lang": "EN"}, marks=pytest.mark.req("V2-TAG-LANG-INVALID"), id="lang-upper"),
        pytest.param({"path": None}, marks=pytest.mark.req("V2-TAG-INVALID-40000"), id="path-missing"),
        pytest.param({"path": ""}, marks=pytest.mark.req("V2-TAG-INVALID-40000"), id="path-empty"),
    ],
)
def test_tag_invalid_params(v2, catalog, one_item_url, params):
    query = {"path": one_item_url} | params
    checks.error(tag(v2, catalog.service, **{k: v for k, v in query.items() if v is not None}), INVALID)


@pytest.mark.req("V2-DETECT-NO-ITEM")
def test_tag_plain_background(v2, catalog, image_host):
    url = image_host.put("v2-blank-tag.png", factory.encode(factory.render(300, 300, []), "png"))
    ex = tag(v2, catalog.service, path=url)
    data = checks.success(ex)
    checks.that(
        ex, data["totalCount"] == 0 and data["items"] == [], "no fashion item: zero tagged items (E214)"
    )
