"""Shared pieces of the Tagger conformance tests: the drawn scene, request builders, response walkers, checks.

Every fact of the API (path, languages, detection values, types, limits, codes) comes from contracts/tagger.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, settings

from fashion_conformance import checks, contracts
from fashion_conformance.clients import ApiClient, Exchange
from fashion_conformance.imagehost.factory import ItemSpec, encode, render

API = "tagger"
ENDPOINT = "tags"


def limit(name: str) -> contracts.Limit:
    return contracts.limit(API, name)


LANGS: tuple[str, ...] = tuple(limit("tag.lang").value)
DEFAULT_LANG: str = limit("tag.lang").default
IMAGE_TYPES: tuple[str, ...] = tuple(limit("tag.image_types").value)
DETECTION: tuple[str, ...] = tuple(limit("tag.detection").value)
DETECTION_TYPE: dict[str, str] = dict(limit("tag.detection_object_type").value)
OBJECT_TYPES: tuple[str, ...] = tuple(limit("tag.object_types").value)
NODETC: str = limit("tag.no_detection_type").value
SHOES: str = DETECTION_TYPE["SHOES"]
CODES: frozenset[int] = frozenset(contracts.endpoint(API, ENDPOINT).codes)
AUTH_HTTP_STATUSES = (401, 403)  # E19: an auth refusal with either status may carry any body

FUZZ = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# ---------------------------------------------------------------- the scene: items drawn where the suite knows

W, H = 800, 520
SHIRT = ItemSpec("shirt", (20, 20, 200, 220), (200, 30, 30))
PANTS = ItemSpec("pants", (240, 20, 380, 300), (30, 60, 180), "stripe")
SKIRT = ItemSpec("skirt", (420, 20, 580, 170), (240, 150, 180))
DRESS = ItemSpec("dress", (620, 20, 780, 320), (40, 140, 60), "dot")
BAG = ItemSpec("bag", (420, 200, 580, 330), (150, 100, 50), "check")
SHOE_A1 = ItemSpec("shoe", (20, 380, 180, 450), (30, 30, 30))
SHOE_A2 = ItemSpec("shoe", (220, 380, 380, 450), (30, 30, 30))  # the same shoe as SHOE_A1
SHOE_B = ItemSpec("shoe", (420, 380, 580, 450), (240, 130, 30))
SCENE_ITEMS: tuple[ItemSpec, ...] = (SHIRT, PANTS, SKIRT, DRESS, BAG, SHOE_A1, SHOE_A2, SHOE_B)
# The detection value each drawn item answers to (None: no detection value names bags).
KIND: dict[ItemSpec, str | None] = {SHIRT: "TOP", PANTS: "BOTTOM", SKIRT: "BOTTOM", DRESS: "WHOLEBODY", BAG: None,
                                    SHOE_A1: "SHOES", SHOE_A2: "SHOES", SHOE_B: "SHOES"}
SCENE_PNG: bytes = encode(render(W, H, SCENE_ITEMS), "png")

# One garment per item: a flat colour and a strong stripe (print checks).
SOLID_TOP = ItemSpec("shirt", (60, 40, 260, 280), (30, 60, 180))
STRIPED_TOP = ItemSpec("shirt", (60, 40, 260, 280), (200, 30, 30), "stripe")


def single(spec: ItemSpec, fmt: str = "png", size: tuple[int, int] = (320, 320)) -> bytes:
    return encode(render(size[0], size[1], [spec]), fmt)


def blank(width: int = 320, height: int = 320, fmt: str = "png") -> bytes:
    """A plain white picture: no fashion item at all."""
    return encode(render(width, height, []), fmt)


def plain_item(width: int, height: int, fmt: str = "png") -> bytes:
    """A picture of `width` x `height` px holding one coloured rectangle (a margin of at least one pixel)."""
    m = max(1, min(width, height) // 8)
    return encode(render(width, height, [ItemSpec("rect", (m, m, width - m, height - m), (40, 90, 160))]), fmt)


# ---------------------------------------------------------------- requests

def data_url(data: bytes, fmt: str = "png") -> str:
    """base64 content with the prefix the document asks for (E20: the suite always sends it)."""
    return f"data:image/{fmt};base64," + base64.b64encode(data).decode("ascii")


def url_image(url: str) -> dict[str, str]:
    return {"type": "url", "content": url}


def b64_image(data: bytes, fmt: str = "png") -> dict[str, str]:
    return {"type": "base64", "content": data_url(data, fmt)}


def body(image: dict[str, Any], **context: Any) -> dict[str, Any]:
    """A request body; context members only when given."""
    out: dict[str, Any] = {"image": image}
    if context:
        out["context"] = context
    return out


def post(client: ApiClient, payload: Any = None, *, lang: str | None = None, content: bytes | None = None,
         headers: dict[str, str] | None = None, **kwargs: Any) -> Exchange:
    """POST /tags with a JSON body (or raw `content`), optionally with accept-language."""
    sent = dict(headers or {})
    if lang is not None:
        sent["accept-language"] = lang
    if content is not None:
        sent.setdefault("content-type", "application/json")
        return client.call(ENDPOINT, content=content, headers=sent, **kwargs)
    return client.call(ENDPOINT, json=payload, headers=sent, **kwargs)


def tagged(client: ApiClient, payload: Any, *, lang: str | None = None) -> tuple[Exchange, dict[str, Any]]:
    """POST a request that must be tagged; the exchange and its `data` (success schema checked)."""
    ex = post(client, payload, lang=lang)
    return ex, checks.success(ex)


def tagged_envelope(client: ApiClient, payload: Any) -> tuple[Exchange, dict[str, Any]]:
    """POST a request that must be tagged; the exchange and its `data`, checked only as far as
    TAGGER-RESPONSE-SUCCESS-ENVELOPE goes (status ok, a data object): the fields inside are left to the tests
    of their own requirements, so a broken field fails that requirement instead of blocking every test."""
    ex = post(client, payload)
    body = ex.json if isinstance(ex.json, dict) else {}
    checks.that(ex, body.get("status") == "ok" and isinstance(body.get("data"), dict),
                "a request that must be tagged is answered with status ok and a data object")
    return ex, body["data"]


# ---------------------------------------------------------------- responses

def objects(data: dict[str, Any], member: str = "objects") -> dict[str, list[dict[str, Any]]]:
    """type -> tags of one member (objects or notMatchedObject); types merged if listed twice."""
    out: dict[str, list[dict[str, Any]]] = {}
    for obj in data.get(member) or []:
        out.setdefault(obj["type"], []).extend(obj["tags"])
    return out


def all_tags(data: dict[str, Any], member: str = "objects") -> list[tuple[str, dict[str, Any]]]:
    return [(t, tag) for t, tags in objects(data, member).items() for tag in tags]


def walk(value: Any, key: str) -> Iterator[Any]:
    """Every value stored under `key` anywhere in `value`, in document order."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == key:
                yield v
            yield from walk(v, key)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v, key)


