"""Oversized multipart uploads (v2 and Maker index files, v2 search by uploaded image) over raw sockets: an honest
Content-Length above the cap is answered at once, without sending the body; a chunked body is answered as soon as
it passes the cap, long before the client runs out of data (emulator/forms.py). Caps: v2 index 5,000,000 bytes,
Maker 20,000,000 (index guides of both documents), v2 images 5,000,000 (v2 image guide)."""

from __future__ import annotations

import json
import select
import socket
from urllib.parse import urlsplit

import pytest

from fashion_conformance import contracts

MB = 1024 * 1024
BOUNDARY = "fc-upload-boundary"
# (api, endpoint, the file part's field name, the cap's limit name, the code over it)
CASES = {
    "v2-index": ("v2", "index.create", "file", "index.max_file_bytes", -40030),
    "maker-index": ("maker", "index.create", "file", "index.max_file_bytes", -40030),
    "v2-search-image": ("v2", "search.image", "imageFile", "image.max_bytes", -45020),
}


@pytest.fixture(scope="module")
def services(emulator, clients_for):
    nhn = clients_for(emulator)
    return {"v2": nhn["v2"].create_service(), "maker": nhn["v1"].create_service()}


def request_head(emulator, api: str, endpoint_id: str, service: str, length_header: str) -> bytes:
    ep = contracts.endpoint(api, endpoint_id)
    path = ep.path.replace("{appKey}", emulator.keys["appkey"])
    path = path.replace("{serviceName}", service).replace("{serviceID}", service)
    if api == "maker":
        path += "?format=jsonl"
    host = urlsplit(emulator.base_url).netloc
    auth = f"Authorization: {emulator.keys['secret_key']}\r\n" if api == "v2" else ""
    return (f"{ep.method} {path} HTTP/1.1\r\nHost: {host}\r\n{auth}"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{length_header}\r\n").encode()


def form_start(field: str) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"format\"\r\n\r\njsonl\r\n"
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"f.jsonl\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()


def read_answer(sock: socket.socket) -> dict:
    """The JSON body of the HTTP answer on `sock`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 200"), head
    return json.loads(body[:length])


def cap_bytes(api: str, limit: str) -> int:
    """The cap under either reading of the document's "MB" (10^6 or 2^20 bytes)."""
    spec = contracts.limit(api, limit)
    return max(spec.value, spec.extra.get("reject_from", 0))


def connect(emulator) -> socket.socket:
    url = urlsplit(emulator.base_url)
    return socket.create_connection((url.hostname, url.port), timeout=30)


@pytest.mark.parametrize("case", CASES)
def test_upload_declared_over_the_cap_is_refused_unread(emulator, services, case):
    api, endpoint_id, field, limit, code = CASES[case]
    declared = cap_bytes(api, limit) + 1_000_000
    with connect(emulator) as sock:
        sock.sendall(request_head(emulator, api, endpoint_id, services[api], f"Content-Length: {declared}\r\n"))
        sock.sendall(form_start(field))  # and nothing more of the declared body
        answer = read_answer(sock)
    assert answer["header"]["resultCode"] == code, answer


@pytest.mark.parametrize("case", CASES)
def test_chunked_upload_is_cut_off_past_the_cap(emulator, services, case):
    """A chunked body of up to 64 MB more than the cap: the answer comes while the client is still sending."""
    api, endpoint_id, field, limit, code = CASES[case]
    cap = cap_bytes(api, limit)
    budget = cap + 64 * MB
    chunk = b"x" * (256 * 1024)
    sent = 0
    with connect(emulator) as sock:
        sock.sendall(request_head(emulator, api, endpoint_id, services[api], "Transfer-Encoding: chunked\r\n"))
        start = form_start(field)
        sock.sendall(f"{len(start):x}\r\n".encode() + start + b"\r\n")
        sock.settimeout(0.5)
        answered = False
        while sent < budget and not answered:
            try:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
            except (TimeoutError, BrokenPipeError, ConnectionResetError):
                answered = True  # the server stopped reading
            if not answered:
                answered = answer_waiting(sock)
        sock.settimeout(30)
        answer = read_answer(sock)
    assert answer["header"]["resultCode"] == code, answer
    assert sent < cap + 32 * MB, f"{sent} bytes sent before the answer (cap {cap})"


def answer_waiting(sock: socket.socket) -> bool:
    """Whether an answer has started to arrive (without waiting or consuming it)."""
    return bool(select.select([sock], [], [], 0)[0])
