"""pytest plugin for runs through a fault proxy (`-p fashion_conformance.faults.loopback`): the target from the
targets file is a local emulator behind a local proxy, so the suite may use its loopback-only image-host tricks
and the emulator's own limits, as it does against the embedded emulator."""

from __future__ import annotations

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    outcome = yield
    if fixturedef.argname == "target" and outcome.excinfo is None:
        outcome.get_result().embedded = True
