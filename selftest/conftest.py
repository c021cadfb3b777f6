"""Shared fixtures of the self-tests: an image host, embedded emulators over real HTTP, and NHN clients that
check every answer against the endpoint's contract (envelope, success or error schema, code table)."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fashion_conformance import clients, contracts, embedded
from fashion_conformance.imagehost.server import ImageHost

FINAL_STATUSES = ("finished", "failed")
# Log lines that mean an emulator bug: a traceback, a -50000 answer, a code outside the endpoint's table.
LOG_PROBLEM = re.compile(r"Traceback|failed: \w+ at |is not in its table|index job \S+ failed")
SERVICE_PATH_VAR = {"v1": "serviceID", "v2": "serviceName", "maker": "serviceID"}


class Nhn:
    """One NHN API of one emulator. `call` returns the exchange after checking the answer against contracts/:
    HTTP 200, JSON, the header envelope, the success schema or the error schema, and the endpoint's code table."""

    def __init__(self, api: str, emu: embedded.EmbeddedEmulator) -> None:
        self.api = api
        self.emu = emu
        self.client = clients.for_target(api, emu.targets()[api])

    def close(self) -> None:
        self.client.close()

    def call(self, endpoint_id: str, **kwargs: Any) -> clients.Exchange:
        ex = self.client.call(endpoint_id, **kwargs)
        check_envelope(self.api, ex)
        ep = contracts.endpoint(self.api, endpoint_id)
        header = ex.header
        part = "success" if header["isSuccessful"] else "error"
        errors = contracts.validate(self.api, endpoint_id, part, ex.json)
        assert not errors, f"{self.api} {endpoint_id} {part} schema: {errors}\n{ex.describe()}"
        if part == "error":
            assert header["resultCode"] in ep.codes, f"code not in the table of {endpoint_id}\n{ex.describe()}"
        return ex

    def ok(self, endpoint_id: str, **kwargs: Any) -> Any:
        """The data of a successful call (asserted)."""
        ex = self.call(endpoint_id, **kwargs)
        assert ex.header["isSuccessful"], ex.describe()
        return ex.data

    def code(self, endpoint_id: str, **kwargs: Any) -> int:
        """The resultCode of a call (0 on success)."""
        return self.call(endpoint_id, **kwargs).header["resultCode"]

    def svc(self, name: str) -> dict[str, str]:
        """The path variables naming service `name`."""
        return {SERVICE_PATH_VAR[self.api]: name}

    @staticmethod
    def new_name() -> str:
        """A fresh service name that fits the documented pattern."""
        return "st" + uuid.uuid4().hex[:10]

    def create_service(self) -> str:
        name = self.new_name()
        if self.api == "v2":
            self.ok("service.create", json={"serviceName": name})
        else:
            self.ok("service.create", path={"serviceID": name})
        return name

    def line(self, product_id: str, image_url: str, *, status: str = "enable", category: str = "c1",
             s1: str = "x") -> dict[str, str]:
        """One index-file record in the API's field names (file order)."""
        values = [product_id, status, f"name {product_id}", category, "c2", "c3", image_url, s1, "y"]
        return dict(zip(contracts.limit(self.api, "index.fields").value, values, strict=True))

    @staticmethod
    def jsonl(records: list[dict[str, str]]) -> bytes:
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()

    def index_item(self, service: str, index_id: str) -> dict[str, Any]:
        """The index as its status endpoint shows it (v2: the detail with id lists; Maker: the list item)."""
        if self.api == "v2":
            return self.ok("index.get", path={"serviceName": service, "indexId": index_id})["items"][0]
        items = self.ok("index.list", path={"serviceID": service}, params={"start": 0, "limit": 100})["items"]
        return next(i for i in items if i["id"] == index_id)

    def wait_index(self, service: str, index_id: str, timeout_s: float = 30.0) -> dict[str, Any]:
        """The index once it is finished or failed."""
        deadline = time.monotonic() + timeout_s
        while True:
            item = self.index_item(service, index_id)
            if item["status"] in FINAL_STATUSES or time.monotonic() > deadline:
                return item
            time.sleep(0.05)

    def delete_service(self, name: str, timeout_s: float = 30.0) -> None:
        """Delete `name` (v1: waiting while a Maker index job keeps it busy, -42020)."""
        deadline = time.monotonic() + timeout_s
        while self.code("service.delete", path=self.svc(name)) == -42020 and time.monotonic() < deadline:
            time.sleep(0.1)


