"""Fixtures of the SEC-* probes: the probe target, its services, and files on the suite's image host.

Against the embedded emulator the probes go to a second emulator started WITHOUT --allow-private-image-hosts (the
session's emulator allows them, since the suite serves its images from loopback) and with the test-only
--offline-fetch guard, so no download can leave the machine even if it misbehaved. Against a live target the
probes go to the target itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from fashion_conformance import clients, embedded
from fashion_conformance.clients import ApiClient
from fashion_conformance.imagehost import factory
from fashion_conformance.targets import API_SECTIONS

from . import probes


@pytest.fixture(scope="session")
def probe_sections(target, tmp_path_factory) -> Iterator[dict[str, dict[str, str]]]:
    """Targets sections of the API under probe, per targeted API."""
    if not target.embedded:
        yield {api: target.get(api) for api in API_SECTIONS if target.targeted(api)}
        return
    emu = embedded.start(tmp_path_factory.mktemp("probe-emulator"), allow_private_image_hosts=False,
                         extra_args=("--offline-fetch",))
    try:
        yield {api: section for api, section in emu.targets().items() if target.targeted(api)}
    finally:
        emu.stop()


@pytest.fixture(scope="session")
def probe_client(probe_sections) -> Iterator[Callable[[str], ApiClient]]:
    """probe_client(api): a client of the probe target (skips when the API is not targeted)."""
    made: dict[str, ApiClient] = {}

    def get(api: str) -> ApiClient:
        if api not in probe_sections:
            pytest.skip(f"not targeted: {api}")
        if api not in made:
            made[api] = clients.for_target(api, probe_sections[api])
        return made[api]

    yield get
    for client in made.values():
        client.close()


@pytest.fixture(scope="module")
def probe_service(request, probe_client, services) -> Iterator[Callable[[str], str]]:
    """probe_service(api): a service of the probe target for v1 (also Maker's) or v2, made once per module."""
    made: dict[str, tuple[ApiClient, str]] = {}

    def get(api: str) -> str:
        if api == "tagger":
            return ""
        owner = "v1" if api == "maker" else api
        if owner not in made:
            client = probe_client(owner)
            probes.need_destructive(request)
            made[owner] = (client, probes.create_service(client, services, f"sec{owner}"))
        return made[owner][1]

    yield get
    for client, name in made.values():
        probes.delete_service(client, name)


@pytest.fixture(scope="session")
def probe_file(image_host) -> Callable[[str, bytes | None], str]:
    """probe_file(label, data=None): put a file (default: a product image) on the suite's image host under a name
    used once, and return that name; a fetch of it would show in image_host.requests."""
    image = factory.product_image(7)
    counter = itertools.count()

    def put(label: str, data: bytes | None = None) -> str:
        suffix = "jsonl" if data is not None else "jpeg"
        name = f"sec-{label}-{next(counter)}.{suffix}"
        image_host.put(name, image if data is None else data)
        return name

    return put

