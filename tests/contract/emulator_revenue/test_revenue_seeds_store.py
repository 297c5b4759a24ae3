"""Seeds loaded into a real (in-memory) store: references resolve and queries see the scenario."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sfsync.clock import FixedClock
from sfsync.emulator.config import EmulatorConfig
from sfsync.emulator.org import build_org
from sfsync.emulator.seeds import load

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_capricorn_references_resolve() -> None:
    """Every lifecycle row points at stored records; the bundle and account owner resolve."""
    org = build_org(EmulatorConfig(), FixedClock(NOW), seed="capricorn")
    try:
        store = org.store
        (account,) = store.find("Account", Name="Capricorn Coffee")
        owner = store.get("User", str(account["OwnerId"]))
        assert owner is not None
        assert owner["Name"] == "Chris Thomas"
        assets = store.find("Asset", AccountId=account["Id"])
        assert {a["Name"] for a in assets} >= {
            "Google Workspace",
            "Retail POS Enterprise",
            "QuickBooks Online",
        }
        for asset in assets:
            (action,) = store.find("AssetAction", AssetId=asset["Id"])
            (source,) = store.find("AssetActionSource", AssetActionId=action["Id"])
            item = store.get("OrderItem", str(source["ReferenceEntityItemId"]))
            assert item is not None
            assert item["PricebookEntryId"] == source["PricebookEntryId"]
            assert store.get("Order", str(item["OrderId"])) is not None
        (bundle,) = store.find("AssetRelationship", AssetRole="Bundle")
        root = store.get("Asset", str(bundle["AssetId"]))
        assert root is not None
        assert root["Name"] == "Roastery Operations Suite"
        result = store.query(
            "SELECT Id FROM Asset WHERE HasLifecycleManagement = true AND LifecycleEndDate = NEXT_N_DAYS:30"
        )
        assert [r["Id"] for r in result.records] == [
            a["Id"] for a in assets if a["Name"] == "Google Workspace"
        ]
    finally:
        org.close()


def test_synthetic_load_counts_and_determinism() -> None:
    """synthetic:N stores N lifecycle assets, the same ones for the same seed."""
    names = []
    for _ in range(2):
        org = build_org(EmulatorConfig(), FixedClock(NOW))
        try:
            counts = load(org, "synthetic:3000:seed=5")
            assert counts["Asset"] == 3000
            assert org.store.count("Asset") == 3000
            names.append([(a["Name"], a["LifecycleEndDate"]) for a in org.store.find("Asset")])
        finally:
            org.close()
    assert names[0] == names[1]


def test_unknown_seed_is_refused() -> None:
    """A seed spec other than capricorn or synthetic:N is a clear error."""
    org = build_org(EmulatorConfig(), FixedClock(NOW))
    try:
        with pytest.raises(ValueError, match="unknown seed"):
            load(org, "synthetic:lots")
    finally:
        org.close()


def test_seeding_twice_is_a_no_op() -> None:
    """A second load into an org that has assets inserts nothing (persistent state directories)."""
    org = build_org(EmulatorConfig(), FixedClock(NOW), seed="capricorn")
    try:
        before = org.store.count("Asset")
        assert load(org, "capricorn") == {}
        assert org.store.count("Asset") == before
    finally:
        org.close()
