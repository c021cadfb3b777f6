"""SEC-INDEX-*: index files named by a link into loopback, private or metadata addresses, and index lines whose
image URL points there, never put a product into a service (v2 and Maker)."""

from __future__ import annotations

import pytest

from fashion_conformance import checks

from . import probes

pytestmark = [pytest.mark.security, pytest.mark.destructive]
INDEX_APIS = ("v2", "maker")
LINK_HOSTS = {**probes.PRIVATE_HOSTS, **probes.LOOPBACK_NAMES}


def _accepted_adds_nothing(client, service: str, ex, what: str) -> None:
    """An accepted index request ends without adding a product; a refused one is fine as it is."""
    if ex.api == "maker" and ex.header.get("resultCode") == probes.MAKER_QUOTA_USED:
        pytest.skip("Maker's daily index quota of the probe service is used up")
    if not ex.header.get("isSuccessful"):
        checks.not_success(ex)
        return
    item = probes.wait_index(client, service, probes.index_id(client, ex))
    checks.that(ex, probes.added(client, item) == 0, f"{what}: no product may be added, got status item {item}")


@pytest.mark.req("SEC-INDEX-LINK-PRIVATE")
@pytest.mark.parametrize("via_redirect", [False, True], ids=["direct", "redirect"])
@pytest.mark.parametrize("host", list(LINK_HOSTS.values()), ids=list(LINK_HOSTS))
@pytest.mark.parametrize("api", INDEX_APIS)
def test_index_create_private_link_refused(probe_client, probe_service, image_host, probe_file, api, host,
                                           via_redirect):
    client = probe_client(api)
    service = probe_service(api)
    line = probes.index_line(api, "sec-link", image_host.generated(21))
    name = probe_file(f"{api}-index", probes.jsonl([line]))
    link = probes.private_url(host, image_host.port, name)
    ex = probes.submit_index(client, service, link=image_host.redirect(link) if via_redirect else link)
    _accepted_adds_nothing(client, service, ex, f"{api} index with a link on {host}")
    probes.never_fetched(image_host, ex, name)


@pytest.mark.req("SEC-INDEX-LINE-PRIVATE")
@pytest.mark.parametrize("api", INDEX_APIS)
def test_index_create_private_image_lines_never_added(probe_client, probe_service, image_host, probe_file, api):
    client = probe_client(api)
    service = probe_service(api)
    names, lines = [], []
    for label, host in LINK_HOSTS.items():
        for via_redirect in (False, True):
            name = probe_file(api)
            url = probes.private_url(host, image_host.port, name)
            names.append(name)
            pid = f"sec-{label}-{'r' if via_redirect else 'd'}"
            lines.append(probes.index_line(api, pid, image_host.redirect(url) if via_redirect else url))
    ex = probes.submit_index(client, service, data=probes.jsonl(lines))
    _accepted_adds_nothing(client, service, ex, f"{api} index of {len(lines)} lines with private image URLs")
    for name in names:
        probes.never_fetched(image_host, ex, name)
