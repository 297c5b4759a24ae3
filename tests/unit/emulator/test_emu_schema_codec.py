"""Schema lookups, key prefixes and value encoding."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from sfsync.emulator import schema
from sfsync.emulator.codec import BadValue, parse_datetime, to_sql, to_wire
from sfsync.sfid import KEY_PREFIXES


def test_every_profile_object_is_served_with_its_prefix() -> None:
    """All objects of the profile exist, with the sfid key prefixes and system fields."""
    for name in ("Account", "Product2", "Pricebook2", "PricebookEntry", "Asset", "AssetRelationship",
                 "AssetStatePeriod", "AssetAction", "AssetActionSource", "Quote", "QuoteLineItem", "QuoteAction",
                 "Order", "OrderItem", "OrderAction", "AsyncOperationTracker", "RevenueTransactionErrorLog",
                 "AppUsageAssignment", "User", "Organization"):  # fmt: skip
        obj = schema.OBJECTS[name]
        assert obj.key_prefix == KEY_PREFIXES[name]
        for system in ("Id", "CreatedDate", "CreatedById", "LastModifiedDate", "SystemModstamp", "IsDeleted"):
            assert obj.field(system) is not None


def test_lookups_are_case_insensitive_and_relationships_resolve() -> None:
    """Names match in any case; reference fields expose relationship names and targets."""
    asset = schema.lookup("ASSET")
    assert asset is not None
    assert (asset.field("lifecycleenddate") or schema.FieldDef("x", "string")).type == "datetime"
    rel = asset.relationship("account")
    assert rel is not None
    assert rel.reference_to == ("Account",)
    source = schema.OBJECTS["AssetActionSource"].field("ReferenceEntityItemId")
    assert source is not None
    assert "OrderItem" in source.reference_to
    assert schema.OBJECTS["AssetAction"].field("CategoryEnum").restricted  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T00:00:00.000Z", datetime(2026, 11, 23, tzinfo=UTC)),
        ("2026-11-23T00:00:00Z", datetime(2026, 11, 23, tzinfo=UTC)),
        ("2026-11-23T00:00:00", datetime(2026, 11, 23, tzinfo=UTC)),
        ("2026-11-23T09:00:00.000+0900", datetime(2026, 11, 23, tzinfo=UTC)),
        ("2026-11-23T09:00:00+09:00", datetime(2026, 11, 23, tzinfo=UTC)),
    ],
)
def test_datetimes_are_lenient(text: str, expected: datetime) -> None:
    """With or without zone (UTC assumed) and with or without milliseconds."""
    assert parse_datetime(text) == expected


def test_wire_and_storage_formats() -> None:
    """Datetimes go out as ...000+0000, dates plain; storage text sorts as time."""
    moment = datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=timezone(timedelta(hours=1)))
    assert to_wire(moment) == "2026-11-23T00:02:03.456+0000"
    assert to_wire(date(2026, 11, 23)) == "2026-11-23"
    field = schema.OBJECTS["Asset"].fields["LifecycleEndDate"]
    assert to_sql(field, moment) == "2026-11-23T00:02:03.456Z"
    quantity = schema.OBJECTS["Asset"].fields["CurrentQuantity"]
    assert to_sql(quantity, "5") == 5.0
    with pytest.raises(BadValue):
        to_sql(quantity, "five")
