"""Building blocks of the faults: parameter edits, image URL and image byte edits, envelope edits."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from PIL import Image

from .. import contracts, filters
from ..emulator import imaging, vision
from ..emulator.labels import LABELS
from ..emulator.tagger_labels import LABELS as TAGGER_LABELS
from .proxy import Context
from .traffic import INDEX_IMAGE_URL, Req, Resp, edit_index_field, edit_index_file, edit_query, is_url

IMAGE_PARAMS = ("path", "imageUrl")  # query/form parameters that carry an image URL (detect, tag, search.image)
UPLOAD_PARTS = ("imageFile",)
INDEX_FILE_PART, INDEX_LINK_PARAM = "file", "link"
DELIVERY_OPTIONS = ("delay", "trickle")
GENERATED = re.compile(r"^/g/(\d+)\.([a-z]+)$")
DATA_URL = re.compile(r"^(data:image/[A-Za-z0-9.+-]+;base64,)(.*)$", re.S)

UrlEdit = Callable[[str, Context], str]
BytesEdit = Callable[[bytes], bytes]


# parameters


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def clamp_int(name: str, low: int, high: int) -> Callable[[Req, Context], None]:
    """Integer parameter `name` forced into low..high (so an out-of-range value is accepted)."""

    def edit(key: str, value: str) -> str:
        if key != name or not re.fullmatch(r"[+-]?\d+", value.strip()):
            return value
        return str(min(max(int(value), low), high))

    return lambda req, ctx: req.edit_params(edit)


def clamp_fraction(name: str) -> Callable[[Req, Context], None]:
    """Number parameter `name` forced into (0, 1]: 0 and below become a tiny positive value, above 1 becomes 1."""

    def edit(key: str, value: str) -> str:
        number = _number(value) if key == name else None
        if number is None:
            return value
        return "0.000001" if number <= 0 else "1" if number > 1 else value

    return lambda req, ctx: req.edit_params(edit)


def drop_params(predicate: Callable[[str], bool]) -> Callable[[Req, Context], None]:
    return lambda req, ctx: req.edit_params(lambda k, v: None if predicate(k) else v)


def set_params(**values: str) -> Callable[[Req, Context], None]:
    def rewrite(req: Req, ctx: Context) -> None:
        for name, value in values.items():
            req.set_param(name, value)

    return rewrite


def map_param(name: str, new: Callable[[str], str]) -> Callable[[Req, Context], None]:
    return lambda req, ctx: req.edit_params(lambda k, v: new(v) if k == name else v)


def window(api: str) -> Callable[[Req, Context], None]:
    """Index list paging forced into the documented window: 0 <= start, 1 <= limit <= max, start + limit <= window."""

    def rewrite(req: Req, ctx: Context) -> None:
        params = req.params()
        start, limit = _number(params.get("start", "")), _number(params.get("limit", ""))
        if start is None or limit is None:
            return
        lim = contracts.limit(api, "index.list.limit")
        size = contracts.limit(api, "index.list.window").value
        limit = int(min(max(limit, lim.min), lim.max))
        start = int(min(max(start, 0), size - limit))
        req.edit_params(lambda k, v: str(start) if k == "start" else str(limit) if k == "limit" else v)

    return rewrite


# images


def images(url_edit: UrlEdit | None = None, bytes_edit: BytesEdit | None = None) -> Callable[[Req, Context], None]:
    """Apply the edits to every image the request names: image URL parameters, uploaded image files, the Tagger's
    image (URL or base64) and the image URLs inside index files (uploaded, or behind a link: then relayed)."""

    def rewrite(req: Req, ctx: Context) -> None:
        if url_edit:
            req.edit_params(lambda k, v: url_edit(v, ctx) if k in IMAGE_PARAMS and is_url(v) else v)
        if bytes_edit:
            for boundary, parts, part in list(req.file_parts()):
                if part.name in UPLOAD_PARTS:
                    part.data = bytes_edit(part.data)
                    req.set_form(boundary, parts)
        if req.api == "tagger":
            _tagger_image(req, ctx, url_edit, bytes_edit)
        if req.endpoint == "index.create" and url_edit:
            _index_images(req, ctx, url_edit)

    return rewrite


def _tagger_image(req: Req, ctx: Context, url_edit: UrlEdit | None, bytes_edit: BytesEdit | None) -> None:
    body = req.json()
    image = body.get("image") if isinstance(body, dict) else None
    if not isinstance(image, dict) or not isinstance(image.get("content"), str):
        return
    if image.get("type") == "url" and url_edit:
        image["content"] = url_edit(image["content"], ctx)
    elif image.get("type") == "base64" and bytes_edit:
        m = DATA_URL.match(image["content"])
        prefix, text = (m.group(1), m.group(2)) if m else ("", image["content"])
        try:
            data = base64.b64decode(text, validate=True)
        except ValueError:
            return
        image["content"] = prefix + base64.b64encode(bytes_edit(data)).decode("ascii")
    req.set_json(body)


def index_lines(edit_line: Callable[[str, Any, Context], None]) -> Callable[[Req, Context], None]:
    """Apply edit_line(api, parsed line, ctx) to every line of an index file, uploaded or behind a link."""

    def rewrite(req: Req, ctx: Context) -> None:
        api = req.api
        edit = lambda data: edit_index_file(data, lambda line: edit_line(api, line, ctx))  # noqa: E731
        for boundary, parts, part in list(req.file_parts()):
            if part.name == INDEX_FILE_PART:
                part.data = edit(part.data)
                req.set_form(boundary, parts)
        req.edit_params(lambda k, v: ctx.relay(v, lambda data, ct: (edit(data), ct))
                        if k == INDEX_LINK_PARAM and is_url(v) else v)

    return rewrite


def _index_images(req: Req, ctx: Context, url_edit: UrlEdit) -> None:
    def line(api: str, record: Any, ctx: Context) -> None:
        edit_index_field(api, INDEX_IMAGE_URL, record, lambda u: url_edit(u, ctx) if is_url(u) else u)

    index_lines(line)(req, ctx)


def without_delivery_delay(url: str, ctx: Context) -> str:
    """The image host's delay/trickle options removed (also inside a redirect's target)."""
    return edit_query(url, lambda k, v: None if k in DELIVERY_OPTIONS else
                      without_delivery_delay(v, ctx) if k == "to" and is_url(v) else v)


def without_size(url: str, ctx: Context) -> str:
    """A generated image without its padding; any other image relayed and re-encoded below the smallest cap."""
    if GENERATED.match(urlsplit(url).path):
        return edit_query(url, lambda k, v: None if k == "size" else v)
    return ctx.relay(url, lambda data, ct: (shrink(data), ct))


def as_png(url: str, ctx: Context) -> str:
    """A generated image in an unsupported format asked for as PNG; any other image relayed and converted."""
    parts = urlsplit(url)
    m = GENERATED.match(parts.path)
    if m and m.group(2).upper() not in _supported():
        return urlunsplit(parts._replace(path=f"/g/{m.group(1)}.png"))
    return ctx.relay(url, lambda data, ct: (to_supported(data), "image/png"))


def allowed_port(url: str, ctx: Context) -> str:
    """A URL naming a port the image guide refuses, relayed through the proxy's own (allowed) port."""
    port = urlsplit(url).port
    if port is None or port in _allowed_ports():
        return url
    return ctx.relay(url)


