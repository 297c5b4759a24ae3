"""``sfsync worker`` as a real process: starts, serves /healthz and /readyz, stops cleanly on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_config(tmp_path: Path, port: int) -> Path:
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    (jobs / "nightly.toml").write_text(
        'kind = "renewal"\n[schedule]\ncron = "0 3 * * *"\ntimezone = "Asia/Tokyo"\n', encoding="utf-8"
    )
    config = tmp_path / "sfsync.toml"
    config.write_text(
        f'[ledger]\nurl = "sqlite:///{tmp_path / "ledger.db"}"\n'
        f'[worker]\njobs_dir = "{jobs}"\nshutdown_grace_s = 15\n'
        f'[web]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n'
        '[logging]\nformat = "json"\n',
        encoding="utf-8",
    )
    return config


def _poll(url: str, deadline_s: float) -> requests.Response | None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            time.sleep(0.1)
    return None


def test_worker_serves_health_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    """The worker answers /healthz and /readyz, and SIGTERM ends it with exit 0 within the grace."""
    port = _free_port()
    config = _write_config(tmp_path, port)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sfsync", "--config", str(config), "worker"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    try:
        health = _poll(f"http://127.0.0.1:{port}/healthz", 60)
        assert health is not None, (
            proc.stderr.read() if proc.poll() is not None and proc.stderr else "no answer"
        )
        assert health.status_code == 200
        assert requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert time.monotonic() - started < 15
        logs = out + err
        assert "worker_started" in logs
        assert "nightly" in logs
        assert "worker_stopped" in logs
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_worker_with_an_invalid_job_file_exits_2(tmp_path: Path) -> None:
    """A broken job file stops the worker at start with exit 2 and names the file."""
    config = _write_config(tmp_path, _free_port())
    (tmp_path / "jobs" / "broken.toml").write_text('kind = "renewal"\nbogus = 1\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "sfsync", "--config", str(config), "worker"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 2
    assert "broken.toml" in done.stderr
