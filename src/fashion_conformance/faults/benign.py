"""The catalog of benign variants: rewrites through the fault proxy that keep every documented rule but change what
the documents leave free (the wire form of JSON and HTTP, fields they do not list, the alternatives the errata
accept, what another vision model would answer). The whole suite must pass through each of them: a failure is
either an over-strict test or a variant that breaks a rule (then it belongs in the fault catalog).

Variants compose: `combine` orders a set of them so that the wire forms come last (a later edit of the body would
re-encode it), and `GROUPS` splits the catalog into the few combined runs the self-test makes."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import contracts
from . import rewrites as rw
from .proxy import UNKNOWN_PATH, Context, Fault
from .traffic import Req, Resp

ANY_API = "*"
KINDS = ("errata", "model", "envelope", "wire")  # the order in which combined variants rewrite a response
NHN = ("v1", "v2", "maker")
SEARCHES = ("search.product", "search.link", "search.image")
THRESHOLD_PARAM = {api: contracts.limit(api, "search.min_similarity").extra["param"] for api in ("v1", "v2")}
V2_DOC = "nhn-ai-fashion-v2.0-api-guide.ko.txt"
V1_DOC = "nhn-ai-fashion-v1.0-api-guide.en.txt"
TAGGER_DOC = "omnious-tagger-v2.12-api.en.txt"
COMMON = f"{V2_DOC} / API 공통 정보 > 응답 공통 정보; {V1_DOC} / Common Response; {TAGGER_DOC} / Response"
EXTRA = "vendorExtension"  # the name of every field the variants add (no document lists it)


@dataclass(frozen=True)
class Variant(Fault):
    """A benign variant: a Fault's shape with no requirement to trip, the freedom it uses (document + section, or
    the erratum whose alternative it takes) and its kind (wire, envelope, errata, model). api "*": every API."""

    freedom: str = ""
    kind: str = "wire"

    def applies(self, api: str | None, endpoint: str | None) -> bool:
        if self.api != ANY_API:
            return super().applies(api, endpoint)
        return api is not None and (not self.endpoints or endpoint in self.endpoints)


def _json_body(resp: Resp) -> Any:
    ctype = next((v for k, v in resp.headers if k.lower() == "content-type"), "")
    return resp.json() if "json" in ctype.lower() and resp.body else None


def _set_ctype(resp: Resp, value: str) -> None:
    resp.headers = [(k, v) for k, v in resp.headers if k.lower() != "content-type"] + [("content-type", value)]


def _nhn_ok(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("header"), dict) and body["header"].get("resultCode") == 0


def _tagger_ok(body: Any) -> bool:
    return isinstance(body, dict) and body.get("status") == "ok"


# wire


def _reordered(value: Any) -> Any:
    """Every JSON object with its members in reverse order (JSON objects are unordered)."""
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


def _reformat(req: Req, resp: Resp, ctx: Context) -> None:
    body = _json_body(resp)
    if body is not None:
        text = json.dumps(_reordered(body), ensure_ascii=False, indent=2, separators=(" ,", " : "))
        resp.body = ("\n" + text + "\n").encode("utf-8")


def _u_escape(m: re.Match[str]) -> str:
    code = ord(m.group(0))
    if code > 0xFFFF:  # a UTF-16 surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def _escape(req: Req, resp: Resp, ctx: Context) -> None:
    """Every non-ASCII character as \\uXXXX and every solidus as \\/ (JSON escapes; outside strings JSON text is
    ASCII and has no solidus, so the text is edited as it is, keeping what a wire variant before did to it)."""
    if _json_body(resp) is not None:
        text = resp.body.decode("utf-8")
        resp.body = re.sub(r"[^\x00-\x7f]", _u_escape, text).replace("/", "\\/").encode("ascii")


def _charset(req: Req, resp: Resp, ctx: Context) -> None:
    ctype = next((v for k, v in resp.headers if k.lower() == "content-type"), "")
    if ctype.split(";")[0].strip().lower() == "application/json" and "charset" not in ctype.lower():
        _set_ctype(resp, "application/json;charset=UTF-8")


def _accepts(req: Req, coding: str) -> bool:
    """The request's accept-encoding allows `coding` (a listed coding, or *, with a q-value above 0)."""
    for entry in (req.header("accept-encoding") or "").split(","):
        name, _, params = entry.strip().partition(";")
        q = re.search(r"q\s*=\s*([0-9.]+)", params)
        if name.strip().lower() in (coding, "*") and not (q and float(q.group(1)) == 0):
            return True
    return False


