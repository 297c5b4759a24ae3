"""Seed generation (rows only, no store): the Capricorn scenario and the synthetic spread."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from sfsync.emulator.revenue.rows import RowBuilder
from sfsync.emulator.seeds import build_capricorn, build_synthetic, quickbooks_start

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
TODAY = datetime(2026, 11, 23, tzinfo=UTC)


def capricorn(now: datetime = NOW) -> RowBuilder:
    """The Capricorn rows built for ``now``."""
    rows = RowBuilder(owner_id="0058d0000000001AAA", now=now)
    build_capricorn(rows, now.replace(hour=0, minute=0, second=0, microsecond=0))
    return rows


def asset(rows: RowBuilder, name: str) -> dict[str, object]:
    """The asset row of that name."""
    return next(r for r in rows.rows["Asset"] if r["Name"] == name)


def test_quickbooks_numbers_match_the_unit() -> None:
    """QuickBooks Online: 5 licences, MRR 20.83, lifecycle amount 249.95, a 08-10 anniversary."""
    qbo = asset(capricorn(), "QuickBooks Online")
    assert (qbo["CurrentQuantity"], qbo["CurrentMrr"], qbo["TotalLifecycleAmount"]) == (5, 20.83, 249.95)
    assert qbo["LifecycleStartDate"] == datetime(2026, 8, 10, tzinfo=UTC)
    assert qbo["LifecycleEndDate"] == datetime(2027, 8, 9, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    ("today", "start"),
    [
        (datetime(2025, 8, 10, tzinfo=UTC), datetime(2025, 8, 10, tzinfo=UTC)),
        (datetime(2026, 8, 9, tzinfo=UTC), datetime(2025, 8, 10, tzinfo=UTC)),
        (datetime(2026, 8, 10, tzinfo=UTC), datetime(2026, 8, 10, tzinfo=UTC)),
        (datetime(2031, 1, 5, tzinfo=UTC), datetime(2030, 8, 10, tzinfo=UTC)),
        (datetime(2024, 3, 1, tzinfo=UTC), datetime(2023, 8, 10, tzinfo=UTC)),
    ],
)
def test_quickbooks_shift_keeps_the_anniversary(today: datetime, start: datetime) -> None:
    """The unit's term moves by whole years to the one holding today."""
    assert quickbooks_start(today) == start


def test_capricorn_scenario_dates_work_relative_to_today() -> None:
    """Google Workspace ends within 30 days; POS is alive three months out; both are current."""
    rows = capricorn()
    gw = asset(rows, "Google Workspace")
    pos = asset(rows, "Retail POS Enterprise")
    assert TODAY < gw["LifecycleEndDate"] < TODAY + timedelta(days=30)  # type: ignore[operator]
    assert pos["CurrentQuantity"] == 1
    assert pos["LifecycleStartDate"] < NOW < TODAY + timedelta(days=92) < pos["LifecycleEndDate"]  # type: ignore[operator]
    account = rows.rows["Account"][0]
    assert account["Name"] == "Capricorn Coffee"
    assert account["ShippingStreet"]
    assert account["ShippingPostalCode"]
    assert rows.rows["User"][0]["Name"] == "Chris Thomas"
    assert account["OwnerId"] == rows.rows["User"][0]["Id"]


def test_capricorn_assets_have_their_initial_sale() -> None:
    """Every asset has one period, an Initial Sale action and a source on an order item."""
    rows = capricorn()
    assets = {r["Id"] for r in rows.rows["Asset"]}
    assert Counter(r["AssetId"] for r in rows.rows["AssetStatePeriod"]) == dict.fromkeys(assets, 1)
    actions = {r["Id"]: r for r in rows.rows["AssetAction"]}
    assert {a["AssetId"] for a in actions.values()} == assets
    assert {a["CategoryEnum"] for a in actions.values()} == {"Initial Sale"}
    items = {r["Id"] for r in rows.rows["OrderItem"]}
    entries = {r["Id"] for r in rows.rows["PricebookEntry"]}
    for source in rows.rows["AssetActionSource"]:
        assert source["AssetActionId"] in actions
        assert source["ReferenceEntityItemId"] in items
        assert source["PricebookEntryId"] in entries
    (bundle,) = rows.rows["AssetRelationship"]
    assert bundle["AssetRole"] == "Bundle"
    assert {bundle["AssetId"], bundle["RelatedAssetId"]} <= assets


def test_synthetic_is_deterministic_and_spread() -> None:
    """The same seed gives the same rows; about 15 % end within 30 days, all within a year."""
    first, second = RowBuilder(owner_id="u", now=NOW), RowBuilder(owner_id="u", now=NOW)
    build_synthetic(first, TODAY, 2000, 7)
    build_synthetic(second, TODAY, 2000, 7)
    assert first.rows == second.rows
    ends = [r["LifecycleEndDate"] for r in first.rows["Asset"]]
    assert len(ends) == 2000
    assert all(TODAY <= end < TODAY + timedelta(days=366) for end in ends)
    soon = sum(end < TODAY + timedelta(days=30) for end in ends) / len(ends)
    assert 0.10 < soon < 0.20
    assert len(first.rows["Account"]) >= 200
    assert len(first.rows["Pricebook2"]) == 4
    other = RowBuilder(owner_id="u", now=NOW)
    build_synthetic(other, TODAY, 2000, 8)
    assert other.rows["Asset"] != first.rows["Asset"]
