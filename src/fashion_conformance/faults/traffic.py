"""The traffic a fault rewrites: one request and one response, with helpers for parameters (query or form
fields), JSON and multipart bodies, index files and the image URLs inside them."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .. import contracts

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.I)
_DISPOSITION = re.compile(r'\b(name|filename)="([^"]*)"', re.I)
# Positions of two fields in the documented index-line field order (contracts `index.fields`).
INDEX_STATUS, INDEX_IMAGE_URL = 1, 6


@dataclass
class Part:
    """One multipart/form-data part."""

    name: str
    data: bytes
    filename: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


def parse_multipart(body: bytes, content_type: str) -> tuple[str, list[Part]] | None:
    """(boundary, parts) of a multipart body; None when it is not one."""
    m = _BOUNDARY.search(content_type or "")
    if not content_type.lower().startswith("multipart/") or not m:
        return None
    boundary = m.group(1)
    delimiter = b"--" + boundary.encode("latin-1")
    parts = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = []
        for line in head.decode("latin-1").split("\r\n"):
            key, sep, value = line.partition(":")
            if sep:
                headers.append((key.strip(), value.strip()))
        disposition = next((v for k, v in headers if k.lower() == "content-disposition"), "")
        names = dict((k.lower(), v) for k, v in _DISPOSITION.findall(disposition))
        parts.append(Part(names.get("name", ""), data.removesuffix(b"\r\n"), names.get("filename"), headers))
    return boundary, parts


def build_multipart(boundary: str, parts: list[Part]) -> bytes:
    out = bytearray()
    for part in parts:
        out += f"--{boundary}\r\n".encode("latin-1")
        for key, value in part.headers:
            out += f"{key}: {value}\r\n".encode("latin-1")
        out += b"\r\n" + part.data + b"\r\n"
    out += f"--{boundary}--\r\n".encode("latin-1")
    return bytes(out)


def _match(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


def endpoint_of(method: str, path: str) -> tuple[str | None, str | None]:
    """(api, endpoint id) of a request by the contracts' paths; (api, None) for an unknown path under a prefix."""
    for api in contracts.APIS:
        for ep in contracts.endpoints(api):
            if ep.method == method and _match(ep.path).match(path):
                return api, ep.id
    for api in contracts.APIS:
        prefix = contracts.api_info(api)["prefix"].split("{")[0]
        if path.startswith(prefix):
            return api, None
    return None, None


