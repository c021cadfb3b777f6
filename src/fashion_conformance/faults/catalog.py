"""The fault catalog: each fault is one way a deployment can deviate from the documents, the rewrite that makes
the emulator behave that way, and the requirement IDs (contracts/requirements) the suite must report as failed."""

from __future__ import annotations

import secrets as pysecrets
from typing import Any

from .. import contracts
from . import rewrites as rw
from .proxy import UNKNOWN_PATH, Context, Fault
from .traffic import INDEX_STATUS, Req, Resp, edit_index_field

SEARCHES = {"v1": ("search.product", "search.image"), "v2": ("search.product", "search.link", "search.image")}
IMAGE_ENDPOINTS = {"v1": ("detect", "tag"), "v2": ("detect", "tag", "search.image")}
FILTER_PREFIX = "filter."
TAGGER_AUTH_CODES = (609, 612)


# request rewrites


def _right_appkey(req: Req, ctx: Context) -> None:
    """Every appKey path segment replaced by the right one."""
    prefix = contracts.api_info(req.api)["prefix"].split("{")[0]
    rest = req.path[len(prefix):]
    _, sep, tail = rest.partition("/")
    req.path = prefix + ctx.keys["appkey"] + sep + tail


def _right_secret(req: Req, ctx: Context) -> None:
    _right_appkey(req, ctx)
    req.set_header("authorization", ctx.keys["secret_key"])


def _right_api_key(req: Req, ctx: Context) -> None:
    req.set_header("x-api-key", ctx.keys["api_key"])


def _english(req: Req, ctx: Context) -> None:
    req.set_header("accept-language", "en")


def _tagger_no_detection(req: Req, ctx: Context) -> None:
    body = req.json()
    if isinstance(body, dict) and isinstance(body.get("context"), dict) and "detection" in body["context"]:
        del body["context"]["detection"]
        req.set_json(body)


def _enable_all(api: str, record: Any, ctx: Context) -> None:
    edit_index_field(api, INDEX_STATUS, record, lambda s: "enable" if s == "disable" else s)


def _delete_as_get(req: Req, ctx: Context) -> None:
    req.method = "GET"


# response rewrites


def _header_types(field: str, convert) -> Any:
    def rewrite(req: Req, resp: Resp, ctx: Context) -> None:
        found = rw.header(resp)
        if found and field in found[1]:
            found[1][field] = convert(found[1][field])
            resp.set_json(found[0])

    return rewrite


def _http_status_on_error(status_of) -> Any:
    def rewrite(req: Req, resp: Resp, ctx: Context) -> None:
        code = rw.result_code(resp)
        if isinstance(code, int) and code < 0:
            resp.status = status_of(code)

    return rewrite


def _recode(new_code: int, success: bool | None = None, message: str | None = None) -> Any:
    def rewrite(req: Req, resp: Resp, ctx: Context) -> None:
        body, head = rw.header(resp)
        head["resultCode"] = new_code
        if success is not None:
            head["isSuccessful"] = success
        if message is not None:
            head["resultMessage"] = message
        resp.set_json(body)

    return rewrite


def _succeed(data_of=None) -> Any:
    def rewrite(req: Req, resp: Resp, ctx: Context) -> None:
        rw.nhn_success(resp, req.api, data_of(req) if data_of else None)

    return rewrite


def _error_message(req: Req, resp: Resp, ctx: Context) -> None:
    found = rw.header(resp)
    if found and isinstance(found[1].get("resultCode"), int) and found[1]["resultCode"] < 0:
        found[1]["resultMessage"] = "Error"
        resp.set_json(found[0])


def _success_message(req: Req, resp: Resp, ctx: Context) -> None:
    found = rw.header(resp)
    if found and found[1].get("resultCode") == 0:
        found[1]["resultMessage"] = "OK"
        resp.set_json(found[0])


def _empty_search(req: Req) -> dict:
    return {"query": "", "totalCount": 0, "items": []}


def _sort_ascending(data: Any, req: Req) -> None:
    data["items"] = sorted(data.get("items") or [], key=lambda i: i.get("similarity", 0))


def _below_threshold(name: str):
    def edit(data: Any, req: Req) -> None:
        threshold = rw._number(req.params().get(name, ""))
        items = data.get("items") or []
        if threshold is not None and items:
            items[-1]["similarity"] = threshold / 2

    return edit


def _over_limit(data: Any, req: Req) -> None:
    limit = rw._number(req.params().get("limit", ""))
    items = data.get("items") or []
    if limit is not None and items and len(items) >= limit:
        items.append(dict(items[0]))
        data["totalCount"] = len(items)


def _count_plus_one(data: Any, req: Req) -> None:
    if isinstance(data.get("totalCount"), int):
        data["totalCount"] += 1


def _swap_box(item: dict, req: Req) -> None:
    item["b0"], item["b1"] = item.get("b1"), item.get("b0")


def _shift_center(item: dict, req: Req) -> None:
    center = item.get("center")
    if isinstance(center, list) and len(center) == 2:
        item["center"] = [min(1.0, center[0] + 0.2), center[1]]


def _percent_geometry(item: dict, req: Req) -> None:
    for key in ("center", "b0", "b1"):
        if isinstance(item.get(key), list):
            item[key] = [v * 100 for v in item[key]]


def _narrowest_first(data: Any, req: Req) -> None:
    items = data.get("items") or []
    data["items"] = sorted(items, key=lambda i: i["b1"][0] - i["b0"][0])


