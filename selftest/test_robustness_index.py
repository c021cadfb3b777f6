"""Hostile index files over HTTP, v2 and Maker (v2 "API 공통 정보 > 색인 가이드" and "색인 > 색인 요청 > 파일 데이터
포맷" of nhn-ai-fashion-v2.0-api-guide.ko.txt; Maker "API共通情報 > インデックス入力ファイル情報" of
nhn-ai-fashion-maker-api-guide.ja.txt): invalid UTF-8, a byte order mark, CRLF, blank lines, too many lines, too
many bytes, CSV quoting and JSON with repeated names. Each gets its documented code, or the behaviour the
decisions in emulator/indexing.py fix; the emulator's peak memory stays bounded and it never downloads an index
file far past the cap."""

from __future__ import annotations

import json
import time

import pytest
from test_robustness_images import CountingHost, peak_rss_mb

from fashion_conformance import contracts

APIS = ("v2", "maker")
MAX_LINES = contracts.limit("v2", "index.max_lines").value
assert contracts.limit("maker", "index.max_lines").value == MAX_LINES
MB = 1024 * 1024
OVER_CAP = {"v2": 6 * MB, "maker": 21 * MB}  # above each API's cap (5MB, 20MB) whatever "MB" means
MEMORY_GROWTH_MB = 150
HUGE_BODY = 64 * MB
ID_FIELD = {"v2": "indexId", "maker": "indexID"}
BOM = b"\xef\xbb\xbf"


def submit(nhn, service: str, content: bytes, fmt: str = "jsonl", link: str | None = None):
    """An index request with `content` as the uploaded file (and `link` when given)."""
    form = {"link": link} if link else {}
    if nhn.api == "v2":
        return nhn.call("index.create", path={"serviceName": service}, data={"format": fmt, **form},
                        files={"file": (f"f.{fmt}", content)})
    return nhn.call("index.create", path={"serviceID": service}, params={"format": fmt}, data=form or None,
                    files={"file": (f"f.{fmt}", content)})


def tiny_lines(nhn, n: int) -> bytes:
    """n short, well-formed lines that delete unknown products (no image is fetched)."""
    return nhn.jsonl([nhn.line(f"n{i}", "", status="disable") for i in range(n)])


