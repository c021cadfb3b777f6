"""Tagger: accept-language - en, ko, zh, ja accepted; en by default; names translated, ids stable; 826."""

from __future__ import annotations

import re

import pytest
import tagger_support as ts
from hypothesis import given
from hypothesis import strategies as st

from fashion_conformance import checks

DETECTION = list(ts.DETECTION)  # every kind, shoes included (E303)
TRANSLATED = (("category", "name"), ("item", "name"))


def scene(tagger, scene_url, lang):
    return ts.tagged(tagger, ts.body(ts.url_image(scene_url), detection=DETECTION), lang=lang)


def names(data: dict) -> list[str]:
    """Category, item and top colour names of every tag, in document order."""
    out = []
    for _, tag in ts.all_tags(data):
        out += [tag[a][b] for a, b in TRANSLATED]
        out += [c["name"] for c in tag["colors"][:1]]
    return out


@pytest.mark.req("TAGGER-LANG-VALUES")
@pytest.mark.parametrize("lang", ts.LANGS)
def test_tags_post_each_language_is_accepted(tagger, scene_url, lang):
    scene(tagger, scene_url, lang)


@pytest.mark.req("TAGGER-LANG-DEFAULT-EN")
def test_tags_post_without_language_answers_in_english(tagger, scene_url):
    ex, default = scene(tagger, scene_url, None)
    _, english = scene(tagger, scene_url, ts.DEFAULT_LANG)
    checks.that(ex, default == english,
                f"without accept-language the data equals that of accept-language {ts.DEFAULT_LANG}:\n"
                f"  without: {names(default)}\n  {ts.DEFAULT_LANG}: {names(english)}")


@pytest.mark.req("TAGGER-LANG-NAMES-TRANSLATED")
@pytest.mark.parametrize("lang", [lang for lang in ts.LANGS if lang != ts.DEFAULT_LANG])
def test_tags_post_language_translates_names(tagger, scene_url, lang):
    _, english = scene(tagger, scene_url, ts.DEFAULT_LANG)
    ex, other = scene(tagger, scene_url, lang)
    en_names, other_names = names(english), names(other)
    checks.that(ex, len(en_names) == len(other_names) and len(en_names) > 0,
                f"the same image gives the same tags in {lang} and {ts.DEFAULT_LANG}")
    same = [a for a, b in zip(en_names, other_names, strict=True) if a == b]
    checks.that(ex, not same, f"category, item and colour names in {lang} differ from the {ts.DEFAULT_LANG} ones; "
                              f"unchanged: {same}")


HANGUL, KANA, HAN = r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]", r"[\u3040-\u30ff]", r"[\u4e00-\u9fff]"
SCRIPTS = {  # language -> (a script some name must use, scripts no name may use)
    "ko": (HANGUL, (KANA,)),
    "ja": (KANA, (HANGUL,)),
    "zh": (HAN, (HANGUL, KANA)),
}


@pytest.mark.req("TAGGER-LANG-NAMES-TRANSLATED")
@pytest.mark.parametrize("lang", [lang for lang in ts.LANGS if lang in SCRIPTS])
def test_tags_post_language_names_are_written_in_its_script(tagger, scene_url, lang):
    """API > accept-language: ko names are Korean (Hangul), ja names Japanese (kana), zh names Chinese (Han,
    neither Hangul nor kana) - not merely unlike the English ones."""
    ex, data = scene(tagger, scene_url, lang)
    text = " ".join(names(data))
    must, never = SCRIPTS[lang]
    checks.that(ex, re.search(must, text) is not None and not any(re.search(p, text) for p in never),
                f"{lang} names are written in the script of {lang}: {names(data)}")


@pytest.mark.req("TAGGER-LANG-IDS-STABLE")
@pytest.mark.parametrize("lang", [lang for lang in ts.LANGS if lang != ts.DEFAULT_LANG])
def test_tags_post_language_keeps_ids(tagger, scene_url, lang):
    _, english = scene(tagger, scene_url, ts.DEFAULT_LANG)
    ex, other = scene(tagger, scene_url, lang)
    checks.that(ex, list(ts.walk(other, "id")) == list(ts.walk(english, "id")),
                f"ids are the same in {lang} and {ts.DEFAULT_LANG} for the same image")


@pytest.mark.req("TAGGER-TAGS-LANGUAGE-826")
@pytest.mark.parametrize("lang", ["jp", "kr", "cn", "fr", "de", "english", "xx"])
def test_tags_post_unknown_language_is_refused_with_826(tagger, product_url, lang):
    checks.error(ts.post(tagger, ts.body(ts.url_image(product_url)), lang=lang), 826)


@pytest.mark.req("TAGGER-TAGS-LANGUAGE-826")
@ts.FUZZ
@given(lang=st.from_regex(r"\A[a-z]{2,8}\Z").filter(lambda s: s not in ts.LANGS))
def test_tags_post_any_other_language_code_is_refused_with_826(tagger, product_url, lang):
    checks.error(ts.post(tagger, ts.body(ts.url_image(product_url)), lang=lang), 826)