def _compress(req: Req, resp: Resp, ctx: Context) -> None:
    if resp.body and req.method != "HEAD":
        for coding in ("gzip", "deflate"):
            if _accepts(req, coding):
                resp.content_encoding = coding
                return


def _chunked(req: Req, resp: Resp, ctx: Context) -> None:
    if len(resp.body) > 1:
        resp.chunks = min(4, len(resp.body))


def _close(req: Req, resp: Resp, ctx: Context) -> None:
    resp.close = True


LATENCY_EVERY, LATENCY_S = 25, 0.1


def _latency(req: Req, resp: Resp, ctx: Context) -> None:
    """Every 25th answer a tenth of a second late (a busy server; no document promises a response time)."""
    count = ctx.state["benign-latency"] = ctx.state.get("benign-latency", 0) + 1
    if count % LATENCY_EVERY == 0:
        resp.delay_s = LATENCY_S


def uniform_latency(seconds: float) -> Variant:
    """Every answer of every API `seconds` late: a live deployment 50-300 ms away (issue 12). Not in VARIANTS:
    it changes nothing the suite reads, only the time each request takes (selftest/test_live_latency.py)."""
    def delay(req: Req, resp: Resp, ctx: Context) -> None:
        resp.delay_s = seconds

    return V(f"latency-{round(seconds * 1000)}ms", ANY_API, f"every answer {seconds:g} s late", (), response=delay,
             kind="wire", freedom=f"no document promises a response time: {COMMON}")


# envelope


def _nhn_extra_header(req: Req, resp: Resp, ctx: Context) -> None:
    found = rw.header(resp)
    if found:
        found[1][EXTRA] = "trace-0001"
        resp.set_json(found[0])


def _extra_in_data(req: Req, resp: Resp, ctx: Context) -> None:
    body = resp.json()
    if (_nhn_ok(body) or _tagger_ok(body)) and isinstance(body.get("data"), dict):
        body["data"][EXTRA] = {"servedBy": "variant"}
        resp.set_json(body)


def _add_to_dicts(value: Any) -> None:
    """EXTRA added to every object inside lists (items, tags, labels, objects, ...), at any depth."""
    if isinstance(value, dict):
        for v in value.values():
            _add_to_dicts(v)
    elif isinstance(value, list):
        for v in value:
            if isinstance(v, dict):
                v[EXTRA] = 1
            _add_to_dicts(v)


def _extra_in_items(req: Req, resp: Resp, ctx: Context) -> None:
    body = resp.json()
    if (_nhn_ok(body) or _tagger_ok(body)) and isinstance(body.get("data"), dict):
        _add_to_dicts(body["data"])
        resp.set_json(body)


def _tagger_extra_top(req: Req, resp: Resp, ctx: Context) -> None:
    body = _json_body(resp)
    if isinstance(body, dict) and body.get("status") in ("ok", "fail"):
        body[EXTRA] = "trace-0001"
        if isinstance(body.get("error"), dict):
            body["error"][EXTRA] = "see code"
        resp.set_json(body)


# errata alternatives


def _count_as_string(data: Any, req: Req) -> None:
    for target in [data, *(data.get("items") or [])]:
        if isinstance(target, dict) and type(target.get("documentCount")) is int:
            target["documentCount"] = str(target["documentCount"])


def _service_key(data: Any, req: Req) -> None:
    for i, item in enumerate(data.get("items") or []):
        if isinstance(item, dict) and "serviceName" in item and "service" not in item:
            data["items"][i] = {("service" if k == "serviceName" else k): v for k, v in item.items()}


def _without_query(data: Any, req: Req) -> None:
    data.pop("query", None)


def _tagger_200(req: Req, resp: Resp, ctx: Context) -> None:
    if resp.status == 201 and _tagger_ok(resp.json()):
        resp.status = 200


def _is_fail(resp: Resp) -> bool:
    body = resp.json()
    return isinstance(body, dict) and body.get("status") == "fail" and 400 <= resp.status < 500


OTHER_4XX = {400: 422, 401: 403, 403: 401, 404: 400, 405: 400}


def _tagger_other_4xx(req: Req, resp: Resp, ctx: Context) -> None:
    if _is_fail(resp):
        resp.status = OTHER_4XX.get(resp.status, 400)


