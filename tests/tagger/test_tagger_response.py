"""Tagger: the success response - envelope, HTTP status (E21), spelling (E14), imageInfo, genderInfo, objects and
their grouping, NODETC, and per tag: category/item, position, confidences, colours, colour details, attributes,
pairIndex, prints. Each rule is checked on every response of one shared set of requests."""

from __future__ import annotations

import colorsys
import math
from collections.abc import Iterator

import pytest
import tagger_support as ts

from fashion_conformance import checks, waits
from fashion_conformance.clients import Exchange
from fashion_conformance.imagehost.factory import ItemSpec, encode, render

SCORED = ("id", "name", "confidence")
ATTRIBUTE_LISTS = ("prints", "looks", "textures", "details")
ATTRIBUTE_OBJECTS = ("length", "neckLine", "fit", "shape", "heelHeight", "toeType", "heelShape", "soleType")
NAMED_MAYBE_SCORED = ("sleeveLength",)  # E305: the table gives it no confidence, the example has one
SOLID = "solid"  # the print's English name in the document's response example (id T0198)
PALETTE = ts.limit("tag.color_palette_size").value
MAX_COLORS = ts.limit("tag.colors_max_items").max
CONFIDENCE = ts.limit("tag.confidence")
POSITION = ts.limit("tag.position")
PAIR = ts.limit("tag.pair_index")
GENDERS = tuple(ts.limit("tag.gender_names").value)
NO_MODEL_GENDER = "unknown"  # genderInfo.name when no model is in the image (omnious-tagger-v2.12-api.en.txt / Response)
PRODUCT_SEEDS = range(12)  # every garment kind of the factory, solid and patterned
SOLID_RED_TOP = ItemSpec("shirt", ts.SOLID_TOP.box, (200, 30, 30))
FLAT = {"solid top": ts.SOLID_TOP.color, "solid red top": SOLID_RED_TOP.color}  # response -> drawn colour
COLOUR_TOLERANCE = 60  # RGB distance of the dominant colour detail from the drawn colour (palette granularity)


def rainbow() -> bytes:
    """Sixteen swatches of distinct colours (hues round the circle, strong and pale, dark and light) on white."""
    specs = []
    for i in range(16):
        row, col = divmod(i, 4)
        hue, sat, val = i / 16, (0.9, 0.45)[i % 2], (0.85, 0.45)[(i // 2) % 2]
        rgb = tuple(round(c * 255) for c in colorsys.hsv_to_rgb(hue, sat, val))
        box = (20 + col * 150, 20 + row * 110, 120 + col * 150, 100 + row * 110)
        specs.append(ItemSpec("rect", box, rgb))
    return encode(render(640, 480, specs), "png")


@pytest.fixture(scope="module")
def responses(tagger, image_host, scene_url) -> dict[str, tuple[Exchange, dict]]:
    """name -> (exchange, data) of every success this module checks."""
    requests = {
        "scene, all kinds": ts.body(ts.url_image(scene_url), detection=list(ts.DETECTION)),
        "scene, default": ts.body(ts.url_image(scene_url)),
        "scene, shoes": ts.body(ts.url_image(scene_url), detection=["SHOES"]),
        "rainbow": ts.body(ts.b64_image(rainbow())),
        "blank": ts.body(ts.b64_image(ts.blank())),
        "solid top": ts.body(ts.b64_image(ts.single(ts.SOLID_TOP))),
        "solid red top": ts.body(ts.b64_image(ts.single(SOLID_RED_TOP))),
        "striped top": ts.body(ts.b64_image(ts.single(ts.STRIPED_TOP))),
        **{f"product {seed}": ts.body(ts.url_image(image_host.generated(seed, "jpeg")), detection=list(ts.DETECTION))
           for seed in PRODUCT_SEEDS},
    }
    with waits.precondition("tagger success responses", "TAGGER-RESPONSE-SUCCESS-ENVELOPE"):
        return {name: ts.tagged_envelope(tagger, payload) for name, payload in requests.items()}


def every_tag(responses) -> Iterator[tuple[str, Exchange, str, dict]]:
    """(response name, exchange, object type, tag) over objects and notMatchedObject of every response."""
    for name, (ex, data) in responses.items():
        for member in ("objects", "notMatchedObject"):
            for obj_type, tag in ts.all_tags(data, member):
                yield name, ex, obj_type, tag


def is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def in_range(value, lim) -> bool:
    return is_number(value) and lim.min <= value <= lim.max


def is_named(value, fields=("id", "name")) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(f), str) for f in fields[:2]) and (
        len(fields) < 3 or in_range(value.get("confidence"), CONFIDENCE))


# ---------------------------------------------------------------- envelope

