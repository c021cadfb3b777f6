"""Hostile images on a running emulator (image guide: nhn-ai-fashion-v1.0-api-guide.en.txt / Input Image Guide;
nhn-ai-fashion-v2.0-api-guide.ko.txt / 이미지 가이드): decompression bombs, truncated and lying files, a GIF with
thousands of frames, a slow trickle and bodies above the size cap behind a lying or absent Content-Length, on
detect, tag, search by image and index lines. Each gets its documented code (-45040 not an image, -45060 too
slow, -45020 too large), the emulator never reads far past the cap, and its peak memory stays bounded."""

from __future__ import annotations

import socket
import struct
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest

from fashion_conformance import contracts
from fashion_conformance.imagehost.factory import ItemSpec, encode, render
from fashion_conformance.imagehost.server import fetchable_ports

DEADLINE_S = contracts.limit("v1", "image.download_deadline_s").value
IMAGE_CAP = contracts.limit("v1", "image.max_bytes").extra["reject_from"] - 1
ENDPOINT_CAP = {"detect": "image.max_bytes", "tag": "image.tag_max_bytes", "search.image": "image.max_bytes"}
MEMORY_GROWTH_MB = 150
# Two index jobs (v2 and Maker) run at once, each with its own fetch window; measured up to 152 MB under -n 2.
INDEX_MEMORY_GROWTH_MB = 200
PARALLEL = 8  # hostile requests in flight at once; each may hold up to its size cap while downloading
HUGE_BODY = 64 * 1024 * 1024
BLANK = None
# Decision (like Pillow and browsers): a PNG whose compressed data ends before the last row decodes, the
# missing rows transparent; one that declares 4000 x 4000 pixels in a few bytes is a blank image, not -45040.
SCENE = render(320, 240, [ItemSpec("dress", (60, 20, 220, 220), (30, 90, 170))])
# The classic smallest GIF image block: a 1x1 frame at (0, 0), LZW minimum code size 2, one data sub-block.
GIF_TINY_FRAME = b"\x2c" + struct.pack("<4H", 0, 0, 1, 1) + b"\x00\x02\x02\x44\x01\x00"


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_declaring(width: int, height: int, rows: int = 1, colour_type: int = 2) -> bytes:
    """A tiny PNG whose header declares width x height but whose data holds only `rows` blank rows."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    data = zlib.compress(bytes(rows * (1 + width * channels)), 9)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def png_bomb(side: int) -> bytes:
    """A complete, valid 1-bit PNG of side x side blank pixels: a few kilobytes that decode to side**2 pixels."""
    row = b"\x00" + bytes((side + 7) // 8)
    comp = zlib.compressobj(9)
    data = b"".join(comp.compress(row) for _ in range(side)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")


def jpeg_declaring(width: int, height: int) -> bytes:
    """SOI, a baseline SOF0 declaring width x height (three components), EOI: no scan at all."""
    sof = struct.pack(">BHHB", 8, height, width, 3) + b"".join(bytes((i, 0x11, 0)) for i in (1, 2, 3))
    return b"\xff\xd8\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof + b"\xff\xd9"


def gif_declaring(width: int, height: int) -> bytes:
    """A GIF whose logical screen is width x height, holding one 1x1 frame."""
    return b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0) + GIF_TINY_FRAME + b";"


def gif_many_frames(frames: int) -> bytes:
    """The scene as the first frame, followed by `frames` tiny frames (only the first may be analysed)."""
    one = encode(SCENE, "gif")
    assert one.endswith(b";")
    return one[:-1] + GIF_TINY_FRAME * frames + b";"


@cache
def large_rgba_scene() -> bytes:
    """A valid 4000 x 4000 RGBA PNG (16 M pixels, under the bomb guard) with one item; about 60 kB. Pillow holds
    the full raster (4 bytes a pixel) while decoding it, so it alone costs about 64 MB; decodes running at the
    same time share one pixel budget (emulator/imaging.py), so several of them cost no more."""
    return encode(render(4000, 4000, [ItemSpec("bag", (1000, 1000, 3000, 2700), (200, 40, 40))]).convert("RGBA"),
                  "png")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM) in MB."""
    for line in open(f"/proc/{pid}/status", encoding="ascii"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


class CountingHost:
    """A one-route HTTP server on an allowed port that streams up to `total` bytes of a PNG-looking body and
    counts the bytes the client took before it closed the connection. `content_length`: None for no header
    (the body ends when the connection closes), else the value sent (a lie when smaller than `total`)."""

    def __init__(self, total: int, content_length: int | None) -> None:
        self.total, self.content_length = total, content_length
        self.sent: list[int] = []
        self._sock = socket.socket()
        for port in fetchable_ports():
            try:
                self._sock.bind(("127.0.0.1", port))
                break
            except OSError:
                continue
        self._sock.listen(8)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/big.png"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        sent = 0
        with conn:
            try:
                conn.settimeout(10)
                while b"\r\n\r\n" not in conn.recv(65536):
                    pass
                length = "" if self.content_length is None else f"Content-Length: {self.content_length}\r\n"
                conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n{length}Connection: close\r\n\r\n"
                             .encode())
                piece = b"\x89PNG\r\n\x1a\n" + bytes(65536 - 8)
                while sent < self.total:
                    sent += conn.send(piece[: self.total - sent])
            except OSError:
                pass
        self.sent.append(sent)

    def close(self) -> None:
        self._sock.close()


