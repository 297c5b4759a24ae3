"""Reads against the emulator: selection, paging with session expiry, 503 storms, the budget."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sf_emulator_helpers import client_for

from sfsync import errors
from sfsync.emulator.config import EmulatorConfig, FaultConfig, FaultRule
from sfsync.salesforce import RenewalRequest, Uncertain, query
from sfsync.salesforce.models import Asset
from sfsync.salesforce.soql import eq, select


def _asset_named(client: Any, name: str) -> Asset:
    rows = list(
        query.models(client.transport, select("Asset", ("Id", "Name", "AccountId"), eq("Name", name)), Asset)
    )
    assert len(rows) == 1, f"expected one asset named {name!r}, got {len(rows)}"
    return rows[0]


def test_selection_returns_roots_only(emulator: Any) -> None:
    """The sweep finds lifecycle-managed assets in the window and drops the bundle child."""
    client = client_for(emulator)
    now = emulator.org.clock.now()
    found = list(client.select_renewal_candidates(now - timedelta(days=800), now + timedelta(days=800)))
    names = {asset.Name for asset in found}
    assert "Roastery Operations Suite" in names
    assert "Inventory Sync Module" not in names
    assert "Google Workspace" in names
    assert all(asset.LifecycleEndDate is not None for asset in found)


def test_paging_survives_session_expiry_mid_iteration(make_emulator: Any) -> None:
    """500 assets in pages of 200; the session expires on the second page; all rows arrive once."""
    rule = FaultRule(kind="session_expiry", calls=(2,), path="/query")
    handle = make_emulator(EmulatorConfig(faults=FaultConfig(rules=[rule])), seed="synthetic:500")
    client = client_for(handle, query_batch_size=200)
    ids = [row["Id"] for row in client.query(select("Asset", ("Id",)))]
    assert len(ids) == len(set(ids)) >= 500
    tokens = [e for e in handle.org.request_log.entries() if e.path.endswith("/oauth2/token")]
    assert len(tokens) == 2
    assert client.metrics.snapshot()["query"].count >= 3


def test_503_storm_is_ridden_out(make_emulator: Any) -> None:
    """Half the queries answer 503: reads still complete, each failure retried."""
    rule = FaultRule(kind="http_503", rate=0.5, path="/query")
    handle = make_emulator(EmulatorConfig(faults=FaultConfig(seed=4, rules=[rule])))
    client = client_for(handle, max_retries=10)
    asset = _asset_named(client, "Google Workspace")
    assert asset.Id is not None
    assert client.read_assets([asset.Id])[asset.Id].Name == "Google Workspace"
    statuses = [e.status for e in handle.org.request_log.entries() if "/query" in e.path]
    assert 503 in statuses
    assert statuses[-1] == 200


def test_budget_reserve_pauses_before_the_threshold(make_emulator: Any) -> None:
    """Usage starts at 85% with a 10% reserve: the client stops before usage passes 90%."""
    handle = make_emulator(EmulatorConfig(daily_api_limit=1000, initial_api_usage=850))
    client = client_for(handle, api_reserve=0.1)

    def drain() -> None:
        for _ in range(200):
            list(client.query(select("Organization", ("Id",))))

    with pytest.raises(errors.BudgetExhaustedError, match="reserve"):
        drain()
    usage = client.budget.usage
    assert usage is not None
    assert usage.used <= 900


def test_total_requests_limit_pauses(make_emulator: Any) -> None:
    """Past the daily limit the org answers 403 TotalRequests; the client makes no further call."""
    handle = make_emulator(EmulatorConfig(daily_api_limit=1000, initial_api_usage=1000))
    client = client_for(handle, api_reserve=0.0)
    with pytest.raises(errors.BudgetExhaustedError):
        list(client.query(select("Organization", ("Id",))))
    with pytest.raises(errors.BudgetExhaustedError):
        list(client.query(select("Organization", ("Id",))))
    assert len([e for e in handle.org.request_log.entries() if "/query" in e.path]) == 1


def test_concurrency_limit_backs_off_and_recovers(make_emulator: Any) -> None:
    """403 ConcurrentRequests twice, then the query passes; three requests in the log."""
    rule = FaultRule(kind="concurrency", calls=(1, 2), path="/query")
    handle = make_emulator(EmulatorConfig(faults=FaultConfig(rules=[rule])))
    client = client_for(handle)
    assert len(list(client.query(select("Organization", ("Id",))))) == 1
    statuses = [e.status for e in handle.org.request_log.entries() if "/query" in e.path]
    assert statuses == [403, 403, 200]


def test_dropped_connection_on_a_read_is_retried(make_emulator: Any) -> None:
    """The org closes the connection without answering a query: the read is simply asked again."""
    rule = FaultRule(kind="drop_before", calls=(1,), path="/query")
    handle = make_emulator(EmulatorConfig(faults=FaultConfig(rules=[rule])))
    client = client_for(handle)
    assert len(list(client.query(select("Organization", ("Id",))))) == 1
    assert len([e for e in handle.org.request_log.entries() if "/query" in e.path]) == 2


def test_500_on_a_creating_call_is_uncertain(make_emulator: Any) -> None:
    """A 500 on initiateRenewal is not resent: the item is Uncertain for the engine to reconcile."""
    rule = FaultRule(kind="http_500", calls=(1,), action="initiateRenewal")
    handle = make_emulator(EmulatorConfig(faults=FaultConfig(rules=[rule])))
    client = client_for(handle)
    asset = _asset_named(client, "Google Workspace")
    assert asset.Id
    assert asset.AccountId
    book = client.asset_price_books([asset.Id])[asset.Id]
    outcome = client.initiate_renewals([RenewalRequest(asset.Id, asset.AccountId, book)])[asset.Id]
    assert isinstance(outcome, Uncertain)
    assert len([e for e in handle.org.request_log.entries() if e.action == "initiateRenewal"]) == 1