@pytest.mark.req("TAGGER-RESPONSE-SUCCESS-HTTP-STATUS")
def test_tags_success_comes_with_http_201_or_200(responses):
    for _, (ex, _) in responses.items():
        checks.that(ex, ex.status in (200, 201), "a tagged image comes with HTTP 201 (or 200; E21)")


@pytest.mark.req("TAGGER-RESPONSE-SUCCESS-ENVELOPE")
def test_tags_success_envelope_status_ok_data_and_null_error(responses):
    for _, (ex, _) in responses.items():
        body = ex.json
        checks.that(ex, body["status"] == "ok" and isinstance(body["data"], dict) and body.get("error") is None,
                    "a tagged image is answered with status ok, a data object and error null or absent")


@pytest.mark.req("TAGGER-RESPONSE-FIELD-SPELLING")
def test_tags_success_uses_camel_case_image_info_and_not_matched_object(responses):
    for name, (ex, data) in responses.items():
        checks.that(ex, "imageInfo" in data and "imageinfo" not in data and "notmatchedobjects" not in data,
                    f"{name}: data spells imageInfo and notMatchedObject in camelCase (E14)")
    ex, data = responses["scene, shoes"]
    checks.that(ex, "notMatchedObject" in data, "with detection given, data carries notMatchedObject (E14, E304)")


@pytest.mark.req("TAGGER-DATA-IMAGEINFO")
def test_tags_success_image_info_is_list_of_id_and_name(responses):
    for name, (ex, data) in responses.items():
        info = data["imageInfo"]
        checks.that(ex, isinstance(info, list) and all(is_named(i) for i in info),
                    f"{name}: data.imageInfo is an array of {{id, name}} strings")


@pytest.mark.req("TAGGER-DATA-GENDERINFO")
def test_tags_success_gender_info_is_unknown_without_model(responses):
    for name, (ex, data) in responses.items():
        if "genderInfo" not in data:
            continue
        gender = data["genderInfo"]
        checks.that(ex, is_named(gender) and gender["name"] in GENDERS,
                    f"{name}: genderInfo is {{id, name}} with name one of {GENDERS}")
        checks.that(ex, gender["name"] == NO_MODEL_GENDER,
                    f"{name}: no model is in the suite's pictures, so genderInfo.name is {NO_MODEL_GENDER}")


# ---------------------------------------------------------------- objects

@pytest.mark.req("TAGGER-DATA-OBJECT-TYPE")
def test_tags_success_object_types_are_documented_and_carry_tags(responses):
    for name, (ex, data) in responses.items():
        for member in ("objects", "notMatchedObject"):
            for obj in data.get(member) or []:
                checks.that(ex, obj.get("type") in ts.OBJECT_TYPES and isinstance(obj.get("tags"), list),
                            f"{name}: every {member}[].type is one of {ts.OBJECT_TYPES} with a tags array")


@pytest.mark.req("TAGGER-DATA-OBJECTS-GROUPED")
def test_tags_success_each_type_once_and_one_tag_per_item(responses):
    for name, (ex, data) in responses.items():
        for member in ("objects", "notMatchedObject"):
            types = [obj["type"] for obj in data.get(member) or []]
            checks.that(ex, len(types) == len(set(types)), f"{name}: a type appears at most once in {member}")
    ex, data = responses["scene, all kinds"]
    where = [ts.located(tag) for m in ("objects", "notMatchedObject") for _, tag in ts.all_tags(data, m)]
    checks.that(ex, sorted(map(str, where)) == sorted(map(str, ts.SCENE_ITEMS)),
                f"each of the {len(ts.SCENE_ITEMS)} drawn items gives one tag; tags located at {ts.box_names(where)} "
                f"({where.count(None)} outside every drawn item)")


@pytest.mark.req("TAGGER-DATA-NODETC")
def test_tags_success_blank_image_gives_nodetc(responses):
    ex, data = responses["blank"]
    checks.that(ex, ts.documented(data["objects"], "type", "tags") == [{"type": ts.NODETC, "tags": []}]
                and data["imageInfo"] == [],
                f"an image without fashion items gives objects [{{type {ts.NODETC}, tags []}}] and imageInfo []")


@pytest.mark.req("TAGGER-DATA-NODETC")
def test_tags_success_nodetc_never_carries_tags(responses):
    for name, (ex, data) in responses.items():
        for member in ("objects", "notMatchedObject"):
            for obj in data.get(member) or []:
                checks.that(ex, obj["type"] != ts.NODETC or obj["tags"] == [],
                            f"{name}: a {ts.NODETC} object in {member} carries no tags")


# ---------------------------------------------------------------- one tag

