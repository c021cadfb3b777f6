"""The suite's pytest plugin: options, the target (a targets file or the embedded emulator), clients, image host,
run-prefixed resources with cleanup, and requirement markers in failure reports."""

from __future__ import annotations

import contextlib
import json
import os
import secrets as pysecrets
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import checks, clients, embedded, live, photos, waits
from .targets import API_SECTIONS, SCHEMA, Targets, TargetsError, load, redact

RUN_PREFIX_ENV = "FASHION_RUN_PREFIX"
SECURITY_ENV = "FASHION_SECURITY_PROBES"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fashion-conformance")
    group.addoption("--targets", default=None, help="targets file (TOML); default: the embedded emulator")
    group.addoption("--api", default=",".join(API_SECTIONS), help="APIs to test, comma-separated")
    group.addoption("--allow-destructive", action="store_true",
                    help="allow tests that create, delete, index or spend a quota on a non-embedded target")
    group.addoption("--req", default=None, help="run only tests that check these requirement IDs (comma-separated)")
    group.addoption("--reports", default=None, help="write the requirement matrix into DIR/<run-id>/")
    group.addoption("--requirements-map", default=None,
                    help="write {requirement ID: [test node IDs]} of the collected tests to this JSON file")
    group.addoption("--photos", default=None, metavar="DIR",
                    help="a photo folder with a manifest (photos.py): index and search these photos instead of the "
                         "drawn catalogue; also the targets file's [photos] dir or FASHION_PHOTOS_DIR")
    group.addoption("--security-probes", action="store_true",
                    help=f"run the SEC-* security probes (tests marked security); also {SECURITY_ENV}=1")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "req(*ids): requirement IDs (contracts/requirements) this test checks")
    config.addinivalue_line("markers", "destructive: creates, deletes, indexes or spends a quota on the target")
    config.addinivalue_line("markers", "security: a SEC-* security probe of the target (opt-in: --security-probes)")
    _catch_interrupts(config)
    apis = [a.strip() for a in config.getoption("--api").split(",") if a.strip()]
    unknown = set(apis) - set(API_SECTIONS)
    if unknown:
        raise pytest.UsageError(f"--api: unknown API {', '.join(sorted(unknown))} (known: {', '.join(API_SECTIONS)})")
    config._fashion_apis = apis  # type: ignore[attr-defined]
    path = config.getoption("--targets")
    env_given = any(k.startswith(f"FASHION_{section.upper()}_") for section in SCHEMA for k in os.environ)
    try:
        config._fashion_targets = load(Path(path), only=apis) if path else (  # type: ignore[attr-defined]
            load(None, only=apis) if env_given else None)
    except TargetsError as exc:
        raise pytest.UsageError(f"targets: {exc}") from None
    given = config._fashion_targets  # type: ignore[attr-defined]
    waits.configure(given.sections.get("waits") if given is not None else None)
    waits.reset()
    folder = config.getoption("--photos") or (given.sections.get("photos", {}).get("dir") if given else None)
    try:
        config._fashion_photos = photos.load(folder) if folder else None  # type: ignore[attr-defined]
    except photos.PhotoError as exc:
        raise pytest.UsageError(f"photos: {exc}") from None
    checks.real_model(bool(folder))
    _unmet_reported.clear()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = config.getoption("--req")
    if wanted:
        ids = {i.strip() for i in wanted.split(",") if i.strip()}
        keep, drop = [], []
        for item in items:
            reqs = {i for m in item.iter_markers("req") for i in m.args}
            (keep if reqs & ids else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
    if not (config.getoption("--security-probes") or os.environ.get(SECURITY_ENV) == "1"):
        opt_in = pytest.mark.skip(reason="security probes are opt-in (--security-probes)")
        for item in items:
            if item.get_closest_marker("security") is not None:
                item.add_marker(opt_in)
    if live_targets(config) is not None and not config.getoption("--allow-destructive"):
        # Marked at collection, so that not even a destructive test's fixtures run.
        skip = pytest.mark.skip(reason="destructive: needs --allow-destructive against a non-embedded target")
        for item in items:
            if item.get_closest_marker("destructive") is not None:
                item.add_marker(skip)


def pytest_sessionstart(session: pytest.Session) -> None:
    """A live target that does not answer at all is one clear usage error, not a stack of failures."""
    given = getattr(session.config, "_fashion_targets", None)
    if given is None or hasattr(session.config, "workerinput") or session.config.getoption("--collect-only"):
        return
    import httpx

    for api in API_SECTIONS:
        if not given.targeted(api):
            continue
        url = given.get(api)["base_url"]
        try:
            httpx.get(url, timeout=10.0)
        except httpx.HTTPError as exc:
            raise pytest.UsageError(
                f"target {api} at {url} does not answer ({type(exc).__name__}); check base_url and the network"
            ) from None


def pytest_collection_finish(session: pytest.Session) -> None:
    path = session.config.getoption("--requirements-map")
    if not path:
        return
    mapping: dict[str, list[str]] = {}
    for item in session.items:
        for rid in {i for m in item.iter_markers("req") for i in m.args}:
            mapping.setdefault(rid, []).append(item.nodeid)
    Path(path).write_text(json.dumps(dict(sorted(mapping.items())), indent=1), encoding="utf-8")


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Targets]:
    """What the suite tests: the targets file, or an embedded emulator started for this session."""
    given = live_targets(request.config)
    if given is not None:
        given.embedded = False  # type: ignore[attr-defined]
        yield given
        return
    emu = embedded.start(tmp_path_factory.mktemp("emulator"))
    try:
        apis = request.config._fashion_apis  # type: ignore[attr-defined]
        sections = {k: v for k, v in emu.targets().items() if k in apis}
        targets = Targets(sections, source=f"embedded emulator at {emu.base_url}")
        targets.embedded = True  # type: ignore[attr-defined]
        targets.emulator = emu  # type: ignore[attr-defined]
        yield targets
    finally:
        emu.stop()


