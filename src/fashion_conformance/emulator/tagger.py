"""Omnious Tagger v2.12 of the emulator: POST /tagger/v2.12/tags, every other path or method under /tagger -> 623.

Order of checks: x-api-key (612 missing, 609 wrong), accept-language (826), body size (809), JSON (824), image
(804 type, 803/802 content), context (824, detection 825), then the image: download (803; 809 too large) or
base64 (802; 809), format (805), dimensions (807, 808, then 806), and tagging. Codes, messages, limits and
enumerations come from contracts/tagger; errata E18-E21 and E301-E305 settle what the document leaves open.
Success is HTTP 201 (E21); errors are the fail envelope with a 4xx status (E19), 500 only for a fault of ours.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import math
import re
import traceback
from functools import cache
from typing import Any

import numpy as np
from scipy import ndimage
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from .. import contracts
from . import cpu, imaging, vision
from .fetch import FetchError
from .tagger_labels import COLOR_RGB, GENDER_IDS, detail_colour_name, label

log = logging.getLogger("fashion_conformance.emulator")

API = "tagger"
INTERNAL_ERROR = 500
HTTP_STATUS = {609: 401, 612: 401, 623: 404, 809: 413, INTERNAL_ERROR: 500}  # every other code: 400
BODY_SLACK = 64 * 1024  # bytes a JSON body may hold beside the base64 image (context, prefix, syntax)
MIN_COLOUR_SHARE = 0.05  # a colour covering less of the item is not reported
SAME_SHOE = 0.97  # embedding similarity at or above which two shoes are the same product (one pairIndex)
_SAMPLE_PIXELS = 16384

# The detection value each vision item type answers to; other types are reported under _OTHER_TYPES.
_DETECTION = {"TOP": "TOP", "SHIRT": "TOP", "JACKET": "TOP", "PANTS": "BOTTOM", "SKIRT": "BOTTOM",
              "DRESS": "WHOLEBODY", "SHOES": "SHOES"}
_OTHER_TYPES = {"BAG": "BAGS"}
_OTHER_DEFAULT = "ACCESSORIES"
_NOMINAL_ASPECT = {"TOP": 1.0, "SHIRT": 0.9, "JACKET": 1.2, "PANTS": 1.6, "SKIRT": 0.9, "DRESS": 1.6}


class TaggerError(Exception):
    """Answer with the fail envelope of `code`."""

    def __init__(self, code: int) -> None:
        super().__init__(str(code))
        self.code = code


def _limit(name: str) -> contracts.Limit:
    return contracts.limit(API, name)


def fail(code: int, status: int | None = None) -> JSONResponse:
    body = {"data": {}, "status": "fail", "error": {"code": code, "message": contracts.code_message(API, code)}}
    return JSONResponse(body, status_code=status or HTTP_STATUS.get(code, 400))


def routes(ctx: Any) -> list[BaseRoute]:
    """The Tagger routes; `ctx` provides `config` (EmulatorConfig) and `fetch` (fetch.fetch's signature)."""
    endpoint = contracts.endpoint(API, "tags")

    async def tags(request: Request) -> Response:
        try:
            lang = _check_headers(request, ctx.config.tagger_api_key)
            image_type, content, detection = _check_body(await _read_json(request))
            if image_type == "url":
                data = await _download(ctx, content)
            else:
                data = await cpu.run(_from_base64, content)
            result = await cpu.run(tag_image, data, image_type, detection, lang)
        except TaggerError as exc:
            return fail(exc.code)
        except Exception as exc:  # the documented envelope, never a traceback to the client
            where = traceback.extract_tb(exc.__traceback__)[-1]
            log.error("tagger tags failed: %s at %s:%d", type(exc).__name__, where.filename, where.lineno)
            return fail(INTERNAL_ERROR)
        return JSONResponse({"status": "ok", "data": result, "error": None}, status_code=201)

    unknown = _Unknown(endpoint.path)
    return [
        Route(endpoint.path, tags, methods=[endpoint.method], name="tagger.tags"),
        Route("/tagger", unknown),
        Route("/tagger/{rest:path}", unknown),
    ]


class _Unknown:
    """623 for every other path or method under /tagger. An ASGI app rather than a function, so that its Route
    matches every method, also one outside Starlette's usual list (QUERY, PROPFIND, ...)."""

    def __init__(self, tags_path: str) -> None:
        self.tags_path = tags_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await fail(623, 405 if scope["path"] == self.tags_path else 404)(scope, receive, send)


# ---------------------------------------------------------------- request

def _check_headers(request: Request, api_key: str) -> str:
    """The response language; TaggerError for a missing/wrong key or an unsupported language."""
    key = request.headers.get("x-api-key", "")
    if not key:
        raise TaggerError(612)
    if not hmac.compare_digest(key.encode(), api_key.encode()):
        raise TaggerError(609)
    lang = request.headers.get("accept-language", "").strip().lower()
    languages = _limit("tag.lang")
    if not lang:
        return languages.default
    if lang not in languages.value:
        raise TaggerError(826)
    return lang


@cache
def _body_cap() -> int:
    return math.ceil(_limit("image.max_bytes").value / 3) * 4 + BODY_SLACK


async def _read_json(request: Request) -> Any:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _body_cap():
        raise TaggerError(809)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > _body_cap():
                raise TaggerError(809)
    except ClientDisconnect:
        raise TaggerError(824) from None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise TaggerError(824) from None


def _check_body(body: Any) -> tuple[str, str, list[str]]:
    """(image type, image content, detection list) of a well-formed body; TaggerError otherwise."""
    if not isinstance(body, dict):
        raise TaggerError(824)
    image = body.get("image")
    image_type = image.get("type") if isinstance(image, dict) else None
    if not isinstance(image_type, str) or image_type not in _limit("tag.image_types").value:
        raise TaggerError(804)
    content = image.get("content")
    if not isinstance(content, str) or not content:
        raise TaggerError(803 if image_type == "url" else 802)
    context = body.get("context")
    if context is not None and not isinstance(context, dict):
        raise TaggerError(824)
    detection = (context or {}).get("detection") or []
    allowed = _limit("tag.detection").value
    if not isinstance(detection, list) or not all(isinstance(d, str) and d in allowed for d in detection):
        raise TaggerError(825)
    if contracts.validate(API, "tags", "body", body):
        raise TaggerError(824)
    return image_type, content, detection


async def _download(ctx: Any, url: str) -> bytes:
    config = ctx.config
    try:
        fetched = await ctx.fetch(url, max_bytes=_limit("image.max_bytes").value, deadline_s=config.fetch_deadline_s,
                                  allow_private=config.allow_private_image_hosts)
    except FetchError as exc:
        raise TaggerError(809 if exc.kind == "too_large" else 803) from None
    return fetched.data


@cache
def _prefix() -> re.Pattern[str]:
    return re.compile(_limit("tag.base64_prefix").value)


def _from_base64(content: str) -> bytes:
    """The image bytes of base64 content, with or without the data:image/...;base64, prefix (E20)."""
    match = _prefix().match(content)
    text = "".join((content[match.end():] if match else content).split())
    max_bytes = _limit("image.max_bytes").value
    if len(text) > math.ceil(max_bytes / 3) * 4:
        raise TaggerError(809)
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise TaggerError(802) from None
    if not data:
        raise TaggerError(802)
    if len(data) > max_bytes:
        raise TaggerError(809)
    return data


# ---------------------------------------------------------------- image

def tag_image(data: bytes, image_type: str, detection: list[str], lang: str) -> dict[str, Any]:
    """The `data` member of a success body for an image (CPU work: run it off the event loop)."""
    try:
        img = imaging.decode(data, allowed=tuple(_limit("image.formats").value))
    except imaging.ImageFormatError as exc:
        if exc.kind == "unsupported":
            raise TaggerError(805) from None
        if exc.kind == "bomb":
            raise TaggerError(808) from None
        raise TaggerError(803 if image_type == "url" else 802) from None
    _check_dimensions(img.width, img.height)
    return _data(img, vision.detect(img), detection, lang)


def _check_dimensions(width: int, height: int) -> None:
    short, long = min(width, height), max(width, height)
    if short < _limit("image.min_side_px").min:
        raise TaggerError(807)
    if long > _limit("image.max_side_px").max:
        raise TaggerError(808)
    if long / short > _limit("image.max_aspect_ratio").max:
        raise TaggerError(806)


def _data(img: imaging.Decoded, items: list[vision.Item], detection: list[str], lang: str) -> dict[str, Any]:
    """imageInfo, genderInfo, objects (NODETC when empty) and, for an explicit detection, notMatchedObject."""
    wanted = set(detection)
    opt_in = set(_limit("tag.detection_opt_in").value)
    kept = [it for it in items if wanted or _DETECTION.get(it.type) not in opt_in]
    pairs = _pair_indices(img, [it for it in kept if it.type == "SHOES"])
    background = _background(img.rgb)
    objects: dict[str, list[dict]] = {}
    others: dict[str, list[dict]] = {}
    for it in kept:
        det = _DETECTION.get(it.type)
        target = objects if not wanted or det in wanted else others
        target.setdefault(_object_type(it.type), []).append(_tag(img, it, background, pairs.get(id(it)), lang))
    data: dict[str, Any] = {
        "imageInfo": [label("imageInfo", "product-only", lang)] if items else [],
        "genderInfo": {"id": GENDER_IDS["unknown"], "name": "unknown"},  # no models on product photos
        "objects": [{"type": t, "tags": tags} for t, tags in objects.items()]
        or [{"type": _limit("tag.no_detection_type").value, "tags": []}],
    }
    if wanted:
        data["notMatchedObject"] = [{"type": t, "tags": tags} for t, tags in others.items()]
    return data


def _object_type(item_type: str) -> str:
    det = _DETECTION.get(item_type)
    if det is not None:
        return _limit("tag.detection_object_type").value[det]
    return _OTHER_TYPES.get(item_type, _OTHER_DEFAULT)


def _pair_indices(img: imaging.Decoded, shoes: list[vision.Item]) -> dict[int, int]:
    """pairIndex per shoe (by id()): identical shoes share one, others count up from 0 (at most the maximum)."""
    top = _limit("tag.pair_index").max
    vectors: list[np.ndarray] = []
    indices: dict[int, int] = {}
    groups: list[int] = []
    for shoe in shoes:
        vector = vision.embed(img, shoe)
        same = [g for v, g in zip(vectors, groups, strict=True) if float(vision.similarity(vector, v)) >= SAME_SHOE]
        group = same[0] if same else min(top, len(set(groups)))
        vectors.append(vector)
        groups.append(group)
        indices[id(shoe)] = group
    return indices


# ---------------------------------------------------------------- one item

def _tag(img: imaging.Decoded, item: vision.Item, background: np.ndarray, pair: int | None,
         lang: str) -> dict[str, Any]:
    a = vision.analyze(img, item)
    colours = _colours(img, item, background)
    top = colours[0][0]
    seed = f"{item.box_px}|{item.type}|{top}|{a.pattern}"
    kind = item.type if item.type in _NOMINAL_ASPECT or item.type in ("SHOES", "BAG") else "OTHER"
    category, item_key = _category_item(kind, a, top)
    ratio = a.aspect / _NOMINAL_ASPECT.get(kind, 1.0)

    def scored(attribute: str, key: str, confidence: float | None = None) -> dict[str, Any]:
        value = confidence if confidence is not None else _confidence(seed, attribute)
        return {**label(attribute, key, lang), "confidence": round(min(1.0, max(0.0, value)), 6)}

    tag: dict[str, Any] = {
        "category": label("category", category, lang),
        "position": {"x": round(item.center[0], 6), "y": round(item.center[1], 6)},
    }
    if pair is not None:
        tag["pairIndex"] = pair
    tag["item"] = scored("item", item_key, item.score)
    tag["colors"] = [scored("color", name, share) for name, share, _, _ in colours]
    tag["colorDetails"] = [
        {"code": "#{:02x}{:02x}{:02x}".format(*rgb), "name": detail_colour_name(tone, name, lang),
         "pixelFraction": round(share, 6)}
        for name, share, rgb, tone in colours
    ]
    if kind == "SHOES":
        tag.update(_shoe_attributes(a, category, scored))
        return tag
    tag["prints"] = [scored("print", a.pattern, a.pattern_score)]
    tag["looks"] = [scored("look", _look(kind, top, a.pattern))]
    tag["textures"] = [scored("texture", _texture(kind, item_key, top))]
    tag["details"] = [scored("detail", d) for d in _details(kind, top, a.pattern)]
    if kind in _NOMINAL_ASPECT:
        tag.update(_garment_attributes(kind, item_key, ratio, a.flare, seed, scored))
    return tag


def _category_item(kind: str, a: vision.Analysis, top: str) -> tuple[str, str]:
    if kind == "TOP":
        return "top", "sleeveless-top" if a.flare > 1.1 else "sweater" if a.pattern != "solid" else "t-shirt"
    if kind == "SHIRT":
        return "shirt", "shirt" if a.pattern in ("stripe", "check") else "blouse"
    if kind == "JACKET":
        if top in ("black", "navy", "gray"):
            return "jacket", "blazer"
        return "jacket", "bomber-jacket" if top in ("khaki", "green") else "balmacaan-jacket"
    if kind == "PANTS":
        if top in ("blue", "navy", "sky-blue"):
            return "pants", "jeans"
        return "pants", "shorts" if a.aspect < 1.0 else "wide-pants" if a.flare > 1.3 else "slacks"
    if kind == "SKIRT":
        return "skirt", "mini-skirt" if a.aspect < 0.6 else "a-line-skirt" if a.flare > 1.3 else "pencil-skirt"
    if kind == "DRESS":
        return "dress", "maxi-dress" if a.aspect > 2.0 else "a-line-dress" if a.flare > 1.3 else "shift-dress"
    if kind == "SHOES":
        if a.aspect > 0.8:
            return "boots", "ankle-boots" if a.aspect < 1.3 else "long-boots"
        return "sneakers", "low-top-sneakers" if a.aspect > 0.4 else "slip-on"
    if kind == "BAG":
        return "bag", "tote-bag" if a.aspect >= 1.0 else "shoulder-bag"
    return "accessory", "accessory"


def _look(kind: str, top: str, pattern: str) -> str:
    if kind in ("SKIRT", "DRESS") or top in ("pink", "purple"):
        return "feminine"
    if pattern == "solid" and top in ("black", "navy", "gray") and kind in ("SHIRT", "JACKET", "PANTS"):
        return "formal"
    if pattern == "check":
        return "street"
    return "sporty" if kind == "SHOES" else "casual"


def _texture(kind: str, item_key: str, top: str) -> str:
    if kind == "PANTS" and top in ("blue", "navy", "sky-blue"):
        return "denim"
    if kind in ("SHOES", "BAG") and top in ("black", "brown"):
        return "leather"
    if item_key == "sweater":
        return "knit"
    return "synthetic/polyester" if kind == "JACKET" else "cotton"


def _details(kind: str, top: str, pattern: str) -> list[str]:
    if kind in ("SHIRT", "JACKET"):
        return ["buttoned"]
    if kind == "BAG":
        return ["zipper"]
    if kind == "PANTS":
        return ["pocket"]
    if kind == "SKIRT" and pattern == "stripe":
        return ["pleats"]
    return ["ribbon"] if kind == "DRESS" and top == "pink" else []


def _garment_attributes(kind: str, item_key: str, ratio: float, flare: float, seed: str, scored) -> dict[str, Any]:
    if _DETECTION[kind] == "TOP":
        length = "cropped" if ratio < 0.8 else "half" if ratio < 1.2 else "long"
    else:
        length = "mini" if ratio < 0.7 else "knee" if ratio < 0.9 else "midi" if ratio < 1.1 else "maxi"
    fit = "skinny" if ratio > 1.2 else "regular" if ratio > 0.9 else "loose" if ratio > 0.7 else "oversized"
    shape = ("wide" if kind == "PANTS" else "a-line") if flare > 1.3 else "tapered" if flare < 0.8 else "straight"
    out = {"length": scored("length", length), "fit": scored("fit", fit), "shape": scored("shape", shape)}
    if kind in ("TOP", "SHIRT", "JACKET", "DRESS"):
        if kind == "JACKET" or (kind == "SHIRT" and ratio >= 1.0):
            sleeve = "long-sleeve"
        else:
            sleeve = "sleeveless" if kind == "DRESS" or item_key == "sleeveless-top" else "short-sleeve"
        if kind == "SHIRT":
            neck = "collar"
        elif kind == "JACKET":
            neck = _pick(seed, "neckLine", ("collar", "hood"))
        else:
            neck = _pick(seed, "neckLine", ("round-neck", "v-neck"))
        out["sleeveLength"] = scored("sleeveLength", sleeve)
        out["neckLine"] = scored("neckLine", neck)
    return {k: out[k] for k in ("length", "sleeveLength", "neckLine", "fit", "shape") if k in out}


def _shoe_attributes(a: vision.Analysis, category: str, scored) -> dict[str, Any]:
    heel = "flat" if a.aspect < 0.5 else "low(1~3)" if a.aspect < 0.7 else "middle(3~7)" if a.aspect < 1.0 else "high(7~)"
    heel_shape = {"flat": "block", "low(1~3)": "ball", "middle(3~7)": "block", "high(7~)": "stiletto"}[heel]
    if category == "boots":
        sole = "platform"
    else:
        sole = "chunky-sneaker" if a.aspect > 0.45 else "flat-sole"
    toe = "pointed-toe" if heel == "high(7~)" else "square-toe" if a.flare > 2.5 else "round-toe"
    return {"heelHeight": scored("heelHeight", heel), "toeType": scored("toeType", toe),
            "heelShape": scored("heelShape", heel_shape), "soleType": scored("soleType", sole)}


def _confidence(seed: str, attribute: str) -> float:
    """A deterministic confidence in [0.55, 0.98] for an attribute of one item."""
    digest = hashlib.blake2b(f"{seed}|{attribute}".encode(), digest_size=8).digest()
    return 0.55 + 0.43 * int.from_bytes(digest, "big") / 2**64


def _pick(seed: str, attribute: str, options: tuple[str, ...]) -> str:
    digest = hashlib.blake2b(f"{seed}|{attribute}|pick".encode(), digest_size=8).digest()
    return options[int.from_bytes(digest, "big") % len(options)]


# ---------------------------------------------------------------- colour

def _background(rgb: np.ndarray) -> np.ndarray:
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    return np.median(border, axis=0)


_COLOURS = tuple(COLOR_RGB)
_COLOURS_LAB = vision.srgb_to_lab(np.array([COLOR_RGB[c] for c in _COLOURS]))


def _colours(img: imaging.Decoded, item: vision.Item,
             background: np.ndarray) -> list[tuple[str, float, tuple[int, int, int], str | None]]:
    """Up to three (colour, pixel share, mean RGB, tone) of the item's foreground, largest share first."""
    sx, sy = img.scale
    x0, y0, x1, y1 = item.box_px
    crop = img.rgb[int(y0 / sy):max(int(y0 / sy) + 1, math.ceil(y1 / sy)),
                   int(x0 / sx):max(int(x0 / sx) + 1, math.ceil(x1 / sx))]
    step = max(1, math.ceil(math.sqrt(crop.shape[0] * crop.shape[1] / _SAMPLE_PIXELS)))
    crop = crop[::step, ::step]
    mask = (np.abs(crop.astype(np.int32) - background) > vision.FOREGROUND_DISTANCE).any(axis=2)
    inner = ndimage.binary_erosion(mask)
    mask = inner if inner.sum() >= max(1, mask.sum() // 4) else mask
    pixels = crop[mask] if mask.any() else crop.reshape(-1, 3)
    lab = vision.srgb_to_lab(pixels)
    nearest = ((lab[:, None, :] - _COLOURS_LAB[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    shares = np.bincount(nearest, minlength=len(_COLOURS)) / len(nearest)
    order = [int(i) for i in np.argsort(-shares, kind="stable")[: _limit("tag.colors_max_items").max]]
    chosen = [i for i in order if shares[i] >= MIN_COLOUR_SHARE] or order[:1]
    out = []
    for i in chosen:
        mean = pixels[nearest == i].mean(axis=0)
        lightness = vision.srgb_to_lab(mean[None, :])[0, 0] - _COLOURS_LAB[i, 0]
        tone = "light" if lightness > 10 else "dark" if lightness < -10 else None
        rgb = tuple(int(round(v)) for v in mean)
        out.append((_COLOURS[i], float(shares[i]), rgb, tone))
    return out

