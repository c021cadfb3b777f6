"""`fashion-conformance load`: the Locust scenarios (load/) against the embedded emulator or a targets file.

The driver starts the image host (and, without --targets, the embedded emulator and its catalog), checks one
detect->search, runs Locust headless in its own process(es) -- one process, or a master with --workers N local
workers (and --remote-workers that the user starts elsewhere) -- bounded in users and time, then writes verdicts,
plots and Locust's CSV/HTML to reports/<run-id>/.
Exit codes: 0 every verdict holds; 1 an SLO breach, a failed cut-off verdict, or no capacity step held;
2 usage or configuration error, the target refused the preparation, or Locust did not complete.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import httpx

from . import clients, contracts, embedded, targets
from .imagehost.server import ImageHost
from .report.plugin import new_run_dir

SCENARIOS = ("detect-search", "image-fetch-limit", "capacity")
LOAD_DIR = Path(__file__).resolve().parents[2] / "load"
LOCUSTFILE = LOAD_DIR / "locustfile.py"
STEP_SHAPE = LOAD_DIR / "step_shape.py"
SERVICE_ENV = "FASHION_LOAD_SERVICE"
EMBEDDED_SERVICE = "load"
MAX_USERS = 5000
MAX_DURATION_S = 4 * 3600.0
SLACK_S = 90.0  # beyond the run time: Locust start-up, workers joining, shutdown and report writing
INDEX_TIMEOUT_S = 300.0
DEADLINE = contracts.limit("v2", "image.download_deadline_s")
USER_CLASSES = {"v1": "DetectSearchV1User", "v2": "DetectSearchV2User"}
DEFAULT_USERS = {"detect-search": 10, "capacity": 40}  # image-fetch-limit: one user per phase-1 point


class UsageError(ValueError):
    """A bad command-line value (exit 2)."""


def helper(name: str) -> ModuleType:
    """A module of load/fcload (the scenarios' helpers), importable without Locust."""
    if not (LOAD_DIR / "fcload").is_dir():
        raise UsageError(f"the load scenarios are not at {LOAD_DIR} (run from a source checkout)")
    if str(LOAD_DIR) not in sys.path:
        sys.path.insert(0, str(LOAD_DIR))
    return importlib.import_module(f"fcload.{name}")


def seconds(text: str) -> float:
    """'90', '90s', '2m', '1h30m', '1.5s' -> seconds."""
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s?)?", text.strip())
    if not text.strip() or not m:
        raise UsageError(f"not a duration: {text!r} (e.g. 60s, 2m, 1h30m)")
    h, mi, s = m.groups()
    return int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `fashion-conformance load`."""
    lo, hi = DEADLINE.value - 1, DEADLINE.value + 1
    parser.add_argument("--scenario", choices=SCENARIOS, required=True)
    parser.add_argument("--targets", type=Path, default=None, help="targets file (TOML); default: the embedded emulator")
    parser.add_argument("--users", type=int, default=None,
                        help="users (capacity: the last step's users); default 10, 40 for capacity, and one per "
                             "phase-1 point for image-fetch-limit")
    parser.add_argument("--duration", default="60s", help="upper bound of the run (default 60s)")
    parser.add_argument("--reports", type=Path, default=Path("reports"), help="reports directory (default: reports/)")
    parser.add_argument("--workers", type=int, default=0,
                        help="Locust worker processes under a master on this machine (default 0: one process)")
    parser.add_argument("--remote-workers", type=int, default=0,
                        help="Locust workers you start on other machines (live targets only; the command is printed)")
    parser.add_argument("--master-bind", default="127.0.0.1:0",
                        help="HOST:PORT the Locust master listens on when there are workers (port 0: a free port)")
    parser.add_argument("--service", default=os.environ.get(SERVICE_ENV),
                        help=f"an indexed service of a live target to use read-only (or ${SERVICE_ENV})")
    parser.add_argument("--api", default="v1,v2", help="detect-search: APIs to drive, comma-separated (default v1,v2)")
    parser.add_argument("--catalog", type=int, default=200, help="embedded: products indexed before the run")
    parser.add_argument("--queries", type=int, default=50, help="distinct query images")
    parser.add_argument("--seed", type=int, default=0, help="first image seed of the catalog and queries")
    parser.add_argument("--think-time", type=float, default=0.5,
                        help="mean seconds a user waits between flows (uniform 0.5x..1.5x; default 0.5)")
    parser.add_argument("--search-limit", type=int, default=10, help="limit of each search (default 10)")
    parser.add_argument("--slo-p95-ms", type=float, default=1000.0, help="SLO: p95 of detect->search (default 1000)")
    parser.add_argument("--slo-error-rate", type=float, default=0.01, help="SLO: failed share (default 0.01)")
    parser.add_argument("--step-users", type=int, default=None,
                        help="capacity: users added per step (default: the users spread over the steps that fit)")
    parser.add_argument("--step-time", default="10s", help="capacity: duration of a step (default 10s)")
    parser.add_argument("--step-warmup", default="3s", help="capacity: start of a step left out of its window")
    parser.add_argument("--cutoff-grid", default=f"{lo:g}:{hi:g}:0.1",
                        help=f"image-fetch-limit: phase-1 delivery times LO:HI:STEP s (default {lo:g}:{hi:g}:0.1)")
    parser.add_argument("--cutoff-refine", default="0.1:0.01",
                        help="image-fetch-limit: phase 2 around the phase-1 estimate, HALF:STEP s (default 0.1:0.01)")
    parser.add_argument("--cutoff-repeats", type=int, default=1, help="image-fetch-limit: phase-2 repetitions")
    parser.add_argument("--cutoff-interval-ms", type=float, default=50.0,
                        help="image-fetch-limit: at least this long between two request starts (default 50)")
    parser.add_argument("--cutoff-tolerance-ms", type=float, default=150.0,
                        help=f"image-fetch-limit: allowed distance of the estimate from {DEADLINE.value:g} s")
    parser.add_argument("--emulator-fetch-deadline", type=float, default=None, help=argparse.SUPPRESS)


@dataclass
class Settings:
    scenario: str
    apis: list[str]
    users: int
    duration_s: float
    workers: int
    remote_workers: int
    master: tuple[str, int]
    service: str | None
    live: targets.Targets | None
    plan: dict  # the scenario part of the Locust plan (no secret)


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise UsageError(message)


def settings(args: argparse.Namespace) -> Settings:
    """Validated settings; UsageError or TargetsError on a bad value."""
    cutoff, steps = helper("cutoff"), helper("steps")
    duration = seconds(args.duration)
    _check(1 <= duration <= MAX_DURATION_S, f"--duration must lie in 1..{MAX_DURATION_S:.0f} seconds")
    _check(0 <= args.workers <= 64 and 0 <= args.remote_workers <= 1000,
           "--workers must lie in 0..64 and --remote-workers in 0..1000")
    host, _, port = args.master_bind.rpartition(":")
    _check(bool(host) and port.isdigit() and int(port) <= 65535, "--master-bind must be HOST:PORT")
    _check(not args.remote_workers or bool(args.targets),
           "--remote-workers needs --targets: the embedded emulator listens on 127.0.0.1 only")
    apis = [a.strip() for a in args.api.split(",") if a.strip()] if args.scenario == "detect-search" else ["v2"]
    _check(bool(apis) and set(apis) <= set(USER_CLASSES), "--api takes v1 and/or v2")
    for name in ("catalog", "queries", "search_limit"):
        _check(1 <= getattr(args, name) <= 10_000, f"--{name.replace('_', '-')} must lie in 1..10000")
    _check(0 <= args.think_time <= 60, "--think-time must lie in 0..60 seconds")
    _check(args.slo_p95_ms > 0 and 0 <= args.slo_error_rate <= 1, "--slo-p95-ms > 0 and 0 <= --slo-error-rate <= 1")
    slo = {"p95_ms": args.slo_p95_ms, "error_rate": args.slo_error_rate}
    plan: dict = {"think_s": args.think_time, "search_limit": args.search_limit, "slo": slo}
    users = DEFAULT_USERS.get(args.scenario) if args.users is None else args.users
    if args.scenario == "image-fetch-limit":
        try:
            grid = cutoff.Grid.parse(args.cutoff_grid, args.cutoff_refine, args.cutoff_repeats)
        except ValueError as exc:
            raise UsageError(f"--cutoff-grid/--cutoff-refine/--cutoff-repeats: {exc}") from None
        _check(0 <= args.cutoff_interval_ms <= 10_000, "--cutoff-interval-ms must lie in 0..10000")
        users = len(grid.coarse()) * len(cutoff.MODES) if users is None else users  # phase 1 in one wave
        plan["fetch"] = {"grid": vars(grid), "modes": list(cutoff.MODES), "seed": args.seed,
                         "interval_s": args.cutoff_interval_ms / 1000,
                         "timeout_s": grid.hi + grid.half + 30.0, "tolerance_s": args.cutoff_tolerance_ms / 1000}
    _check(users is not None and 1 <= users <= MAX_USERS, f"--users must lie in 1..{MAX_USERS}")
    if args.scenario == "capacity":
        step_s, warmup_s = seconds(args.step_time), seconds(args.step_warmup)
        fitting = max(1, int(duration // step_s)) if step_s > 0 else 1
        step_users = -(-users // fitting) if args.step_users is None else args.step_users
        try:
            step_plan = steps.StepPlan(step_users, step_s, users, duration, warmup_s)
        except ValueError as exc:
            raise UsageError(f"capacity: {exc}") from None
        plan["capacity"] = {**vars(step_plan), "spawn_rate": float(step_users), "slo": slo}
    live = targets.load(args.targets, only=apis) if args.targets else None
    if live is not None:
        missing = [a for a in apis if not live.targeted(a)]
        _check(not missing, f"the targets file has no [{'], ['.join(missing)}] section")
        _check(bool(args.service), f"a live target needs --service (or ${SERVICE_ENV}): an indexed service to use")
        _check(bool(live.sections.get("image_host", {}).get("public_url")),
               "a live target needs [image_host] public_url: the address under which the target reaches the image host")
    return Settings(args.scenario, apis, users, duration, args.workers, args.remote_workers, (host, int(port)),
                    args.service, live, plan)


@dataclass
class World:
    """What the Locust processes aim at: their environment (targets), the plan's URLs, the secrets to redact."""

    env: dict[str, str]
    service: str
    queries: list[str]
    fetch_image: str
    secrets: list[str]
    target: str
    base_urls: dict[str, str]


