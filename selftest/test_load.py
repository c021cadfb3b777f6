"""Load scenarios: the cut-off estimator and its design, the capacity steps, the driver's options, and bounded
smoke runs of every scenario through loadrun.main. Locust always runs in its own processes: this module never
imports it (its gevent patching breaks a pytest process that imported `requests`)."""

from __future__ import annotations

import argparse
import json
import random
import socket
from pathlib import Path

import pytest

from fashion_conformance import clients, embedded, loadrun
from fashion_conformance.imagehost.server import fetchable_ports

cutoff = loadrun.helper("cutoff")
steps = loadrun.helper("steps")
analysis = loadrun.helper("analysis")
plan = loadrun.helper("plan")
catalog = loadrun.helper("catalog")

SECRETS = tuple(embedded.DEFAULT_KEYS.values())
NO_SLO = ("--slo-p95-ms", "600000", "--slo-error-rate", "0")  # smoke runs check mechanics, never speed


def options(reports: Path, *argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    loadrun.add_arguments(parser)
    return parser.parse_args([*argv, "--reports", str(reports)])


def run(reports: Path, *argv: str) -> tuple[int, dict, Path]:
    """loadrun.main with these options: exit code, load.json, the run directory."""
    code = loadrun.main(options(reports, *argv))
    run_dir = (reports / "latest").resolve()
    return code, json.loads((run_dir / "load.json").read_text()), run_dir


def assert_no_secret(run_dir: Path) -> None:
    for path in run_dir.iterdir():
        text = path.read_bytes().decode("utf-8", "replace")
        assert not [s for s in SECRETS if s in text], path.name


# the cut-off estimator


def sharp(delivery: list[float], cut: float) -> list[bool]:
    return [d < cut for d in delivery]


def test_fit_of_separated_outcomes_lands_in_the_gap():
    delivery = [round(2 + 0.01 * k, 3) for k in range(201)]
    result = cutoff.fit(delivery, sharp(delivery, 2.537))
    assert 2.53 <= result.estimate <= 2.54
    assert result.low <= 2.537 <= result.high and result.high - result.low <= 0.03
    assert result.successes == 54 and result.timeouts == 147


def test_fit_of_noisy_outcomes_covers_the_truth():
    rng = random.Random(7)
    delivery = [round(2.5 + 0.01 * k, 3) for k in range(101) for _ in range(3)]
    success = [rng.random() < 1 / (1 + 2.718281828 ** ((d - 3.0) / 0.04)) for d in delivery]
    result = cutoff.fit(delivery, success)
    assert abs(result.estimate - 3.0) < 0.03 and result.low < 3.0 < result.high
    assert 0.01 < result.spread < 0.1


def test_fit_is_not_dragged_down_by_sporadic_early_timeouts():
    delivery = [round(2.8 + 0.01 * k, 3) for k in range(41)]
    success = [d < 2.995 and d not in (2.86, 2.87, 2.91) for d in delivery]  # three stalls below the cut-off
    result = cutoff.fit(delivery, success)
    assert abs(result.estimate - 2.995) <= 0.015 and result.lapse > 0


@pytest.mark.parametrize(("success", "censored"), [([True, True], "above"), ([False, False], "below"), ([], "empty")])
def test_fit_without_both_outcomes_is_censored(success, censored):
    result = cutoff.fit([2.0, 3.0][: len(success)], success)
    assert result.estimate is None and result.censored == censored
    assert cutoff.verdict(result, 3.0, 0.15)["pass"] is False


def test_verdict_against_the_documented_deadline():
    near = cutoff.Fit(10, 5, 5, estimate=3.05, low=3.0, high=3.1, spread=0.01)
    assert cutoff.verdict(near, 3.0, 0.15) | {"reason": ""} == {"pass": True, "conclusive": True, "error_s": 0.05,
                                                              "reason": ""}
    edge = cutoff.Fit(10, 5, 5, estimate=3.1, low=3.0, high=3.2, spread=0.05)
    assert cutoff.verdict(edge, 3.0, 0.15)["conclusive"] is False
    far = cutoff.Fit(10, 5, 5, estimate=2.5, low=2.49, high=2.51, spread=0.001)
    assert cutoff.verdict(far, 3.0, 0.15)["pass"] is False


def test_design_refines_around_the_phase_one_estimate_and_paces_its_starts():
    now = [0.0]
    design = cutoff.Design(cutoff.Grid(2.0, 4.0, 0.1, 0.05, 0.01, 2), rng=random.Random(1), interval_s=0.05,
                           clock=lambda: now[0])
    taken = []
    while not design.done:
        point = design.take()
        if point is None:
            assert design.wait_s() <= 0.05
            now[0] += 0.05
            continue
        assert design.take() is None  # paced: one start per interval
        taken.append((design.phase, *point))
        design.report(point[0], point[1], point[1] < 2.437)
    phase1 = [t for t in taken if t[0] == 1]
    phase2 = [t for t in taken if t[0] == 2]
    assert len(phase1) == 21 * len(cutoff.MODES)
    assert len(phase2) == 11 * 2 * len(cutoff.MODES)
    assert all(2.35 <= d <= 2.5 for _, _, d in phase2)
    fit = cutoff.fit([d for _, m, d in taken if m == "trickle"], [d < 2.437 for _, m, d in taken if m == "trickle"])
    assert abs(fit.estimate - 2.437) <= 0.006


def test_design_skips_phase_two_of_a_mode_without_a_cut_off():
    design = cutoff.Design(cutoff.Grid(2.0, 2.2, 0.1), modes=("first-byte",))
    while (point := design.take()) is not None:
        design.report(*point, True)
    assert design.done and design.phase == 2


@pytest.mark.parametrize(("grid", "refine", "repeats"),
                         [("4:2:0.1", "0.1:0.01", 1), ("2:4", "0.1:0.01", 1), ("2:4:0.1", "0.01:0.1", 1),
                          ("2:4:0.1", "0.1:0.01", 0), ("a:b:c", "0.1:0.01", 1)])
def test_grid_rejects_bad_values(grid, refine, repeats):
    with pytest.raises(ValueError):
        cutoff.Grid.parse(grid, refine, repeats)


# capacity steps


def test_step_tracker_judges_each_window_and_stops_at_the_first_breach():
    tracker = steps.StepTracker(steps.StepPlan(2, 10, 6, 60, 2), steps.Slo(p95_ms=100, error_rate=0.01))
    assert tracker.plan.steps == 3 and [tracker.users_at(t) for t in (0, 9.9, 10, 25)] == [2, 2, 4, 6]
    flows, hist = 0, {}
    for t in range(31):
        if t > 20:
            hist[500] = hist.get(500, 0) + 3  # the third step gets slow
        else:
            hist[40] = hist.get(40, 0) + 3
        flows += 3
        tracker.observe(steps.Snapshot(float(t), flows, 0, dict(hist), 2 * flows))
    assert [r["held"] for r in tracker.results] == [True, True, False]
    first = tracker.results[0]
    assert first["users"] == 2 and first["count"] == 24 and first["per_s"] == 3.0 and first["all_requests_per_s"] == 6.0
    assert tracker.results[2]["breaches"] == ["p95 500 ms > 100 ms"]
    assert tracker.stopped and tracker.users_at(31) is None
    assert steps.highest_held(tracker.results)["users"] == 4


def test_slo_counts_failures_and_empty_windows():
    slo = steps.Slo(p95_ms=100, error_rate=0.01)
    assert slo.judge(0, 0, None) == ["no completed request"]
    assert slo.judge(100, 2, 50.0) == ["error rate 2.00% > 1.00%"]
    assert slo.judge(100, 1, 50.0) == []


def test_percentile_of_a_histogram():
    assert steps.percentile({10: 90, 200: 9, 900: 1}, 0.95) == 200
    assert steps.percentile({10: 90, 200: 9, 900: 1}, 0.5) == 10
    assert steps.percentile({}, 0.5) is None


# the driver


@pytest.mark.parametrize(("text", "value"), [("90", 90), ("90s", 90), ("2m", 120), ("1h30m", 5400), ("1.5s", 1.5)])
def test_seconds(text, value):
    assert loadrun.seconds(text) == value


def test_fetch_outcomes_from_results():
    results = {
        "entries": [{"type": "GET", "name": plan.fetch_name("trickle", 2.5), "requests": 5, "failures": 3,
                     "response_times": {}, "per_second": {}},
                    {"type": "GET", "name": "v2 detect", "requests": 1, "failures": 0, "response_times": {},
                     "per_second": {}}],
        "errors": [{"type": "GET", "name": plan.fetch_name("trickle", 2.5), "occurrences": 2,
                    "error": "CatchResponseError('resultCode -45060 ImageTimeoutError')"},
                   {"type": "GET", "name": plan.fetch_name("trickle", 2.5), "occurrences": 1,
                    "error": "resultCode -45050 ImageDownloadError"}],
    }
    assert analysis.fetch_outcomes(results, -45060) == {
        "trickle": [{"delivery_s": 2.5, "successes": 2, "timeouts": 2, "other": 1}]}


@pytest.mark.parametrize("argv", [
    ("--scenario", "detect-search", "--duration", "soon"),
    ("--scenario", "detect-search", "--api", "v3"),
    ("--scenario", "capacity", "--users", "4", "--step-time", "90s", "--duration", "60s"),
    ("--scenario", "image-fetch-limit", "--cutoff-grid", "4:2:0.1"),
    ("--scenario", "detect-search", "--users", "0"),
])
def test_bad_options_are_usage_errors(tmp_path, argv, capsys):
    assert loadrun.main(options(tmp_path, *argv)) == 2
    assert "fashion-conformance load:" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_a_live_target_needs_a_service_and_a_public_image_host(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(loadrun.SERVICE_ENV, raising=False)
    targets = tmp_path / "targets.toml"
    targets.write_text('[v2]\nbase_url = "http://127.0.0.1:9"\nappkey = "k"\nsecret_key = "s"\n')
    reports = tmp_path / "reports"
    assert loadrun.main(options(reports, "--scenario", "capacity", "--targets", str(targets))) == 2
    assert "--service" in capsys.readouterr().err
    assert loadrun.main(options(reports, "--scenario", "capacity", "--targets", str(targets), "--service", "x")) == 2
    assert "public_url" in capsys.readouterr().err


def test_locust_commands_for_a_master_and_its_workers(tmp_path):
    args = options(tmp_path, "--scenario", "capacity", "--workers", "2", "--users", "4")
    commands = loadrun.locust_commands(loadrun.settings(args), "{}", tmp_path, 5557)
    master, *workers = commands
    assert len(workers) == 2
    assert master[master.index("-f") + 1].endswith("locustfile.py," + str(loadrun.STEP_SHAPE))
    assert master[master.index("--master-bind-host") + 1] == "127.0.0.1" and "--expect-workers" in master
    assert "--run-time" not in master and master[-1] == "CapacityUser"  # the step shape bounds the run
    assert all(w[w.index("--master-host") + 1] == "127.0.0.1" and "--worker" in w for w in workers)


# smoke runs (each bounded; Locust in child processes)


def test_detect_search_smoke(tmp_path):
    code, summary, run_dir = run(tmp_path, "--scenario", "detect-search", "--users", "2", "--duration", "4s",
                                 "--catalog", "16", "--queries", "4", "--think-time", "0.2", *NO_SLO)
    assert code == 0, summary
    assert set(summary["flows"]) == {"v1", "v2"} and all(v["flows"] > 0 for v in summary["flows"].values())
    names = {(e["type"], e["name"]) for e in summary["entries"]}
    assert {("GET", "v2 detect"), ("GET", "v2 search"), (plan.FLOW_TYPE, "v2 detect->search")} <= names
    for name in ("locust.html", "locust_stats.csv", "locust_stats_history.csv", "latency.png",
                 "flow_distribution.png", "load.md", "plan.json"):
        assert (run_dir / name).is_file(), name
    assert_no_secret(run_dir)


def test_capacity_smoke_reports_the_highest_step_that_held(tmp_path):
    code, summary, run_dir = run(tmp_path, "--scenario", "capacity", "--users", "2", "--step-users", "1",
                                 "--step-time", "3s", "--step-warmup", "1s", "--duration", "6s", "--catalog", "16",
                                 "--queries", "4", "--think-time", "0.1", *NO_SLO)
    assert code == 0, summary
    rows = summary["capacity"]["steps"]
    assert [r["users"] for r in rows] == [1, 2] and all(r["held"] and r["count"] > 0 for r in rows)
    assert summary["capacity"]["highest_held"]["users"] == 2
    assert (run_dir / "capacity.png").is_file()


def test_fetch_limit_estimates_a_2_5_s_deadline_within_50_ms(tmp_path):
    """The estimator against an emulator whose deadline is 2.5 s: found within 50 ms, so the 3 s verdict fails."""
    code, summary, run_dir = run(tmp_path, "--scenario", "image-fetch-limit", "--duration", "40s",
                                 "--emulator-fetch-deadline", "2.5")
    assert code == 1
    modes = summary["cutoff"]["modes"]
    assert set(modes) == set(cutoff.MODES)
    for mode, m in modes.items():
        assert abs(m["fit"]["estimate"] - 2.5) <= 0.05, (mode, m["fit"])
        assert m["verdict"]["pass"] is False
    assert (run_dir / "cutoff.png").is_file()
    assert_no_secret(run_dir)


@pytest.mark.slow
def test_two_workers_and_an_slo_breach(tmp_path):
    code, summary, run_dir = run(tmp_path, "--scenario", "detect-search", "--workers", "2", "--users", "2",
                                 "--duration", "4s", "--api", "v2", "--catalog", "16", "--queries", "4",
                                 "--think-time", "0.2", "--slo-p95-ms", "0.5")
    assert code == 1
    verdict = summary["flows"]["v2"]
    assert verdict["flows"] > 0 and not verdict["pass"] and verdict["breaches"][0].startswith("p95")
    assert (run_dir / "locust-worker-1.log").is_file() and (run_dir / "locust-worker-2.log").is_file()


def free_image_port() -> int:
    """A free port in the image guide's explicit-port range."""
    for port in random.sample(fetchable_ports(), 50):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in the image guide's range")


@pytest.mark.slow
def test_a_live_target_is_used_read_only_through_its_named_service(tmp_path, image_host):
    emu = embedded.start(tmp_path / "emulator")
    try:
        v2 = clients.for_target("v2", emu.targets()["v2"])
        catalog.create_service(v2, "shop")
        catalog.index_v2(v2, "shop", [image_host.generated(i) for i in range(8)], 60)
        port = free_image_port()
        section = emu.targets()["v2"]
        targets = tmp_path / "targets.toml"
        targets.write_text("[v2]\n" + "".join(f'{k} = "{v}"\n' for k, v in section.items()) +
                           f'[image_host]\nbind = "127.0.0.1:{port}"\npublic_url = "http://127.0.0.1:{port}"\n')
        code, summary, run_dir = run(tmp_path / "reports", "--scenario", "detect-search", "--targets", str(targets),
                                     "--service", "shop", "--api", "v2", "--users", "2", "--duration", "4s",
                                     "--queries", "4", "--think-time", "0.2", *NO_SLO)
        assert code == 0, summary
        assert summary["target"] == str(targets) and summary["flows"]["v2"]["flows"] > 0
        names = [s["serviceName"] for s in v2.call("service.list").data["items"]]
        assert names == ["shop"]  # read-only: the run created nothing
        assert_no_secret(run_dir)
        v2.close()
    finally:
        emu.stop()
