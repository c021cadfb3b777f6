"""Tagger: context.detection - accepted values, 825, the default forms, the filter, shoes on request (E303) and
notMatchedObject (E304). Items are recognised by where the suite drew them (tagger_support scene)."""

from __future__ import annotations

import itertools

import pytest
import tagger_support as ts
from hypothesis import given
from hypothesis import strategies as st

from fashion_conformance import checks


def scene(tagger, scene_url, detection):
    return ts.tagged(tagger, ts.body(ts.url_image(scene_url), detection=detection))


def drawn(kind: str | None) -> set:
    return {spec for spec, k in ts.KIND.items() if k == kind}


@pytest.mark.req("TAGGER-DETECTION-VALUES")
@pytest.mark.parametrize("value", ts.DETECTION)
def test_tags_post_each_detection_value_is_accepted(tagger, scene_url, value):
    scene(tagger, scene_url, [value])


@pytest.mark.req("TAGGER-DETECTION-VALUES")
@ts.FUZZ
@given(detection=st.lists(st.sampled_from(ts.DETECTION), min_size=1, unique=True))
def test_tags_post_any_list_of_detection_values_is_accepted(tagger, product_url, detection):
    ts.tagged(tagger, ts.body(ts.url_image(product_url), detection=detection))


_OTHER_VALUE = st.text(st.characters(codec="ascii", categories=["L", "N", "P"]), min_size=1, max_size=12).filter(
    lambda s: s.strip().upper() not in ts.DETECTION)


@pytest.mark.req("TAGGER-TAGS-DETECTION-825")
@pytest.mark.parametrize("value", ["HATS", "BAGS", "CLOTHING", "SHOE", "TOPS", "ALL", "NODETC"])
def test_tags_post_unknown_detection_value_is_refused_with_825(tagger, product_url, value):
    checks.error(ts.post(tagger, ts.body(ts.url_image(product_url), detection=[value])), 825)


@pytest.mark.req("TAGGER-TAGS-DETECTION-825")
@ts.FUZZ
@given(known=st.lists(st.sampled_from(ts.DETECTION), unique=True), other=_OTHER_VALUE, data=st.data())
def test_tags_post_detection_list_with_any_unknown_value_is_refused_with_825(tagger, product_url, known, other, data):
    at = data.draw(st.integers(min_value=0, max_value=len(known)), label="position")
    detection = [*known[:at], other, *known[at:]]
    checks.error(ts.post(tagger, ts.body(ts.url_image(product_url), detection=detection)), 825)


@pytest.mark.req("TAGGER-DETECTION-DEFAULT-FORMS")
def test_tags_post_detection_absent_null_and_empty_give_the_same_objects(tagger, scene_url):
    image = ts.url_image(scene_url)
    forms = {"no context": {"image": image}, "context {}": {"image": image, "context": {}},
             "detection null": ts.body(image, detection=None), "detection []": ts.body(image, detection=[])}
    results = {name: ts.tagged(tagger, payload) for name, payload in forms.items()}
    ex, first = results["no context"]
    for name, (_, data) in results.items():
        checks.that(ex, data["objects"] == first["objects"],
                    f"detection absent, null and [] are the same default; {name!r} gave other objects:\n"
                    f"  {name}: {data['objects']}\n  no context: {first['objects']}")


@pytest.mark.req("TAGGER-DETECTION-FILTER")
@pytest.mark.parametrize("value", [v for v in ts.DETECTION if drawn(v)])
def test_tags_post_detection_value_keeps_only_its_items(tagger, scene_url, value):
    ex, data = scene(tagger, scene_url, [value])
    tags = ts.all_tags(data)
    types = {t for t, _ in tags}
    checks.that(ex, types == {ts.DETECTION_TYPE[value]},
                f"detection [{value}] reports its items under {ts.DETECTION_TYPE[value]} only; got types {sorted(types)}")
    where = [ts.located(tag) for _, tag in tags]
    checks.that(ex, set(where) == drawn(value) and len(where) == len(drawn(value)),
                f"detection [{value}] tags exactly the drawn {value} items {ts.box_names(drawn(value))}; "
                f"tags located at {ts.box_names(where)} ({where.count(None)} outside every drawn item)")