def _target_env(sections: dict[str, dict[str, str]], apis: list[str]) -> dict[str, str]:
    """This environment without FASHION_* variables, plus FASHION_<API>_<KEY> for the given sections."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASHION_")}
    for api in apis:
        for key, value in sections[api].items():
            env[f"FASHION_{api.upper()}_{key.upper()}"] = value
    return env


def _prepare(s: Settings, args: argparse.Namespace, stack: ExitStack, run_dir: Path) -> World:
    """Image host, embedded emulator and catalog (unless live), and one preflight detect(->search) per API."""
    catalog = helper("catalog")
    if s.live is None:
        data_dir = Path(tempfile.mkdtemp(prefix="fashion-load-"))
        stack.callback(shutil.rmtree, data_dir, ignore_errors=True)
        deadline = args.emulator_fetch_deadline
        emu = embedded.start(data_dir, extra_args=("--fetch-deadline", str(deadline)) if deadline else ())
        stack.callback(lambda: emu.log_path and shutil.copy(emu.log_path, run_dir / "emulator.log"))
        stack.callback(emu.stop)
        sections, service = emu.targets(), s.service or EMBEDDED_SERVICE
        host = ImageHost()
        env, secrets, target = _target_env(sections, s.apis), list(emu.keys.values()), "embedded emulator"
    else:
        sections, service = s.live.sections, str(s.service)
        image_host = sections["image_host"]
        host = ImageHost(image_host.get("bind", "127.0.0.1:0"), image_host["public_url"])
        env = {**os.environ, helper("plan").TARGETS_ENV: str(Path(args.targets).resolve())}
        secrets, target = s.live.secrets(), s.live.source
    host.start()
    stack.callback(host.stop)
    indexer = ["maker"] if s.live is None and "v1" in s.apis else []  # Maker indexes the embedded v1 catalog
    apis = {api: clients.for_target(api, sections[api]) for api in [*s.apis, *indexer]}
    for client in apis.values():
        stack.callback(client.close)
    fetching = s.scenario == "image-fetch-limit"
    queries = [] if fetching else [host.generated(args.seed + args.catalog + i) for i in range(args.queries)]
    fetch_image = host.generated(args.seed)
    if s.live is None:
        for api in s.apis:
            catalog.create_service(apis[api], service)
        if not fetching:
            products = [host.generated(args.seed + i) for i in range(args.catalog)]
            if "v2" in s.apis:
                catalog.index_v2(apis["v2"], service, products, INDEX_TIMEOUT_S)
            if "v1" in s.apis:
                catalog.index_v1(apis["maker"], service, products, INDEX_TIMEOUT_S)
    for api in s.apis:
        if fetching:
            catalog.preflight(apis[api], service, fetch_image, None)
        else:
            catalog.preflight(apis[api], service, queries[0], args.search_limit)
    base_urls = {api: sections[api]["base_url"] for api in s.apis}
    return World(env, service, queries, fetch_image, secrets, target, base_urls)


def _stop(proc: subprocess.Popen, grace_s: float = 15.0) -> None:
    """SIGTERM the process group we started (Locust writes its reports on SIGTERM), SIGKILL if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            continue