@pytest.mark.req("TAGGER-DATA-TAG-CATEGORY-ITEM")
def test_tags_success_every_tag_has_category_and_item(responses):
    for name, ex, obj_type, tag in every_tag(responses):
        checks.that(ex, is_named(tag.get("category")) and is_named(tag.get("item"), SCORED),
                    f"{name}: every {obj_type} tag has category {{id, name}} and item {{id, name, confidence}}; "
                    f"got {tag.get('category')}, {tag.get('item')}")


@pytest.mark.req("TAGGER-DATA-TAG-POSITION-RANGE")
def test_tags_success_positions_are_ratios(responses):
    for name, ex, obj_type, tag in every_tag(responses):
        pos = tag.get("position")
        checks.that(ex, isinstance(pos, dict) and in_range(pos.get("x"), POSITION) and in_range(pos.get("y"), POSITION),
                    f"{name}: a {obj_type} tag's position {{x, y}} lies in [{POSITION.min}, {POSITION.max}]; got {pos}")


@pytest.mark.req("TAGGER-DATA-TAG-POSITION-CENTRE")
def test_tags_success_positions_lie_inside_drawn_items(responses):
    for name in ("scene, all kinds", "scene, default", "scene, shoes"):
        ex, data = responses[name]
        for member in ("objects", "notMatchedObject"):
            for obj_type, tag in ts.all_tags(data, member):
                checks.that(ex, ts.located(tag) is not None,
                            f"{name}: the {obj_type} tag at {tag['position']} lies inside a drawn item "
                            f"({ts.box_names(ts.SCENE_ITEMS)} in a {ts.W}x{ts.H} image)")


@pytest.mark.req("TAGGER-DATA-CONFIDENCE-RANGE")
def test_tags_success_every_confidence_is_in_unit_interval(responses):
    for name, (ex, data) in responses.items():
        bad = [c for c in ts.walk(data, "confidence") if not in_range(c, CONFIDENCE)]
        checks.that(ex, not bad, f"{name}: every confidence is a number in [{CONFIDENCE.min}, {CONFIDENCE.max}]; "
                                 f"got {bad[:5]}")


@pytest.mark.req("TAGGER-DATA-TAG-COLORS")
def test_tags_success_colors_at_most_three_from_the_palette(responses):
    palette: dict[str, str] = {}
    for name, ex, obj_type, tag in every_tag(responses):
        colors = tag.get("colors")
        checks.that(ex, isinstance(colors, list) and len(colors) <= MAX_COLORS and all(is_named(c, SCORED)
                                                                                       for c in colors),
                    f"{name}: colors of a {obj_type} tag is an array of at most {MAX_COLORS} {{id, name, confidence}}")
        for c in colors:
            checks.that(ex, palette.setdefault(c["id"], c["name"]) == c["name"],
                        f"{name}: colour {c['id']} is always named {palette[c['id']]!r} in one language")
    ex = responses["rainbow"][0]
    checks.that(ex, len(palette) <= PALETTE,
                f"every colour comes from the palette of {PALETTE}; {len(palette)} distinct: {sorted(palette.values())}")


@pytest.mark.req("TAGGER-DATA-TAG-COLORS-ORDER")
def test_tags_success_colors_top_first_without_repeats(responses):
    for name, ex, obj_type, tag in every_tag(responses):
        scores = [c["confidence"] for c in tag["colors"]]
        ids = [c["id"] for c in tag["colors"]]
        checks.that(ex, scores == sorted(scores, reverse=True) and len(ids) == len(set(ids)),
                    f"{name}: colors of a {obj_type} tag are ordered top 1 first (confidence descending), no colour "
                    f"twice; got {[(c['name'], c['confidence']) for c in tag['colors']]}")


@pytest.mark.req("TAGGER-DATA-TAG-COLORDETAILS")
def test_tags_success_color_details_are_hex_name_fraction(responses):
    for name, ex, obj_type, tag in every_tag(responses):
        details = tag.get("colorDetails", [])
        ok = isinstance(details, list) and all(
            isinstance(d, dict) and isinstance(d.get("code"), str) and len(d["code"]) == 7 and d["code"][0] == "#"
            and all(ch in "0123456789abcdefABCDEF" for ch in d["code"][1:]) and isinstance(d.get("name"), str)
            and is_number(d.get("pixelFraction")) for d in details)
        checks.that(ex, ok, f"{name}: colorDetails of a {obj_type} tag is an array of {{code #rrggbb, name, "
                            f"pixelFraction}}; got {details}")


@pytest.mark.req("TAGGER-DATA-TAG-COLORDETAILS-FRACTION")
def test_tags_success_color_detail_fractions_share_the_item(responses):
    for name, ex, obj_type, tag in every_tag(responses):
        fractions = [d["pixelFraction"] for d in tag.get("colorDetails", [])]
        checks.that(ex, all(0 <= f <= 1 for f in fractions) and sum(fractions) <= 1 + 1e-6,
                    f"{name}: pixelFractions of a {obj_type} tag lie in [0, 1] and add up to at most 1; got {fractions}")


