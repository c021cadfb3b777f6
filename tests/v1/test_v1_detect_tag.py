"""AI Fashion v1.0 detect and tag: answer fields, geometry, item_limit, languages, errors."""

from __future__ import annotations

import re

import pytest
import v1_kit as kit

from fashion_conformance import checks
from fashion_conformance.imagehost import factory

CODE = kit.CODE
ITEM_LIMIT = kit.limit("tag.item_limit")
LANGS = kit.limit("tag.lang")
MIN_IOU = 0.5
# The scripts of the label languages (v1 names Japanese `jp`): Hangul for Korean; kana or kanji for Japanese.
HANGUL = re.compile(r"[\uac00-\ud7a3]")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
SCRIPTS = {"ko": (HANGUL, JAPANESE), "jp": (JAPANESE, HANGUL)}  # lang -> (script its labels use, one they do not)
KANA = re.compile(r"[\u3040-\u30ff]")  # Japanese, unlike Chinese, writes kana (kanji alone would pass as either)


@pytest.fixture(scope="session")
def scene_url(image_host, scene) -> str:
    return image_host.put(*scene.file("png"))


def _detect(v1, service: str, url: str):
    return v1.call("detect", path={"serviceID": service}, params={"path": url})


def _tag(v1, service: str, url: str, **params):
    return v1.call("tag", path={"serviceID": service}, params={"path": url, **params})


def _labels(item: dict) -> list[str]:
    return [label["label"] for tag in item["tags"] for label in tag["labels"]]


def _width(item: dict) -> float:
    return item["b1"][0] - item["b0"][0]


# ------------------------------------------------------------------ detect

def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@pytest.mark.req("V1-DETECT-FIELDS")
def test_detect_answer_fields(v1, v1_service, scene_url, scene):
    """Detect > [Response Body Data]: totalCount, query, and per item link, center, b0, b1 (two numbers), score."""
    ex = _detect(v1, v1_service, scene_url)
    data = checks.success(ex)
    checks.that(ex, isinstance(data["query"], str), "data.query must be a string")
    checks.that(ex, _number(data.get("totalCount")), "data.totalCount must be a number")
    for item in kit.items_of(ex, at_least=1):
        checks.that(ex, isinstance(item["link"], str) and item["link"], "every item needs a non-empty link")
        checks.that(ex, _number(item.get("score")), f"every item has a numeric score, got {item.get('score')!r}")
        for name in ("center", "b0", "b1"):
            point = item.get(name)
            checks.that(ex, isinstance(point, list) and len(point) == 2 and all(map(_number, point)),
                        f"{name} must be two numbers, got {point!r}")


def _total_equals_items(ex, data, _items) -> None:
    checks.that(ex, data["totalCount"] == len(data["items"]), "totalCount must equal the number of items")


def _score_in_range(ex, _data, items) -> None:
    for item in items:
        checks.that(ex, 0 < item["score"] <= 1, f"score {item['score']} must lie in (0, 1]")


def _geometry(ex, _data, items) -> None:
    for item in items:
        kit.box_ok(ex, item)


@pytest.mark.parametrize("check", [
    pytest.param(_total_equals_items, marks=pytest.mark.req("V1-DETECT-TOTALCOUNT"), id="totalCount"),
    pytest.param(_score_in_range, marks=pytest.mark.req("V1-DETECT-SCORE"), id="score"),
    pytest.param(_geometry, marks=pytest.mark.req("V1-DETECT-GEOMETRY-RANGE", "V1-DETECT-GEOMETRY-BOX"),
                 id="geometry"),
])
def test_detect_answer_fields_as_read(v1, v1_service, scene_url, scene, check):
    """The readings of the detect table: totalCount counts the answer's items, score is in (0, 1], and E111's
    geometry (ratios in [0, 1], b0 above-left of b1, center their midpoint)."""
    ex = _detect(v1, v1_service, scene_url)
    check(ex, checks.success(ex), kit.items_of(ex, at_least=len(scene.items)))


@pytest.mark.req("V1-DETECT-GEOMETRY-LOCATION")
def test_detect_boxes_cover_garments(v1, v1_service, scene_url, scene):
    ex = _detect(v1, v1_service, scene_url)
    items = kit.items_of(ex, at_least=len(scene.items))
    for spec in scene.items:
        best = max(kit.iou(it, spec.box, scene.width, scene.height) for it in items)
        checks.seen(ex, best >= MIN_IOU, f"the {spec.kind} at {spec.box} px must be boxed (best IoU {best:.2f})")


