"""AI Fashion Maker v1.0 index requests that are accepted: what they add, update, delete and fail, as the index
status, the services info and v1 search (on the same service IDs) show it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import maker_kit as mk
import pytest
import v1_kit

from fashion_conformance import checks, waits
from fashion_conformance.imagehost import factory
from fashion_conformance.imagehost.server import port_edges

CODE = mk.CODE
V1_CODE = v1_kit.CODE
IMAGE_MAX = mk.limit("index.image_max_bytes")
ORDER = {s: i for i, s in enumerate(mk.STATUSES[:2])}  # reserved, running; then finished or failed
POLL_S = 0.05


def _found(v1, service: str, pid: str) -> bool:
    """Whether v1 search by product ID finds `pid` (success) or not (-40050); anything else fails the test."""
    ex = v1.call("search.product", path={"serviceID": service, "productID": pid}, params={"limit": 200})
    if ex.header.get("resultCode") == V1_CODE["NotFoundProductIDError"]:
        checks.error(ex, V1_CODE["NotFoundProductIDError"])
        return False
    checks.success(ex)
    return True


def _result_ids(v1, service: str, pid: str, **params) -> list[str]:
    ex = v1.call("search.product", path={"serviceID": service, "productID": pid}, params={"limit": 200, **params})
    return [it["productID"] for it in checks.success(ex)["items"]]


def _counts(maker, item: dict, **expected: int) -> None:
    got = {k: item[k] for k in expected}
    mk.expect(maker, got == expected, f"index {item['id']}: expected counts {expected}, got {got}")


def _status(maker, item: dict, status: str, why: str) -> None:
    mk.expect(maker, item["status"] == status, f"index {item['id']}: {why}, so its status must be {status}")


def _documents(maker, service: str, expected: int) -> None:
    got = mk.service_info(maker, service)["documentCnt"]
    mk.expect(maker, got == expected, f"documentCnt of {service} must be {expected}, got {got}")


def _found_as(v1, service: str, wanted: dict[str, bool]) -> None:
    got = {pid: _found(v1, service, pid) for pid in wanted}
    mk.expect(v1, got == wanted, f"v1 search by product ID finds (True) or not (False): expected {wanted}, got {got}")


def _plain_image(image_host) -> str:
    return image_host.put("plain-white.png", factory.encode(factory.render(120, 120, []), "png"))


FULL = {"category2_id": "c2", "category3_id": "c3", "s1": "s1", "s2": "s2"}  # no empty value (MAKER-INDEX-EMPTY-VALUES)


@pytest.mark.destructive
@pytest.mark.req("MAKER-INDEX-ACCEPTED", "MAKER-INDEX-ENABLE-ADDS", "MAKER-INDEX-FAILED-COUNT", "MAKER-INDEX-FIELDS",
                 "MAKER-INDEX-DOCUMENT-COUNT", "MAKER-INDEX-FINISHED-PARTIAL", "MAKER-INDEX-ENABLE-UPDATES",
                 "MAKER-INDEX-DISABLE-DELETES", "MAKER-INDEX-FAILED-ALL", "MAKER-SERVICE-LIST-DOCUMENT-RANGE")
def test_index_add_update_delete(v1, maker, services, image_host):
    """Lines with all nine fields set. The service comes from v1 (MAKER-SHARED-SERVICE-IDS, tested on its own);
    totalCnt (the reading MAKER-INDEX-COUNTS-SUM) and a disable of an unknown product are the next test's."""
    gen, gone = image_host.generated, image_host.status_url(404)
    with v1_kit.temp_service(v1, services, "crud") as service:
        _documents(maker, service, 0)
        first = [v1_kit.product(f"a{i}", gen(50 + i), category1_id="old", **FULL) for i in range(1, 4)]
        first += [v1_kit.product("a4", gone, category1_id="old", **FULL),
                  v1_kit.product("a5", _plain_image(image_host), category1_id="old", **FULL)]
        ex = v1_kit.submit_index(maker, service, v1_kit.jsonl(first))
        first_id = checks.success(ex)["indexID"]
        checks.that(ex, isinstance(first_id, str) and first_id, "data.indexID must be a non-empty string")
        item = v1_kit.wait_index(maker, service, first_id)
        _counts(maker, item, addCnt=3, failCnt=2, deleteCnt=0, updateCnt=0)
        _status(maker, item, "finished", "some lines succeeded")
        _documents(maker, service, 3)
        _found_as(v1, service, {"a1": True, "a2": True, "a3": True, "a4": False, "a5": False})

        second = [v1_kit.product("a1", gen(51), category1_id="new", **FULL),
                  v1_kit.product("a2", gen(52), status=v1_kit.DISABLE, category1_id="old", **FULL)]
        ex = v1_kit.submit_index(maker, service, v1_kit.jsonl(second))
        second_id = checks.success(ex)["indexID"]
        checks.that(ex, second_id != first_id, "every index request gets its own indexID")
        item = v1_kit.wait_index(maker, service, second_id)
        _counts(maker, item, addCnt=0, failCnt=0, deleteCnt=1, updateCnt=1)
        _documents(maker, service, 3 + 0 - 1)
        _found_as(v1, service, {"a1": True, "a2": False})
        mk.expect(v1, "a2" not in _result_ids(v1, service, "a3"), "a disabled product must not appear in results")
        mk.expect(v1, _result_ids(v1, service, "a3", **{"filter.category1_id": "new"}) == ["a1"],
                  "after the update only a1 carries category1_id=new")
        mk.expect(v1, "a1" not in _result_ids(v1, service, "a3", **{"filter.category1_id": "old"}),
                  "after the update a1 no longer carries category1_id=old")

        item = v1_kit.index_products(maker, service, [v1_kit.product("b1", gone, category1_id="old", **FULL),
                                                      v1_kit.product("b2", gone, category1_id="old", **FULL)])
        _counts(maker, item, addCnt=0, failCnt=2)
        _status(maker, item, "failed", "every line failed")
        _documents(maker, service, 2)


