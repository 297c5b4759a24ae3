"""Real clients against the emulator: simple-salesforce, many threads at once, and the serve process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import cast

import certifi
import pytest
import requests
from emu_http import Api
from simple_salesforce.api import Salesforce, SFType

from sfsync.emulator.harness import EmulatorHandle


def _trusting_session(ca_path: Path) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # otherwise REQUESTS_CA_BUNDLE silently replaces `verify`
    session.verify = str(ca_path)
    return session


def test_simple_salesforce_query_and_crud(emu: EmulatorHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    """simple-salesforce with session_id + instance_url queries and does CRUD, even with REQUESTS_CA_BUNDLE set."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())
    naive = requests.Session()
    naive.verify = str(emu.ca_path)
    with pytest.raises(requests.exceptions.SSLError):  # the documented quirk: the variable wins
        Salesforce(
            session_id=emu.access_token(), instance_url=emu.base_url, version="66.0", session=naive
        ).query("SELECT Id FROM Account")
    sf = Salesforce(
        session_id=emu.access_token(), instance_url=emu.base_url, version="66.0",
        session=_trusting_session(emu.ca_path),
    )  # fmt: skip
    account = cast(SFType, sf.Account)
    created = account.create({"Name": "Capricorn Coffee"})
    assert created["success"] is True
    assert account.update(created["id"], {"ShippingCity": "Seattle"}) == 204
    assert account.get(created["id"])["ShippingCity"] == "Seattle"
    emu.org.store.insert_many("Account", [{"Name": f"bulk {i}"} for i in range(2500)])
    result = sf.query_all("SELECT Id, Name FROM Account")
    assert result["totalSize"] == 2501
    assert len(result["records"]) == 2501
    assert sf.api_usage["api-usage"].used >= 4
    assert account.delete(created["id"]) == 204
    assert sf.query("SELECT COUNT() FROM Account WHERE Name = 'Capricorn Coffee'")["totalSize"] == 0


def test_many_threads_at_once(api: Api, emu: EmulatorHandle) -> None:
    """Thirty-two clients creating and querying concurrently all succeed and nothing is lost."""
    errors: list[str] = []
    token = emu.access_token()

    def work(n: int) -> None:
        session = _trusting_session(emu.ca_path)
        session.headers["Authorization"] = f"Bearer {token}"
        for i in range(5):
            created = session.post(api.url("sobjects/Account"), json={"Name": f"t{n}-{i}"}, timeout=30)
            read = session.get(api.url("query"), params={"q": "SELECT COUNT() FROM Account"}, timeout=30)
            if created.status_code != 201 or read.status_code != 200:
                errors.append(f"{created.status_code} {read.status_code}")
        session.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert emu.org.store.count("Account") == 160
    assert len({e.seq for e in emu.admin.requests()}) == 320


def test_serve_process_prints_credentials_and_stops_on_sigterm(tmp_path: Path) -> None:
    """`python -m sfsync.emulator serve` prints one JSON line (logs go to stderr), serves, exits 0 on SIGTERM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SFSYNC_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sfsync.emulator", "serve", "--state-dir", str(tmp_path), "--latency-ms", "1", "--seed", "capricorn",
         "--faults", '{"rules": [{"kind": "http_503", "calls": [2], "path": "/limits"}]}'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = json.loads(proc.stdout.readline())
        assert line["instance_url"].startswith("https://127.0.0.1:")
        session = _trusting_session(Path(line["ca_path"]))
        session.headers["Authorization"] = f"Bearer {line['access_token']}"
        limits = line["instance_url"] + "/services/data/v66.0/limits"
        assert session.get(limits, timeout=10).status_code == 200
        assert session.get(limits, timeout=10).status_code == 503
        token = requests.post(
            line["instance_url"] + "/services/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": line["client_id"],
                  "client_secret": line["client_secret"]},
            verify=line["ca_path"], timeout=10,
        )  # fmt: skip
        assert token.status_code == 200
        assert Path(line["private_key_path"]).read_text().startswith("-----BEGIN PRIVATE KEY-----")
        assert (tmp_path / "org.sqlite").exists()
        seeded = session.get(
            line["instance_url"] + "/services/data/v66.0/query",
            params={"q": "SELECT COUNT() FROM Asset"},
            timeout=10,
        )
        assert seeded.json()["totalSize"] > 0
        session.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
    assert code == 0


def test_state_dir_keeps_records_across_restarts(tmp_path: Path) -> None:
    """With a state directory the org (records, IDs, integration user) survives a restart."""
    from sfsync.emulator.harness import running_emulator

    with running_emulator(state_dir=tmp_path) as first:
        kept = first.org.store.insert("Account", {"Name": "kept"})
        user = first.org.user_id
    with running_emulator(state_dir=tmp_path) as second:
        assert second.org.user_id == user
        assert (second.org.store.get("Account", kept) or {})["Name"] == "kept"
        assert second.org.store.insert("Account", {"Name": "next"}) != kept