@pytest.fixture(scope="session")
def secrets(target: Targets) -> list[str]:
    return target.secrets()


@pytest.fixture(scope="session")
def run_prefix() -> str:
    """Every resource the suite creates starts with this (service names: lowercase, so it fits the pattern)."""
    return os.environ.get(RUN_PREFIX_ENV) or "fc" + pysecrets.token_hex(3)


@pytest.fixture(scope="session")
def image_host(target: Targets):
    from .imagehost.server import ImageHost

    section = target.sections.get("image_host", {})
    host = ImageHost(bind=section.get("bind", "127.0.0.1:0"), public_url=section.get("public_url") or None,
                     port_url=section.get("port_url") or None)
    host.start()
    try:
        yield host
    finally:
        host.stop()


@pytest.fixture(scope="session")
def photo_catalogue(request: pytest.FixtureRequest, image_host) -> photos.PhotoCatalogue | None:
    """The user's photo catalogue (--photos), its photos served by the image host; None: the drawn catalogue."""
    catalogue = request.config._fashion_photos  # type: ignore[attr-defined]
    if catalogue is not None:
        for photo in catalogue.photos:
            image_host.put(photo.host_name, photo.data)
    return catalogue


@pytest.fixture
def image_port(image_host) -> Iterator:
    """image_port(port): the image host also listens on `port` until the test ends; returns the URL base by which
    the target reaches it there (use image_host.at_port). Skips with the reason when the port cannot be bound (in
    use, or privileged for this user) or no URL reaches the host on it (a live target without [image_host]
    port_url); with required=False it returns None instead of skipping (the reason kept in listen.skipped)."""
    with contextlib.ExitStack() as stack:

        def listen(port: int, required: bool = True) -> str | None:
            try:
                return stack.enter_context(image_host.on_port(port))
            except LookupError as exc:
                reason = f"image port {port}: {exc} (targets.sample.toml)"
            except OSError as exc:
                reason = f"the image host cannot listen on port {port}: {exc.strerror or exc}"
            if required:
                pytest.skip(reason)
            listen.skipped[port] = reason
            return None

        listen.skipped = {}
        yield listen


