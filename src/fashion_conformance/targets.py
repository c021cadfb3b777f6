"""The targets file (TOML) with FASHION_<SECTION>_<KEY> environment overrides, and redaction of its secrets."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

# Section -> key -> required. Secrets are redacted wherever text leaves the process.
SCHEMA: dict[str, dict[str, bool]] = {
    "v1": {"base_url": True, "appkey": True},
    "v2": {"base_url": True, "appkey": True, "secret_key": True},
    "maker": {"base_url": True, "appkey": True},
    "tagger": {"base_url": True, "api_key": True},
    "image_host": {"bind": False, "public_url": False, "port_url": False},
    # Wait budgets in seconds (fashion_conformance.waits.Budgets): numbers, e.g. index_s = 120.
    "waits": {"index_s": False, "poll_s": False, "delete_s": False, "request_s": False},
    # A folder of product photos with a manifest, indexed and searched instead of the drawn catalogue (photos.py).
    "photos": {"dir": False},
}
NUMERIC_SECTIONS = ("waits",)
SECRET_KEYS = {"appkey", "secret_key", "api_key"}
API_SECTIONS = ("v1", "v2", "maker", "tagger")
REDACTED = "***"


class TargetsError(ValueError):
    """A usage error in the targets file or its environment overrides; the message names the key."""


@dataclass
class Targets:
    sections: dict[str, dict[str, str]] = field(default_factory=dict)
    source: str = "embedded emulator"

    def targeted(self, api: str) -> bool:
        return api in self.sections

    def get(self, api: str) -> dict[str, str]:
        return self.sections[api]

    def secrets(self) -> list[str]:
        return [v for sec in self.sections.values() for k, v in sec.items() if k in SECRET_KEYS and v]

    def redacted(self) -> dict[str, dict[str, str]]:
        return {s: {k: (REDACTED if k in SECRET_KEYS else v) for k, v in sec.items()} for s, sec in self.sections.items()}


def _check_url(where: str, value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetsError(f"{where}: expected an http(s) URL")


def _check_bind(where: str, value: str) -> None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise TargetsError(f"{where}: expected host:port")


def _check_port_url(where: str, value: str) -> None:
    """An http(s) URL with `{port}` as its port, e.g. http://images.example.org:{port}."""
    if "{port}" not in value:
        raise TargetsError(f"{where}: expected a URL with {{port}} as its port (e.g. http://host.example:{{port}})")
    _check_url(where, value.replace("{port}", "10000"))


def load(path: Path | None, environ: Mapping[str, str] | None = None, only: Iterable[str] | None = None) -> Targets:
    """Targets from `path` (None: environment only) with FASHION_* overrides; TargetsError on any bad key or value."""
    environ = os.environ if environ is None else environ
    raw: dict = {}
    if path is not None:
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise TargetsError(f"targets file {path} does not exist") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise TargetsError(f"targets file {path}: not valid TOML ({exc})") from None
    sections: dict[str, dict[str, str]] = {}
    for name, body in raw.items():
        if name not in SCHEMA:
            raise TargetsError(f"[{name}]: unknown section (known: {', '.join(SCHEMA)})")
        if not isinstance(body, dict):
            raise TargetsError(f"{name}: expected a [{name}] table")
        for key, value in body.items():
            if key not in SCHEMA[name]:
                raise TargetsError(f"{name}.{key}: unknown key (known: {', '.join(SCHEMA[name])})")
            if name in NUMERIC_SECTIONS:
                continue  # checked below, with the environment's values
            if not isinstance(value, str):
                raise TargetsError(f"{name}.{key}: expected a string")
        sections[name] = dict(body)
    env_key = re.compile(r"^FASHION_([A-Z0-9]+(?:_[A-Z0-9]+)*)$")
    for var, value in environ.items():
        if not env_key.match(var):
            continue
        for name, keys in SCHEMA.items():
            for key in keys:
                if var == f"FASHION_{name.upper()}_{key.upper()}":
                    sections.setdefault(name, {})[key] = value
    for name, body in sections.items():
        for key, required in SCHEMA[name].items():
            if required and not body.get(key):
                raise TargetsError(f"{name}.{key}: missing (set it in the file or FASHION_{name.upper()}_{key.upper()})")
        if "base_url" in body:
            _check_url(f"{name}.base_url", body["base_url"])
            body["base_url"] = body["base_url"].rstrip("/")
        if body.get("public_url"):
            _check_url(f"{name}.public_url", body["public_url"])
        if body.get("bind"):
            _check_bind(f"{name}.bind", body["bind"])
        if body.get("port_url"):
            _check_port_url(f"{name}.port_url", body["port_url"])
        if name == "waits":
            from . import waits

            try:
                parsed = waits.parse(body)
            except ValueError as exc:
                raise TargetsError(str(exc)) from None
            body.update({key: getattr(parsed, key) for key in body})
    if only is not None:
        wanted = set(only)
        sections = {k: v for k, v in sections.items() if k in wanted or k not in API_SECTIONS}
    return Targets(sections, str(path) if path else "environment")


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced (longest first, so no secret survives in part)."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text
