"""Detect `link` tokens: an opaque, URL-safe, signed reference to an image and an item box.

The token is unpadded URL-safe base64 of a JSON object {path, sha, box, sig}; `sig` is an HMAC over the
other fields with a key kept in the data directory, so a forged or altered link is rejected (-40000).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from pathlib import Path


class LinkError(ValueError):
    """A link that is malformed, forged or altered."""


@dataclass(frozen=True)
class LinkTarget:
    path: str  # the image URL given to detect
    sha: str  # sha256 of the image bytes
    box: tuple[int, int, int, int]  # item box in source pixels


class LinkSigner:
    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> LinkSigner:
        path = data_dir / "link.key"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(secrets.token_bytes(32))
            tmp.replace(path)
        return cls(path.read_bytes())

    def _sig(self, body: dict) -> str:
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(self._key, canonical, hashlib.sha256).hexdigest()[:32]

    def issue(self, target: LinkTarget) -> str:
        body = {"path": target.path, "sha": target.sha, "box": list(target.box)}
        raw = json.dumps({**body, "sig": self._sig(body)}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def verify(self, token: str) -> LinkTarget:
        try:
            text = token.strip()
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            doc = json.loads(raw)
            body = {"path": doc["path"], "sha": doc["sha"], "box": doc["box"]}
            sig = doc["sig"]
            box = tuple(int(v) for v in body["box"])
            valid = (
                isinstance(body["path"], str)
                and isinstance(body["sha"], str)
                and isinstance(sig, str)
                and len(box) == 4
                and set(doc) == {"path", "sha", "box", "sig"}
            )
        except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError):
            raise LinkError("malformed link") from None
        if not valid or not hmac.compare_digest(sig, self._sig(body)):
            raise LinkError("link signature does not match")
        return LinkTarget(body["path"], body["sha"], box)  # type: ignore[arg-type]