def _client(request: pytest.FixtureRequest, target: Targets, api: str):
    if not target.targeted(api):
        pytest.skip(f"not targeted: {api}")
    client = clients.for_target(api, target.get(api), timeout_s=waits.budgets().request_s)
    request.addfinalizer(client.close)
    return client


@pytest.fixture(scope="session")
def v1(request, target):
    return _client(request, target, "v1")


@pytest.fixture(scope="session")
def v2(request, target):
    return _client(request, target, "v2")


@pytest.fixture(scope="session")
def maker(request, target):
    return _client(request, target, "maker")


@pytest.fixture(scope="session")
def tagger(request, target):
    return _client(request, target, "tagger")


class ServiceRegistry:
    """Services this run created, removed at the end (also after a failure or Ctrl-C)."""

    def __init__(self, prefix: str, sweep: list | None = None) -> None:
        # An xdist worker (gw3) names its services prefix-3-...: with one FASHION_RUN_PREFIX for all workers their
        # names would clash, and one worker's final sweep would delete the services other workers still use.
        worker = os.environ.get("PYTEST_XDIST_WORKER", "").removeprefix("gw")
        self.prefix = f"{prefix}-{worker}" if worker else prefix
        self.created: list[tuple[object, str]] = []
        self.sweep = sweep or []  # clients whose service lists are swept for the prefix at the end
        self._n = 0

    def name(self, label: str = "s") -> str:
        """A new name: lowercase, at most 32 characters (service.name_pattern of v1 and v2), the counter kept."""
        self._n += 1
        n = str(self._n)
        return f"{self.prefix}-{label}"[:32 - len(n)] + n

    def track(self, client, name: str) -> None:
        self.created.append((client, name))

    @staticmethod
    def _delete(client, name: str) -> None:
        path = {"serviceName": name} if client.api == "v2" else {"serviceID": name}
        client.call("service.delete", path=path)

    def cleanup(self) -> None:
        """Delete what was tracked, then sweep any service left with the run prefix (created, not yet tracked)."""
        clients = {id(c): c for c, _ in self.created} | {id(c): c for c in self.sweep}
        for client, name in reversed(self.created):
            try:
                self._delete(client, name)
            except Exception:  # best effort: the target may be gone already
                pass
        for client in clients.values():
            try:
                items = (client.call("service.list").data or {}).get("items", [])
                for item in items:
                    name = item.get("serviceName") or item.get("serviceID") or ""
                    if name.startswith(self.prefix + "-"):
                        self._delete(client, name)
            except Exception:
                pass
        self.created.clear()


@pytest.fixture(scope="session")
def services(run_prefix: str, target: Targets) -> Iterator[ServiceRegistry]:
    sweep = [clients.for_target(api, target.get(api)) for api in ("v1", "v2") if target.targeted(api)]
    registry = ServiceRegistry(run_prefix, sweep)
    try:
        yield registry
    finally:
        registry.cleanup()
        for client in sweep:
            client.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    ids = [i for m in item.iter_markers("req") for i in m.args]
    ids = _attribute_unmet(item, call, report, ids)
    report.user_properties.append(("requirements", ",".join(ids)))
    if report.failed and ids:
        from . import contracts

        lines = []
        for rid in ids:
            try:
                r = contracts.requirement(rid)
                lines.append(f"{rid} [{r.level}] {r.statement} (source: {r.source})")
            except LookupError:
                lines.append(f"{rid} [not in the catalog]")
        report.sections.append(("requirements", "\n".join(lines)))
    if report.failed or report.sections:
        secrets = run_secrets(item.config)
        if report.failed and report.longrepr is not None:
            report.longrepr = redact(str(report.longrepr), secrets)
        report.sections = [(name, redact(text, secrets)) for name, text in report.sections]


_unmet_reported: set[str] = set()  # requirements this process already reported failed through an Unmet