@pytest.mark.req("TAGGER-DATA-TAG-COLORDETAILS-PIXELS")
@pytest.mark.parametrize("name", FLAT)
def test_tags_success_color_details_name_the_drawn_colour(responses, name):
    """Response > colorDetails: the detail with the largest pixelFraction of a one-colour item is its colour."""
    ex, data = responses[name]
    tags = [tag for _, tag in ts.all_tags(data) if tag.get("colorDetails")]
    checks.that(ex, len(tags) == 1, f"{name}: one tag with colorDetails for the one drawn garment; got {len(tags)}")
    top = max(tags[0]["colorDetails"], key=lambda d: d["pixelFraction"])
    got = tuple(int(top["code"][i:i + 2], 16) for i in (1, 3, 5))
    distance = math.dist(got, FLAT[name])
    checks.that(ex, distance <= COLOUR_TOLERANCE, f"{name}: the dominant colour detail {top['code']} is the drawn "
                                                  f"colour #{''.join(f'{c:02x}' for c in FLAT[name])} "
                                                  f"(RGB distance {distance:.0f} > {COLOUR_TOLERANCE})")


@pytest.mark.req("TAGGER-DATA-TAG-ATTRIBUTE-LISTS")
def test_tags_success_attribute_lists_hold_scored_values(responses):
    for name, ex, obj_type, tag in every_tag(responses):
        for attr in ATTRIBUTE_LISTS:
            if attr in tag:
                checks.that(ex, isinstance(tag[attr], list) and all(is_named(v, SCORED) for v in tag[attr]),
                            f"{name}: {attr} of a {obj_type} tag is an array of {{id, name, confidence}}; "
                            f"got {tag[attr]}")


@pytest.mark.req("TAGGER-DATA-TAG-ATTRIBUTE-OBJECTS")
def test_tags_success_attribute_objects_are_scored(responses):
    for name, ex, obj_type, tag in every_tag(responses):
        for attr in ATTRIBUTE_OBJECTS + NAMED_MAYBE_SCORED:
            if attr not in tag:
                continue
            value = tag[attr]
            ok = is_named(value, SCORED) if attr in ATTRIBUTE_OBJECTS else is_named(value) and (
                "confidence" not in value or in_range(value["confidence"], CONFIDENCE))
            checks.that(ex, ok, f"{name}: {attr} of a {obj_type} tag is {{id, name"
                                f"{', confidence' if attr in ATTRIBUTE_OBJECTS else ''}}}; got {value}")


@pytest.mark.req("TAGGER-DATA-PAIRINDEX")
def test_tags_success_pair_index_only_on_shoes_and_in_range(responses):
    for name, ex, obj_type, tag in every_tag(responses):
        if obj_type != ts.SHOES:
            checks.that(ex, "pairIndex" not in tag, f"{name}: pairIndex appears only on {ts.SHOES} tags, not {obj_type}")
        elif "pairIndex" in tag:
            checks.that(ex, in_range(tag["pairIndex"], PAIR),
                        f"{name}: pairIndex is a number in {PAIR.min}..{PAIR.max}; got {tag['pairIndex']!r}")


@pytest.mark.req("TAGGER-DATA-PAIRINDEX-SAME-PRODUCT")
def test_tags_success_identical_shoes_share_pair_index(responses):
    ex, data = responses["scene, shoes"]
    pairs = {ts.located(tag): tag.get("pairIndex") for tag in ts.objects(data).get(ts.SHOES, [])}
    a1, a2, b = pairs.get(ts.SHOE_A1), pairs.get(ts.SHOE_A2), pairs.get(ts.SHOE_B)
    checks.that(ex, a1 is not None and a1 == a2 and b is not None and b != a1,
                f"two identical shoes share one pairIndex and a different shoe has another; got {a1}, {a2} "
                f"(identical) and {b}")


@pytest.mark.req("TAGGER-DATA-PRINT-SOLID")
def test_tags_success_flat_item_is_solid_striped_is_not(responses):
    for name, expect_solid in (("solid top", True), ("striped top", False)):
        ex, data = responses[name]
        tags = [tag for _, tag in ts.all_tags(data)]
        top = [max(tag.get("prints") or [{"name": None, "confidence": 0}], key=lambda p: p["confidence"])["name"]
               for tag in tags]
        checks.that(ex, len(tags) == 1 and (top[0] == SOLID) == expect_solid,
                    f"{name}: one item whose most confident print is {'' if expect_solid else 'not '}{SOLID!r}; "
                    f"got {top}")