def image_call(nhn, services, endpoint: str, url: str) -> int:
    svc = nhn.svc(services[nhn.api])
    if endpoint == "search.image":
        return nhn.code(endpoint, path=svc, data={"imageUrl": url, "limit": "3"})
    return nhn.code(endpoint, path=svc, params={"path": url})


def hostile_cases(host, cap: int) -> list[tuple[str, str, int | None]]:
    """(name, url, expected code) for an endpoint whose size cap is `cap` bytes; BLANK: a valid image without
    items (0 on detect and tag, -45070 on search by image)."""
    truncated = encode(SCENE, "png")
    return [
        ("bomb", host.put("bomb.png", png_bomb(8000)), -45040),
        ("declared-png", host.put("declared.png", png_declaring(100_000, 100_000)), -45040),
        ("declared-jpeg", host.put("declared.jpg", jpeg_declaring(65_000, 65_000)), -45040),
        ("declared-gif", host.put("declared.gif", gif_declaring(65_535, 65_535)), -45040),
        ("short-data", host.put("short.png", png_declaring(4000, 4000, colour_type=6)), BLANK),
        ("truncated-png", host.put("truncated.png", truncated[: len(truncated) // 2]), -45040),
        ("gif-5000-frames", host.put("frames.gif", gif_many_frames(5000)), 0),
        ("large-rgba", host.put("large.png", large_rgba_scene()), 0),
        ("trickle", host.generated(41, trickle=DEADLINE_S + 0.6), -45060),
        ("lie-above-cap", host.generated(42, size=3 * cap, length="lie"), -45020),
        ("lie-below-cap", host.generated(43, size=cap + cap // 2, length="lie"), -45040),
        ("no-length", host.generated(44, size=HUGE_BODY, length="absent"), -45020),
    ]


@pytest.fixture(scope="module")
def hostile(start_emulator, clients_for):
    """A fresh emulator for these tests (its peak memory is measured), its clients and one service per API."""
    emu = start_emulator()
    nhn = clients_for(emu)
    services = {"v1": nhn["v1"].create_service(), "v2": nhn["v2"].create_service()}
    return emu, nhn, services


ENDPOINTS = (("v1", "detect"), ("v1", "tag"), ("v2", "detect"), ("v2", "tag"), ("v2", "search.image"))


def test_hostile_images_get_their_codes_and_memory_stays_bounded(hostile, image_host):
    """Every hostile case on every image endpoint, PARALLEL at a time (the deadline cases overlap)."""
    emu, nhn, services = hostile
    calls, expected = [], {}
    for api, endpoint in ENDPOINTS:
        cap = contracts.limit(api, ENDPOINT_CAP[endpoint]).extra["reject_from"] - 1
        blank = -45070 if endpoint == "search.image" else 0
        for name, url, code in hostile_cases(image_host, cap):
            calls.append((api, endpoint, name, url))
            expected[api, endpoint, name] = blank if code is BLANK else code
    calls.sort(key=lambda c: c[2] != "trickle")  # the slow ones first, so that they overlap
    for api, endpoint in ENDPOINTS:  # warm up
        image_call(nhn[api], services, endpoint, image_host.generated(40))
    before = peak_rss_mb(emu.process.pid)
    with ThreadPoolExecutor(PARALLEL) as pool:
        codes = pool.map(lambda c: image_call(nhn[c[0]], services, c[1], c[3]), calls)
        got = {c[:3]: code for c, code in zip(calls, codes, strict=True)}
    assert got == expected
    assert peak_rss_mb(emu.process.pid) - before < MEMORY_GROWTH_MB


@pytest.mark.parametrize("content_length", [None, 1 << 40, IMAGE_CAP // 2],
                         ids=["absent", "huge", "lie-below-cap"])
def test_never_reads_far_past_the_cap(hostile, content_length):
    """A 64 MB body: the emulator stops reading at the cap (socket buffers aside), whatever the header says."""
    emu, nhn, services = hostile
    host = CountingHost(HUGE_BODY, content_length)
    try:
        code = image_call(nhn["v1"], services, "detect", host.url)
        deadline = time.monotonic() + 10
        while not host.sent and time.monotonic() < deadline:  # the host counts once its send fails
            time.sleep(0.05)
    finally:
        host.close()
    assert code == (-45020 if content_length != IMAGE_CAP // 2 else -45040)
    assert host.sent and max(host.sent) < IMAGE_CAP + 16 * 1024 * 1024


def test_hostile_index_lines_fail_alone(hostile, image_host):
    """Index lines naming hostile images fail one by one (v2 and Maker); the valid ones are added."""
    emu, nhn, services = hostile
    cap = contracts.limit("v2", "index.image_max_bytes").extra["reject_from"] - 1
    cases = [c for c in hostile_cases(image_host, cap) if c[0] != "no-length"]
    cases.append(("no-length", image_host.generated(45, size=HUGE_BODY, length="absent"), -45020))
    good = {name for name, _, code in cases if code == 0}  # a blank image has no item to index: it fails
    before = peak_rss_mb(emu.process.pid)
    v2, maker = nhn["v2"], nhn["maker"]
    lines = v2.jsonl([v2.line(name, url) for name, url, _ in cases])
    index_id = v2.ok("index.create", path=v2.svc(services["v2"]), data={"format": "jsonl"},
                     files={"file": ("hostile.jsonl", lines)})["indexId"]
    maker_lines = maker.jsonl([maker.line(name, url) for name, url, _ in cases])
    maker_id = maker.ok("index.create", path={"serviceID": services["v1"]}, params={"format": "jsonl"},
                        files={"file": ("hostile.jsonl", maker_lines)})["indexID"]
    done = v2.wait_index(services["v2"], index_id)
    assert done["status"] == "finished"
    assert set(done["addedProductIds"]) == good
    assert set(done["failedProductIds"]) == {name for name, _, _ in cases} - good
    maker_done = maker.wait_index(services["v1"], maker_id)
    assert (maker_done["addCnt"], maker_done["failCnt"]) == (len(good), len(cases) - len(good))
    assert peak_rss_mb(emu.process.pid) - before < INDEX_MEMORY_GROWTH_MB