def _counts_plus_one(key: str):
    def edit(data: Any, req: Req) -> None:
        for item in data.get("items") or ():
            if isinstance(item.get(key), int):
                item[key] += 1

    return edit


def _document_count_plus_one(data: Any, req: Req) -> None:
    for target in [data, *(data.get("items") or [])]:
        if isinstance(target, dict) and isinstance(target.get("documentCount"), int):
            target["documentCount"] += 1


def _rename_items(item: dict, req: Req) -> None:
    if isinstance(item.get("name"), str):
        item["name"] += " (stale)"


def _drop_field(key: str):
    def edit(data: Any, req: Req) -> None:
        for item in data.get("items") or ():
            item.pop(key, None)
        data.pop(key, None)

    return edit


def _confidence_over_one(tag: dict) -> None:
    item = tag.get("item")
    if isinstance(item, dict) and isinstance(item.get("confidence"), int | float):
        item["confidence"] = item["confidence"] + 1.0


def _position_out_of_range(tag: dict) -> None:
    position = tag.get("position")
    if isinstance(position, dict) and isinstance(position.get("x"), int | float):
        position["x"] = position["x"] + 1.0


def _tagger_ok_on_auth_failure(req: Req, resp: Resp, ctx: Context) -> None:
    body = resp.json()
    error = body.get("error") if isinstance(body, dict) else None
    if resp.status in (401, 403) or (isinstance(error, dict) and error.get("code") in TAGGER_AUTH_CODES):
        resp.set_json({"status": "ok", "data": {"imageInfo": [], "objects": []}, "error": None}, status=201)


def _tagger_5xx(req: Req, resp: Resp, ctx: Context) -> None:
    body = resp.json()
    if isinstance(body, dict) and body.get("status") == "fail":
        resp.status = 500


def _tagger_error_data_null(req: Req, resp: Resp, ctx: Context) -> None:
    body = resp.json()
    if isinstance(body, dict) and body.get("status") == "fail":
        body["data"] = None
        resp.set_json(body)


def _tagger_error_code_unlisted(req: Req, resp: Resp, ctx: Context) -> None:
    """Every refusal keeps the fail envelope but carries a code none of the vendor's page lists (E301)."""
    body = resp.json()
    if isinstance(body, dict) and body.get("status") == "fail" and isinstance(body.get("error"), dict):
        body["error"]["code"] = 999
        resp.set_json(body)


def _new_index(key: str):
    return lambda req: {key: pysecrets.token_hex(8)}


def _nhn_http_status(code: int) -> int:
    return {-41000: 401, -41005: 401, -42000: 404, -40050: 404, -40090: 404, -42010: 409}.get(code, 400)


# the catalog

