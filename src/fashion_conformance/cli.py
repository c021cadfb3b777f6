"""Console scripts: `fashion-emulator` (serve the emulator) and `fashion-conformance` (the suite's commands)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from . import __version__, contracts
from .live import LIVE_WORKERS, live_workers


def _emulator_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fashion-emulator", description="Emulator of AI Fashion v1/v2, Maker, Tagger.")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve all four APIs on one port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--data-dir", type=Path, default=None, help="state directory (default: a new temp dir)")
    serve.add_argument("--appkey", default="emulator-appkey")
    serve.add_argument("--secret-key", default="emulator-secret")
    serve.add_argument("--tagger-api-key", default="emulator-api-key")
    serve.add_argument("--allow-private-image-hosts", action="store_true",
                       help="let image URLs point at private and loopback addresses (tests on one machine)")
    serve.add_argument("--fetch-deadline", type=float, default=3.0, help=argparse.SUPPRESS)  # test-only setting
    serve.add_argument("--clock-offset", type=float, default=0.0, help=argparse.SUPPRESS)  # test-only: seconds
    serve.add_argument("--offline-fetch", action="store_true", help=argparse.SUPPRESS)  # test-only: loopback only
    serve.add_argument("--log-level", default="warning")
    return parser


def emulator_main(argv: list[str] | None = None) -> int:
    args = _emulator_parser().parse_args(argv)
    # Vision's small matrix products are slower, and burn more CPU, on BLAS worker threads: one per process.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import uvicorn

    from .emulator.app import create_app
    from .emulator.config import EmulatorConfig
    from .emulator.datadir import DataDirInUse

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="fashion-emulator-"))
    config = EmulatorConfig(
        data_dir=data_dir,
        appkey=args.appkey,
        secret_key=args.secret_key,
        tagger_api_key=args.tagger_api_key,
        allow_private_image_hosts=args.allow_private_image_hosts,
        fetch_deadline_s=args.fetch_deadline,
        clock=(lambda: time.time() + args.clock_offset) if args.clock_offset else time.time,
    )
    print(f"fashion-emulator {__version__} on http://{args.host}:{args.port} (data: {data_dir})", file=sys.stderr)
    try:
        app = create_app(config, offline_fetch=args.offline_fetch)
    except DataDirInUse as exc:
        print(f"fashion-emulator: error: {exc}", file=sys.stderr)
        return 2
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)
    return 0


def _print_inventory() -> int:
    inv = contracts.inventory()
    print(f"contracts: {contracts.ROOT}")
    print("schemas per API:    " + ", ".join(f"{api} {n}" for api, n in inv["schemas"].items()))
    print("endpoints per API:  " + ", ".join(f"{api} {n}" for api, n in inv["endpoints"].items()))
    print("codes per API:      " + ", ".join(f"{api} {n}" for api, n in inv["codes"].items()))
    print(f"requirements:       {inv['requirements_total']}")
    for api, levels in inv["requirements"].items():
        print(f"  {api:8s} " + ", ".join(f"{level} {n}" for level, n in levels.items()))
    print(f"errata:             {inv['errata']}")
    return 0


SUITE_DIR = Path(__file__).resolve().parents[2] / "tests"
# pytest's exit codes -> ours: 0 all conform, 1 some requirement fails, 2 usage or configuration error (or a run
# pytest stopped by itself); a run ended by SIGINT or SIGTERM exits 128 + the signal's number (130, 143).
EXIT_CODES = {0: 0, 1: 1}
RUN_EXIT_HELP = ("exit status: 0 every requirement that was tested holds, 1 some requirement fails, 2 usage or "
                 "configuration error, 130/143 interrupted by SIGINT/SIGTERM (the reports of what ran are written, "
                 "marked interrupted, and the run-prefixed cleanup is done)")


def run(args: argparse.Namespace, extra: list[str]) -> int:
    """The conformance suite under pytest, against the targets file or the embedded emulator."""
    from . import targets

    apis = [a.strip() for a in args.api.split(",") if a.strip()]
    unknown = set(apis) - set(targets.API_SECTIONS)
    if unknown:
        print(f"fashion-conformance: --api: unknown API {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    live = None
    try:
        live = targets.load(args.targets, only=apis) if args.targets else None
    except targets.TargetsError as exc:
        print(f"fashion-conformance: targets: {exc}", file=sys.stderr)
        return 2
    if not SUITE_DIR.is_dir():
        print(f"fashion-conformance: the suite is not at {SUITE_DIR} (run from a source checkout)", file=sys.stderr)
        return 2
    import pytest

    workers = args.workers if args.workers is not None else (live_workers(live) if live else 2)
    pytest_args = [str(SUITE_DIR), "-p", "no:cacheprovider", "--rootdir", str(SUITE_DIR.parent),
                   "--api", ",".join(apis), "--reports", str(args.reports), "-q"]
    if args.targets:
        pytest_args += ["--targets", str(args.targets)]
    if args.allow_destructive:
        pytest_args.append("--allow-destructive")
    if args.photos:
        pytest_args += ["--photos", str(args.photos)]
    if workers:
        pytest_args += ["-n", str(workers)]
    from .report.rundir import new_run_dir

    run_dir = new_run_dir(Path(args.reports))
    os.environ["FASHION_RUN_DIR"] = str(run_dir)
    pytest_args += ["--junitxml", str(run_dir / "junit.xml"), "-o", "junit_family=xunit2", *extra]
    code = pytest.main(pytest_args)
    print(f"reports: {run_dir}")
    from .plugin import interrupted_by

    signal_ = interrupted_by()
    if signal_ is not None:
        print(f"fashion-conformance: interrupted by {signal_[0]}: partial results", file=sys.stderr)
        return 128 + signal_[1]
    return EXIT_CODES.get(int(code), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fashion-conformance", description="Conformance and load tests.")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    inv = sub.add_parser("contracts", help="print the contract inventory")
    inv.add_argument("--json", action="store_true", help="as JSON")
    r = sub.add_parser("run", help="run the conformance suite (default: against the embedded emulator)",
                       epilog=RUN_EXIT_HELP)
    r.add_argument("--targets", type=Path, default=None, help="targets file (TOML); default: the embedded emulator")
    r.add_argument("--api", default="v1,v2,maker,tagger", help="APIs to test, comma-separated")
    r.add_argument("--reports", type=Path, default=Path("reports"), help="reports directory (default: reports/)")
    r.add_argument("--allow-destructive", action="store_true",
                   help="allow tests that create, delete, index or spend a quota on a non-embedded target")
    r.add_argument("--photos", type=Path, default=None, metavar="DIR",
                   help="a folder of product photos with manifest.yaml: index and search these instead of the drawn "
                        "catalogue (README: your own photos); also [photos] dir in the targets file")
    r.add_argument("--workers", type=int, default=None,
                   help=f"parallel pytest workers (default: 2 against the emulator, each with an emulator of its own; "
                        f"against a live target {LIVE_WORKERS}, its requests waiting on the network, the tests of one "
                        f"service quota (v1 and Maker, v2) in one worker; but 0 when [image_host] bind has a fixed "
                        f"port, which one image host alone can listen on; see docs/PERFORMANCE.md)")
    ld = sub.add_parser("load", help="run a Locust load scenario (default: against the embedded emulator)")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["load"]:  # its driver imports Locust's helpers: only when asked for
        from . import loadrun

        loadrun.add_arguments(ld)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    args = parser.parse_args(argv)
    if args.command == "contracts":
        if args.json:
            print(json.dumps(contracts.inventory(), indent=2))
            return 0
        return _print_inventory()
    if args.command == "load":
        return loadrun.main(args)
    return run(args, extra)
