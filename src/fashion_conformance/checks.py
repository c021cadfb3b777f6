"""Assertions the conformance tests make about an exchange; each failure shows the request and the response."""

from __future__ import annotations

from typing import Any

from . import contracts, waits
from .clients import Exchange

NO_ITEM = "NoDetectedFashionItems"  # the code message of an image in which no fashion item was detected (v2 guide)


class Violation(AssertionError):
    """The target broke a rule; the message says which expectation failed and shows the exchange."""


def fail(ex: Exchange, expectation: str) -> None:
    raise Violation(f"{expectation}\n{ex.describe()}")


def _schema(ex: Exchange, part: str) -> None:
    body = ex.json
    if body is None:
        fail(ex, f"{ex.api} {ex.endpoint}: the response body is not JSON")
    errors = contracts.validate(ex.api, ex.endpoint, part, body)
    if errors:
        fail(ex, f"{ex.api} {ex.endpoint}: the {part} body breaks its schema:\n  " + "\n  ".join(errors[:8]))


def success(ex: Exchange) -> Any:
    """The endpoint succeeded with a body valid against its success schema; returns `data`."""
    if ex.api == "tagger":
        if ex.status not in (200, 201):  # E21
            fail(ex, f"tagger {ex.endpoint}: expected HTTP 200 or 201 on success, got {ex.status}")
    else:
        if ex.status != 200:
            fail(ex, f"{ex.api} {ex.endpoint}: every NHN response is HTTP 200, got {ex.status}")
        header = ex.header
        if header.get("resultCode") != 0 or header.get("isSuccessful") is not True:
            fail(ex, f"{ex.api} {ex.endpoint}: expected success (resultCode 0), got resultCode "
                     f"{header.get('resultCode')!r} {header.get('resultMessage')!r}")
    _schema(ex, "success")
    return ex.data


def error(ex: Exchange, code: int) -> None:
    """The endpoint answered with the documented error `code` in a body valid against its error schema."""
    message = contracts.code_message(ex.api, code)
    if ex.api == "tagger":
        if ex.status >= 500:
            fail(ex, f"tagger {ex.endpoint}: a client error must not be answered with HTTP {ex.status}")
        body = ex.json if isinstance(ex.json, dict) else {}
        got = (body.get("error") or {}).get("code") if isinstance(body.get("error"), dict) else None
        if body.get("status") != "fail" or got != code:
            fail(ex, f"tagger {ex.endpoint}: expected status fail with error.code {code} ({message}), "
                     f"got status {body.get('status')!r} code {got!r}")
    else:
        if ex.status != 200:
            fail(ex, f"{ex.api} {ex.endpoint}: every NHN response is HTTP 200, got {ex.status}")
        header = ex.header
        if header.get("resultCode") != code:
            fail(ex, f"{ex.api} {ex.endpoint}: expected resultCode {code} {message}, got "
                     f"{header.get('resultCode')!r} {header.get('resultMessage')!r}")
    _schema(ex, "error")


def not_success(ex: Exchange) -> None:
    """The target refused the request (any documented error of the endpoint)."""
    if ex.api == "tagger":
        body = ex.json if isinstance(ex.json, dict) else {}
        if ex.status in (200, 201) and body.get("status") == "ok":
            fail(ex, "tagger: the request must be refused, but it succeeded")
        return
    if ex.header.get("isSuccessful") is True or ex.header.get("resultCode") == 0:
        fail(ex, f"{ex.api} {ex.endpoint}: the request must be refused, but it succeeded")
    _schema(ex, "error")


def that(ex: Exchange, condition: bool, expectation: str) -> None:
    if not condition:
        fail(ex, expectation)


_real_model = {"on": False}


def real_model(on: bool) -> None:
    """Set whether the target's model is judged as a real one (a photo catalogue, --photos): what it sees in an image
    is then its own, and a test whose image yields less than it needs is blocked by the model. Off (the drawn
    catalogue, whose silhouettes the reference model of the documents' emulator is known to see), a shortfall
    fails the test's requirements as any other broken expectation."""
    _real_model["on"] = on


def seen(ex: Exchange, condition: bool, expectation: str) -> None:
    """An expectation about what the target's model perceives (how many items an image yields, where their boxes
    lie): checks.that, or with a real model (real_model) a skip blocked by the model when it does not hold."""
    if not condition:
        if _real_model["on"]:
            waits.model_blocked(f"not seen by the model: {expectation}")
        fail(ex, expectation)


def detected(ex: Exchange, image: str, key: str = "items", *, at_least: int = 1) -> list[Any]:
    """The items a detection found in `image` (data[key] of a success), at least `at_least` of them. With a real
    model (real_model), no item (an empty list or the endpoint's documented NoDetectedFashionItems code) or fewer
    than needed is what the model saw, which the documents leave to it: the test is blocked by the model
    (waits.no_item), neither failed nor passed. Otherwise (the drawn catalogue) a shortfall fails."""
    if _real_model["on"] and ex.api != "tagger" and isinstance(ex.json, dict):
        code = ex.header.get("resultCode")
        documented = contracts.endpoint(ex.api, ex.endpoint).codes
        if code in documented and contracts.code_message(ex.api, code) == NO_ITEM:
            waits.no_item(image)
    items = success(ex)[key]
    if not items and _real_model["on"]:
        waits.no_item(image)
    seen(ex, len(items) >= at_least, f"{image} yields at least {at_least} item(s); got {len(items)}")
    return items