@pytest.mark.destructive
@pytest.mark.req("MAKER-INDEX-EMPTY-VALUES", "MAKER-INDEX-DISABLE-UNKNOWN", "MAKER-INDEX-COUNTS-SUM")
def test_index_empty_values_and_unknown_disable(v1, maker, services, image_host):
    """The readings: a line with empty optional values is indexed; a disable of a product the service does not
    hold deletes nothing and counts in failCnt; totalCnt is the number of lines and the sum of the counts."""
    with v1_kit.temp_service(v1, services, "empty") as service:
        lines = [v1_kit.product("e1", image_host.generated(56)),
                 v1_kit.product("ghost", image_host.generated(55), status=v1_kit.DISABLE)]
        item = v1_kit.index_products(maker, service, lines)
        _counts(maker, item, addCnt=1, failCnt=1, deleteCnt=0, updateCnt=0, totalCnt=2)
        _found_as(v1, service, {"e1": True, "ghost": False})


@pytest.mark.destructive
@pytest.mark.req("MAKER-INDEX-FIRST-LINE-ONLY", "MAKER-INDEX-FIELD-MAX-LENGTH", "MAKER-INDEX-ENCODING",
                 "MAKER-INDEX-COUNTS-SUM")
def test_index_later_lines_malformed(v1, maker, services, image_host):
    """The readings: a malformed or too long later line fails alone, values at their max length and Japanese text
    are indexed (the status of a partly failed index is MAKER-INDEX-FINISHED-PARTIAL's test above)."""
    width, url = mk.MAX_LENGTH, image_host.generated(61)
    at_max = v1_kit.product("m" * width["product_id"], url + "#" + "x" * (width["image_url"] - len(url) - 1),
                            **{f: "x" * n for f, n in width.items() if f not in ("product_id", "status", "image_url")})
    data = (v1_kit.jsonl([at_max]) + b"this line is not json\n"
            + v1_kit.jsonl([v1_kit.product("too-long", url, name="x" * (width["name"] + 1)),
                            v1_kit.product("jp", image_host.generated(62), name="\u30b7\u30e3\u30c4 \u9752")]))
    with v1_kit.temp_service(v1, services, "lines") as service:
        item = v1_kit.wait_index(maker, service, checks.success(v1_kit.submit_index(maker, service, data))["indexID"])
        _counts(maker, item, addCnt=2, failCnt=2, totalCnt=4)
        _found_as(v1, service, {at_max["product_id"]: True, "jp": True, "too-long": False})