@pytest.mark.req("V1-DETECT-NO-ITEM")
def test_detect_plain_image(v1, v1_service, image_host):
    url = image_host.put("plain.png", factory.encode(factory.render(200, 200, []), "png"))
    ex = _detect(v1, v1_service, url)
    data = checks.success(ex)
    checks.that(ex, data["totalCount"] == 0 and data["items"] == [], "a plain image has no fashion item")


@pytest.mark.req("V1-IMAGE-MIN-ITEM-PX")
def test_detect_tag_skip_tiny_item(v1, v1_service, scene_url, scene):
    tiny = scene.small[0]
    for ex in (_detect(v1, v1_service, scene_url), _tag(v1, v1_service, scene_url, item_limit=ITEM_LIMIT.max)):
        items = kit.items_of(ex, at_least=1)
        hits = [it for it in items if kit.iou(it, tiny.box, scene.width, scene.height) > 0]
        checks.that(ex, not hits, f"the {tiny.box} px item (both sides <= the minimum) must not be recognised")
        checks.seen(ex, len(items) == min(len(scene.items), ITEM_LIMIT.max),
                    f"the {len(scene.items)} larger garments must be recognised")


@pytest.fixture(scope="session")
def thin_scene() -> kit.Scene:
    """100 x 15, 15 x 100 and 21 x 21 px garments (a side over the minimum), and a 15 x 15 px item (both under)."""
    px = kit.limit("image.min_item_px").value
    edge, short = 5 * px, px * 3 // 4
    spec = factory.ItemSpec
    return kit.Scene("thin3", 300, 240, (
        spec("rect", (30, 40, 30 + edge, 40 + short), (30, 60, 160)),
        spec("rect", (200, 30, 200 + short, 30 + edge), (160, 40, 40)),
        spec("rect", (150, 170, 150 + px + 1, 170 + px + 1), (120, 70, 30)),
    ), small=(spec("rect", (60, 180, 60 + short, 180 + short), (40, 140, 60)),))


@pytest.mark.req("V1-IMAGE-MIN-ITEM-PX-ONE-SIDE")
def test_detect_tag_thin_items_detected(v1, v1_service, image_host, thin_scene):
    """Input image guide: only items with width and height both <= 20 px are not recognised, so the three
    garments with a side over 20 px are, and the 15 x 15 px item is not."""
    url = image_host.put(*thin_scene.file("png"))
    w, h = thin_scene.width, thin_scene.height
    for ex in (_detect(v1, v1_service, url), _tag(v1, v1_service, url, item_limit=ITEM_LIMIT.max)):
        items = checks.success(ex)["items"]
        for spec in thin_scene.items:
            checks.seen(ex, any(kit.iou(it, spec.box, w, h) > 0 for it in items),
                        f"the garment at {spec.box} px (a side over the minimum) must be detected")
        tiny = thin_scene.small[0]
        checks.that(ex, not any(kit.iou(it, tiny.box, w, h) > 0 for it in items),
                    f"the {tiny.box} px item (both sides under the minimum) must not be recognised")
        checks.seen(ex, len(items) == len(thin_scene.items), f"{len(thin_scene.items)} items, got {len(items)}")


@pytest.mark.req("V1-DETECT-INVALID-40000")
def test_detect_without_path(v1, v1_service):
    checks.error(v1.call("detect", path={"serviceID": v1_service}), CODE["InvalidParam"])


@pytest.mark.req("V1-DETECT-SERVICE-42000")
def test_detect_unknown_service(v1, services, scene_url):
    checks.error(_detect(v1, services.name("nosuch"), scene_url), CODE["NotExistServiceID"])


@pytest.mark.req("V1-DETECT-UNAUTHORIZED-41000")
def test_detect_unauthorized(bad_v1, v1_service, scene_url):
    checks.error(_detect(bad_v1, v1_service, scene_url), CODE["UnauthorizedAppKey"])


# ------------------------------------------------------------------ tag