def _files(s: Settings) -> str:
    return ",".join([str(LOCUSTFILE)] + ([str(STEP_SHAPE)] if s.scenario == "capacity" else []))


def _classes(s: Settings) -> list[str]:
    return {"detect-search": [USER_CLASSES[a] for a in s.apis], "image-fetch-limit": ["FetchLimitUser"],
            "capacity": ["CapacityUser"]}[s.scenario]


def _workers_wait_s(s: Settings) -> int:
    return 60 + (540 if s.remote_workers else 0)


def locust_commands(s: Settings, plan_json: str, run_dir: Path, master_port: int) -> list[list[str]]:
    """The master (or only) Locust command first, then one command per local worker."""
    base = [sys.executable, "-m", "locust", "-f", _files(s), helper("plan").PLAN_OPTION, plan_json]
    head = [*base, "--headless", "--only-summary", "--csv", str(run_dir / "locust"), "--csv-full-history",
            "--html", str(run_dir / "locust.html"), "--loglevel", "INFO"]
    if s.scenario != "capacity":  # the step shape sets users and ends the run itself
        head += ["--users", str(s.users), "--spawn-rate", str(s.users), "--run-time", f"{s.duration_s:.0f}s"]
    if s.workers or s.remote_workers:
        head += ["--master", "--master-bind-host", s.master[0], "--master-bind-port", str(master_port),
                 "--expect-workers", str(s.workers + s.remote_workers),
                 "--expect-workers-max-wait", str(_workers_wait_s(s))]
    local = "127.0.0.1" if s.master[0] in ("0.0.0.0", "*", "::", "127.0.0.1") else s.master[0]
    worker = [*base, "--worker", "--master-host", local, "--master-port", str(master_port)]
    return [head + _classes(s)] + [worker + _classes(s) for _ in range(s.workers)]