def _attribute_unmet(item: pytest.Item, call: pytest.CallInfo, report: pytest.TestReport, ids: list[str]) -> list[str]:
    """Issue 12: a waits.Unmet (a precondition that could not be set up, a value outside the contract seen while
    waiting) fails once, on its requirement, as a failure (never a pytest error); the test's own requirements are
    blocked by it ("blocked" property), and later tests meeting the same Unmet requirement skip, blocked by it.
    Returns the requirement IDs the report counts for."""
    exc = call.excinfo.value if call.excinfo is not None else None
    if report.failed and report.when == "setup" and isinstance(exc, checks.Violation) \
            and not isinstance(exc, waits.Unmet):
        report.when = "call"  # a fixture saw the target break a rule: a failure of the test's requirements, not E
        return ids
    if not report.failed or not isinstance(exc, waits.Unmet):
        return ids
    own = [i for i in ids if i != exc.requirement]
    if exc.reported or exc.requirement in _unmet_reported:
        report.outcome = "skipped"
        report.longrepr = (str(item.path), (item.location[1] or 0) + 1, f"Skipped: {exc.blocked_reason()}")
        return ids
    exc.reported = True
    _unmet_reported.add(exc.requirement)
    report.when = "call"  # a failure of the requirement, not an error of the suite
    if own:
        report.user_properties.append(("blocked", f"{','.join(own)}|{exc.blocked_reason()}"))
    return [exc.requirement]


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """A live run with workers schedules the tests of one service quota into one worker (live.py); the embedded
    emulator (one per worker) needs no such care: xdist's default."""
    if live_targets(config) is None:
        return None
    probes = bool(config.getoption("--security-probes")) or os.environ.get(SECURITY_ENV) == "1"
    return live.scheduler(config, log, probes)


def live_targets(config: pytest.Config) -> Targets | None:
    """The targets file/environment when it aims at some API; None when the embedded emulator is the target."""
    given = getattr(config, "_fashion_targets", None)
    return given if given is not None and any(given.targeted(a) for a in API_SECTIONS) else None


def run_secrets(config: pytest.Config) -> list[str]:
    """Every key this run may send: the targets' secrets, or the embedded emulator's keys."""
    given = live_targets(config)
    return given.secrets() if given is not None else list(embedded.DEFAULT_KEYS.values())


# Interrupted runs: SIGTERM (a CI job's timeout) ends the run as Ctrl-C does, as pytest's interrupted session, so the
# session fixtures' cleanup (run-prefixed services, embedded emulators) runs and the reports of what ran are written.
# Installed in every process of the run (the xdist controller and its workers: a process group may be signalled).
_interrupt: dict[str, object] = {}
_IN_WORKER = False  # an xdist worker: its controller ends it (SIGINT after 5 s, SIGKILL after 10 s)


def interrupted_by() -> tuple[str, int] | None:
    """(name, number) of the signal that interrupted the run in this process (SIGINT, SIGTERM), else None."""
    return (str(_interrupt["name"]), int(_interrupt["signum"])) if _interrupt else None  # type: ignore[call-overload]


def _on_signal(signum: int, frame) -> None:
    first = not _interrupt
    if first:
        _interrupt.update(name=signal.Signals(signum).name, signum=signum)
    elif signum == signal.SIGTERM or _IN_WORKER:  # already finishing (cleanup, reports): let it complete
        print(f"fashion-conformance: {signal.Signals(signum).name} ignored: finishing the interrupted run",
              file=sys.stderr)
        return
    raise KeyboardInterrupt(signal.Signals(signum).name)


def _catch_interrupts(config: pytest.Config) -> None:
    global _IN_WORKER
    _interrupt.clear()
    _IN_WORKER = hasattr(config, "workerinput")
    if threading.current_thread() is not threading.main_thread():
        return
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(sig) in (signal.SIG_DFL, signal.default_int_handler):  # never replace another handler
            previous[sig] = signal.signal(sig, _on_signal)
    config._fashion_signal_handlers = previous  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    for sig, handler in getattr(config, "_fashion_signal_handlers", {}).items():
        signal.signal(sig, handler)