F = Fault
CATALOG: tuple[Fault, ...] = (
    # envelopes
    F("v2-resultcode-string", "v2", "header.resultCode sent as a JSON string ('0', '-40000')",
      ("V2-ENVELOPE-JSON-HEADER", "V2-SERVICE-LIST-FIELDS", "V2-SERVICE-GET-FIELDS"),
      response=_header_types("resultCode", str)),
    F("v1-issuccessful-string", "v1", "header.isSuccessful sent as a JSON string ('true', 'false')",
      ("V1-ENVELOPE-HEADER-TYPES", "V1-SERVICE-LIST-FIELDS"),
      response=_header_types("isSuccessful", lambda v: str(v).lower())),
    F("maker-resultcode-string", "maker", "header.resultCode sent as a JSON string",
      ("MAKER-ENVELOPE-HEADER-TYPES", "MAKER-SERVICE-LIST-FIELDS"),
      response=_header_types("resultCode", str)),
    F("v2-error-http-status", "v2", "NHN errors answered with an HTTP 4xx status instead of 200",
      ("V2-ENVELOPE-HTTP-200", "V2-AUTH-WRONG-SECRET-KEY", "V2-SERVICE-GET-NOT-EXIST-42000"),
      response=_http_status_on_error(_nhn_http_status)),
    F("maker-error-http-status", "maker", "NHN errors answered with HTTP 400 instead of 200",
      ("MAKER-ENVELOPE-HTTP-200", "MAKER-INDEX-LIST-LIMIT-RANGE", "MAKER-INDEX-LIST-SERVICE-42000"),
      response=_http_status_on_error(lambda code: 400)),
    F("v2-duplicate-code-undocumented", "v2", "a duplicate service name answered with the undocumented -42011",
      ("V2-SERVICE-CREATE-DUPLICATE-42010", "V2-ENVELOPE-CODE-TABLE"), ("service.create",),
      response=rw.on_code(-42010, _recode(-42011))),
    F("v1-error-message-wrong", "v1", "every error carries resultMessage 'Error' instead of the documented message",
      ("V1-ENVELOPE-ERROR", "V1-SERVICE-DELETE-NOT-FOUND-42000", "V1-SEARCH-LIMIT-RANGE"),
      response=_error_message),
    F("v2-success-message", "v2", "successes carry resultMessage 'OK' instead of 'SUCCESS'",
      ("V2-ENVELOPE-SUCCESS", "V2-SERVICE-LIST-FIELDS"), response=_success_message),
    F("v1-unknown-path-code", "v1", "an unknown path under the v1 prefix answered with -40400, a code v1 lacks (E13)",
      ("V1-ENVELOPE-UNKNOWN-PATH", "V1-ENVELOPE-CODES-PER-ENDPOINT"), (UNKNOWN_PATH,),
      response=rw.on_code(-40000, _recode(-40400, message="NoApiFound"))),
    F("maker-unknown-path-success", "maker", "an unknown Maker path answered 4041007 with isSuccessful true (E13)",
      ("MAKER-UNKNOWN-PATH", "MAKER-INDEX-LIST-NO-API-40400", "MAKER-SERVICE-LIST-NO-API-40400"),
      response=rw.on_code(-40400, _recode(4041007, success=True, message="URL Not Found"))),
    F("v2-unknown-path-success", "v2", "an unknown path under the v2 prefix answered as a success (E13)",
      ("V2-ENVELOPE-UNKNOWN-PATH", "V2-SEARCH-LINK-PATH"), (UNKNOWN_PATH,),
      response=rw.on_code(-40000, _succeed())),
    # bounds not enforced
    F("v2-search-limit-clamped", "v2", "search limit forced into 1..200 before forwarding, so 0 and 201 succeed",
      ("V2-SEARCH-LIMIT-RANGE", "V2-SEARCH-PRODUCT-INVALID-40000", "V2-SEARCH-LINK-INVALID-40000",
       "V2-SEARCH-IMAGE-INVALID-40000"), SEARCHES["v2"], request=rw.clamp_int("limit", 1, 200)),
    F("v1-search-limit-clamped", "v1", "search limit forced into 1..200 before forwarding",
      ("V1-SEARCH-LIMIT-RANGE",), SEARCHES["v1"], request=rw.clamp_int("limit", 1, 200)),
    F("v2-tag-itemlimit-clamped", "v2", "itemLimit forced into 1..4 (5 becomes 4, 0 becomes 1)",
      ("V2-TAG-ITEM-LIMIT-RANGE", "V2-TAG-INVALID-40000"), ("tag",), request=rw.clamp_int("itemLimit", 1, 4)),
    F("v1-tag-itemlimit-clamped", "v1", "item_limit forced into 1..4",
      ("V1-TAG-ITEM-LIMIT-RANGE",), ("tag",), request=rw.clamp_int("item_limit", 1, 4)),
    F("v2-index-list-window-clamped", "v2", "index list start/limit forced into the paging window",
      ("V2-INDEX-LIST-WINDOW", "V2-INDEX-LIST-LIMIT", "V2-INDEX-LIST-START", "V2-INDEX-LIST-INVALID-40000"),
      ("index.list",), request=rw.window("v2")),
    F("maker-index-list-window-clamped", "maker", "index list start/limit forced into the paging window",
      ("MAKER-INDEX-LIST-WINDOW", "MAKER-INDEX-LIST-LIMIT-RANGE", "MAKER-INDEX-LIST-START-RANGE"),
      ("index.list",), request=rw.window("maker")),
    F("v2-min-similarity-clamped", "v2", "minSimilarity 0 or above 1 replaced by a valid value",
      ("V2-SEARCH-MIN-SIMILARITY-RANGE", "V2-SEARCH-PRODUCT-INVALID-40000"), SEARCHES["v2"],
      request=rw.clamp_fraction("minSimilarity")),
    F("v1-threshold-clamped", "v1", "threshold 0 or above 1 replaced by a valid value",
      ("V1-SEARCH-THRESHOLD-RANGE",), SEARCHES["v1"], request=rw.clamp_fraction("threshold")),
    # parameters ignored
    F("v2-filter-ignored", "v2", "every filter.* parameter dropped before forwarding",
      ("V2-FILTER-EQUAL", "V2-FILTER-NOT-EQUAL", "V2-FILTER-EQUAL-LIST", "V2-FILTER-INVALID"), SEARCHES["v2"],
      request=rw.drop_params(lambda k: k.startswith(FILTER_PREFIX))),
    F("v1-filter-ignored", "v1", "every filter.* parameter dropped before forwarding",
      ("V1-SEARCH-FILTER-EQUAL", "V1-SEARCH-FILTER-NOT-EQUAL", "V1-SEARCH-FILTER-INVALID"), SEARCHES["v1"],
      request=rw.drop_params(lambda k: k.startswith(FILTER_PREFIX))),
    F("v2-min-similarity-ignored", "v2", "minSimilarity dropped before forwarding",
      ("V2-SEARCH-MIN-SIMILARITY-APPLIED", "V2-SEARCH-MIN-SIMILARITY-RANGE"), SEARCHES["v2"],
      request=rw.drop_params(lambda k: k == "minSimilarity")),
    F("v1-threshold-ignored", "v1", "threshold dropped before forwarding",
      ("V1-SEARCH-THRESHOLD-FILTER", "V1-SEARCH-THRESHOLD-RANGE"), SEARCHES["v1"],
      request=rw.drop_params(lambda k: k == "threshold")),
    F("v2-dedup-broken", "v2", "includeDuplicates omitted or false sent as true: duplicate images never removed",
      ("V2-SEARCH-DEDUP-DEFAULT",), SEARCHES["v2"],
      request=rw.param_replaced("includeDuplicates", (None, "false"), "true")),
    F("v2-lang-ignored", "v2", "tag lang forced to en", ("V2-TAG-LANG-LABELS", "V2-TAG-LANG-INVALID"), ("tag",),
      request=rw.map_param("lang", lambda v: "en")),
    F("v1-lang-ignored", "v1", "tag lang forced to en", ("V1-TAG-LANG-LABELS", "V1-TAG-LANG-INVALID"), ("tag",),
      request=rw.map_param("lang", lambda v: "en")),
    F("tagger-lang-ignored", "tagger", "accept-language forced to en",
      ("TAGGER-LANG-NAMES-TRANSLATED", "TAGGER-TAGS-LANGUAGE-826"), request=_english),
    F("tagger-detection-ignored", "tagger", "context.detection dropped before forwarding",
      ("TAGGER-DETECTION-FILTER", "TAGGER-TAGS-DETECTION-825", "TAGGER-NOTMATCHED-OBJECTS"),
      request=_tagger_no_detection),
    F("v2-index-list-status-ignored", "v2", "the statuses filter of the index list dropped",
      ("V2-INDEX-LIST-STATUSES", "V2-INDEX-LIST-STATUS-VALUES"), ("index.list",),
      request=rw.drop_params(lambda k: k in ("statuses", "status"))),
    F("maker-index-list-order-ignored", "maker", "the order parameter of the index list dropped",
      ("MAKER-INDEX-LIST-ORDER", "MAKER-INDEX-LIST-ORDER-INVALID"), ("index.list",),
      request=rw.drop_params(lambda k: k == "order")),
    # the image guide not enforced
    F("v2-deadline-ignored", "v2", "the image host's delay/trickle options stripped, so slow images come fast",
      ("V2-IMAGE-DEADLINE-FIRST-BYTE", "V2-IMAGE-DEADLINE-TRICKLE", "V2-DETECT-TIMEOUT-45060",
       "V2-TAG-TIMEOUT-45060", "V2-SEARCH-IMAGE-TIMEOUT-45060"), IMAGE_ENDPOINTS["v2"],
      request=rw.images(rw.without_delivery_delay)),
    F("v1-deadline-ignored", "v1", "the image host's delay/trickle options stripped, so slow images come fast",
      ("V1-IMAGE-DEADLINE-FIRST-BYTE", "V1-IMAGE-DEADLINE-TRICKLE", "V1-DETECT-TIMEOUT-45060", "V1-TAG-TIMEOUT-45060"),
      IMAGE_ENDPOINTS["v1"], request=rw.images(rw.without_delivery_delay)),
    F("v2-size-cap-ignored", "v2", "oversized images served without their padding (or re-encoded below the cap)",
      ("V2-IMAGE-MAX-BYTES", "V2-IMAGE-TAG-MAX-BYTES", "V2-DETECT-TOO-LARGE-45020", "V2-TAG-TOO-LARGE-45020",
       "V2-SEARCH-IMAGE-TOO-LARGE-45020"), IMAGE_ENDPOINTS["v2"], request=rw.images(rw.without_size, rw.shrink)),
    F("v1-size-cap-ignored", "v1", "oversized images served without their padding (or re-encoded below the cap)",
      ("V1-DETECT-TOO-LARGE-45020", "V1-TAG-TOO-LARGE-45020"), IMAGE_ENDPOINTS["v1"],
      request=rw.images(rw.without_size)),
    F("v2-format-accepted", "v2", "WebP/BMP/TIFF images converted to PNG on the way, so they are accepted",
      ("V2-DETECT-FORMAT-45040", "V2-TAG-FORMAT-45040", "V2-SEARCH-IMAGE-FORMAT-45040"), IMAGE_ENDPOINTS["v2"],
      request=rw.images(rw.as_png, rw.to_supported)),
    F("v1-format-accepted", "v1", "WebP/BMP/TIFF images converted to PNG on the way, so they are accepted",
      ("V1-DETECT-FORMAT-45040", "V1-TAG-FORMAT-45040"), IMAGE_ENDPOINTS["v1"], request=rw.images(rw.as_png)),
    F("v1-port-rule-ignored", "v1", "image URLs on a refused port relayed through an allowed port",
      ("V1-IMAGE-PORTS-REFUSED",), IMAGE_ENDPOINTS["v1"], request=rw.images(rw.allowed_port)),
    F("v2-port-rule-ignored", "v2", "image URLs on a refused port relayed through an allowed port",
      ("V2-IMAGE-PORTS-REFUSED",), IMAGE_ENDPOINTS["v2"], request=rw.images(rw.allowed_port)),
    F("maker-index-port-rule-ignored", "maker", "index image URLs on a refused port relayed through an allowed port",
      ("MAKER-INDEX-IMAGE-PORTS",), ("index.create",), request=rw.images(rw.allowed_port)),
    # auth not enforced
    F("v2-auth-ignored", "v2", "a wrong or missing secret key / appKey replaced by the right one",
      ("V2-AUTH-WRONG-SECRET-KEY", "V2-AUTH-SECRET-KEY-HEADER", "V2-AUTH-WRONG-APPKEY",
       "V2-SERVICE-LIST-UNAUTHORIZED-41005"), request=_right_secret),
    F("v1-auth-ignored", "v1", "a wrong appKey replaced by the right one",
      ("V1-SERVICE-LIST-UNAUTHORIZED-41000", "V1-SERVICE-CREATE-UNAUTHORIZED-41000",
       "V1-SEARCH-PRODUCT-UNAUTHORIZED-41000", "V1-DETECT-UNAUTHORIZED-41000"), request=_right_appkey),
    F("maker-auth-ignored", "maker", "a wrong appKey replaced by the right one",
      ("MAKER-SERVICE-LIST-UNAUTHORIZED-41000", "MAKER-INDEX-LIST-UNAUTHORIZED-41000",
       "MAKER-INDEX-CREATE-UNAUTHORIZED-41000"), request=_right_appkey),
    F("tagger-auth-ignored", "tagger", "a wrong or missing x-api-key replaced by the right one",
      ("TAGGER-AUTH-KEY-REQUIRED", "TAGGER-TAGS-APIKEY-MISSING-612", "TAGGER-TAGS-APIKEY-WRONG-609"),
      request=_right_api_key),
    F("tagger-ok-on-auth-failure", "tagger", "an auth failure answered with status ok",
      ("TAGGER-AUTH-KEY-REQUIRED", "TAGGER-TAGS-APIKEY-MISSING-612", "TAGGER-TAGS-APIKEY-WRONG-609"),
      response=_tagger_ok_on_auth_failure),
    # quotas and concurrency not enforced
    F("v2-service-quota-ignored", "v2", "-42030 (sixth service) turned into a success",
      ("V2-SERVICE-CREATE-QUOTA-42030", "V2-SERVICE-MAX-PER-APPKEY"), ("service.create",),
      response=rw.on_code(-42030, _succeed())),
    F("v1-service-quota-ignored", "v1", "-42030 (sixth service ID) turned into a success",
      ("V1-SERVICE-CREATE-QUOTA-42030",), ("service.create",), response=rw.on_code(-42030, _succeed())),
    F("maker-index-quota-ignored", "maker", "-40040 (fifth index request of the day) turned into a success",
      ("MAKER-INDEX-CREATE-QUOTA-40040", "MAKER-INDEX-REMAIN-COUNT"), ("index.create",),
      response=rw.on_code(-40040, _succeed(_new_index("indexID")))),
    F("v2-index-busy-ignored", "v2", "-40080 (an index already queued) turned into a success",
      ("V2-INDEX-CREATE-TOO-MANY-40080", "V2-INDEX-CREATE-TOO-MANY-40080-WHILE-QUEUED"), ("index.create",),
      response=rw.on_code(-40080, _succeed(_new_index("indexId")))),
    F("maker-index-busy-ignored", "maker", "-40080 (an index already queued) turned into a success",
      ("MAKER-INDEX-CREATE-BUSY-40080", "MAKER-INDEX-CREATE-BUSY-40080-WHILE-QUEUED"), ("index.create",),
      response=rw.on_code(-40080, _succeed(_new_index("indexID")))),
    # wrong results
    F("v2-not-found-product-empty", "v2", "-40050 (unknown productId) turned into an empty success",
      ("V2-SEARCH-PRODUCT-NOT-FOUND-PRODUCT-40050", "V2-INDEX-DISABLE-DELETE"), ("search.product",),
      response=rw.on_code(-40050, _succeed(_empty_search))),
    F("v1-not-found-product-empty", "v1", "-40050 (unknown product ID) turned into an empty success",
      ("V1-SEARCH-PRODUCT-NOT-FOUND-40050", "MAKER-INDEX-DISABLE-DELETES"), ("search.product",),
      response=rw.on_code(-40050, _succeed(_empty_search))),
    F("v2-no-item-empty", "v2", "-45070 (no fashion item) turned into an empty success",
      ("V2-SEARCH-IMAGE-NO-ITEM-45070", "V2-SEARCH-LINK-NO-ITEM-45070"), ("search.image", "search.link"),
      response=rw.on_code(-45070, _succeed(_empty_search))),
    F("v2-results-ascending", "v2", "search items sorted by similarity ascending", ("V2-SEARCH-SORTED",),
      SEARCHES["v2"], response=rw.edit_data(_sort_ascending)),
    F("v1-results-ascending", "v1", "search items sorted by similarity ascending", ("V1-SEARCH-SORT",),
      SEARCHES["v1"], response=rw.edit_data(_sort_ascending)),
    F("v1-similarity-below-threshold", "v1", "the last item's similarity set to half the threshold",
      ("V1-SEARCH-THRESHOLD-FILTER",), SEARCHES["v1"], response=rw.edit_data(_below_threshold("threshold"))),
    F("v2-similarity-below-threshold", "v2", "the last item's similarity set to half of minSimilarity",
      ("V2-SEARCH-MIN-SIMILARITY-APPLIED",), SEARCHES["v2"],
      response=rw.edit_data(_below_threshold("minSimilarity"))),
    F("v2-search-over-limit", "v2", "one more item than limit answered", ("V2-SEARCH-LIMIT-MAX-ITEMS",),
      SEARCHES["v2"], response=rw.edit_data(_over_limit)),
    F("v2-search-totalcount", "v2", "search totalCount one more than the items", ("V2-SEARCH-TOTAL-COUNT",),
      SEARCHES["v2"], response=rw.edit_data(_count_plus_one)),
    F("v1-detect-totalcount", "v1", "detect totalCount one more than the items", ("V1-DETECT-TOTALCOUNT",),
      ("detect",), response=rw.edit_data(_count_plus_one)),
    F("v2-detect-box-swapped", "v2", "detect b0 and b1 swapped (b0 > b1)", ("V2-GEOMETRY-ORDER",), ("detect",),
      response=rw.each_item(_swap_box)),
    F("v1-detect-box-swapped", "v1", "detect b0 and b1 swapped (b0 > b1)", ("V1-DETECT-GEOMETRY-BOX",), ("detect",),
      response=rw.each_item(_swap_box)),
    F("v2-detect-center-off", "v2", "detect center moved off the middle of the box", ("V2-GEOMETRY-CENTER",),
      ("detect",), response=rw.each_item(_shift_center)),
    F("v1-detect-percent", "v1", "detect geometry in percent (0..100) instead of fractions",
      ("V1-DETECT-GEOMETRY-RANGE",), ("detect",), response=rw.each_item(_percent_geometry)),
    F("v2-tag-narrowest-first", "v2", "tag items ordered narrowest first", ("V2-TAG-ORDER-WIDTH",), ("tag",),
      response=rw.edit_data(_narrowest_first)),
    F("v1-tag-narrowest-first", "v1", "tag items ordered narrowest first", ("V1-TAG-SORT-WIDTH",), ("tag",),
      response=rw.edit_data(_narrowest_first)),
    F("v2-search-stale-values", "v2", "search items carry a name that differs from the indexed one",
      ("V2-SEARCH-ITEM-VALUES",), SEARCHES["v2"], response=rw.each_item(_rename_items)),
    F("v2-remain-insert-count-missing", "v2", "remainInsertCount left out of the service list and lookup",
      ("V2-SERVICE-REMAIN-INSERT-COUNT",), ("service.list", "service.get"),
      response=rw.edit_data(_drop_field("remainInsertCount"))),
    F("v2-document-count-off", "v2", "documentCount one more than the indexed products",
      ("V2-SERVICE-DOCUMENT-COUNT-VALUE", "V2-SERVICE-CREATE-VISIBLE"), ("service.list", "service.get"),
      response=rw.edit_data(_document_count_plus_one)),
    # indexing
    F("v2-index-counts-inconsistent", "v2", "addedCount one more than the products added",
      ("V2-INDEX-COUNTS-SUM", "V2-INDEX-COUNTS-LISTS", "V2-INDEX-COUNTS-VALUES", "V2-INDEX-ENABLE-ADD"),
      ("index.get", "index.list"), response=rw.edit_data(_counts_plus_one("addedCount"))),
    F("maker-index-counts-inconsistent", "maker", "addCnt one more than the products added",
      ("MAKER-INDEX-COUNTS-SUM", "MAKER-INDEX-ENABLE-ADDS"), ("index.list",),
      response=rw.edit_data(_counts_plus_one("addCnt"))),
    F("v2-disable-ignored", "v2", "index lines with status disable sent as enable, so deleted products stay",
      ("V2-INDEX-DISABLE-DELETE", "V2-INDEX-COUNTS-VALUES"), ("index.create",),
      request=rw.index_lines(_enable_all)),
    F("maker-disable-ignored", "maker", "index lines with status disable sent as enable, so deleted products stay",
      ("MAKER-INDEX-DISABLE-DELETES",), ("index.create",), request=rw.index_lines(_enable_all)),
    F("v2-delete-ignored", "v2", "a service delete answered success without deleting (sent as a lookup)",
      ("V2-SERVICE-DELETE-REMOVES", "V2-SERVICE-DELETE-NOT-EXIST-42000"), ("service.delete",),
      request=_delete_as_get, isolated=True),
    # Tagger results
    F("tagger-confidence-over-one", "tagger", "item confidences raised above 1",
      ("TAGGER-DATA-CONFIDENCE-RANGE",), response=rw.tagger_tags(_confidence_over_one)),
    F("tagger-position-out-of-range", "tagger", "tag positions moved outside [0, 1]",
      ("TAGGER-DATA-TAG-POSITION-RANGE",), response=rw.tagger_tags(_position_out_of_range)),
    F("tagger-5xx-on-client-error", "tagger", "refusals answered with HTTP 500",
      ("TAGGER-TAGS-INTERNAL-500", "TAGGER-RESPONSE-ERROR-HTTP-STATUS", "TAGGER-TAGS-INVALID-JSON-824"),
      response=_tagger_5xx),
    F("tagger-error-data-null", "tagger", "refusals carry data null instead of {}",
      ("TAGGER-RESPONSE-ERROR-ENVELOPE", "TAGGER-TAGS-IMAGE-TYPE-804"), response=_tagger_error_data_null),
    F("tagger-error-code-unlisted", "tagger", "refusals keep the fail envelope with error.code 999 (no vendor code)",
      ("TAGGER-RESPONSE-ERROR-CODE-LIST",), response=_tagger_error_code_unlisted),
    # lazy servers the suite once let through: search, filters, thresholds, tag
    F("v2-filter-first-value-only", "v2", "an equal list (a,b or equal:a,b) applied as its first value only",
      ("V2-FILTER-EQUAL-LIST",), SEARCHES["v2"], request=rw.filter_lists(lambda vs: vs[0], negated=False)),
    F("v2-filter-last-value-only", "v2", "an equal list (a,b or equal:a,b) applied as its last value only",
      ("V2-FILTER-EQUAL-LIST",), SEARCHES["v2"], request=rw.filter_lists(lambda vs: vs[-1], negated=False)),
    F("v1-filter-first-value-only", "v1", "an equal list (a,b or equal:a,b) applied as its first value only",
      ("V1-SEARCH-FILTER-EQUAL-LIST", "V1-SEARCH-FILTER-DEFAULT-OPERATOR"), SEARCHES["v1"],
      request=rw.filter_lists(lambda vs: vs[0], negated=False)),
    F("v1-filter-not-equal-last-value-only", "v1", "a !equal:a,b list applied as !equal:b (a not excluded)",
      ("V1-SEARCH-FILTER-NOT-EQUAL-LIST",), SEARCHES["v1"], request=rw.filter_lists(lambda vs: vs[-1], negated=True)),
    F("v2-threshold-empties", "v2", "any search with minSimilarity answered with no items",
      ("V2-SEARCH-MIN-SIMILARITY-APPLIED",), SEARCHES["v2"], response=rw.edit_data(rw.empty_items_when("minSimilarity"))),
    F("v1-threshold-empties", "v1", "any search with threshold answered with no items",
      ("V1-SEARCH-THRESHOLD-FILTER",), SEARCHES["v1"], response=rw.edit_data(rw.empty_items_when("threshold"))),
    F("v2-tag-default-no-items", "v2", "a tag request without itemLimit answered with no items",
      ("V2-TAG-ITEM-LIMIT-DEFAULT",), ("tag",), response=rw.edit_data(rw.empty_items_unless("itemLimit"))),
    F("v1-lang-jp-korean", "v1", "tag lang=jp answered with Korean labels (jp sent as ko)",
      ("V1-TAG-LANG-LABELS",), ("tag",), request=rw.map_param("lang", lambda v: "ko" if v == "jp" else v)),
    F("v2-detect-thin-dropped", "v2", "items with one side of 20 px or less dropped (the 'both sides' rule read as "
      "'either side')", ("V2-IMAGE-MIN-ITEM-PX-ONE-SIDE",), ("detect", "tag"),
      response=rw.drop_thin_items(contracts.limit("v2", "image.min_item_px").value)),
    F("v1-detect-thin-dropped", "v1", "items with one side of 20 px or less dropped (the 'both sides' rule read as "
      "'either side')", ("V1-IMAGE-MIN-ITEM-PX-ONE-SIDE",), ("detect", "tag"),
      response=rw.drop_thin_items(contracts.limit("v1", "image.min_item_px").value)),
    F("v2-detect-min-px-off-by-one", "v2", "items whose width and height are both 21 px or less dropped (the bound "
      "moved by one)", ("V2-IMAGE-MIN-ITEM-PX-ONE-SIDE",), ("detect", "tag"),
      response=rw.drop_thin_items(contracts.limit("v2", "image.min_item_px").value + 1, either=False)),
    F("v1-detect-min-px-off-by-one", "v1", "items whose width and height are both 21 px or less dropped (the bound "
      "moved by one)", ("V1-IMAGE-MIN-ITEM-PX-ONE-SIDE",), ("detect", "tag"),
      response=rw.drop_thin_items(contracts.limit("v1", "image.min_item_px").value + 1, either=False)),
    F("v2-dedup-include-ignored", "v2", "includeDuplicates=true sent as false: duplicate images always removed",
      ("V2-SEARCH-INCLUDE-DUPLICATES-TRUE",), SEARCHES["v2"],
      request=rw.map_param("includeDuplicates", lambda v: "false" if v == "true" else v)),
    F("v2-filter-after-limit", "v2", "filters applied to the best limit products answered, not to the search",
      ("V2-FILTER-BEFORE-LIMIT",), SEARCHES["v2"],
      **rw.filters_after_limit(tuple(contracts.limit("v2", "filter.fields").value))),
    F("v2-search-image-first-item", "v2", "the search by image uses the first item (leftmost) instead of the largest",
      ("V2-SEARCH-IMAGE-LARGEST-ITEM",), ("search.image",),
      request=rw.images(lambda url, ctx: ctx.relay(url, lambda data, ct: (rw.first_item_only(data), ct)),
                        rw.first_item_only)),
    F("v2-lang-first-item-only", "v2", "tag labels translated for the first item only, the others left in English",
      ("V2-TAG-LANG-LABELS",), ("tag",), response=rw.edit_data(rw.english_after_first_item(("ko", "ja")))),
    F("v2-lang-ja-chinese", "v2", "tag lang=ja answered with Chinese labels", ("V2-TAG-LANG-LABELS",), ("tag",),
      response=rw.edit_data(rw.chinese_for(("ja",)))),
    F("v1-lang-jp-chinese", "v1", "tag lang=jp answered with Chinese labels", ("V1-TAG-LANG-LABELS",), ("tag",),
      response=rw.edit_data(rw.chinese_for(("jp",)))),
    F("v1-detect-links-largest", "v1", "every detected item carries the largest item's link (links name the image, "
      "not the item)", ("V1-SEARCH-IMAGE-RELEVANCE", "V1-SEARCH-IMAGE-LINK-ROUNDTRIP"), ("detect",),
      response=rw.edit_data(rw.first_link_for_all)),
    F("v2-links-search-first-item", "v2", "item links differ but every one searches the image's first (largest) item",
      ("V2-SEARCH-LINK-SIMILAR",), ("detect", "search.link"), **rw.links_search_first_item()),
    F("v1-links-search-first-item", "v1", "item links differ but every one searches the image's first (largest) item",
      ("V1-SEARCH-IMAGE-RELEVANCE",), ("detect", "search.image"), **rw.links_search_first_item()),
    # lazy servers the suite once let through: images, ports, indexes, Maker, Tagger
    F("v1-ports-upper-open", "v1", "the port rule checks only port >= 10000: image URLs on 12001-65535 fetched",
      ("V1-IMAGE-PORTS-REFUSED",), IMAGE_ENDPOINTS["v1"], request=rw.images(rw.above_allowed_port)),
    F("v2-ports-upper-open", "v2", "the port rule checks only port >= 10000: image URLs on 12001-65535 fetched",
      ("V2-IMAGE-PORTS-REFUSED",), IMAGE_ENDPOINTS["v2"], request=rw.images(rw.above_allowed_port)),
    F("maker-index-ports-upper-open", "maker", "the port rule checks only port >= 10000: index images on "
      "12001-65535 fetched", ("MAKER-INDEX-IMAGE-PORTS",), ("index.create",),
      request=rw.images(rw.above_allowed_port)),
    F("v1-ports-edge-refused", "v1", "the port rule with exclusive bounds: image URLs on 80, 443, 10000, 12000 "
      "refused", ("V1-IMAGE-PORTS-ALLOWED",), IMAGE_ENDPOINTS["v1"], request=rw.images(rw.edge_ports_refused)),
    F("v2-ports-edge-refused", "v2", "the port rule with exclusive bounds: image URLs on 80, 443, 10000, 12000 "
      "refused", ("V2-IMAGE-PORTS-ALLOWED",), IMAGE_ENDPOINTS["v2"], request=rw.images(rw.edge_ports_refused)),
    F("maker-index-ports-edge-refused", "maker", "the port rule with exclusive bounds: index images on 80, 443, "
      "10000, 12000 not fetched", ("MAKER-INDEX-IMAGE-PORTS",), ("index.create",),
      request=rw.images(rw.edge_ports_refused)),
    F("v2-index-list-order-ignored", "v2", "the order parameter of the index list dropped",
      ("V2-INDEX-LIST-ORDER", "V2-INDEX-LIST-ORDER-INVALID"), ("index.list",),
      request=rw.drop_params(lambda k: k == "order")),
    F("v2-index-list-time-asc-as-desc", "v2", "index list ordered by a time field ascending answered descending",
      ("V2-INDEX-LIST-ORDER",), ("index.list",), request=rw.time_order_reversed("v2")),
    F("maker-index-list-time-asc-as-desc", "maker", "index list ordered by a time field ascending answered "
      "descending", ("MAKER-INDEX-LIST-ORDER",), ("index.list",), request=rw.time_order_reversed("maker")),
    F("maker-remain-ignores-failed-jobs", "maker", "remainInsertCnt not lowered by accepted requests whose job "
      "failed", ("MAKER-INDEX-REMAIN-COUNT",), ("index.list", "service.list"),
      response=rw.remain_counts_finished_only),
    F("v1-search-image-stale-copy", "v1", "search by image answers from the copy detect read: the linked image "
      "gone or slow is no error", ("V1-SEARCH-IMAGE-URL-45050", "V1-SEARCH-IMAGE-TIMEOUT-45060"), ("search.image",),
      response=rw.stale_image_copy("v1", ("InvalidImageURLException", "ImageTimeoutError"))),
    F("v2-search-link-stale-copy", "v2", "search by link answers from the copy detect read: the linked image grown, "
      "in another format or without items is no error", ("V2-SEARCH-LINK-TOO-LARGE-45020",
      "V2-SEARCH-LINK-FORMAT-45040", "V2-SEARCH-LINK-NO-ITEM-45070"), ("search.link",),
      response=rw.stale_image_copy("v2", ("ImageTooLargeException", "InvalidImageFormatException",
                                          "NoDetectedFashionItems"))),
    F("tagger-detection-last-only", "tagger", "context.detection read as its last value only",
      ("TAGGER-DETECTION-FILTER",), request=rw.tagger_detection_last_only),
    F("tagger-lang-zh-as-ko", "tagger", "accept-language zh answered with the Korean names",
      ("TAGGER-LANG-NAMES-TRANSLATED",), request=rw.language_swapped("zh", "ko")),
    F("maker-index-times-filled-early", "maker", "a pending index lists startTime and finishTime (set at "
      "reservation)", ("MAKER-INDEX-LIST-TIMES",), ("index.list",), response=rw.edit_data(rw.times_filled_early)),
    F("tagger-color-details-constant", "tagger", "every colorDetails code the same grey, whatever the pixels",
      ("TAGGER-DATA-TAG-COLORDETAILS-PIXELS",), response=rw.tagger_tags(rw.constant_color_details)),
    # models that break the metamorphic requirements (issue 12): a value that drifts between calls, a decoder that
    # reads PNG off by some pixels, boxes normalised by the wrong size (keyed on the suite's variant names)
    F("v2-detect-unstable", "v2", "every second detect answer's boxes moved by 5 % (a model that is not "
      "deterministic)", ("V2-DETECT-REPEATABLE",), ("detect",), response=rw.moved_when(rw.every_second_call)),
    F("v2-detect-png-offset", "v2", "boxes of a PNG image moved by 5 % (a decoder offset)",
      ("V2-DETECT-FORMAT-STABLE",), ("detect",), response=rw.moved_when(rw.names_image(".png"))),
    F("v2-detect-2x-halved", "v2", "boxes of the suite's doubled images halved (normalised by the wrong size)",
      ("V2-DETECT-SCALE-STABLE",), ("detect",), response=rw.moved_when(rw.names_image("-2x.jpg"), scale=0.5)),
    F("v2-search-image-first-two-swapped", "v2", "search by image answers its two best results the wrong way round",
      ("V2-SEARCH-OWN-IMAGE-FIRST",), ("search.image",), response=rw.edit_data(rw.first_two_swapped)),
    F("tagger-tags-unstable", "tagger", "every second answer's positions moved by 5 % (a model that is not "
      "deterministic)", ("TAGGER-TAGS-REPEATABLE",), response=rw.moved_when(rw.every_second_call)),
    F("tagger-png-offset", "tagger", "positions in a PNG image moved by 5 % (a decoder offset)",
      ("TAGGER-POSITION-FORMAT-STABLE",), response=rw.moved_when(rw.names_image(".png"))),
    F("tagger-2x-halved", "tagger", "positions in the suite's doubled images halved (normalised by the wrong size)",
      ("TAGGER-POSITION-SCALE-STABLE",), response=rw.moved_when(rw.names_image("-2x.jpg"), scale=0.5)),
)

BY_NAME: dict[str, Fault] = {f.name: f for f in CATALOG}


def fault(name: str) -> Fault:
    try:
        return BY_NAME[name]
    except KeyError:
        raise LookupError(f"no fault {name!r}") from None
