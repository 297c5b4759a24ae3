"""`serve --pricing-delay-s/--assetize-delay-s` set the org's asynchronous completion delays."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import requests


def test_serve_takes_the_asynchronous_delays(tmp_path: Path) -> None:
    """The delays given on the command line are the ones the admin endpoint reports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFSYNC_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sfsync.emulator", "serve", "--state-dir", str(tmp_path),
         "--pricing-delay-s", "0.25", "--assetize-delay-s", "1.5"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        session = requests.Session()
        session.trust_env = False  # trust only the emulator's CA, whatever the environment says
        session.verify = line["ca_path"]
        config = session.get(
            line["instance_url"] + "/__emulator__/config",
            headers={"X-Emulator-Admin": line["admin_token"]},
            timeout=10,
        ).json()
        session.close()
        assert (config["pricing_delay_s"], config["assetize_delay_s"]) == (0.25, 1.5)
    finally:
        proc.terminate()
        code = proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    assert code == 0
