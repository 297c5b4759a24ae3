"""The CLI surface: help, version, job checks and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sfsync.cli import EXIT_OK, EXIT_USAGE, main

ROOT = Path(__file__).parents[2]


def test_help_lists_the_command_groups() -> None:
    """`sfsync --help` in a subprocess names every command group."""
    out = subprocess.run(
        [sys.executable, "-m", "sfsync", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    ).stdout
    for command in ("demo", "run", "cancel", "runs", "jobs", "worker", "emulator", "doctor", "ledger"):
        assert command in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the package version."""
    assert main(["--version"]) == EXIT_OK
    assert capsys.readouterr().out.startswith("sfsync ")


def test_jobs_check_passes_on_shipped_jobs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shipped job files check out."""
    monkeypatch.chdir(ROOT)
    assert main(["jobs", "check"]) == EXIT_OK
    assert "renewal-sweep.toml" in capsys.readouterr().out


def test_jobs_check_fails_on_a_bad_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad job file makes `jobs check` exit 2 and name the problem."""
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "x.toml").write_text('kind = "renewal"\nbogus = 1\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["jobs", "check"]) == EXIT_USAGE
    assert "bogus: unknown key" in capsys.readouterr().err


def test_bad_configuration_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A broken settings file is a usage error with a one-line cause, not a traceback."""
    config = tmp_path / "sfsync.toml"
    config.write_text("[ledger]\nnope = 1\n", encoding="utf-8")
    assert main(["--config", str(config), "jobs", "list"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "ledger.nope: unknown key" in err
    assert "Traceback" not in err


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """A mistyped command exits 2."""
    assert main(["renwe"]) == EXIT_USAGE


def test_jobs_list_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """`jobs list --json` gives the next fire time of scheduled jobs."""
    import json

    monkeypatch.chdir(ROOT)
    assert main(["--json", "jobs", "list"]) == EXIT_OK
    rows = {row["job"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["renewal-sweep"]["next_fire"] is not None
    assert rows["cancellation-run"]["next_fire"] is None


def test_demo_tells_the_scenario_and_where_to_look(tmp_path: Path) -> None:
    """`sfsync demo` on a fresh directory: both runs verified, QuickBooks untouched, next steps printed whole."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFSYNC_")}
    done = subprocess.run(
        [sys.executable, "-m", "sfsync", "demo"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        timeout=180,
    )
    assert done.returncode == EXIT_OK, done.stderr[-3000:]
    out = done.stdout
    assert "Google Workspace: verified" in out
    assert "Retail POS Enterprise: verified" in out
    assert "MRR 20.83" in out
    assert "amount 249.95" in out
    # Square brackets are text here, not rich markup: the extra's name must survive.
    assert "pip install -e '.[web]'" in out
