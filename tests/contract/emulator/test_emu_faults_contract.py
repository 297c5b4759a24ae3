"""Injected faults over real HTTP: lost answers after commit, drops, 5xx, locks, expiry, concurrency, admin."""

from __future__ import annotations

import pytest
import requests
from emu_http import Api

from sfsync.emulator.config import FaultRule
from sfsync.emulator.harness import EmulatorHandle


def _count(emu: EmulatorHandle) -> int:
    return emu.org.store.count("Account")


def test_lost_answer_after_commit(api: Api, emu: EmulatorHandle) -> None:
    """The connection closes without an answer, yet the write is committed and logged as such."""
    emu.admin.set_faults([FaultRule(kind="lose_answer", calls=(1,), method="POST", path="/sobjects/Account")])
    with pytest.raises(requests.ConnectionError):
        api.post("sobjects/Account", json={"Name": "ghost"})
    assert _count(emu) == 1
    entry = emu.admin.requests()[-1]
    assert (entry.fault, entry.committed, entry.status) == ("lose_answer", True, None)
    assert api.post("sobjects/Account", json={"Name": "second"}).status_code == 201


def test_answer_held_past_the_client_timeout(api: Api, emu: EmulatorHandle) -> None:
    """The answer comes after the client gave up; the write is there."""
    emu.admin.set_faults([FaultRule(kind="hold_answer", calls=(1,), method="POST", hold_s=2.0)])
    with pytest.raises(requests.Timeout):
        api.session.post(api.url("sobjects/Account"), json={"Name": "late"}, timeout=0.5)
    assert _count(emu) == 1


def test_drop_before_processing_writes_nothing(api: Api, emu: EmulatorHandle) -> None:
    """A connection dropped before processing leaves no record."""
    emu.admin.set_faults([FaultRule(kind="drop_before", calls=(1,))])
    with pytest.raises(requests.ConnectionError):
        api.post("sobjects/Account", json={"Name": "never"})
    assert _count(emu) == 0
    assert emu.admin.requests()[-1].committed is False


@pytest.mark.parametrize(("kind", "status", "code"), [("http_500", 500, "UNKNOWN_EXCEPTION"),
                                                      ("http_503", 503, "SERVER_UNAVAILABLE")])  # fmt: skip
def test_server_errors(api: Api, emu: EmulatorHandle, kind: str, status: int, code: str) -> None:
    """5xx faults answer without processing and still carry the limit header."""
    emu.admin.set_faults([FaultRule(kind=kind, calls=(1,))])
    resp = api.post("sobjects/Account", json={"Name": "no"})
    assert (resp.status_code, resp.json()[0]["errorCode"]) == (status, code)
    assert "Sforce-Limit-Info" in resp.headers
    assert _count(emu) == 0


def test_lock_row_single_and_collections(api: Api, emu: EmulatorHandle) -> None:
    """UNABLE_TO_LOCK_ROW is a 400 on single records and a per-record error in collections (nothing written)."""
    account = api.post("sobjects/Account", json={"Name": "a"}).json()["id"]
    emu.admin.set_faults([FaultRule(kind="lock_row", rate=1.0, method="PATCH", max_fires=2)])
    single = api.patch(f"sobjects/Account/{account}", json={"Name": "b"})
    assert single.status_code == 400
    assert single.json() == [{"message": f"unable to obtain exclusive access to this record or 1 records: {account}",
                              "errorCode": "UNABLE_TO_LOCK_ROW"}]  # fmt: skip
    coll = api.patch(
        "composite/sobjects",
        json={"records": [{"attributes": {"type": "Account"}, "id": account, "Name": "c"}]},
    )
    assert coll.status_code == 200
    assert coll.json()[0]["errors"][0]["statusCode"] == "UNABLE_TO_LOCK_ROW"
    assert (emu.org.store.get("Account", account) or {})["Name"] == "a"


def test_session_expiry_at_call_k(api: Api, emu: EmulatorHandle) -> None:
    """At the scheduled call the token is revoked: 401 now and for later calls with that token."""
    emu.admin.set_faults([FaultRule(kind="session_expiry", calls=(2,))])
    assert api.get("limits").status_code == 200
    second = api.get("limits")
    assert second.status_code == 401
    assert second.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    assert api.get("limits").status_code == 401


def test_concurrency_limit(api: Api, emu: EmulatorHandle) -> None:
    """The concurrency fault answers 403 REQUEST_LIMIT_EXCEEDED ConcurrentRequests."""
    emu.admin.set_faults([FaultRule(kind="concurrency", calls=(1,), path="/query")])
    resp = api.get("query", params={"q": "SELECT Id FROM Account"})
    assert resp.status_code == 403
    assert resp.json() == [{"message": "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
                            "errorCode": "REQUEST_LIMIT_EXCEEDED"}]  # fmt: skip


def test_admin_endpoint(api: Api, emu: EmulatorHandle) -> None:
    """The admin endpoint needs its token, serves the log, sets faults, usage and switches."""
    url = emu.base_url + "/__emulator__/"
    verify = str(emu.ca_path)
    assert requests.get(url + "requests", verify=verify, timeout=10).status_code == 401
    headers = {"X-Emulator-Admin": emu.admin_token}
    api.get("limits")
    log = requests.get(url + "requests", headers=headers, verify=verify, timeout=10).json()
    assert log[-1]["path"] == "/services/data/v66.0/limits"
    assert log[-1]["status"] == 200
    rules = {"seed": 1, "rules": [{"kind": "http_503", "calls": [1]}]}
    counters = requests.put(url + "faults", json=rules, headers=headers, verify=verify, timeout=10).json()
    assert counters[0]["rule"]["kind"] == "http_503"
    assert api.get("limits").status_code == 503
    usage = requests.put(
        url + "usage", json={"used": 10, "limit": 10}, headers=headers, verify=verify, timeout=10
    )
    assert usage.json() == {"used": 10, "limit": 10}
    assert api.get("limits").status_code == 403
    switched = requests.patch(
        url + "config", json={"enforce_shipping_address": False}, headers=headers, verify=verify, timeout=10
    )
    assert switched.json()["enforce_shipping_address"] is False
    assert emu.org.config.enforce_shipping_address is False
    bad = requests.patch(url + "config", json={"faults": 1}, headers=headers, verify=verify, timeout=10)
    assert bad.status_code == 400
    reset = requests.post(url + "reset", headers=headers, verify=verify, timeout=10)
    assert reset.status_code == 200
    assert emu.org.usage.used == 0