def remote_worker_command(s: Settings, master_port: int) -> str:
    """What to run on each other machine (from a checkout of this project, targets in the environment)."""
    return (f"{helper('plan').TARGETS_ENV}=targets.toml python -m locust -f {_files(s).replace(str(LOAD_DIR), 'load')} "
            f"--worker --master-host <this machine> --master-port {master_port} {' '.join(_classes(s))}")


def run_locust(s: Settings, plan_json: str, env: dict[str, str], run_dir: Path) -> int | None:
    """Locust as child processes, bounded by the run time plus SLACK_S (and the wait for workers); the master's
    exit code, None on timeout."""
    port = s.master[1] or embedded.free_port()
    commands = locust_commands(s, plan_json, run_dir, port)
    if s.remote_workers:
        print(f"waiting up to {_workers_wait_s(s)} s for {s.remote_workers} remote worker(s); on each machine run:\n"
              f"  {remote_worker_command(s, port)}", flush=True)
    procs: list[subprocess.Popen] = []
    try:
        for i, command in enumerate(commands):
            log = run_dir / ("locust.log" if i == 0 else f"locust-worker-{i}.log")
            with log.open("wb") as out:
                procs.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=run_dir,
                                              start_new_session=True))
        try:
            return procs[0].wait(timeout=s.duration_s + SLACK_S + (_workers_wait_s(s) if s.remote_workers else 0))
        except subprocess.TimeoutExpired:
            return None
    finally:
        for proc in procs:
            if proc is not procs[0]:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    pass
            _stop(proc)