DRAWN_KINDS = [v for v in ts.DETECTION if drawn(v)]


@pytest.mark.req("TAGGER-DETECTION-FILTER")
@pytest.mark.parametrize("values", [*itertools.combinations(DRAWN_KINDS, 2), tuple(DRAWN_KINDS)],
                         ids=lambda v: "+".join(v))
def test_tags_post_detection_of_several_values_keeps_each_kind(tagger, scene_url, values):
    """API > context.detection: a list of values keeps the items of every value listed (not the first or the
    last only)."""
    ex, data = scene(tagger, scene_url, list(values))
    tags = ts.all_tags(data)
    types, expected = {t for t, _ in tags}, {ts.DETECTION_TYPE[v] for v in values}
    checks.that(ex, types == expected, f"detection {list(values)} reports items under {sorted(expected)}; "
                                       f"got types {sorted(types)}")
    where, wanted = [ts.located(tag) for _, tag in tags], set().union(*(drawn(v) for v in values))
    checks.that(ex, set(where) == wanted and len(where) == len(wanted),
                f"detection {list(values)} tags exactly the drawn items {ts.box_names(wanted)}; "
                f"tags located at {ts.box_names(where)}")


@pytest.mark.req("TAGGER-DETECTION-FILTER-NODETC")
def test_tags_post_detection_of_kind_not_in_image_gives_nodetc(tagger, scene_url):
    absent = [v for v in ts.DETECTION if not drawn(v)]
    assert absent, "the scene draws every detection kind"
    ex, data = scene(tagger, scene_url, absent)
    checks.that(ex, ts.documented(data["objects"], "type", "tags") == [{"type": ts.NODETC, "tags": []}],
                f"detection {absent} on an image without such items gives objects [{{type {ts.NODETC}, tags []}}]")


@pytest.mark.req("TAGGER-DETECTION-SHOES-EXPLICIT")
@pytest.mark.parametrize("detection", [["SHOES"], list(ts.DETECTION)], ids=["shoes", "all-five"])
def test_tags_post_detection_with_shoes_tags_every_shoe(tagger, scene_url, detection):
    ex, data = scene(tagger, scene_url, detection)
    shoes = [ts.located(tag) for tag in ts.objects(data).get(ts.SHOES, [])]
    checks.that(ex, set(shoes) == drawn("SHOES") and len(shoes) == len(drawn("SHOES")),
                f"detection {detection} tags the {len(drawn('SHOES'))} drawn shoes under {ts.SHOES}; "
                f"{ts.SHOES} tags located at {ts.box_names(shoes)}")


@pytest.mark.req("TAGGER-NOTMATCHED-OBJECTS", "TAGGER-RESPONSE-FIELD-SPELLING")
@pytest.mark.parametrize("value", [v for v in ts.DETECTION if drawn(v)])
def test_tags_post_detection_reports_other_items_in_not_matched_object(tagger, scene_url, value):
    ex, data = scene(tagger, scene_url, [value])
    checks.that(ex, "notMatchedObject" in data,
                "with a non-empty detection, items not asked for are listed in data.notMatchedObject")
    others = [ts.located(tag) for _, tag in ts.all_tags(data, "notMatchedObject")]
    expected = set(ts.SCENE_ITEMS) - drawn(value)
    checks.that(ex, set(others) == expected and len(others) == len(expected),
                f"notMatchedObject of detection [{value}] holds every other drawn item {ts.box_names(expected)}, "
                f"once; got {ts.box_names(others)} ({others.count(None)} outside every drawn item)")
    shown = {ts.located(tag) for _, tag in ts.all_tags(data)}
    checks.that(ex, not shown & set(others), "no item is both in objects and in notMatchedObject")
