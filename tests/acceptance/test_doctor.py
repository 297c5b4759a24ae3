"""``sfsync doctor`` against the emulator: all ok; a wrong secret or an unreachable org is explained."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from sfsync.cli import main
from sfsync.emulator.harness import running_emulator


def _config(tmp_path: Path, org: str = "") -> Path:
    jobs = tmp_path / "jobs"
    jobs.mkdir(exist_ok=True)
    (jobs / "sweep.toml").write_text('kind = "renewal"\n', encoding="utf-8")
    config = tmp_path / "sfsync.toml"
    config.write_text(
        f'{org}[ledger]\nurl = "sqlite:///{tmp_path / "ledger.db"}"\n[worker]\njobs_dir = "{jobs}"\n',
        encoding="utf-8",
    )
    return config


def test_doctor_all_ok_against_the_embedded_emulator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every check passes on the embedded emulator (objects, actions, budget, ledger): exit 0."""
    monkeypatch.chdir(tmp_path)
    config = _config(tmp_path)
    assert main(["--config", str(config), "ledger", "upgrade"]) == 0
    code = main(["--config", str(config), "doctor"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PROBLEM" not in out
    for name in ("settings", "job files", "ledger", "API version", "object Asset", "object QuoteAction",
                 "invocable actions", "createOrderFromQuote", "API budget", "AppUsageAssignment visible"):  # fmt: skip
        assert name in out


def test_doctor_reports_an_unmigrated_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ledger never migrated is a problem with the fix named: exit 2."""
    monkeypatch.chdir(tmp_path)
    code = main(["--config", str(_config(tmp_path)), "doctor"])
    out = capsys.readouterr().out
    assert code == 2
    assert "sfsync ledger upgrade" in out


def test_doctor_wrong_secret_is_an_auth_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wrong client secret: the auth check fails with how to fix it, exit 2, secret not printed."""
    monkeypatch.chdir(tmp_path)
    with running_emulator(seed="capricorn") as emu:
        org = (
            f'default_org = "sandbox"\n[orgs.sandbox]\nauth = "client_credentials"\n'
            f'login_host = "{emu.login_url}"\nclient_id = "{emu.client_id}"\nca_bundle = "{emu.ca_path}"\n'
            "max_retries = 0\n"
        )
        config = _config(tmp_path, org)
        monkeypatch.setenv("SFSYNC_ORGS__SANDBOX__CLIENT_SECRET", "not-the-secret-x9")
        code = main(["--config", str(config), "doctor"])
    out = capsys.readouterr()
    assert code == 2
    assert "auth" in out.out
    assert "check client_id" in out.out
    assert "not-the-secret-x9" not in out.out + out.err


def test_doctor_unreachable_org_exits_69(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing listens at the login host: a connectivity problem, exit 69."""
    monkeypatch.chdir(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    org = (
        f'default_org = "gone"\n[orgs.gone]\nauth = "client_credentials"\n'
        f'login_host = "https://127.0.0.1:{port}"\nclient_id = "abc"\nmax_retries = 0\nconnect_timeout_s = 2\n'
    )
    monkeypatch.setenv("SFSYNC_ORGS__GONE__CLIENT_SECRET", "s3cret-value")
    code = main(["--config", str(_config(tmp_path, org)), "doctor"])
    out = capsys.readouterr().out
    assert code == 69, out
    assert "connectivity" in out
    assert "check login_host" in out
