"""Bad configuration of the suite: a malformed targets file or environment override is one usage error that names
the key (`fashion-conformance run`: exit 2; `pytest tests --targets`: pytest's usage-error exit), never a stack of
failures, and never shows a secret; an unreachable target is one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fashion_conformance import cli, embedded, targets

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cr3t-do-not-show"
GOOD_V2 = f'[v2]\nbase_url = "http://127.0.0.1:10001"\nappkey = "{SECRET}-app"\nsecret_key = "{SECRET}"\n'
# name -> (targets file text, what the message must name)
BAD_FILES = {
    "unknown-section": (GOOD_V2 + '[v3]\nbase_url = "http://127.0.0.1:10001"\n', "[v3]"),
    "unknown-key": (GOOD_V2 + 'secret = "x"\n', "v2.secret"),
    "wrong-type": (f'[v2]\nbase_url = "http://127.0.0.1:10001"\nappkey = 5\nsecret_key = "{SECRET}"\n', "v2.appkey"),
    "missing-key": (f'[v2]\nbase_url = "http://127.0.0.1:10001"\nappkey = "{SECRET}-app"\n', "v2.secret_key"),
    "bad-url": (GOOD_V2.replace("http://127.0.0.1:10001", "ftp://images.example"), "v2.base_url"),
    "not-a-table": ('v2 = "http://127.0.0.1:10001"\n', "v2"),
    "bad-bind": (GOOD_V2 + '[image_host]\nbind = "no-port"\n', "image_host.bind"),
    "bad-toml": (GOOD_V2 + "[v2\n", "not valid TOML"),
}
PYTEST_CASES = ("unknown-section", "wrong-type", "bad-toml")


def _env(**extra: str) -> dict[str, str]:
    """The environment without any FASHION_* setting of the calling shell, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FASHION_")}
    return {**env, **extra}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _pytest(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "pytest", "tests", "-p", "no:cacheprovider", "-q", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _one_usage_error(output: str, names: str) -> None:
    assert names in output, output
    assert SECRET not in output, "a secret appears in the message"
    assert "Traceback" not in output, output
    assert len([line for line in output.splitlines() if "ERROR" in line or "targets:" in line]) == 1, output


@pytest.fixture
def clean_env(monkeypatch):
    for key in list(os.environ):
        if key.startswith("FASHION_"):
            monkeypatch.delenv(key)
    return monkeypatch


@pytest.mark.parametrize("case", BAD_FILES)
def test_run_bad_targets_file_exits_2_naming_the_key(tmp_path, capsys, clean_env, case):
    text, names = BAD_FILES[case]
    code = cli.main(["run", "--targets", str(_write(tmp_path, text)), "--reports", str(tmp_path / "r")])
    out = capsys.readouterr()
    assert code == 2
    _one_usage_error(out.err + out.out, names)
    assert not (tmp_path / "r").exists(), "no run starts on a configuration error"


def test_pytest_bad_targets_file_is_a_usage_error_naming_the_key(tmp_path):
    """The plugin reads the file with the same loader as `run`, so a few cases show the wiring (each a pytest
    process, started together to stay fast)."""
    runs = {}
    for case in PYTEST_CASES:
        text, names = BAD_FILES[case]
        path = tmp_path / f"{case}.toml"
        path.write_text(text, encoding="utf-8")
        runs[case] = (_pytest(["--targets", str(path)], _env()), names)
    for case, (proc, names) in runs.items():
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == pytest.ExitCode.USAGE_ERROR, f"{case}: exit {proc.returncode}\n{out}"
        _one_usage_error(out, names)


def test_environment_overrides_fill_and_replace_file_values(tmp_path):
    path = _write(tmp_path, BAD_FILES["missing-key"][0])
    loaded = targets.load(path, environ={"FASHION_V2_SECRET_KEY": "from-env", "FASHION_V2_APPKEY": "env-app",
                                          "FASHION_TAGGER_BASE_URL": "http://127.0.0.1:10002/",
                                          "FASHION_TAGGER_API_KEY": "k", "FASHION_UNRELATED": "x"})
    assert loaded.get("v2")["secret_key"] == "from-env"
    assert loaded.get("v2")["appkey"] == "env-app"
    assert loaded.get("tagger") == {"base_url": "http://127.0.0.1:10002", "api_key": "k"}
    assert sorted(loaded.secrets()) == sorted(["from-env", "env-app", "k"])


def test_run_bad_environment_override_exits_2_naming_the_key(tmp_path, capsys, clean_env):
    clean_env.setenv("FASHION_V2_BASE_URL", "images.example/no-scheme")
    code = cli.main(["run", "--targets", str(_write(tmp_path, GOOD_V2)), "--reports", str(tmp_path / "r")])
    out = capsys.readouterr()
    assert code == 2
    _one_usage_error(out.err + out.out, "v2.base_url")


def test_pytest_environment_only_targets_missing_key_is_a_usage_error():
    proc = _pytest([], _env(FASHION_TAGGER_BASE_URL="http://127.0.0.1:10002"))
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, out
    _one_usage_error(out, "tagger.api_key")


def test_unreachable_target_is_one_clear_line(tmp_path):
    port = embedded.free_port()  # bound and released: nothing listens there
    path = _write(tmp_path, GOOD_V2.replace("127.0.0.1:10001", f"127.0.0.1:{port}"))
    run = subprocess.Popen(
        [sys.executable, "-m", "fashion_conformance", "run", "--targets", str(path), "--api", "v2",
         "--reports", str(tmp_path / "r")], cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)
    plain = _pytest(["--targets", str(path), "--api", "v2"], _env())
    out, _ = run.communicate(timeout=120)
    assert run.returncode == 2, out
    _one_usage_error(out, f"target v2 at http://127.0.0.1:{port} does not answer")
    out, _ = plain.communicate(timeout=120)
    assert plain.returncode == pytest.ExitCode.USAGE_ERROR, out
    _one_usage_error(out, f"target v2 at http://127.0.0.1:{port} does not answer")