def verdicts(s: Settings, results: dict, run_dir: Path) -> dict:
    """The scenario's verdicts, tables and plots; `exit_code` 0 when every verdict holds, else 1."""
    analysis, plots, steps = helper("analysis"), helper("plots"), helper("steps")
    out: dict = {"entries": analysis.entry_rows(results), "plots": []}
    history = run_dir / "locust_stats_history.csv"
    flow_names = [helper("plan").names(api)["flow"] for api in s.apis]
    if s.scenario != "image-fetch-limit":
        out["plots"] += plots.latency_over_time(history, flow_names, run_dir / "latency.png")
        out["plots"] += plots.flow_distribution(results, flow_names, run_dir / "flow_distribution.png")
    if s.scenario == "detect-search":
        out["flows"] = analysis.flow_verdicts(results, s.apis, steps.Slo(**s.plan["slo"]))
        ok = all(v["pass"] for v in out["flows"].values())
    elif s.scenario == "capacity":
        held = steps.highest_held(results.get("steps") or [])
        out["capacity"] = {"steps": results.get("steps") or [], "highest_held": held}
        out["plots"] += plots.capacity(out["capacity"]["steps"], s.plan["capacity"]["slo"], run_dir / "capacity.png")
        ok = held is not None
    else:
        cutoff, tolerance = helper("cutoff"), s.plan["fetch"]["tolerance_s"]
        outcomes = analysis.fetch_outcomes(results, DEADLINE.extra["code"])
        fits = analysis.fetch_fits(outcomes)
        modes = {m: {"fit": fits[m].to_dict(), "verdict": cutoff.verdict(fits[m], DEADLINE.value, tolerance),
                     "outcomes": outcomes[m]} for m in cutoff.MODES if m in fits}
        missing = [m for m in cutoff.MODES if m not in fits]
        out["cutoff"] = {"expected_s": DEADLINE.value, "tolerance_s": tolerance, "source": DEADLINE.source,
                         "modes": modes, "missing_modes": missing}
        out["plots"] += plots.cutoff_curve(outcomes, fits, DEADLINE.value, tolerance, run_dir / "cutoff.png")
        out["tables"] = analysis.write_outcomes(outcomes, run_dir / "cutoff_outcomes.csv")
        ok = not missing and all(v["verdict"]["pass"] for v in modes.values())
    out["pass"] = ok
    out["exit_code"] = 0 if ok else 1
    return out


def _redact_tree(run_dir: Path, secrets: list[str]) -> None:
    """No secret in any text file of the run directory (Locust's reports and logs included)."""
    for path in run_dir.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".html", ".log", ".json", ".md", ".txt"):
            text = path.read_text(encoding="utf-8", errors="replace")
            clean = targets.redact(text, secrets)
            if clean != text:
                path.write_text(clean, encoding="utf-8")


def main(args: argparse.Namespace) -> int:
    """`fashion-conformance load`; see the module docstring for the exit codes."""
    try:
        s = settings(args)
    except (UsageError, targets.TargetsError) as exc:
        print(f"fashion-conformance load: {exc}", file=sys.stderr)
        return 2
    planlib, analysis = helper("plan"), helper("analysis")
    run_dir = new_run_dir(Path(args.reports)).resolve()
    started = time.monotonic()
    secrets: list[str] = []
    with ExitStack() as stack:
        stack.callback(lambda: _redact_tree(run_dir, secrets))
        try:
            world = _prepare(s, args, stack, run_dir)
        except (helper("catalog").CatalogError, RuntimeError, OSError, httpx.HTTPError) as exc:
            secrets = s.live.secrets() if s.live else list(embedded.DEFAULT_KEYS.values())
            print(targets.redact(f"fashion-conformance load: preparing the target failed: {exc}", secrets),
                  file=sys.stderr)
            return 2
        secrets = world.secrets
        plan = {"scenario": s.scenario, "out_dir": str(run_dir), "service": world.service, "apis": s.apis,
                "queries": world.queries, **s.plan}
        if "fetch" in plan:
            plan["fetch"] = {**plan["fetch"], "image": world.fetch_image}
        (run_dir / "plan.json").write_text(json.dumps(plan, indent=1) + "\n")
        locust_started = time.monotonic()
        code = run_locust(s, planlib.encode(plan), world.env, run_dir)
        locust_s = round(time.monotonic() - locust_started, 1)
        results_path = run_dir / planlib.RESULTS
        if code is None or not results_path.is_file():
            why = "did not finish in time" if code is None else f"exited with {code} without results"
            print(f"fashion-conformance load: Locust {why}; see {run_dir / 'locust.log'}", file=sys.stderr)
            return 2
        summary = {"scenario": s.scenario, "target": world.target, "base_urls": world.base_urls,
                   "service": world.service, "apis": s.apis, "users": s.users, "workers": s.workers,
                   "remote_workers": s.remote_workers, "duration_s": s.duration_s, "locust_exit_code": code,
                   "locust_s": locust_s,
                   **verdicts(s, json.loads(results_path.read_text()), run_dir),
                   "wall_s": round(time.monotonic() - started, 1)}
        (run_dir / "load.json").write_text(json.dumps(summary, indent=1) + "\n")
        text = analysis.markdown(summary)
        (run_dir / "load.md").write_text(text)
    print(targets.redact(text, secrets))
    print(f"reports: {run_dir}")
    return summary["exit_code"]
