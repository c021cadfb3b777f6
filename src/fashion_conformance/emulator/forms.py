"""Multipart request bodies (index uploads, image search uploads) read with a bound.

No more than the largest acceptable upload plus room for the multipart framing and the small fields beside the
file is ever read: an honest Content-Length above that is refused before the body is read, and a body that
grows past it (chunked, or lying about its length) is refused as soon as it does. Either way the answer is the
endpoint's "too large" code, and nothing is spooled to disk beyond the bound.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request

from .envelope import NhnError
from .params import INVALID_PARAM

FRAMING_BYTES = 64 * 1024  # boundaries, part headers and the text fields of a form


class _TooLarge(Exception):
    pass


async def read(request: Request, *, max_upload: int, too_large: int, max_fields: int) -> FormData:
    """The request's multipart form; NhnError(`too_large`) when the body exceeds `max_upload` plus the framing
    allowance, NhnError(-40000) when it is not a well-formed multipart form."""
    limit = max_upload + FRAMING_BYTES
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise NhnError(too_large, f"request body of {declared} bytes")
    received = 0

    async def receive():
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise _TooLarge
        return message

    try:
        return await Request(request.scope, receive).form(max_files=2, max_fields=max_fields)
    except _TooLarge:
        raise NhnError(too_large, f"request body over {limit} bytes") from None
    except Exception:  # malformed multipart, wrong content type
        raise NhnError(INVALID_PARAM, "body is not multipart/form-data") from None
