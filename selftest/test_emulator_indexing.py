"""Index files and the job runner: request-time checks (NHN codes), line outcomes, caps, quota, lifecycle."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import hashlib
import http.server
import io
import json
import random
import threading

import numpy as np
import pytest

from fashion_conformance.emulator import fetch, vision
from fashion_conformance.emulator import store as st
from fashion_conformance.emulator.indexing import IndexFileError, IndexLimits, JobRunner, parse_file
from fashion_conformance.emulator.store import Store
from fashion_conformance.imagehost import factory

V2 = IndexLimits.of("v2")
MAKER = IndexLimits.of("maker")
KEY = ("v2", "k", "shop")


def row(pid: str, status: str = "enable", url: str | None = None, **over: str) -> list[str]:
    values = dict(pid=pid, status=status, name=f"item {pid}", c1="1", c2="2", c3="3",
                  url=url if url is not None else f"http://img.test/{pid}.jpg", s1="a", s2="")
    values.update(over)
    return list(values.values())


def jsonl(rows: list[list[str]], limits: IndexLimits = V2, end: str = "\n") -> bytes:
    return "".join(json.dumps(dict(zip(limits.fields, r, strict=True))) + end for r in rows).encode()


def csv_bytes(rows: list[list[str]], end: str = "\n") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator=end).writerows(rows)
    return out.getvalue().encode()


def code_of(api: str, fmt: str, data: bytes, limits: IndexLimits | None = None) -> int:
    with pytest.raises(IndexFileError) as info:
        parse_file(api, fmt, data, limits=limits)
    return info.value.code


# -- parse_file -----------------------------------------------------------------------------------------


def test_limits_are_the_documents():
    assert V2.fields == ("productId", "status", "name", "category1Id", "category2Id", "category3Id", "imageUrl",
                         "s1", "s2")
    assert MAKER.fields == ("product_id", "status", "name", "category1_id", "category2_id", "category3_id",
                            "image_url", "s1", "s2")
    assert V2.field_max_length["productId"] == MAKER.field_max_length["product_id"] == 72
    assert V2.max_lines == MAKER.max_lines == 10_000
    assert 5_000_000 <= V2.max_file_bytes < 5_242_881 and 20_000_000 <= MAKER.max_file_bytes < 20_971_521
    assert MAKER.image_max_bytes == 5_000_000
    assert V2.max_docs_per_service == MAKER.max_docs_per_service == 100_000
    assert V2.daily_quota is None and MAKER.daily_quota == st.DailyQuota(4, "Asia/Tokyo")
    assert V2.formats == MAKER.formats == ("jsonl", "csv")


def test_well_formed_files_in_both_formats_and_apis():
    rows = [row("10001"), row("10002", "disable", s1="x,y"), row("10003", name='say "hi"')]
    for api, limits in (("v2", V2), ("maker", MAKER)):
        for fmt, data in (("jsonl", jsonl(rows, limits)), ("csv", csv_bytes(rows))):
            parsed = parse_file(api, fmt, data)
            assert parsed.product_ids == ["10001", "10002", "10003"]
            assert parsed.lines[1].record.status == "disable" and parsed.lines[1].record.s1 == "x,y"
            assert parsed.lines[2].record.name == 'say "hi"' and parsed.lines[2].record.s2 == ""
            assert parsed.lines[0].record.image_url == "http://img.test/10001.jpg"


def test_documents_csv_example_parses():
    text = ("10001,enable,AAA red onepiece,1,1,2,http://aaaaaaa.bbbbb.jpg,1,2\n"
            "10002,disable,BBB blue onepiece,1,1,2,http://bbbbbbb.ccccc.jpg,s1,2\n"
            "10003,enable,BBB blue blouse,1,1,3,http://bbbbbbb.ddddd.jpg,,s2\n")
    parsed = parse_file("v2", "csv", text.encode())
    assert [(ln.record.category3, ln.record.s1) for ln in parsed.lines] == [("2", "1"), ("2", "s1"), ("3", "")]


def test_line_ends_bom_and_trailing_newline():
    rows = [row("a"), row("b")]
    for data in (jsonl(rows), jsonl(rows, end="\r\n"), jsonl(rows)[:-1], b"\xef\xbb\xbf" + jsonl(rows)):
        assert parse_file("v2", "jsonl", data).product_ids == ["a", "b"]
    assert parse_file("v2", "csv", csv_bytes(rows, end="\r\n")).product_ids == ["a", "b"]


@pytest.mark.parametrize("fmt", ["json", "JSONL", "tsv", ""])
def test_unknown_format_is_invalid_param(fmt):
    assert code_of("v2", fmt, jsonl([row("a")])) == -40000


@pytest.mark.parametrize("data", [b"", b"\n", b"\r\n", b"  \n\n", b"\xef\xbb\xbf"])
def test_no_data_line(data):
    assert code_of("v2", "jsonl", data) == -40020
    assert code_of("maker", "csv", data) == -40020


@pytest.mark.parametrize(
    "data",
    [
        jsonl([row("a")]) + b"\n" + jsonl([row("b")]),  # blank line in the middle
        jsonl([row("a")]) + b"   \n" + jsonl([row("b")]),  # whitespace-only line
        jsonl([row("a"), row("b")]) + b"\n",  # a second line end at the end
        b"\n" + jsonl([row("a")]),  # blank first line
        "{\"productId\": \"caf\xe9\"}\n".encode("latin-1"),  # not UTF-8
        jsonl([row("a")]) + b"\xff\xfe\n",  # not UTF-8 further down
    ],
)
def test_blank_lines_and_bad_encoding_are_invalid_file(data):
    assert code_of("v2", "jsonl", data) == -40010


def test_first_line_checks_jsonl():
    good = dict(zip(V2.fields, row("a"), strict=True))
    bad_lines = [
        "not json",
        "[1, 2]",
        '"a string"',
        json.dumps({k: v for k, v in good.items() if k != "s2"}),  # missing field
        json.dumps({**good, "extra": "x"}),  # extra field
        json.dumps({**good, "category1Id": 1}),  # not a string
        json.dumps({**good, "s1": None}),
        json.dumps({**good, "status": "Enable"}),
        json.dumps({**good, "status": "deleted"}),
        json.dumps({**good, "productId": ""}),
        json.dumps(good)[:-1] + ', "s2": "again"}',  # a repeated name
        json.dumps(good) + " {}",  # two values on one line
        json.dumps(dict(zip(MAKER.fields, row("a"), strict=True))),  # Maker's names in a v2 file
        "[" * 100_000,  # deeply nested
        json.dumps({**good, "name": "\ud800"}),  # a lone surrogate: not text UTF-8 can carry
    ]
    for line in bad_lines:
        assert code_of("v2", "jsonl", (line + "\n").encode() + jsonl([row("b")])) == -40010, line


def test_first_line_checks_csv():
    for line in ["a,enable,n,1,2,3,u,s1", "a,enable,n,1,2,3,u,s1,s2,extra", 'a,enable,"n,1,2,3,u,s1,s2',
                 "a,on,n,1,2,3,u,s1,s2", ",enable,n,1,2,3,u,s1,s2", "x"]:
        assert code_of("v2", "csv", (line + "\n").encode() + csv_bytes([row("b")])) == -40010, line


@pytest.mark.parametrize("index", range(9))
def test_every_field_has_its_max_length(index):
    name = V2.fields[index]
    cap = V2.field_max_length[name]
    values = row("a")
    values[index] = "x" * cap if name != "status" else "disable"
    assert parse_file("v2", "csv", csv_bytes([values])).lines[0].record is not None
    values[index] = "x" * (cap + 1)
    assert code_of("v2", "csv", csv_bytes([values])) == -40010
    assert code_of("v2", "jsonl", jsonl([values])) == -40010


def test_line_cap_and_byte_cap():
    small = dataclasses.replace(V2, max_lines=3, max_file_bytes=200)
    assert len(parse_file("v2", "csv", csv_bytes([row(str(i)) for i in range(3)]), limits=small).lines) == 3
    assert code_of("v2", "csv", csv_bytes([row(str(i)) for i in range(4)]), limits=small) == -40030
    base = len(csv_bytes([row("a", name="")]))
    padded = csv_bytes([row("a", name="n" * (201 - base))])
    assert len(padded) == 201
    assert code_of("v2", "csv", padded, limits=small) == -40030
    assert parse_file("v2", "csv", padded[:-1], limits=small).product_ids == ["a"]  # exactly 200 bytes


def test_real_caps_from_contracts():
    lines = csv_bytes([row(str(i), url="u") for i in range(V2.max_lines + 1)])
    assert code_of("v2", "csv", lines) == -40030
    assert len(parse_file("v2", "csv", lines[: lines.index(b"10000,")]).lines) == V2.max_lines
    assert code_of("v2", "jsonl", b" " * (V2.max_file_bytes + 1)) == -40030
    assert code_of("maker", "jsonl", b" " * (MAKER.max_file_bytes + 1)) == -40030


def test_later_malformed_lines_are_kept_as_failed_lines():
    good = jsonl([row("a")])
    data = good + b'{"productId": "b", "status": "enable"}\nnot json\n' + jsonl([row("c", "gone")]) + good
    parsed = parse_file("v2", "jsonl", data)
    assert parsed.product_ids == ["a", "b", "line:3", "c", "a"]
    assert [ln.record is not None for ln in parsed.lines] == [True, False, False, False, True]
    parsed = parse_file("v2", "csv", csv_bytes([row("a"), ["b", "enable"], [], row("c")]).replace(b"\n\n", b"\n\"\n"))
    assert parsed.product_ids == ["a", "b", "line:3", "c"]
    surrogate = json.dumps(dict(zip(V2.fields, row("\udfff"), strict=True))).encode()
    assert parse_file("v2", "jsonl", good + surrogate).product_ids == ["a", "line:2"]


# -- the job runner ------------------------------------------------------------------------------------


class FakeImages:
    """fetch() and embed() stand-ins: url -> bytes; bytes -> vector (None for "blank"); counts concurrency."""

    def __init__(self, gate: asyncio.Event | None = None) -> None:
        self.gate = gate
        self.active = 0
        self.peak = 0
        self.calls: list[dict] = []

    async def fetch(self, url: str, *, max_bytes: int, deadline_s: float, allow_private: bool):
        self.calls.append(dict(url=url, max_bytes=max_bytes, deadline_s=deadline_s, allow_private=allow_private))
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(0.001)
            if self.gate is not None:
                await self.gate.wait()
            if "unreachable" in url:
                raise OSError("unreachable")
            return type("Fetched", (), {"data": url.encode()})()
        finally:
            self.active -= 1

    @staticmethod
    def embed(data: bytes) -> np.ndarray | None:
        if b"blank" in data:
            return None
        if b"corrupt" in data:
            raise ValueError("corrupt image")
        vec = np.frombuffer(hashlib.sha256(data).digest(), dtype=np.uint8).astype(np.float32)
        return vec / np.linalg.norm(vec)


class Harness:
    def __init__(self, tmp_path, *, gate=None, concurrency=4, limits=IndexLimits.of, clock=None) -> None:
        self.clock = clock or (lambda: 1_700_000_000.0)
        self.store = Store(tmp_path / "state.sqlite3", clock=self.clock)
        self.images = FakeImages(gate)
        self.commits: list[tuple[tuple[str, str, str], list[str], list[str]]] = []
        self.runner = JobRunner(
            self.store, fetch=self.images.fetch, embed=self.images.embed, clock=self.clock,
            concurrency=concurrency, deadline_s=3.0, allow_private=True, on_commit=self.on_commit, limits=limits,
        )

    def on_commit(self, ns, appkey, service, upserted, deleted_ids) -> None:
        self.commits.append(((ns, appkey, service), [p.product_id for p in upserted], list(deleted_ids)))

    async def index(self, rows, *, key=KEY, api="v2", fmt="csv") -> st.Job:
        data = csv_bytes(rows) if fmt == "csv" else jsonl(rows, V2 if api == "v2" else MAKER)
        job_id = await self.runner.submit(*key, parse_file(api, fmt, data), "products.csv")
        await self.runner.wait(job_id)
        return self.store.get_job(*key, job_id)


def run(coro):
    return asyncio.run(coro)


def test_job_lifecycle_counts_and_products(tmp_path):
    async def scenario():
        h = Harness(tmp_path)
        h.store.create_service(*KEY)
        first = await h.index([row("a"), row("b"), row("c")])
        rows = [
            row("a", name="renamed"),  # updated
            row("b", "disable"),  # deleted
            row("zz", "disable"),  # unknown id: failed
            row("d", url="http://img.test/unreachable.jpg"),  # fetch failed
            row("e", url="http://img.test/blank.jpg"),  # no item found
            row("f", url="http://img.test/corrupt.jpg"),  # undecodable
            row("g"),  # added
        ]
        second = await h.index(rows, fmt="jsonl")
        return h, first, second

    h, first, second = run(scenario())
    assert (first.status, first.added_ids, first.total_count) == ("finished", ("a", "b", "c"), 3)
    assert first.requested_time == first.start_time == first.finish_time == 1_700_000_000
    assert second.status == "finished" and second.filename == "products.csv" and second.api == "v2"
    assert (second.added_ids, second.updated_ids, second.deleted_ids) == (("g",), ("a",), ("b",))
    assert second.failed_ids == ("zz", "d", "e", "f") and second.exceeded_ids == ()
    for outcome in st.OUTCOMES:
        assert getattr(second, f"{outcome}_count") == len(getattr(second, f"{outcome}_ids"))
    assert sum(getattr(second, f"{o}_count") for o in st.OUTCOMES) == second.total_count == 7
    assert sorted(p.product_id for p in h.store.iter_products(*KEY)) == ["a", "c", "g"]
    a = h.store.get_product(*KEY, "a")
    assert a.name == "renamed" and a.image_sha256 == hashlib.sha256(b"http://img.test/a.jpg").hexdigest()
    assert np.allclose(a.vector, FakeImages.embed(b"http://img.test/a.jpg"))
    upserted = {pid for _, ups, _ in h.commits for pid in ups}
    deleted = {pid for _, _, dels in h.commits for pid in dels}
    assert upserted == {"a", "b", "c", "g"} and deleted == {"b"}
    assert {k for k, _, _ in h.commits} == {KEY}
    call = h.images.calls[0]
    assert call["max_bytes"] == V2.image_max_bytes and call["deadline_s"] == 3.0 and call["allow_private"] is True
    h.store.close()


def test_later_line_wins_and_malformed_lines_fail(tmp_path):
    async def scenario():
        h = Harness(tmp_path)
        h.store.create_service(*KEY)
        data = csv_bytes([row("a", name="first"), row("a", name="second"), ["b", "enable"], row("b", "disable")])
        data += b'"broken\n'
        job_id = await h.runner.submit(*KEY, parse_file("v2", "csv", data), "f.csv")
        await h.runner.wait(job_id)
        return h, h.store.get_job(*KEY, job_id)

    h, job = run(scenario())
    assert job.added_ids == ("a",) and job.updated_ids == ("a",)
    assert job.failed_ids == ("b", "b", "line:5")
    assert h.store.get_product(*KEY, "a").name == "second"
    h.store.close()


def test_every_line_failed_means_failed(tmp_path):
    async def scenario():
        h = Harness(tmp_path)
        h.store.create_service(*KEY)
        return h, await h.index([row("a", url="http://unreachable"), row("b", "disable")])

    h, job = run(scenario())
    assert (job.status, job.failed_count, job.total_count) == ("failed", 2, 2)
    assert job.finish_time > 0
    h.store.close()


def test_document_cap_via_limits(tmp_path):
    small = dataclasses.replace(V2, max_docs_per_service=3)

    async def scenario():
        h = Harness(tmp_path, limits=lambda api: small)
        h.store.create_service(*KEY)
        first = await h.index([row(str(i)) for i in range(5)])
        second = await h.index([row("0", name="again"), row("9"), row("1", "disable"), row("9")])
        return h, first, second

    h, first, second = run(scenario())
    assert first.added_ids == ("0", "1", "2") and first.exceeded_ids == ("3", "4")
    assert first.status == "finished"
    assert second.updated_ids == ("0",) and second.exceeded_ids == ("9",) and second.deleted_ids == ("1",)
    assert second.added_ids == ("9",)  # room again after the delete, in file order
    assert h.store.count_products(*KEY) == 3
    h.store.close()


def test_concurrent_submit_is_busy_and_fetches_are_bounded(tmp_path):
    async def scenario():
        gate = asyncio.Event()
        h = Harness(tmp_path, gate=gate, concurrency=3)
        h.store.create_service(*KEY)
        parsed = parse_file("v2", "csv", csv_bytes([row(f"p{i}") for i in range(40)]))
        results = await asyncio.gather(*(h.runner.submit(*KEY, parsed, "f.csv") for _ in range(20)),
                                       return_exceptions=True)
        accepted = [r for r in results if isinstance(r, str)]
        busy = [r for r in results if isinstance(r, st.JobBusy)]
        while h.images.active < 3:
            await asyncio.sleep(0.001)
        (_, (job,)) = h.store.list_jobs(*KEY)
        running = job.status
        gate.set()
        await h.runner.wait(accepted[0])
        return h, accepted, busy, running

    h, accepted, busy, running = run(scenario())
    assert len(accepted) == 1 and len(busy) == 19
    assert running == "running"
    assert h.images.peak == 3
    assert h.store.get_job(*KEY, accepted[0]).added_count == 40
    h.store.close()


def test_maker_daily_quota_through_the_runner(tmp_path):
    async def scenario():
        h = Harness(tmp_path)
        key = ("v1", "k", "svc")
        h.store.create_service(*key)
        for i in range(4):
            job = await h.index([row(f"p{i}")], key=key, api="maker", fmt="jsonl")
            assert job.status == "finished" and job.api == "maker"
        with pytest.raises(st.QuotaExceeded):
            await h.runner.submit(*key, parse_file("maker", "csv", csv_bytes([row("x")])), "f.csv")
        return h, key

    h, key = run(scenario())
    assert h.store.uploads_today(*key) == 4
    assert h.images.calls[0]["max_bytes"] == MAKER.image_max_bytes
    h.store.close()


def test_deleting_the_service_ends_its_job(tmp_path):
    async def scenario():
        gate = asyncio.Event()
        h = Harness(tmp_path, gate=gate, concurrency=2)
        h.store.create_service(*KEY)
        job_id = await h.runner.submit(*KEY, parse_file("v2", "csv", csv_bytes([row(f"p{i}") for i in range(20)])),
                                       "f.csv")
        while h.images.active < 2:
            await asyncio.sleep(0.001)
        h.store.delete_service(*KEY)
        gate.set()
        await h.runner.wait(job_id)
        h.store.create_service(*KEY)
        return h

    h = run(scenario())
    assert h.commits == [] and h.store.count_products(*KEY) == 0 and h.store.list_jobs(*KEY) == (0, [])
    h.store.close()


def test_aclose_fails_running_jobs(tmp_path):
    async def scenario():
        h = Harness(tmp_path, gate=asyncio.Event(), concurrency=2)
        h.store.create_service(*KEY)
        parsed = parse_file("v2", "csv", csv_bytes([row(f"p{i}") for i in range(10)]))
        job_id = await h.runner.submit(*KEY, parsed, "f.csv")
        while h.images.active < 2:
            await asyncio.sleep(0.001)
        await h.runner.aclose()
        return h, job_id

    h, job_id = run(scenario())
    job = h.store.get_job(*KEY, job_id)
    assert job.status == "failed" and job.failed_count == job.total_count == 10
    assert not h.store.has_active_job(*KEY)
    h.store.close()


def test_on_commit_reports_the_net_effect_of_a_batch(tmp_path):
    async def scenario():
        h = Harness(tmp_path, concurrency=1)
        h.store.create_service(*KEY)
        job = await h.index([row("a"), row("a", "disable"), row("b"), row("b", name="v2")])
        return h, job

    h, job = run(scenario())
    assert job.added_ids == ("a", "b") and job.deleted_ids == ("a",) and job.updated_ids == ("b",)
    final: dict[str, str] = {}
    for _, ups, dels in h.commits:
        assert not set(ups) & set(dels)
        final.update({pid: "present" for pid in ups})
        final.update({pid: "absent" for pid in dels})
    assert final == {"a": "absent", "b": "present"}
    h.store.close()


# -- with the real fetch and vision against a local HTTP server ---------------------------------------


class _Images(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = self.files.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def image_server():
    """A local image server on a port an image URL may name (contracts image.allowed_ports: 10000..12000)."""
    for port in random.sample(range(10000, 12001), 50):
        try:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Images)
            break
        except OSError:
            continue
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_real_fetch_and_vision(tmp_path, image_server):
    _Images.files = {
        "/red.jpg": factory.product_image(1),
        "/blue.png": factory.product_image(2, fmt="png"),
        "/blank.png": factory.encode(factory.render(200, 200, []), "png"),
        "/text.jpg": b"not an image at all",
    }
    rows = [row("red", url=f"{image_server}/red.jpg"), row("blue", url=f"{image_server}/blue.png"),
            row("blank", url=f"{image_server}/blank.png"), row("text", url=f"{image_server}/text.jpg"),
            row("missing", url=f"{image_server}/missing.jpg")]

    async def scenario():
        store = Store(tmp_path / "state.sqlite3")
        store.create_service(*KEY)
        runner = JobRunner(store, fetch=fetch.fetch, concurrency=2, deadline_s=3.0, allow_private=True)
        job_id = await runner.submit(*KEY, parse_file("v2", "csv", csv_bytes(rows)), "real.csv")
        await runner.wait(job_id)
        return store, store.get_job(*KEY, job_id)

    store, job = run(scenario())
    assert job.added_ids == ("red", "blue") and job.failed_ids == ("blank", "text", "missing")
    red, blue = store.get_product(*KEY, "red"), store.get_product(*KEY, "blue")
    assert red.vector.shape == (vision.DIM,) and abs(float(np.linalg.norm(red.vector)) - 1) < 1e-5
    assert red.image_sha256 == hashlib.sha256(_Images.files["/red.jpg"]).hexdigest()
    assert vision.similarity(red.vector, np.stack([red.vector, blue.vector]))[0] >= 0.999
    store.close()
