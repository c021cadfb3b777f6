"""SEC-IMAGE-*: image URLs into loopback, private and metadata addresses are refused by every endpoint that fetches
an image (v1/v2 detect and tag, v2 POST search, Tagger url images), also by name and through a redirect."""

from __future__ import annotations

import pytest

from . import probes

pytestmark = pytest.mark.security


def _cases(hosts: dict[str, str]) -> list:
    """(api, endpoint, host) for every image endpoint; those needing a service are destructive on a live target."""
    return [
        pytest.param(api, endpoint, host, id=f"{api}.{endpoint}-{label}",
                     marks=() if api == "tagger" else pytest.mark.destructive)
        for api, endpoint in probes.IMAGE_ENDPOINTS for label, host in hosts.items()
    ]


def _probe(probe_client, probe_service, image_host, probe_file, api: str, endpoint: str, host: str,
           *, via_redirect: bool = False) -> None:
    client = probe_client(api)
    service = probe_service(api)
    name = probe_file(api)
    url = probes.private_url(host, image_host.port, name)
    if via_redirect:
        url = image_host.redirect(url)
    ex = probes.fetch_image(client, endpoint, service, url)
    probes.refused(ex, f"{api} {endpoint} with an image URL on {host}")
    probes.never_fetched(image_host, ex, name)


@pytest.mark.req("SEC-IMAGE-PRIVATE-ADDRESS")
@pytest.mark.parametrize("api,endpoint,host", _cases(probes.PRIVATE_HOSTS))
def test_image_fetch_private_address_refused(probe_client, probe_service, image_host, probe_file, api, endpoint,
                                             host):
    _probe(probe_client, probe_service, image_host, probe_file, api, endpoint, host)


@pytest.mark.req("SEC-IMAGE-PRIVATE-NAME")
@pytest.mark.parametrize("api,endpoint,host", _cases(probes.LOOPBACK_NAMES))
def test_image_fetch_loopback_name_refused(probe_client, probe_service, image_host, probe_file, api, endpoint, host):
    _probe(probe_client, probe_service, image_host, probe_file, api, endpoint, host)


@pytest.mark.req("SEC-IMAGE-REDIRECT-PRIVATE")
@pytest.mark.parametrize("api,endpoint,host", _cases({**probes.PRIVATE_HOSTS, **probes.LOOPBACK_NAMES}))
def test_image_fetch_redirect_into_private_refused(probe_client, probe_service, image_host, probe_file, api,
                                                   endpoint, host):
    _probe(probe_client, probe_service, image_host, probe_file, api, endpoint, host, via_redirect=True)