def sized_lines(nhn, n: int, total: int) -> bytes:
    """n well-formed delete lines of exactly `total` bytes in all, padded in the fields' max lengths (the name
    with three-byte characters)."""
    fields = contracts.limit(nhn.api, "index.fields").value
    max_len = contracts.limit(nhn.api, "index.field_max_length").value
    pad_order = [(fields[2], "가", 3), (fields[6], "x", 1), *((fields[k], "c", 1) for k in (7, 8, 3, 4, 5))]
    lines = []
    for i in range(n):
        record = {name: "" for name in fields} | {fields[0]: f"p{i:05d}", fields[1]: "disable"}
        size = total // n + (1 if i < total % n else 0)
        deficit = size - len(json.dumps(record, ensure_ascii=False).encode()) - 1
        for name, char, width in pad_order:
            count = min(max_len[name], deficit // width)
            record[name], deficit = char * count, deficit - count * width
        assert deficit == 0, "line size not reachable"
        lines.append(json.dumps(record, ensure_ascii=False).encode() + b"\n")
    return b"".join(lines)


def rejected_cases(nhn) -> list[tuple[str, bytes, str, int]]:
    """(name, file, format, code) of files refused at request time."""
    good = nhn.jsonl([nhn.line("g1", "", status="disable")])
    first_dup = good.replace(b"}", b', "' + contracts.limit(nhn.api, "index.fields").value[1].encode()
                             + b'": "enable"}')
    many = tiny_lines(nhn, MAX_LINES + 1)
    return [
        ("invalid-utf8-first", b"\xff" + good, "jsonl", -40010),
        ("invalid-utf8-later", good + good.replace(b"g1", b"g\xc3\x28"), "jsonl", -40010),
        ("blank-middle", good + b"\n" + good, "jsonl", -40010),
        ("blank-middle-crlf", good.replace(b"\n", b"\r\n") * 2 + b"\r\n" + good, "jsonl", -40010),
        ("whitespace-line", good + b" \t\n" + good, "jsonl", -40010),
        ("one-blank-at-end", good + b"\n", "jsonl", -40010),
        ("two-blank-at-end", good + b"\n\n", "jsonl", -40010),
        ("bom-then-blank", BOM + b"\n" + good, "jsonl", -40010),
        ("only-blank-lines", b"\n\n\n", "jsonl", -40020),
        ("only-bom", BOM, "jsonl", -40020),
        ("json-duplicate-first-line", first_dup, "jsonl", -40010),
        ("csv-open-quote-first-line", b'a,enable,"unclosed,c,c,c,,s,s\n', "csv", -40010),
        ("lines-over-cap", many, "jsonl", -40030),
        ("lines-over-cap-with-blank", many + b"\n", "jsonl", -40030),  # the line count is checked first
        ("bytes-over-cap", good + b" " * OVER_CAP[nhn.api], "jsonl", -40030),
        ("bytes-far-over-cap", good + b" " * HUGE_BODY, "jsonl", -40030),  # spooled to disk, not held in memory
        ("bytes-over-cap-not-utf8", b"\xff" * OVER_CAP[nhn.api], "jsonl", -40030),  # the size is checked first
    ]


@pytest.fixture(scope="module")
def hostile(start_emulator, clients_for):
    """A fresh emulator (its peak memory is measured), its clients, a v2 service and two v1 service IDs (Maker
    accepts four requests per service ID and day)."""
    emu = start_emulator()
    nhn = clients_for(emu)
    services = {"v2": nhn["v2"].create_service(), "maker": nhn["v1"].create_service(),
                "maker-2": nhn["v1"].create_service()}
    return emu, nhn, services


@pytest.mark.parametrize("api", APIS)
def test_hostile_files_get_their_codes_and_memory_stays_bounded(hostile, api):
    """Every refused file gets its code in the order parse_file checks (format, bytes, UTF-8, lines, blanks,
    first line); a 64 MB upload is spooled, not held, so the peak memory barely moves."""
    emu, nhn, services = hostile
    client = nhn[api]
    assert submit(client, services[api], tiny_lines(client, 1), fmt="xml").header["resultCode"] == -40000
    cases = rejected_cases(client)
    before = peak_rss_mb(emu.process.pid)
    got = {name: submit(client, services[api], content, fmt).header["resultCode"] for name, content, fmt, _ in cases}
    assert got == {name: code for name, _, _, code in cases}
    assert peak_rss_mb(emu.process.pid) - before < MEMORY_GROWTH_MB


def wait_done(nhn, service: str, exchange) -> dict:
    assert exchange.header["isSuccessful"], exchange.describe()
    return nhn.wait_index(service, exchange.data[ID_FIELD[nhn.api]])


SEEDS = {pid: 11 + n for n, pid in enumerate(("b1", "b2", "c1", "c2", "q1", "q2", "q3", "d1", "d2"))}


def product_url(image_host, pid: str) -> str:
    """Each product its own image (v1 counts products with identical images once)."""
    return image_host.generated(SEEDS[pid])


def accepted_cases(nhn, image_host) -> list[tuple[str, bytes, str, list[str], list[str]]]:
    """(name, file, format, added ids, failed ids) of files accepted at request time."""
    def url(pid: str) -> str:
        return product_url(image_host, pid)

    def jsonl(*ids: str) -> bytes:
        return nhn.jsonl([nhn.line(pid, url(pid)) for pid in ids])

    fields = contracts.limit(nhn.api, "index.fields").value
    dup = json.dumps(nhn.line("d2", url("d2")))[:-1] + f', "{fields[0]}": "d3"}}\n'
    csv_text = (f'q1,enable,"Dress, red","c ""1""",c2,c3,{url("q1")},"s,1",y\n'
                f'"q2",enable,"""quoted""",c1,c2,c3,"{url("q2")}",s,""\n'
                f'q3,enable,"x"y,c1,c2,c3,{url("q3")},s,y\n')
    return [
        ("bom", BOM + jsonl("b1", "b2"), "jsonl", ["b1", "b2"], []),
        ("crlf", jsonl("c1", "c2").replace(b"\n", b"\r\n"), "jsonl", ["c1", "c2"], []),
        ("csv-quoting", csv_text.encode(), "csv", ["q1", "q2"], ["line:3"]),
        ("json-duplicate-later-line", jsonl("d1") + dup.encode(), "jsonl", ["d1"], ["line:2"]),
    ]


def test_v2_accepted_files_are_parsed_right(hostile, image_host):
    """BOM and CRLF are accepted; quoted commas and doubled quotes in CSV are values; a later malformed line
    (bad quoting, a repeated JSON name) fails alone as "line:<n>"."""
    _, nhn, services = hostile
    v2, service = nhn["v2"], services["v2"]
    for name, content, fmt, added, failed in accepted_cases(v2, image_host):
        done = wait_done(v2, service, submit(v2, service, content, fmt))
        assert (done["status"], done["addedProductIds"], done["failedProductIds"]) == ("finished", added, failed), name
        assert done["totalCount"] == len(added) + len(failed), name
    found = v2.ok("search.product", path={"serviceName": service, "productId": "q1"}, params={"limit": 200})
    items = {i["productId"]: i for i in found["items"]}
    assert (items["q1"]["name"], items["q1"]["category1Id"], items["q1"]["s1"]) == ("Dress, red", 'c "1"', "s,1")
    assert (items["q2"]["name"], items["q2"]["imageUrl"], items["q2"]["s2"]) == ('"quoted"', product_url(image_host, "q2"), "")
    assert {"b1", "b2", "c1", "c2", "d1"} <= set(items)


def test_maker_accepted_files_are_parsed_right(hostile, image_host):
    """The same files on Maker (four requests: the service ID's daily quota); v1 searches what it indexed."""
    _, nhn, services = hostile
    maker, v1, service = nhn["maker"], nhn["v1"], services["maker"]
    for name, content, fmt, added, failed in accepted_cases(maker, image_host):
        done = wait_done(maker, service, submit(maker, service, content, fmt))
        assert (done["status"], done["addCnt"], done["failCnt"], done["totalCnt"]) == (
            "finished", len(added), len(failed), len(added) + len(failed)), name
    found = v1.ok("search.product", path={"serviceID": service, "productID": "q1"}, params={"limit": 200})
    assert {i["productID"] for i in found["items"]} == {"b1", "b2", "c1", "c2", "q1", "q2", "d1"}


@pytest.mark.parametrize("api", APIS)
def test_largest_file_is_accepted(hostile, api):
    """MAX_LINES lines and exactly the cap's unambiguous bytes (v2 5,000,000, Maker 20,000,000) are accepted;
    every line deletes an unknown product, so the job fails line by line."""
    emu, nhn, services = hostile
    client = nhn[api]
    service = services["v2" if api == "v2" else "maker-2"]
    content = sized_lines(client, MAX_LINES, contracts.limit(api, "index.max_file_bytes").value)
    before = peak_rss_mb(emu.process.pid)
    done = wait_done(client, service, submit(client, service, content))
    assert done["status"] == "failed"
    counts = (done["totalCount"], done["failedCount"]) if api == "v2" else (done["totalCnt"], done["failCnt"])
    assert counts == (MAX_LINES, MAX_LINES)
    assert peak_rss_mb(emu.process.pid) - before < MEMORY_GROWTH_MB


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("content_length", [None, 1 << 40], ids=["absent", "huge"])
def test_link_is_never_read_far_past_the_cap(hostile, api, content_length):
    """An index file link serving 64 MB is answered with -40030 and the emulator stops reading at the cap."""
    _, nhn, services = hostile
    service = services["v2" if api == "v2" else "maker-2"]
    host = CountingHost(HUGE_BODY, content_length)
    try:
        code = submit(nhn[api], service, tiny_lines(nhn[api], 1), link=host.url).header["resultCode"]
        deadline = time.monotonic() + 10
        while not host.sent and time.monotonic() < deadline:  # the host counts once its send fails
            time.sleep(0.01)
    finally:
        host.close()
    cap = contracts.limit(api, "index.max_file_bytes").extra["reject_from"]
    assert code == -40030
    assert host.sent and max(host.sent) < cap + 16 * MB