@dataclass
class Req:
    """A request on its way to the target; faults change it in place."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: list[tuple[str, str]]  # names in lower case
    body: bytes
    api: str | None = None
    endpoint: str | None = None

    @classmethod
    def make(cls, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes) -> Req:
        api, endpoint = endpoint_of(method, path)
        return cls(method, path, parse_qsl(query, keep_blank_values=True), [(k.lower(), v) for k, v in headers],
                   body, api, endpoint)

    @property
    def query_string(self) -> str:
        return urlencode(self.query)

    # headers

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)

    def set_header(self, name: str, value: str | None) -> None:
        self.headers = [(k, v) for k, v in self.headers if k != name.lower()]
        if value is not None:
            self.headers.append((name.lower(), value))

    # multipart and JSON bodies

    def form(self) -> tuple[str, list[Part]] | None:
        return parse_multipart(self.body, self.header("content-type") or "")

    def set_form(self, boundary: str, parts: list[Part]) -> None:
        self.body = build_multipart(boundary, parts)

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, value: Any) -> None:
        self.body = json.dumps(value, ensure_ascii=False).encode("utf-8")

    # parameters: the query, and the fields of a form body (multipart, files excluded, or urlencoded)

    def _urlencoded(self) -> bool:
        return (self.header("content-type") or "").lower().startswith("application/x-www-form-urlencoded")

    def params(self) -> dict[str, str]:
        out = dict(self.query)
        if self._urlencoded():
            out.update(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))
        form = self.form()
        for part in form[1] if form else ():
            if part.filename is None:
                out[part.name] = part.text
        return out

    def edit_params(self, edit: Callable[[str, str], str | None]) -> None:
        """edit(name, value) -> the new value, or None to drop the parameter; applied to query and form fields."""
        self.query = _edit_pairs(self.query, edit)
        if self._urlencoded():
            pairs = parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)
            edited = _edit_pairs(pairs, edit)
            if edited != pairs:
                self.body = urlencode(edited).encode("utf-8")
        form = self.form()
        if form:
            boundary, parts = form
            kept = []
            for part in parts:
                if part.filename is None:
                    new = edit(part.name, part.text)
                    if new is None:
                        continue
                    part.data = new.encode("utf-8")
                kept.append(part)
            self.set_form(boundary, kept)

    def set_param(self, name: str, value: str) -> None:
        """Set a parameter where the request keeps its parameters (the form body when it has one)."""
        form = self.form()
        if form and self.method == "POST":
            boundary, parts = form
            parts = [p for p in parts if p.name != name]
            parts.append(Part(name, value.encode("utf-8"), None,
                              [("Content-Disposition", f'form-data; name="{name}"')]))
            self.set_form(boundary, parts)
        elif self._urlencoded() and self.method == "POST":
            pairs = parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)
            self.body = urlencode([(k, v) for k, v in pairs if k != name] + [(name, value)]).encode("utf-8")
        else:
            self.query = [(k, v) for k, v in self.query if k != name] + [(name, value)]

    def file_parts(self) -> Iterator[tuple[str, list[Part], Part]]:
        form = self.form()
        if form:
            for part in form[1]:
                if part.filename is not None:
                    yield form[0], form[1], part


@dataclass
class Resp:
    """A response on its way back to the suite; faults change it in place."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    # How the proxy puts the response on the wire (benign variants): compressed with this coding, sent in this many
    # pieces without content-length (chunked transfer), with `Connection: close`, after waiting this long.
    content_encoding: str | None = None
    chunks: int = 1
    close: bool = False
    delay_s: float = 0.0

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def set_json(self, value: Any, status: int | None = None) -> None:
        self.body = json.dumps(value, ensure_ascii=False).encode("utf-8")
        self.headers = [(k, v) for k, v in self.headers if k.lower() != "content-type"]
        self.headers.append(("content-type", "application/json"))
        if status is not None:
            self.status = status


def _edit_pairs(pairs: list[tuple[str, str]], edit: Callable[[str, str], str | None]) -> list[tuple[str, str]]:
    out = []
    for name, value in pairs:
        new = edit(name, value)
        if new is not None:
            out.append((name, new))
    return out


# URLs


def edit_query(url: str, edit: Callable[[str, str], str | None]) -> str:
    """`url` with each query parameter passed through edit(name, value) (None drops it)."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    edited = _edit_pairs(pairs, edit)
    return url if edited == pairs else urlunsplit(parts._replace(query=urlencode(edited)))


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def edit_index_file(data: bytes, edit_line: Callable[[dict[str, Any] | list[str]], None]) -> bytes:
    """An index data file (JSONL or CSV lines) with edit_line applied to each parsed line in place."""
    out = []
    for line in data.decode("utf-8", "replace").split("\n"):
        if not line.strip():
            out.append(line)
            continue
        try:
            record = json.loads(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            before = dict(record)
            edit_line(record)
            out.append(line if record == before else json.dumps(record, ensure_ascii=False))
        else:
            cells = next(csv.reader([line.rstrip("\r")]), [])
            before = list(cells)
            edit_line(cells)
            buf = io.StringIO()
            csv.writer(buf, lineterminator="").writerow(cells)
            out.append(line if cells == before else buf.getvalue())
    return "\n".join(out).encode("utf-8")


def edit_index_field(api: str, position: int, record: dict[str, Any] | list[str], edit: Callable[[str], str]) -> None:
    """Apply edit to the field at `position` (INDEX_STATUS, INDEX_IMAGE_URL) of one parsed index line."""
    if isinstance(record, dict):
        key = contracts.limit(api, "index.fields").value[position]
        if isinstance(record.get(key), str):
            record[key] = edit(record[key])
    elif len(record) > position:
        record[position] = edit(record[position])
