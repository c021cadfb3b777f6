"""AI Fashion Maker v1.0 index requests refused at once: format parameter, file checks (first line, empty, lines and
bytes caps), missing source, unreachable link, unknown service, wrong appKey, undefined methods."""

from __future__ import annotations

import json

import maker_kit as mk
import pytest
import v1_kit

from fashion_conformance import checks

CODE = mk.CODE
MAX_LINES = mk.limit("index.max_lines").value
MAX_FILE = mk.limit("index.max_file_bytes")


def _good(image_host, pid: str = "ok1") -> dict[str, str]:
    return v1_kit.product(pid, image_host.generated(41))


def _refused(maker, service: str, data: bytes, code: int, fmt: str = "jsonl") -> None:
    """Refused with `code`, and no index request was created."""
    before = mk.index_total(maker, service)
    ex = v1_kit.submit_index(maker, service, data, fmt)
    checks.error(ex, code)
    checks.that(ex, mk.index_total(maker, service) == before, "a refused request must create no index")


@pytest.mark.parametrize("fmt", [None, "xml", "json", "JSONL", "tsv", ""])
@pytest.mark.req("MAKER-INDEX-CREATE-INVALID-40000")
def test_index_create_format_invalid(maker, idle_service, image_host, fmt):
    params = {} if fmt is None else {"format": fmt}
    ex = maker.call("index.create", path={"serviceID": idle_service}, params=params,
                    files={"file": ("products.jsonl", v1_kit.jsonl([_good(image_host)]))})
    checks.error(ex, CODE["InvalidParam"])


@pytest.mark.req("MAKER-INDEX-SOURCE-REQUIRED")
def test_index_create_without_source(maker, idle_service):
    ex = maker.call("index.create", path={"serviceID": idle_service}, params={"format": "jsonl"},
                    files={"other": ("x.txt", b"x")})
    checks.error(ex, CODE["InvalidParam"])


def _first_lines(image_host) -> dict[str, tuple[str, bytes]]:
    """Malformed first lines (format, bytes), each followed by a good line."""
    good = _good(image_host)
    rest = v1_kit.jsonl([good])
    missing = {k: v for k, v in good.items() if k != "category2_id"}
    header = ",".join(mk.FIELDS).encode() + b"\n"
    return {
        "not json": ("jsonl", b"this is not json\n" + rest),
        "json array": ("jsonl", json.dumps(list(good.values())).encode() + b"\n" + rest),
        "missing field": ("jsonl", json.dumps(missing).encode() + b"\n" + rest),
        "unknown status": ("jsonl", v1_kit.jsonl([{**good, "status": "active"}]) + rest),
        "number value": ("jsonl", json.dumps({**good, "s1": 5}).encode() + b"\n" + rest),
        "csv 8 columns": ("csv", mk.csv_bytes([good]).replace(b",,\n", b",\n", 1) + mk.csv_bytes([good])),
        "csv header": ("csv", header + mk.csv_bytes([good])),
    }


@pytest.mark.parametrize("case", ["not json", "json array", "missing field", "unknown status", "number value",
                                  "csv 8 columns"])
@pytest.mark.req("MAKER-INDEX-CREATE-FILE-40010")
def test_index_create_first_line_malformed(maker, idle_service, image_host, case):
    fmt, data = _first_lines(image_host)[case]
    _refused(maker, idle_service, data, CODE["InvalidFileError"], fmt)


@pytest.mark.parametrize("missing", mk.FIELDS)
@pytest.mark.req("MAKER-INDEX-CREATE-FILE-40010")
def test_index_create_field_missing(maker, idle_service, image_host, missing):
    line = {k: v for k, v in _good(image_host).items() if k != missing}
    _refused(maker, idle_service, json.dumps(line).encode() + b"\n", CODE["InvalidFileError"])


@pytest.mark.req("MAKER-INDEX-CSV-NO-HEADER")
def test_index_create_csv_header_line(maker, idle_service, image_host):
    fmt, data = _first_lines(image_host)["csv header"]
    _refused(maker, idle_service, data, CODE["InvalidFileError"], fmt)


@pytest.mark.parametrize("name", mk.FIELDS)
@pytest.mark.req("MAKER-INDEX-FIELD-MAX-LENGTH")
def test_index_create_first_line_too_long(maker, idle_service, image_host, name):
    line = _good(image_host)
    if name == "status":
        line[name] = v1_kit.ENABLE + "x" * (mk.MAX_LENGTH[name] + 1 - len(v1_kit.ENABLE))
    elif name == "image_url":
        line[name] += "#" + "x" * (mk.MAX_LENGTH[name] - len(line[name]))
    else:
        line[name] = "x" * (mk.MAX_LENGTH[name] + 1)
    _refused(maker, idle_service, v1_kit.jsonl([line]), CODE["InvalidFileError"])


@pytest.mark.req("MAKER-INDEX-ENCODING")
def test_index_create_first_line_not_utf8(maker, idle_service, image_host):
    line = v1_kit.jsonl([{**_good(image_host), "name": "caf\u00e9"}]).decode("utf-8").encode("latin-1")
    _refused(maker, idle_service, line, CODE["InvalidFileError"])