def _tagger_fail_200(req: Req, resp: Resp, ctx: Context) -> None:
    if _is_fail(resp):
        resp.status = 200


MAKER_URL_NOT_FOUND = 4041007


def _maker_4041007(req: Req, resp: Resp, ctx: Context) -> None:
    found = rw.header(resp)
    if found and found[1].get("isSuccessful") is False:
        found[1]["resultCode"] = MAKER_URL_NOT_FOUND
        found[1]["resultMessage"] = contracts.code_message("maker", MAKER_URL_NOT_FOUND)
        resp.set_json(found[0])


# model


SHIFT = 0.015


def _shift_box(item: dict) -> None:
    """The box moved by 1.5% of the image along each axis where it fits (its size kept), center recomputed."""
    b0, b1 = item.get("b0"), item.get("b1")
    if not (isinstance(b0, list) and isinstance(b1, list) and len(b0) == len(b1) == 2):
        return
    new0, new1 = list(b0), list(b1)
    for axis in (0, 1):
        for delta in (SHIFT, -SHIFT):
            if 0 <= b0[axis] + delta and b1[axis] + delta <= 1:
                new0[axis], new1[axis] = b0[axis] + delta, b1[axis] + delta
                break
    item["b0"], item["b1"] = new0, new1
    item["center"] = [(new0[0] + new1[0]) / 2, (new0[1] + new1[1]) / 2]


def _boxes_moved(data: Any, req: Req) -> None:
    for item in data.get("items") or ():
        if isinstance(item, dict):
            _shift_box(item)


SCORE_FACTOR = 0.8


def _lower(value: Any) -> Any:
    return value * SCORE_FACTOR if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 \
        else value


def _scores_lowered(data: Any, req: Req) -> None:
    """Every item score and every tag label score times 0.8 (orders kept: the same factor everywhere)."""
    for item in data.get("items") or ():
        if not isinstance(item, dict):
            continue
        item["score"] = _lower(item.get("score"))
        for tag in item.get("tags") or ():
            for label in tag.get("labels") or () if isinstance(tag, dict) else ():
                if isinstance(label, dict):
                    label["score"] = _lower(label.get("score"))


def _tagger_lowered(data: Any, req: Req) -> None:
    """Tagger: every confidence times 0.8 and every tag position moved by 1.5% inside [0, 1]."""

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, v in value.items():
                if key == "confidence":
                    value[key] = _lower(v)
                elif key == "position" and isinstance(v, dict):
                    for axis in ("x", "y"):
                        if isinstance(v.get(axis), int | float):
                            v[axis] = v[axis] + SHIFT if v[axis] + SHIFT <= 1 else v[axis] - SHIFT
                else:
                    walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(data.get("objects"))


def _threshold(req: Req) -> float:
    """The least similarity the request asked for (0 when it asked for none)."""
    number = rw._number(req.params().get(THRESHOLD_PARAM[req.api], ""))
    return number if number is not None and 0 < number <= 1 else 0.0


def _similarities(edit) -> Any:
    """edit(items, threshold) -> the new items of a search answer; totalCount follows the items."""

    def rewrite(data: Any, req: Req) -> None:
        items = data.get("items")
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            return
        data["items"] = edit(items, _threshold(req))
        if type(data.get("totalCount")) is int and data["totalCount"] == len(items):
            data["totalCount"] = len(data["items"])

    return rw.edit_data(rewrite)


def _rounded(items: list[dict], threshold: float) -> list[dict]:
    """Similarities rounded down to two decimals, never below the threshold asked (still <= the true value)."""
    for item in items:
        s = item.get("similarity")
        if isinstance(s, int | float):
            item["similarity"] = max(threshold, math.floor(round(s * 100, 6)) / 100, min(s, 0.01))
    return items


def _squared(items: list[dict], threshold: float) -> list[dict]:
    """Another monotone scale (similarity squared); the threshold applies on that scale, so items that fall below
    it are not returned (a prefix of the list: it is sorted)."""
    for item in items:
        if isinstance(item.get("similarity"), int | float):
            item["similarity"] = item["similarity"] ** 2
    return [i for i in items if not isinstance(i.get("similarity"), int | float) or i["similarity"] >= threshold]


def _ties_reversed(items: list[dict], threshold: float) -> list[dict]:
    """Items of equal similarity in the reverse order (the documents order by similarity only)."""
    out: list[dict] = []
    group: list[dict] = []
    for item in items:
        if group and item.get("similarity") != group[0].get("similarity"):
            out += reversed(group)
            group = []
        group.append(item)
    return out + list(reversed(group))