def _allowed_ports() -> set[int]:
    out: set[int] = set()
    for entry in contracts.limit("v2", "image.allowed_ports").value:
        out |= set(range(entry[0], entry[1] + 1)) if isinstance(entry, list) else {entry}
    return out


def _supported() -> set[str]:
    return {f.upper() for f in contracts.limit("v2", "image.formats").value}


def _smallest_cap() -> int:
    return min(contracts.limit("v2", "image.tag_max_bytes").value, contracts.limit("v2", "image.max_bytes").value)


def to_supported(data: bytes) -> bytes:
    """An image in an unsupported format re-encoded as PNG; anything else unchanged."""
    try:
        img = Image.open(io.BytesIO(data))
        if img.format in _supported():
            return data
        out = io.BytesIO()
        img.convert("RGB").save(out, "PNG")
        return out.getvalue()
    except (OSError, ValueError):
        return data


def shrink(data: bytes) -> bytes:
    """An image above the smallest documented cap re-encoded (padding dropped, scaled down if needed) below it."""
    cap = _smallest_cap()
    if len(data) <= cap:
        return data
    try:
        img = Image.open(io.BytesIO(data))
        fmt = img.format or "PNG"
        img = img.convert("RGB")
        while True:
            out = io.BytesIO()
            img.save(out, fmt)
            if out.tell() <= cap or min(img.size) < 64:
                return out.getvalue()
            img = img.resize((img.width // 2, img.height // 2))
    except (OSError, ValueError):
        return data


# responses


def header(resp: Resp) -> tuple[dict, dict] | None:
    """(body, header) of an NHN envelope; None for anything else."""
    body = resp.json()
    if isinstance(body, dict) and isinstance(body.get("header"), dict):
        return body, body["header"]
    return None


def result_code(resp: Resp) -> Any:
    found = header(resp)
    return found[1].get("resultCode") if found else None


def nhn_success(resp: Resp, api: str, data: Any = None) -> None:
    body: dict[str, Any] = {"header": {"isSuccessful": True, "resultCode": 0,
                                       "resultMessage": contracts.code_message(api, 0)}}
    if data is not None:
        body["data"] = data
    resp.set_json(body, status=200)


def on_code(code: int, then: Callable[[Req, Resp, Context], None]) -> Callable[[Req, Resp, Context], None]:
    """A response rewrite applied only when the target answered with resultCode `code`."""

    def rewrite(req: Req, resp: Resp, ctx: Context) -> None:
        if result_code(resp) == code:
            then(req, resp, ctx)

    return rewrite


def edit_data(edit: Callable[[Any, Req], None]) -> Callable[[Req, Resp, Context], None]:
    """edit(data, req) applied in place to the `data` of a successful NHN answer (or the Tagger's `data`)."""

    def rewrite(req: Req, resp: Resp, ctx: Context) -> None:
        body = resp.json()
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            return
        if "header" in body and body["header"].get("resultCode") != 0:
            return
        edit(body["data"], req)
        resp.set_json(body)

    return rewrite


def each_item(edit: Callable[[dict, Req], None]) -> Callable[[Req, Resp, Context], None]:
    def items(data: Any, req: Req) -> None:
        for item in data.get("items") or ():
            if isinstance(item, dict):
                edit(item, req)

    return edit_data(items)


def tagger_tags(edit: Callable[[dict], None]) -> Callable[[Req, Resp, Context], None]:
    """edit(tag) applied to every tag of every object of a successful Tagger answer."""

    def tags(data: Any, req: Req) -> None:
        for obj in data.get("objects") or ():
            for tag in obj.get("tags") or () if isinstance(obj, dict) else ():
                if isinstance(tag, dict):
                    edit(tag)

    return edit_data(tags)


# lazy servers (issue 11): filter lists, thresholds, thin items


FILTER_OPERATORS = ("equal", "!equal")


def filter_lists(pick: Callable[[list[str]], str], *, negated: bool) -> Callable[[Req, Context], None]:
    """Every filter.* list `[op:]a,b,...` (op equal or none; !equal when `negated`) cut to the one value `pick`
    chooses, so the server applies only that value of the list."""

    def edit(key: str, value: str) -> str:
        if not key.startswith("filter."):
            return value
        op, sep, rest = value.partition(":")
        prefix, body = (op + sep, rest) if sep and op in FILTER_OPERATORS else ("", value)
        values = body.split(",")
        if (op == "!equal" and bool(sep)) != negated or len(values) < 2:
            return value
        return prefix + pick(values)

    return lambda req, ctx: req.edit_params(edit)


def empty_items_when(param: str) -> Callable[[Any, Req], None]:
    """A data edit (for edit_data): no items at all whenever the request carries `param`."""

    def edit(data: Any, req: Req) -> None:
        if param in req.params() and isinstance(data.get("items"), list):
            data["items"] = []
            data["totalCount"] = 0

    return edit


def empty_items_unless(param: str) -> Callable[[Any, Req], None]:
    """A data edit (for edit_data): no items at all whenever the request leaves out `param` (its default applies)."""

    def edit(data: Any, req: Req) -> None:
        if param not in req.params() and isinstance(data.get("items"), list):
            data["items"] = []
            data["totalCount"] = 0

    return edit


def param_replaced(name: str, when: tuple[str | None, ...], value: str) -> Callable[[Req, Context], None]:
    """Parameter `name` set to `value` when its current value (None: left out) is one of `when`."""

    def rewrite(req: Req, ctx: Context) -> None:
        if req.params().get(name) in when:
            req.set_param(name, value)

    return rewrite


def filters_after_limit(fields: tuple[str, ...]) -> dict[str, Callable[..., None]]:
    """The request and response rewrites (Fault keyword arguments) of a server that filters its answer instead of
    the search: well-formed filter.* parameters are taken off the request, the target answers the best `limit`
    products unfiltered, then the items whose fields (as answered) fail the filters are dropped (too few or none)."""

    def request(req: Req, ctx: Context) -> None:
        pairs = [(k, v) for k, v in req.params().items() if k.startswith(filters.PREFIX)]
        try:
            clauses = filters.parse(pairs, fields)
        except filters.FilterError:
            return  # left to the target, which refuses it
        if clauses:
            ctx.state.setdefault("post_filters", {})[id(req)] = clauses
            req.edit_params(lambda k, v: None if k.startswith(filters.PREFIX) else v)

    def keep_matching(clauses: list[filters.Clause]) -> Callable[[Any, Req], None]:
        def edit(data: Any, req: Req) -> None:
            if isinstance(data.get("items"), list):
                data["items"] = [it for it in data["items"]
                                 if filters.matches(clauses, {f: str(it.get(f, "")) for f in fields})]
                data["totalCount"] = len(data["items"])

        return edit

    def response(req: Req, resp: Resp, ctx: Context) -> None:
        clauses = ctx.state.get("post_filters", {}).pop(id(req), None)
        if clauses:
            edit_data(keep_matching(clauses))(req, resp, ctx)

    return {"request": request, "response": response}


def first_item_only(data: bytes) -> bytes:
    """An image with several detected items reduced to the first of them in reading order (leftmost, then topmost)
    on a white canvas of the same size, so that a target searching the largest item searches that one instead."""
    try:
        decoded = imaging.decode(data)
        items = vision.detect(decoded)
        img = Image.open(io.BytesIO(data))
        fmt = img.format or "PNG"
        img = img.convert("RGB")
    except (imaging.ImageFormatError, OSError, ValueError):
        return data
    if len(items) < 2:
        return data
    first = min(items, key=lambda it: (it.box_px[0], it.box_px[1]))
    canvas = Image.new("RGB", img.size, (255, 255, 255))
    canvas.paste(img.crop(first.box_px), first.box_px[:2])
    out = io.BytesIO()
    canvas.save(out, fmt)
    return out.getvalue()


def english_after_first_item(langs: tuple[str, ...]) -> Callable[[Any, Req], None]:
    """A data edit (for edit_data) of a tag answer for a `lang` in `langs`: the labels of every item but the first
    put back into English (the emulator's label tables), as a server that translates only its first item would."""
    english = {text: texts[0] for table in LABELS.values() for texts in table.values() for text in texts[1:]}

    def edit(data: Any, req: Req) -> None:
        if req.params().get("lang") not in langs:
            return
        for item in (data.get("items") or [])[1:]:
            for tag in item.get("tags") or () if isinstance(item, dict) else ():
                for label in tag.get("labels") or () if isinstance(tag, dict) else ():
                    if isinstance(label, dict) and label.get("label") in english:
                        label["label"] = english[label["label"]]

    return edit


def chinese_for(langs: tuple[str, ...]) -> Callable[[Any, Req], None]:
    """A data edit (for edit_data) of a tag answer for a `lang` in `langs`: every label in Chinese (the emulated
    Tagger's zh name of the same Japanese text, else a fixed Chinese word), as a server that mixes ja up with zh."""
    chinese = {texts[4]: texts[3] for table in TAGGER_LABELS.values() for texts in table.values()}

    def edit(data: Any, req: Req) -> None:
        if req.params().get("lang") not in langs:
            return
        for item in data.get("items") or ():
            for tag in item.get("tags") or () if isinstance(item, dict) else ():
                for label in tag.get("labels") or () if isinstance(tag, dict) else ():
                    if isinstance(label, dict) and isinstance(label.get("label"), str):
                        label["label"] = chinese.get(label["label"], "标签")

    return edit


def first_link_for_all(data: Any, req: Req) -> None:
    """A data edit (for edit_data) of a detect answer: every item carries the first (largest) item's link, as a
    server whose links name the image but not the item would."""
    items = [it for it in data.get("items") or () if isinstance(it, dict) and "link" in it]
    for item in items[1:]:
        item["link"] = items[0]["link"]


def links_search_first_item(detect: str = "detect", link_param: str = "link") -> dict[str, Callable[..., None]]:
    """The request and response rewrites (Fault keyword arguments) of a server whose item links differ but all
    search the first (largest) item of their image: detect answers are left as they are and their other items'
    links remembered; a search with such a link is sent with the first item's link instead."""

    def response(req: Req, resp: Resp, ctx: Context) -> None:
        if req.endpoint != detect:
            return

        def remember(data: Any, req: Req) -> None:
            links = [it["link"] for it in data.get("items") or () if isinstance(it, dict) and "link" in it]
            ctx.state.setdefault("link_alias", {}).update({link: links[0] for link in links[1:]})

        edit_data(remember)(req, resp, ctx)

    def request(req: Req, ctx: Context) -> None:
        alias = ctx.state.get("link_alias", {})
        req.edit_params(lambda k, v: alias.get(v, v) if k == link_param else v)

    return {"request": request, "response": response}


def image_size(url: str, ctx: Context) -> tuple[int, int] | None:
    """(width, height) in pixels of the image behind `url` (downloaded once per URL; None when it cannot be)."""
    cache = ctx.state.setdefault("image_sizes", {})
    if url not in cache:
        try:
            got = httpx.get(url, timeout=10, follow_redirects=True)
            cache[url] = Image.open(io.BytesIO(got.content)).size
        except (httpx.HTTPError, OSError, ValueError):
            cache[url] = None
    return cache[url]


def drop_thin_items(min_px: int, image_param: str = "path", *, either: bool = True
                    ) -> Callable[[Req, Resp, Context], None]:
    """Items dropped from a detect/tag answer when one of their sides (`either`: the image guide's 'both sides'
    rule read as 'either side') or both of them are `min_px` pixels or less (box sides rounded to whole pixels)."""

    def rewrite(req: Req, resp: Resp, ctx: Context) -> None:
        url = req.params().get(image_param, "")
        size = image_size(url, ctx) if is_url(url) else None
        if size is None:
            return

        def edit(data: Any, req: Req) -> None:
            items = data.get("items")
            if not isinstance(items, list):
                return
            kept = []
            for item in items:
                try:
                    w = (item["b1"][0] - item["b0"][0]) * size[0]
                    h = (item["b1"][1] - item["b0"][1]) * size[1]
                except (KeyError, TypeError, IndexError):
                    kept.append(item)
                    continue
                if (min if either else max)(round(w), round(h)) > min_px:
                    kept.append(item)
            data["items"] = kept
            if isinstance(data.get("totalCount"), int):
                data["totalCount"] = len(kept)

        edit_data(edit)(req, resp, ctx)

    return rewrite


# lazy port rules (issue 11)


def above_allowed_port(url: str, ctx: Context) -> str:
    """A port rule that checks only the lower bound: a URL naming a port above every allowed one (12001-65535)
    relayed through the proxy's own (allowed) port, so the target fetches it."""
    port = urlsplit(url).port
    return ctx.relay(url) if port is not None and port > max(_allowed_ports()) else url


REFUSED_PORT = 1  # a port the image guide refuses (tcpmux): the target refuses the URL without a connection


def edge_ports_refused(url: str, ctx: Context) -> str:
    """A port rule with exclusive bounds and no single ports: a URL naming 80, 443 or either end of a range is
    moved to a refused port, so the target refuses it as it refuses any other port."""
    parts = urlsplit(url)
    edges = {e for entry in contracts.limit("v2", "image.allowed_ports").value
             for e in (entry if isinstance(entry, list) else [entry])}
    if parts.port not in edges:
        return url
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return urlunsplit(parts._replace(netloc=f"{host}:{REFUSED_PORT}"))


def time_order_reversed(api: str) -> Callable[[Req, Context], None]:
    """An index list that sorts time fields one way only: `order=<time field>:asc` answered as `:desc`."""
    times = [f for f in contracts.limit(api, "index.list.order_fields").value if f.endswith("Time")]

    def edit(key: str, value: str) -> str:
        field, _, direction = value.partition(":")
        return f"{field}:desc" if key == "order" and field in times and direction == "asc" else value

    return lambda req, ctx: req.edit_params(edit)


def remain_counts_finished_only(req: Req, resp: Resp, ctx: Context) -> None:
    """Maker's remainInsertCnt spent only by jobs that did not fail: the failed jobs the index list shows (noted
    in ctx.state) are given back in the services info."""
    body = resp.json()
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        return
    failed: dict[str, set] = ctx.state.setdefault("failed_jobs", {})
    items = [it for it in data.get("items") or () if isinstance(it, dict)]
    if req.endpoint == "index.list":
        for it in items:
            if it.get("status") == "failed":
                failed.setdefault(str(it.get("service")), set()).add(it.get("id"))
        return
    quota = contracts.limit("maker", "index.daily_quota").value
    for it in items:
        back = len(failed.get(str(it.get("service")), ()))
        if back and isinstance(it.get("remainInsertCnt"), int):
            it["remainInsertCnt"] = min(quota, it["remainInsertCnt"] + back)
    resp.set_json(body)


def stale_image_copy(api: str, messages: tuple[str, ...]) -> Callable[[Req, Resp, Context], None]:
    """Search by link answered from the copy detect read: the image errors (`messages`) of reading the linked
    image again turned into an empty success."""
    codes = {code for code, info in contracts.codes(api).items() if info.message in messages}

    def rewrite(req: Req, resp: Resp, ctx: Context) -> None:
        if result_code(resp) in codes:
            nhn_success(resp, api, {"query": "", "totalCount": 0, "items": []})

    return rewrite


def tagger_detection_last_only(req: Req, ctx: Context) -> None:
    """A Tagger that reads one detection value: context.detection cut to its last value."""
    body = req.json()
    context = body.get("context") if isinstance(body, dict) else None
    detection = context.get("detection") if isinstance(context, dict) else None
    if isinstance(detection, list) and len(detection) > 1:
        context["detection"] = detection[-1:]
        req.set_json(body)


def language_swapped(old: str, new: str) -> Callable[[Req, Context], None]:
    """accept-language `old` answered in language `new` (a neighbouring table mixed up)."""

    def rewrite(req: Req, ctx: Context) -> None:
        if (req.header("accept-language") or "").strip().lower() == old:
            req.set_header("accept-language", new)

    return rewrite


def times_filled_early(data: Any, req: Req) -> None:
    """An index list that stamps every time at reservation: a pending index shows startTime and finishTime."""
    pending = contracts.limit("maker", "index.statuses").value[:2]  # reserved, running
    for item in data.get("items") or ():
        if isinstance(item, dict) and item.get("status") in pending:
            item["startTime"] = item["finishTime"] = item.get("reservedTime")


def constant_color_details(tag: dict) -> None:
    """A Tagger whose colorDetails ignore the pixels: every code the same mid grey."""
    for detail in tag.get("colorDetails") or ():
        if isinstance(detail, dict):
            detail["code"] = "#808080"


# metamorphic requirements (issue 12): answers that change with the call, the format or the resolution

SHIFT = 0.05  # how far a fault moves boxes and positions: beyond every metamorphic tolerance


def image_reference(req: Req) -> str:
    """The image a detect (v1, v2: the `path` parameter) or Tagger (image.content of a url image) request names."""
    if req.api == "tagger":
        body = req.json()
        image = body.get("image") if isinstance(body, dict) else None
        return str(image.get("content", "")) if isinstance(image, dict) and image.get("type") == "url" else ""
    return next((v for k, v in req.query if k == "path"), "")


def _moved(x0: float, x1: float) -> float:
    """The shift that keeps [x0, x1] inside [0, 1]: SHIFT right, or left when there is no room."""
    return SHIFT if x1 + SHIFT <= 1 else -SHIFT if x0 - SHIFT >= 0 else 0.0


def _move_item(item: dict, scale: float | None) -> None:
    b0, b1 = item.get("b0"), item.get("b1")
    if not (isinstance(b0, list) and isinstance(b1, list) and len(b0) == len(b1) == 2):
        return
    if scale is not None:
        item["b0"], item["b1"] = [v * scale for v in b0], [v * scale for v in b1]
    else:
        dx = _moved(b0[0], b1[0])
        if dx:
            item["b0"], item["b1"] = [b0[0] + dx, b0[1]], [b1[0] + dx, b1[1]]
        else:  # as wide as the image: narrowed instead
            item["b1"] = [b1[0] - SHIFT, b1[1]]
    item["center"] = [(item["b0"][i] + item["b1"][i]) / 2 for i in (0, 1)]


def _move_position(tag: dict, scale: float | None) -> None:
    pos = tag.get("position")
    if isinstance(pos, dict) and isinstance(pos.get("x"), (int, float)):
        x = float(pos["x"])
        pos["x"] = x * scale if scale is not None else x + _moved(x, x)


def moved_when(when: Callable[[Req, Context], bool], scale: float | None = None) -> Callable[[Req, Resp, Context], None]:
    """Where `when(req, ctx)`: every detected item's box (or Tagger position) moved by SHIFT, or scaled by `scale`."""

    def rewrite(req: Req, resp: Resp, ctx: Context) -> None:
        if not when(req, ctx):
            return
        if req.api == "tagger":
            tagger_tags(lambda tag: _move_position(tag, scale))(req, resp, ctx)
        else:
            each_item(lambda item, _req: _move_item(item, scale))(req, resp, ctx)

    return rewrite


def every_second_call(req: Req, ctx: Context) -> bool:
    """True on every second request for the same image (a model whose answer changes between calls)."""
    seen = ctx.state.setdefault("calls-per-image", {})
    key = image_reference(req)
    seen[key] = seen.get(key, 0) + 1
    return seen[key] % 2 == 0


def names_image(suffix: str) -> Callable[[Req, Context], bool]:
    """True when the request's image URL ends with `suffix` (e.g. ".png", "-2x.jpg": the suite's variants)."""
    return lambda req, ctx: urlsplit(image_reference(req)).path.endswith(suffix)


def first_two_swapped(data: Any, req: Req) -> None:
    items = data.get("items") if isinstance(data, dict) else None
    if isinstance(items, list) and len(items) >= 2:
        items[0], items[1] = items[1], items[0]