@pytest.mark.destructive
@pytest.mark.req("MAKER-INDEX-FORMATS")
def test_index_jsonl_and_csv_agree(v1, maker, services, image_host):
    lines = [v1_kit.product(f"f{i}", image_host.generated(70 + i), category2_id=f"c{i % 2}", s1="a,b\"c")
             for i in range(5)]
    with v1_kit.temp_service(v1, services, "jsonl") as as_jsonl, v1_kit.temp_service(v1, services, "csv") as as_csv:
        items = {}
        for service, fmt, data in ((as_jsonl, "jsonl", v1_kit.jsonl(lines)), (as_csv, "csv", mk.csv_bytes(lines))):
            ex = v1_kit.submit_index(maker, service, data, fmt)
            items[fmt] = v1_kit.wait_index(maker, service, checks.success(ex)["indexID"])
            _counts(maker, items[fmt], addCnt=len(lines), failCnt=0)
        for pid in ("f0", "f3"):
            got = [_result_ids(v1, s, pid, **{"filter.category2_id": "c0"}) for s in (as_jsonl, as_csv)]
            mk.expect(v1, got[0] == got[1], f"the JSONL and CSV services must answer alike for {pid}: {got}")


@pytest.mark.destructive
@pytest.mark.req("MAKER-INDEX-LINK", "MAKER-INDEX-LINK-OVER-FILE")
def test_index_link(v1, maker, services, image_host):
    linked = image_host.put("linked-products.jsonl", v1_kit.jsonl([v1_kit.product("k1", image_host.generated(81))]))
    both = image_host.put("link-wins.jsonl", v1_kit.jsonl([v1_kit.product("k2", image_host.generated(82))]))
    uploaded = v1_kit.jsonl([v1_kit.product("k3", image_host.generated(83))])
    with v1_kit.temp_service(v1, services, "link") as service:
        ex = maker.call("index.create", path={"serviceID": service}, params={"format": "jsonl"}, data={"link": linked})
        item = v1_kit.wait_index(maker, service, checks.success(ex)["indexID"])
        _counts(maker, item, addCnt=1)
        ex = maker.call("index.create", path={"serviceID": service}, params={"format": "jsonl"}, data={"link": both},
                        files={"file": ("uploaded.jsonl", uploaded)})
        v1_kit.wait_index(maker, service, checks.success(ex)["indexID"])
        _found_as(v1, service, {"k1": True, "k2": True, "k3": False})  # with link and file, the file is ignored


@pytest.mark.destructive
@pytest.mark.req("MAKER-INDEX-LIST-FILENAME")
def test_index_list_filename_of_link_and_upload(v1, maker, services, image_host):
    """Our reading of filename: the link's last path segment, or the uploaded file's name."""
    linked = image_host.put("linked-products.jsonl", v1_kit.jsonl([v1_kit.product("k1", image_host.generated(81))]))
    uploaded = v1_kit.jsonl([v1_kit.product("k3", image_host.generated(83))])
    with v1_kit.temp_service(v1, services, "fname") as service:
        ex = maker.call("index.create", path={"serviceID": service}, params={"format": "jsonl"}, data={"link": linked})
        item = v1_kit.wait_index(maker, service, checks.success(ex)["indexID"])
        mk.expect(maker, item["filename"] == "linked-products.jsonl", "filename: the link's last path segment")
        ex = v1_kit.submit_index(maker, service, uploaded, filename="my-upload.jsonl")
        item = v1_kit.wait_index(maker, service, checks.success(ex)["indexID"])
        mk.expect(maker, item["filename"] == "my-upload.jsonl", "filename: the uploaded file's name")


def _image_lines(image_host) -> dict[str, tuple[str, bool]]:
    """product ID -> (image URL, whether the image guide lets it be indexed)."""
    tiny = factory.ItemSpec("rect", (40, 40, 40 + v1_kit.limit("image.min_item_px").value,
                                     40 + v1_kit.limit("image.min_item_px").value), (200, 20, 20))
    lines = {
        "max-bytes": (image_host.generated(91, "jpeg", size=IMAGE_MAX.value), True),
        "over-bytes": (image_host.generated(91, "jpeg", size=IMAGE_MAX.extra["reject_from"]), False),
        "tiny-item": (image_host.put("tiny.png", factory.encode(factory.render(160, 160, [tiny]), "png")), False),
    }
    lines |= {f"fmt-{fmt}": (image_host.generated(92, fmt), True) for fmt in mk.limit("image.formats").value}
    lines |= {f"fmt-{fmt}": (image_host.generated(92, fmt), False) for fmt in ("webp", "bmp", "tiff")}
    return lines


