"""Workers against a live target (docs/PERFORMANCE.md, "Live latency"): its requests wait on the network, not on
this machine's CPUs, so `fashion-conformance run` uses LIVE_WORKERS of them. They share the target's appKey: a test
filling its 5 services, or counting the listed ones, beside another worker's services fails (-42030, a wrong
count). So the tests of one service quota (v1 and Maker share one, v2 has its own; the security probes use both)
run in one worker, in order, and Tagger's files spread: `scheduler`, which the plugin hands to xdist for any live
run with workers (`fashion-conformance run` or plain `pytest -n N --targets FILE`). Each worker serves its images
from an image host of its own: only where [image_host] bind leaves the port free.
"""

from __future__ import annotations

LIVE_WORKERS = 4
QUOTA_SCOPES = {"v1": "v1", "maker": "v1", "v2": "v2", "security": "v2"}


def live_workers(live) -> int:
    """The default workers for a live target: LIVE_WORKERS, or 0 when the image host has a fixed port (a public
    URL): every worker would start its image host there, and all but one would fail to listen."""
    bind = live.sections.get("image_host", {}).get("bind", "127.0.0.1:0")
    return LIVE_WORKERS if bind.rpartition(":")[2] == "0" else 0


def live_scope(nodeid: str, security_probes: bool = False) -> str:
    """The xdist scope of a test in a live run: its quota's (v1 and Maker, v2; one for all with the security probes,
    which use both), else its file."""
    path = nodeid.split("::", 1)[0]  # tests/<folder>/test_x.py
    scope = QUOTA_SCOPES.get(path.split("/")[1] if path.count("/") >= 2 else "")
    return path if scope is None else "nhn" if security_probes else scope


def scheduler(config, log, security_probes: bool):
    """xdist's scheduling by scope, with the scopes of live_scope."""
    from xdist.scheduler import LoadScopeScheduling

    class QuotaScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return live_scope(nodeid, security_probes)

    return QuotaScheduling(config, log)
