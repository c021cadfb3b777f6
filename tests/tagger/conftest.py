"""Fixtures of the Tagger conformance tests: images on the image host, a client without a key, target gates."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import tagger_support as ts

from fashion_conformance.clients import ApiClient


@pytest.fixture(scope="session")
def scene_url(image_host) -> str:
    """The scene of tagger_support: clothes, a bag and three shoes (two identical) at known places."""
    return image_host.put("tagger-scene.png", ts.SCENE_PNG)


@pytest.fixture(scope="session")
def product_url(image_host, photo_catalogue) -> str:
    """An ordinary catalogue photo: the photo catalogue's query photo (--photos), else a drawn one (one garment on
    white, JPEG)."""
    if photo_catalogue is not None:
        return image_host.url(photo_catalogue.query.host_name)
    return image_host.generated(11, "jpeg")


@pytest.fixture(scope="session")
def keyless(tagger) -> Iterator[ApiClient]:
    """A client of the same target that sends no x-api-key header."""
    client = ApiClient("tagger", tagger.base_url, secrets=tagger.secrets)
    yield client
    client.close()


@pytest.fixture
def embedded_only(target) -> None:
    """Skip unless the target is the embedded emulator (loopback tricks, the emulator's own limits)."""
    if not getattr(target, "embedded", False):
        pytest.skip("needs the embedded emulator (loopback-only image or an EMULATOR CHOICE limit)")