def located(tag: dict[str, Any], items: tuple[ItemSpec, ...] = SCENE_ITEMS,
            size: tuple[int, int] = (W, H)) -> ItemSpec | None:
    """The drawn item whose box holds the tag's position (box ends inclusive), or None."""
    x, y = tag["position"]["x"] * size[0], tag["position"]["y"] * size[1]
    for spec in items:
        x0, y0, x1, y1 = spec.box
        if x0 <= x <= x1 and y0 <= y <= y1:
            return spec
    return None


def documented(objects: Any, *keys: str) -> Any:
    """Each object reduced to the documented `keys` it has (a field the table does not list is no failure)."""
    if not isinstance(objects, list):
        return objects
    return [{k: o[k] for k in keys if k in o} if isinstance(o, dict) else o for o in objects]


def box_names(specs: Any) -> list[str]:
    return sorted(f"{s.kind}@{s.box}" for s in specs if s is not None)


# ---------------------------------------------------------------- refusals

CODE_PATH = "error/code: "  # where the error schema's code list (E301) reports an unlisted code


def fail_envelope(ex: Exchange) -> int:
    """A refusal in the documented fail envelope (Response; error example: status fail, data {}, error {code - a
    number, message}); returns the code. Which code it is (the vendor's list, E301: listed_code) and the HTTP status
    (E19: no 5xx, not_5xx) are other entries' checks, so they are not asserted here."""
    body_ = ex.json
    checks.that(ex, isinstance(body_, dict) and body_.get("status") == "fail",
                "tagger tags: expected a refusal with status \"fail\"")
    errors = [e for e in contracts.validate(API, ENDPOINT, "error", body_) if not e.startswith(CODE_PATH)]
    checks.that(ex, not errors, "tagger tags: the fail envelope breaks its schema: " + "; ".join(errors[:5]))
    code = body_["error"]["code"]
    checks.that(ex, isinstance(code, int) and not isinstance(code, bool), "tagger tags: error.code is a number")
    return code


def listed_code(ex: Exchange, code: int) -> None:
    """E301: error.code is one of the codes of the vendor's error page (codes.yaml)."""
    checks.that(ex, code in CODES, f"tagger tags: error.code {code} is none of the vendor's codes {sorted(CODES)} (E301)")


def not_5xx(ex: Exchange) -> None:
    """E19: a refusal caused by the request is never answered with HTTP 5xx."""
    checks.that(ex, ex.status < 500, f"tagger tags: a refusal of the request must not be HTTP {ex.status} (5xx)")


def auth_refused(ex: Exchange, code: int) -> None:
    """E19: never status ok; HTTP 401/403 with any body passes, otherwise (another status, 200 included: the
    document gives none) the fail envelope with `code`."""
    body_ = ex.json if isinstance(ex.json, dict) else {}
    checks.that(ex, body_.get("status") != "ok", "tagger tags: a request without a valid x-api-key must never be tagged")
    if ex.status in AUTH_HTTP_STATUSES:
        return
    checks.error(ex, code)