@pytest.mark.req("V1-TAG-FIELDS")
def test_tag_answer_fields(v1, v1_service, scene_url):
    """Tag > [Response Body Data]: totalCount, query; per item type, score, tags (attribute, labels), center, b0, b1."""
    ex = _tag(v1, v1_service, scene_url, item_limit=ITEM_LIMIT.max)
    data = checks.success(ex)
    checks.that(ex, isinstance(data["query"], str), "data.query must be a string")
    checks.that(ex, _number(data.get("totalCount")), "data.totalCount must be a number")
    for item in kit.items_of(ex):
        checks.that(ex, isinstance(item["type"], str) and item["type"], "every item needs a type")
        checks.that(ex, _number(item.get("score")), f"every item has a numeric score, got {item.get('score')!r}")
        checks.that(ex, isinstance(item["tags"], list) and item["tags"], "every item needs tags")
        for tag in item["tags"]:
            checks.that(ex, isinstance(tag["attribute"], str), "every tag needs an attribute name")
            checks.that(ex, all(isinstance(lb["label"], str) and _number(lb.get("score")) for lb in tag["labels"]),
                        f"labels of {tag['attribute']} need a text and a score")
        for name in ("center", "b0", "b1"):
            checks.that(ex, isinstance(item.get(name), list) and len(item[name]) == 2 and all(map(_number, item[name])),
                        f"{name} must be two numbers, got {item.get(name)!r}")


def _tag_total(ex, data, _items) -> None:
    checks.that(ex, data["totalCount"] == len(data["items"]), "totalCount must equal the number of items answered")


def _tag_scores(ex, _data, items) -> None:
    for item in items:
        checks.that(ex, 0 < item["score"] <= 1, f"item score {item['score']} must lie in (0, 1]")
        for tag in item["tags"]:
            checks.that(ex, all(0 <= lb["score"] <= 1 for lb in tag["labels"]),
                        f"label scores of {tag['attribute']} lie in [0, 1]")


@pytest.mark.parametrize("check", [
    pytest.param(_tag_total, marks=pytest.mark.req("V1-TAG-TOTALCOUNT"), id="totalCount"),
    pytest.param(_tag_scores, marks=pytest.mark.req("V1-TAG-SCORES"), id="scores"),
    pytest.param(_geometry, marks=pytest.mark.req("V1-TAG-GEOMETRY"), id="geometry"),
])
def test_tag_answer_fields_as_read(v1, v1_service, scene_url, check):
    """The readings of the tag table: totalCount counts the answer's items, scores are confidences, E111 geometry."""
    ex = _tag(v1, v1_service, scene_url, item_limit=ITEM_LIMIT.max)
    check(ex, checks.success(ex), kit.items_of(ex))


@pytest.mark.parametrize("item_limit", range(ITEM_LIMIT.min, ITEM_LIMIT.max + 1))
@pytest.mark.req("V1-TAG-ITEM-LIMIT-RANGE", "V1-TAG-ITEM-LIMIT-MAX-ITEMS", "V1-TAG-SORT-WIDTH")
def test_tag_item_limit(v1, v1_service, scene_url, scene, item_limit):
    widths = sorted((_width(it) for it in kit.items_of(_detect(v1, v1_service, scene_url))), reverse=True)
    ex = _tag(v1, v1_service, scene_url, item_limit=item_limit)
    items = kit.items_of(ex)
    got = [_width(it) for it in items]
    wanted = min(item_limit, len(scene.items))
    checks.seen(ex, len(items) == wanted, f"{len(scene.items)} garments, item_limit={item_limit}: {wanted} items")
    checks.that(ex, got == sorted(got, reverse=True), f"items must be ordered by width, widest first: {got}")
    checks.that(ex, all(abs(g - w) <= kit.GEOMETRY_TOL for g, w in zip(got, widths, strict=False)),
                f"the widest items must be chosen: widths {got}, detected {widths}")


@pytest.mark.req("V1-TAG-ITEM-LIMIT-DEFAULT")
def test_tag_item_limit_default(v1, v1_service, scene_url):
    ex = _tag(v1, v1_service, scene_url)
    checks.that(ex, len(kit.items_of(ex)) == ITEM_LIMIT.default, f"without item_limit: {ITEM_LIMIT.default} item")