IMAGE_RULES = {"bytes": ("max-bytes", "over-bytes"), "item": ("tiny-item", "fmt-png"), "formats": ("fmt-",)}


@pytest.mark.destructive
@pytest.mark.parametrize("rule", [
    pytest.param("bytes", marks=pytest.mark.req("MAKER-INDEX-IMAGE-MAX-BYTES"), id="bytes"),
    pytest.param("item", marks=pytest.mark.req("MAKER-INDEX-IMAGE-MIN-ITEM-PX"), id="item"),
    pytest.param("formats", marks=pytest.mark.req("MAKER-INDEX-IMAGE-FORMATS"), id="formats"),
])
def test_index_image_guide(v1, maker, services, image_host, rule):
    """画像ガイド, one rule per index file: the size cap, the 20 px item rule (a PNG beside it), the formats."""
    lines = {pid: v for pid, v in _image_lines(image_host).items() if pid.startswith(IMAGE_RULES[rule])}
    with v1_kit.temp_service(v1, services, "img") as service:
        item = v1_kit.index_products(maker, service, [v1_kit.product(pid, url) for pid, (url, _) in lines.items()])
        wanted = {pid: ok for pid, (_, ok) in lines.items()}
        _found_as(v1, service, wanted)
        _counts(maker, item, addCnt=sum(wanted.values()), failCnt=len(wanted) - sum(wanted.values()))


@pytest.mark.destructive
@pytest.mark.req("MAKER-INDEX-IMAGE-PORTS")
def test_index_image_ports(v1, maker, services, image_host, image_port):
    """画像ガイド: a line whose image URL names port 80, 443, 10000 or 12000 is indexed; one naming another port
    (the edges' neighbours, 8080, 65535) fails unfetched, although the image host serves the image there."""
    allowed, refused = port_edges("maker")
    lines = {}
    for port in allowed + refused:
        if image_port(port, required=False) is not None:
            lines[f"port-{port}"] = (image_host.at_port(image_host.generated(93), port), port in allowed)
    if not any(ok for _, ok in lines.values()) or all(ok for _, ok in lines.values()):
        pytest.skip("no allowed and refused probe port both served: " + "; ".join(image_port.skipped.values()))
    before = {port: image_host.fetches(port) for port in refused}
    with v1_kit.temp_service(v1, services, "ports") as service:
        item = v1_kit.index_products(maker, service, [v1_kit.product(pid, url) for pid, (url, _) in lines.items()])
        wanted = {pid: ok for pid, (_, ok) in lines.items()}
        _found_as(v1, service, wanted)
        _counts(maker, item, addCnt=sum(wanted.values()), failCnt=len(wanted) - sum(wanted.values()))
        fetched = [port for port in refused if image_host.fetches(port) != before[port]]
        mk.expect(maker, fetched == [], f"images on refused ports must not be fetched: {fetched}")


def _pending_times(maker, item: dict) -> None:
    """MAKER-INDEX-LIST-TIMES: a time is 0 until its event has happened."""
    if item["status"] == mk.STATUSES[0]:
        mk.expect(maker, item["reservedTime"] > 0 and item["startTime"] == 0 and item["finishTime"] == 0,
                  f"index {item['id']} is reserved: reservedTime set, startTime and finishTime 0: {item}")
    elif item["status"] not in mk.FINAL:
        mk.expect(maker, 0 < item["reservedTime"] <= item["startTime"] and item["finishTime"] == 0,
                  f"index {item['id']} is {item['status']}: it has started, finishTime is 0: {item}")


def _statuses_until_final(maker, service: str, index_id: str, times: bool = False) -> list[str]:
    """The statuses the list shows until the index is final; with `times`, each pending item's times checked."""
    seen: list[str] = []

    def probe() -> list[str]:
        item = v1_kit.find_index(maker, service, index_id)
        if item is not None:
            waits.documented(maker.history[-1], item["status"], v1_kit.MAKER_STATUSES, "index status",
                             v1_kit.MAKER_LIFECYCLE)
            if times:
                _pending_times(maker, item)
        seen.append(item["status"] if item else "<absent>")
        return seen

    # bounded by waits.index_s; an index that never ends fails MAKER-INDEX-STATUS-LIFECYCLE once, later waits blocked
    return waits.poll(probe, lambda s: s[-1] in mk.FINAL and len(s) > 1 and s[-2] == s[-1],
                      requirement=v1_kit.MAKER_LIFECYCLE, what=f"maker index {index_id} of {service}",
                      describe=lambda s: f"statuses seen {s[-5:]}", poll_s=POLL_S)