FEWER_CAP = 8


def _fewer(items: list[dict], threshold: float) -> list[dict]:
    """At most the best FEWER_CAP items, whatever `limit` asks (a server with a smaller candidate pool): `limit` is
    the most items a search returns, not a promise of that many. (Dropping, say, the last item of every answer is
    no model: the same item would be found or not depending on how many others matched.)"""
    return items[:FEWER_CAP]


# the catalog

def V(name: str, api: str, description: str, endpoints: tuple[str, ...] = (), **kw: Any) -> Variant:
    return Variant(name, api, description, (), tuple(endpoints), **kw)


SEARCH_SECTIONS = (f"{V2_DOC} / 유사 이미지 상품 추천 > [응답 본문] (similarity, limit); "
                   f"{V1_DOC} / Similar Item Recommendations > [Response Body]")
VARIANTS: tuple[Variant, ...] = (
    # wire
    V("json-reordered-reindented", ANY_API, "JSON members in reverse order, indented, spaces around : and ,", (),
      response=_reformat, kind="wire",
      freedom=f"RFC 8259 (JSON members are unordered, whitespace is free); the documents show examples only: "
              f"{COMMON}"),
    V("json-unicode-escaped", ANY_API, "every non-ASCII character as a \\u escape and every / as \\/", (),
      response=_escape, kind="wire", freedom=f"RFC 8259 section 7 (string escapes); {COMMON}"),
    V("content-type-charset", ANY_API, "Content-Type application/json;charset=UTF-8", (), response=_charset,
      kind="wire", freedom=f"RFC 8259 / RFC 9110 media type parameters; the documents name no Content-Type: {COMMON}"),
    V("compressed-when-accepted", ANY_API, "bodies gzip- (or deflate-) encoded when the request's accept-encoding "
      "allows it", (), response=_compress, kind="wire",
      freedom=f"RFC 9110 section 8.4 (Content-Encoding the client accepts); {COMMON}"),
    V("chunked-bodies", ANY_API, "bodies in several pieces, chunked, without Content-Length", (),
      response=_chunked, kind="wire", freedom=f"RFC 9112 section 7.1 (chunked transfer coding); {COMMON}"),
    V("connection-close", ANY_API, "Connection: close on every answer (no keep-alive)", (), response=_close,
      kind="wire", freedom=f"RFC 9112 section 9.6 (a server may close after a response); {COMMON}"),
    V("added-latency", ANY_API, f"every {LATENCY_EVERY}th answer {LATENCY_S} s late", (), response=_latency,
      kind="wire", freedom=f"no document promises a response time: {COMMON}"),
    # envelope
    V("nhn-header-extra-field", ANY_API, f"header.{EXTRA} added to every NHN answer", (),
      response=_nhn_extra_header, kind="envelope",
      freedom=f"{V2_DOC} / API 공통 정보 > 응답 공통 정보 and {V1_DOC} / Common Response list the header fields "
              "an answer carries, not a closed set"),
    V("data-extra-field", ANY_API, f"data.{EXTRA} added to every success (NHN and Tagger)", (),
      response=_extra_in_data, kind="envelope",
      freedom=f"the response tables list the fields a client can rely on, not a closed set: {COMMON}"),
    V("item-extra-field", ANY_API, f"{EXTRA} added to every object inside data's lists (items, tags, labels, "
      "objects)", (), response=_extra_in_items, kind="envelope",
      freedom=f"the response tables list the fields a client can rely on, not a closed set: {COMMON}"),
    V("tagger-envelope-extra-field", "tagger", f"{EXTRA} added beside status/data/error and inside error", (),
      response=_tagger_extra_top, kind="envelope",
      freedom=f"{TAGGER_DOC} / Response lists the fields a client can rely on, not a closed set"),
    # errata alternatives
    V("v2-document-count-string", "v2", "documentCount as a digit string (the table's type)",
      ("service.list", "service.get"), response=rw.edit_data(_count_as_string), kind="errata", freedom="E3"),
    V("v2-index-list-service-key", "v2", "index list items name the service `service` (the table's name)",
      ("index.list",), response=rw.edit_data(_service_key), kind="errata", freedom="E6"),
    V("v2-search-image-without-query", "v2", "POST search answers without data.query (its table lacks it)",
      ("search.image",), response=rw.edit_data(_without_query), kind="errata", freedom="E2"),
    V("maker-errors-4041007", "maker", "unknown paths under the Maker prefix answered with 4041007 URL Not Found",
      (UNKNOWN_PATH,), response=_maker_4041007, kind="errata", freedom="E13"),
    V("tagger-success-200", "tagger", "a tagged image answered with HTTP 200 instead of 201", (),
      response=_tagger_200, kind="errata", freedom="E21"),
    V("tagger-refusal-other-4xx", "tagger", "refusals with another 4xx status (400->422, 401->403, 404/405->400), "
      "same fail body", (), response=_tagger_other_4xx, kind="errata", freedom="E19"),
    V("tagger-refusal-200", "tagger", "refusals with HTTP 200 and the same fail body", (),
      response=_tagger_fail_200, kind="errata", freedom="E19"),
    # model
    V("boxes-moved", ANY_API, "detect and tag boxes moved by 1.5% of the image (size kept, center recomputed)",
      ("detect", "tag"), response=rw.edit_data(_boxes_moved), kind="model",
      freedom=f"{V2_DOC} / 이미지 상품 검출, 상품 태그 and {V1_DOC} / Detect, Tag: the box of an item is the model's "
              "estimate; the documents fix only its form (0 <= b0 < b1 <= 1, center the middle)"),
    V("scores-lowered", ANY_API, "detect and tag scores and tag label scores times 0.8", ("detect", "tag"),
      response=rw.edit_data(_scores_lowered), kind="model",
      freedom=f"{V2_DOC} / 이미지 상품 검출, 상품 태그 and {V1_DOC} / Detect, Tag: a score is a confidence in (0, 1], "
              "no value is promised"),
    V("tagger-confidences-lowered", "tagger", "confidences times 0.8, tag positions moved by 1.5%", (),
      response=rw.edit_data(_tagger_lowered), kind="model",
      freedom=f"{TAGGER_DOC} / Response: confidence and position in [0, 1], no value is promised"),
    V("similarity-rounded", ANY_API, "similarities rounded down to two decimals (never below the threshold asked)",
      SEARCHES, response=_similarities(_rounded), kind="model",
      freedom=f"{SEARCH_SECTIONS}: a similarity in (0, 1] at or above the threshold, no precision promised"),
    V("similarity-squared", ANY_API, "similarities on another monotone scale (squared); items below the threshold "
      "on that scale are not returned", SEARCHES, response=_similarities(_squared), kind="model",
      freedom=f"{SEARCH_SECTIONS}: the scale of similarity is the model's; only order and threshold are documented"),
    V("similarity-ties-reversed", ANY_API, "search items of equal similarity in the reverse order", SEARCHES,
      response=_similarities(_ties_reversed), kind="model",
      freedom=f"{SEARCH_SECTIONS}: items are ordered by similarity; ties have no documented order"),
    V("search-fewer-results", ANY_API, f"at most the best {FEWER_CAP} search items, whatever limit asks", SEARCHES,
      response=_similarities(_fewer), kind="model",
      freedom=f"{SEARCH_SECTIONS}: limit is the most items an answer has, not a promise of that many"),
)

BY_NAME: dict[str, Variant] = {v.name: v for v in VARIANTS}

# The combined runs of the self-test: every variant in one of them; variants of one group must not undo each other.
# (tagger-refusal-other-4xx and tagger-refusal-200 would undo each other: the second rides with the wire forms.)
GROUPS: dict[str, tuple[str, ...]] = {
    "wire": (*(v.name for v in VARIANTS if v.kind == "wire"), "tagger-refusal-200"),
    "envelope-errata": tuple(v.name for v in VARIANTS if v.kind in ("envelope", "errata")
                             and v.name != "tagger-refusal-200"),
    "model": tuple(v.name for v in VARIANTS if v.kind == "model"),
}


def variant(name: str) -> Variant:
    try:
        return BY_NAME[name]
    except KeyError:
        raise LookupError(f"no benign variant {name!r}") from None


def combine(variants: Iterable[Variant]) -> tuple[Variant, ...]:
    """The variants in the order a proxy should apply them: model and errata edits first, envelope additions next,
    wire forms last (a later edit of the body would re-encode what a wire variant wrote)."""
    return tuple(sorted(variants, key=lambda v: KINDS.index(v.kind)))