def check_envelope(api: str, ex: clients.Exchange) -> None:
    """HTTP 200 with a JSON NHN envelope: isSuccessful bool, resultCode int, the code's documented message."""
    assert ex.status == 200, ex.describe()
    body = ex.json
    assert isinstance(body, dict) and isinstance(body.get("header"), dict), ex.describe()
    header = body["header"]
    assert isinstance(header.get("isSuccessful"), bool) and type(header.get("resultCode")) is int, ex.describe()
    assert header["isSuccessful"] == (header["resultCode"] == 0), ex.describe()
    assert header["resultMessage"] == contracts.code_message(api, header["resultCode"]), ex.describe()


@pytest.fixture(scope="session")
def image_host() -> Iterator[ImageHost]:
    """A loopback image host on a port the image guide allows (overrides the suite plugin's fixture)."""
    with ImageHost() as host:
        yield host


@pytest.fixture(scope="module")
def start_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., embedded.EmbeddedEmulator]]:
    """Start embedded emulators (own processes); all are stopped at the end of the module.
    `start(data_dir=None, *, private=True, args=())`: private=False runs without --allow-private-image-hosts.
    Every one runs with the hidden --offline-fetch guard: no download ever leaves the loopback interface."""
    started: list[embedded.EmbeddedEmulator] = []

    def start(data_dir: Path | None = None, *, private: bool = True, args: tuple[str, ...] = ()):
        emu = embedded.start(data_dir or tmp_path_factory.mktemp("emulator"), allow_private_image_hosts=private,
                             extra_args=("--offline-fetch", *args))
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()
    for emu in started:
        problems = [line for line in emu.log_path.read_text(errors="replace").splitlines() if LOG_PROBLEM.search(line)]
        assert not problems, f"the emulator logged problems ({emu.log_path}):\n" + "\n".join(problems[:20])


@pytest.fixture(scope="module")
def emulator(start_emulator) -> embedded.EmbeddedEmulator:
    """An emulator that may fetch from loopback image hosts (the success paths)."""
    return start_emulator()


@pytest.fixture(scope="module")
def clients_for() -> Iterator[Callable[[embedded.EmbeddedEmulator], dict[str, Nhn]]]:
    """`clients_for(emu)`: contract-checking clients of an emulator, {"v1": Nhn, "v2": Nhn, "maker": Nhn}."""
    made: list[Nhn] = []

    def make(emu: embedded.EmbeddedEmulator) -> dict[str, Nhn]:
        apis = {api: Nhn(api, emu) for api in ("v1", "v2", "maker")}
        made.extend(apis.values())
        return apis

    yield make
    for c in made:
        c.close()


@pytest.fixture(scope="module")
def nhn(emulator, clients_for) -> dict[str, Nhn]:
    """Contract-checking clients of the module's emulator."""
    return clients_for(emulator)


@pytest.fixture(scope="module")
def v1(nhn) -> Nhn:
    return nhn["v1"]


@pytest.fixture(scope="module")
def v2(nhn) -> Nhn:
    return nhn["v2"]


@pytest.fixture(scope="module")
def maker(nhn) -> Nhn:
    return nhn["maker"]


@pytest.fixture
def v1_service(v1) -> Iterator[str]:
    """A new v1 service ID for one test, deleted afterwards."""
    name = v1.create_service()
    yield name
    v1.delete_service(name)


@pytest.fixture
def v2_service(v2) -> Iterator[str]:
    """A new v2 service for one test, deleted afterwards."""
    name = v2.create_service()
    yield name
    v2.delete_service(name)