def _slow_file(image_host) -> bytes:
    return v1_kit.jsonl([v1_kit.product(f"s{i}", image_host.generated(95 + i, delay=1.5)) for i in range(3)])


@pytest.mark.destructive
@pytest.mark.req("MAKER-INDEX-STATUS-LIFECYCLE")
def test_index_create_slow_file_moves_forward(v1, maker, services, image_host):
    """インデックス状態: an index is seen pending first, its status never goes back, and it ends finished."""
    with v1_kit.temp_service(v1, services, "life") as service:
        index_id = checks.success(v1_kit.submit_index(maker, service, _slow_file(image_host)))["indexID"]
        seen = _statuses_until_final(maker, service, index_id)
        steps = [ORDER.get(s, len(ORDER)) for s in seen]
        mk.expect(maker, "<absent>" not in seen and steps == sorted(steps), f"statuses must only move forward: {seen}")
        mk.expect(maker, seen[0] not in mk.FINAL, f"images take 1.5 s: the index must be seen pending first: {seen}")
        mk.expect(maker, seen[-1] == "finished", f"the slow index must end finished: {seen}")


@pytest.mark.destructive
@pytest.mark.req("MAKER-INDEX-CREATE-BUSY-40080-WHILE-QUEUED", "MAKER-INDEX-LIST-TIMES")
def test_index_create_while_queued_is_refused_with_40080(v1, maker, services, image_host):
    """The -40080 reading (a request after one was accepted, while that one is pending) and E106's times of a
    pending index (0 until they happen)."""
    slow = _slow_file(image_host)
    with v1_kit.temp_service(v1, services, "busy") as service:
        index_id = checks.success(v1_kit.submit_index(maker, service, slow))["indexID"]
        ex = v1_kit.submit_index(maker, service, slow)
        checks.error(ex, CODE["TooManyRequestError"])
        _statuses_until_final(maker, service, index_id, times=True)


@pytest.mark.destructive
@pytest.mark.req("MAKER-INDEX-CREATE-BUSY-40080")
def test_index_create_simultaneous_requests_one_accepted(v1, maker, services, image_host):
    """エラーコード: of requests sent at the same time, one is accepted and the others get -40080."""
    slow = _slow_file(image_host)
    with v1_kit.temp_service(v1, services, "simul") as service:
        with ThreadPoolExecutor(max_workers=3) as pool:
            answers = list(pool.map(lambda _: v1_kit.submit_index(maker, service, slow), range(3)))
        accepted = [a for a in answers if a.header.get("isSuccessful")]
        mk.expect(maker, len(accepted) == 1, f"of 3 simultaneous requests exactly one is accepted, not {len(accepted)}")
        for a in answers:
            if a not in accepted:
                checks.error(a, CODE["TooManyRequestError"])
        v1_kit.wait_index(maker, service, accepted[0].data["indexID"])


@pytest.mark.destructive
@pytest.mark.req("MAKER-INDEX-CREATE-QUOTA-40040", "MAKER-INDEX-REMAIN-COUNT")
def test_index_daily_quota(v1, maker, services, image_host):
    quota = mk.limit("index.daily_quota").value
    with v1_kit.temp_service(v1, services, "quota") as service:
        remain = mk.service_info(maker, service)["remainInsertCnt"]
        mk.expect(maker, remain == quota, f"a new service ID has {quota} index requests left, not {remain}")
        for used in range(1, quota + 1):
            v1_kit.index_products(maker, service, [v1_kit.product(f"q{used}", image_host.generated(100 + used))])
            if used < quota:
                checks.error(v1_kit.submit_index(maker, service, b""), CODE["NoDataError"])
            remain = mk.service_info(maker, service)["remainInsertCnt"]
            mk.expect(maker, remain == quota - used, f"after {used} accepted requests {quota - used} are left "
                                                     f"(refused ones do not count), not {remain}")
        ex = v1_kit.submit_index(maker, service, v1_kit.jsonl([v1_kit.product("q9", image_host.generated(109))]))
        checks.error(ex, CODE["IndexQuotaExceededException"])
        remain = mk.service_info(maker, service)["remainInsertCnt"]
        mk.expect(maker, remain == 0, f"a refused request must not change remainInsertCnt (0), got {remain}")