@pytest.mark.req("MAKER-INDEX-NO-BLANK-LINES")
def test_index_create_blank_first_line(maker, idle_service, image_host):
    _refused(maker, idle_service, b"\n" + v1_kit.jsonl([_good(image_host)]), CODE["InvalidFileError"])


@pytest.mark.destructive
@pytest.mark.req("MAKER-INDEX-NO-BLANK-LINES")
def test_index_create_blank_later_line(v1, maker, services, image_host):
    data = v1_kit.jsonl([_good(image_host, "b1")]) + b"\n" + v1_kit.jsonl([_good(image_host, "b2")])
    with v1_kit.temp_service(v1, services, "blank") as service:
        ex = v1_kit.submit_index(maker, service, data)
        if ex.header.get("isSuccessful") is not True:
            checks.error(ex, CODE["InvalidFileError"])
            return
        item = v1_kit.wait_index(maker, service, ex.data["indexID"])
        documents = mk.service_info(maker, service)["documentCnt"]
        mk.expect(maker, item["addCnt"] <= 2 and documents == item["addCnt"],
                  f"a blank line is refused or fails; it never becomes a document: {item}, documentCnt {documents}")


@pytest.mark.req("MAKER-INDEX-CREATE-EMPTY-40020")
def test_index_create_empty_file(maker, idle_service):
    _refused(maker, idle_service, b"", CODE["NoDataError"])


@pytest.mark.req("MAKER-INDEX-LINK-UNREACHABLE")
def test_index_create_link_unreachable(maker, idle_service, image_host):
    before = mk.index_total(maker, idle_service)
    ex = maker.call("index.create", path={"serviceID": idle_service}, params={"format": "jsonl"},
                    data={"link": image_host.status_url(404)})
    checks.error(ex, CODE["InvalidFileError"])
    checks.that(ex, mk.index_total(maker, idle_service) == before, "a refused request must create no index")


@pytest.mark.destructive
@pytest.mark.req("MAKER-INDEX-CREATE-TOO-MANY-LINES-40030")
def test_index_create_line_cap(v1, maker, services, image_host):
    gone = image_host.status_url(404)
    lines = [v1_kit.product(f"l{i:05d}", gone, status=v1_kit.DISABLE) for i in range(MAX_LINES + 1)]
    with v1_kit.temp_service(v1, services, "lines") as service:
        _refused(maker, service, v1_kit.jsonl(lines), CODE["ExceedDataSizeError"])
        ex = v1_kit.submit_index(maker, service, v1_kit.jsonl(lines[:MAX_LINES]))
        item = v1_kit.wait_index(maker, service, checks.success(ex)["indexID"])
        checks.that(ex, item["totalCnt"] == MAX_LINES, f"{MAX_LINES} lines must be accepted and counted: {item}")


@pytest.mark.destructive
@pytest.mark.req("MAKER-INDEX-CREATE-TOO-LARGE-40030")
def test_index_create_byte_cap(v1, maker, services, image_host):
    gone = image_host.status_url(404)
    with v1_kit.temp_service(v1, services, "bytes") as service:
        _refused(maker, service, mk.sized_file(MAX_FILE.extra["reject_from"], gone), CODE["ExceedDataSizeError"])
        ex = v1_kit.submit_index(maker, service, mk.sized_file(MAX_FILE.value, gone))
        v1_kit.wait_index(maker, service, checks.success(ex)["indexID"])


@pytest.mark.req("MAKER-INDEX-CREATE-SERVICE-42000")
def test_index_create_unknown_service(maker, services, image_host):
    ex = v1_kit.submit_index(maker, services.name("nosuch"), v1_kit.jsonl([_good(image_host)]))
    checks.error(ex, CODE["NotExistServiceID"])


@pytest.mark.req("MAKER-INDEX-CREATE-UNAUTHORIZED-41000")
def test_index_create_unauthorized(maker, bad_maker, idle_service, image_host):
    ex = v1_kit.submit_index(bad_maker, idle_service, v1_kit.jsonl([_good(image_host)]))
    checks.error(ex, CODE["UnauthorizedAppKey"])


@pytest.mark.req("MAKER-AUTH-NO-EFFECT")
def test_index_create_unauthorized_creates_nothing(maker, bad_maker, idle_service, image_host):
    """Our reading: a request refused with -41000 queues no index."""
    before = mk.index_total(maker, idle_service)
    ex = v1_kit.submit_index(bad_maker, idle_service, v1_kit.jsonl([_good(image_host)]))
    checks.error(ex, CODE["UnauthorizedAppKey"])
    checks.that(ex, mk.index_total(maker, idle_service) == before, "a refused request must create no index")


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
@pytest.mark.req("MAKER-INDEX-CREATE-NO-API-40400", "MAKER-INDEX-CREATE-URL-NOT-FOUND-4041007")
def test_index_create_undefined_method(maker, idle_service, method):
    mk.no_api(maker.call("index.create", path={"serviceID": idle_service}, params={"format": "jsonl"},
                         method=method))
