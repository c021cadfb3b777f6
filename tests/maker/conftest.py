"""Fixtures of the AI Fashion Maker v1.0 suite: a never-indexed service ID, a service with a known index history,
a wrong-appKey client. Maker works on v1 service IDs, so the v1 kit is shared (tests/v1 on the import path)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "v1"))

import v1_kit  # noqa: E402

from fashion_conformance import waits  # noqa: E402

JOB_GAP_S = 1.05  # more than the one-second resolution of the index list's times


@pytest.fixture(scope="session")
def idle_service(request, v1, maker, services) -> str:
    """A service ID that is never indexed: refused requests only (they must not spend its quota)."""
    v1_kit.need_destructive(request)
    return v1_kit.create_service(v1, services, "idle")


@dataclass
class History:
    """A service whose index requests the suite made itself, in request order, with their expected counts."""

    service: str
    ids: list[str] = field(default_factory=list)
    expected: list[dict[str, int | str]] = field(default_factory=list)


@pytest.fixture(scope="session")
def history(request, v1, maker, services, image_host) -> History:
    """Four finished or failed index requests (the daily quota of one service) with distinct totalCnt, made more
    than a second apart, so that their reservedTime, startTime and finishTime differ and follow request order."""
    v1_kit.need_destructive(request)
    hist = History(v1_kit.create_service(v1, services, "hist"))
    ok = image_host.generated
    gone = image_host.status_url(404)
    files = [
        ([v1_kit.product("h1", ok(31))],
         {"addCnt": 1, "failCnt": 0, "deleteCnt": 0, "updateCnt": 0, "totalCnt": 1, "status": "finished"}),
        ([v1_kit.product("h2", ok(32)), v1_kit.product("h3", ok(33)), v1_kit.product("h4", gone)],
         {"addCnt": 2, "failCnt": 1, "deleteCnt": 0, "updateCnt": 0, "totalCnt": 3, "status": "finished"}),
        ([v1_kit.product("h5", gone), v1_kit.product("h6", gone)],
         {"addCnt": 0, "failCnt": 2, "deleteCnt": 0, "updateCnt": 0, "totalCnt": 2, "status": "failed"}),
        ([v1_kit.product("h1", ok(31), status=v1_kit.DISABLE), v1_kit.product("h2", ok(34)),
          v1_kit.product("h7", ok(35)), v1_kit.product("h8", ok(36))],
         {"addCnt": 2, "failCnt": 0, "deleteCnt": 1, "updateCnt": 1, "totalCnt": 4, "status": "finished"}),
    ]
    with waits.precondition("maker index history", "MAKER-INDEX-ACCEPTED"):
        for i, (lines, expected) in enumerate(files):
            if i:
                time.sleep(JOB_GAP_S)  # times are whole seconds: each job starts after the previous one's second
            item = v1_kit.index_products(maker, hist.service, lines)
            hist.ids.append(item["id"])
            hist.expected.append(expected)
    return hist


@pytest.fixture(scope="session")
def bad_maker(maker):
    client = v1_kit.bad_client(maker)
    yield client
    client.close()