@pytest.mark.parametrize("item_limit", [ITEM_LIMIT.min - 1, ITEM_LIMIT.max + 1, -1, "a", "1.5", ""])
@pytest.mark.req("V1-TAG-ITEM-LIMIT-RANGE")
def test_tag_item_limit_invalid(v1, v1_service, scene_url, item_limit):
    checks.error(_tag(v1, v1_service, scene_url, item_limit=item_limit), CODE["InvalidParam"])


@pytest.fixture(scope="module")
def lang_answers(v1, v1_service, scene_url) -> tuple[dict, object]:
    """The scene tagged once per lang value and once without lang (the language tests share these answers)."""
    asked = {lang: _tag(v1, v1_service, scene_url, lang=lang, item_limit=ITEM_LIMIT.max) for lang in LANGS.value}
    return asked, _tag(v1, v1_service, scene_url, item_limit=ITEM_LIMIT.max)


@pytest.mark.req("V1-TAG-LANG-VALUES")
def test_tag_languages_accepted_and_default(lang_answers):
    """Tag > [URL Parameter]: en, ko and jp are accepted; without lang the labels are those of lang=en."""
    asked, ex = lang_answers
    for lang_ex in asked.values():
        kit.items_of(lang_ex)
    checks.that(ex, [_labels(it) for it in kit.items_of(ex)] == [_labels(it) for it in kit.items_of(asked[LANGS.default])],
                f"without lang the labels must be those of lang={LANGS.default}")


@pytest.mark.req("V1-TAG-LANG-LABELS")
def test_tag_languages_labels_follow_lang(lang_answers):
    """Tag > [Response Body Data]: the label texts are in the asked language, ko and jp ones differ from en."""
    asked, _ = lang_answers
    default = kit.items_of(asked[LANGS.default])
    for lang, lang_ex in asked.items():
        items = kit.items_of(lang_ex)
        if lang != LANGS.default:
            checks.that(lang_ex, all(_labels(a) != _labels(b) for a, b in zip(items, default, strict=False)),
                        f"lang={lang} labels must differ from the {LANGS.default} ones")
        for texts in (_labels(it) for it in items):
            if lang in SCRIPTS:
                own, other = SCRIPTS[lang]
                checks.that(lang_ex, any(own.search(t) for t in texts) and not any(other.search(t) for t in texts),
                            f"lang={lang}: every item's labels in its own script, none in another's: {texts}")
            else:
                checks.that(lang_ex, not any(p.search(t) for p in (HANGUL, JAPANESE) for t in texts),
                            f"lang={lang} labels must carry no Korean or Japanese script: {texts}")
        if lang == "jp":
            checks.that(lang_ex, any(KANA.search(t) for it in items for t in _labels(it)),
                        "lang=jp labels must be Japanese: some of them in kana, not all Han characters (Chinese)")


@pytest.mark.req("V1-TAG-LANG-STRUCTURE")
def test_tag_languages_keep_types_boxes_attributes(lang_answers):
    """Our reading: lang changes label texts only, not item types, boxes or attribute names."""
    asked, ex = lang_answers

    def shape(items):
        return [(it["type"], it["b0"], it["b1"], [t["attribute"] for t in it["tags"]]) for it in items]

    default = kit.items_of(ex)
    for lang, lang_ex in asked.items():
        checks.that(lang_ex, shape(kit.items_of(lang_ex)) == shape(default),
                    f"lang={lang} may change label texts only, not types, boxes or attributes")


@pytest.mark.parametrize("lang", ["ja", "fr", "zh", "EN"])
@pytest.mark.req("V1-TAG-LANG-INVALID")
def test_tag_lang_invalid(v1, v1_service, scene_url, lang):
    checks.error(_tag(v1, v1_service, scene_url, lang=lang), CODE["InvalidParam"])


@pytest.mark.req("V1-TAG-INVALID-40000")
def test_tag_without_path(v1, v1_service):
    checks.error(v1.call("tag", path={"serviceID": v1_service}), CODE["InvalidParam"])


@pytest.mark.req("V1-TAG-SERVICE-42000")
def test_tag_unknown_service(v1, services, scene_url):
    checks.error(_tag(v1, services.name("nosuch"), scene_url), CODE["NotExistServiceID"])


@pytest.mark.req("V1-TAG-UNAUTHORIZED-41000")
def test_tag_unauthorized(bad_v1, v1_service, scene_url):
    checks.error(_tag(bad_v1, v1_service, scene_url), CODE["UnauthorizedAppKey"])
