"""Store.insert_many: the bulk path used by seeding encodes exactly like single inserts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from sfsync import sfid
from sfsync.clock import FixedClock
from sfsync.emulator.errors import RecordError
from sfsync.emulator.store import Store

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
def store() -> Store:
    """A fresh in-memory store with a fixed clock."""
    return Store(FixedClock(NOW), default_user_id="0058d0000000001AAA")


def test_bulk_rows_match_single_inserts(store: Store) -> None:
    """Field names in any case, wire strings and repeated values all decode as a single insert would."""
    single = store.insert("Asset", {"name": "One", "CurrentQuantity": "5", "PurchaseDate": "2025-08-10"})
    ids = store.insert_many(
        "Asset",
        [
            {"name": "Two", "CurrentQuantity": "5", "PurchaseDate": "2025-08-10"},
            {"Name": "Three", "currentquantity": 5, "PurchaseDate": date(2025, 8, 10)},
            {"Name": "Four", "CurrentQuantity": 5.0, "HasLifecycleManagement": True},
            {"Name": "Five", "CurrentQuantity": 7, "HasLifecycleManagement": "false"},
        ],
    )
    assert [sfid.expect(i, "Asset") for i in ids] == ids
    one = store.get("Asset", single)
    assert one is not None
    rows = [r for i in ids if (r := store.get("Asset", i)) is not None]
    assert len(rows) == 4
    two, three, four, five = rows
    for row in (two, three):
        assert (row["CurrentQuantity"], row["PurchaseDate"]) == (one["CurrentQuantity"], one["PurchaseDate"])
        assert (row["CreatedDate"], row["CreatedById"], row["IsDeleted"]) == (
            NOW,
            "0058d0000000001AAA",
            False,
        )
    assert (four["CurrentQuantity"], four["HasLifecycleManagement"]) == (5.0, True)
    assert (five["CurrentQuantity"], five["HasLifecycleManagement"]) == (7.0, False)


def test_bulk_insert_refuses_unknown_fields_and_bad_values(store: Store) -> None:
    """An unknown field or a value of the wrong type fails the whole batch with Salesforce's code."""
    with pytest.raises(RecordError) as unknown:
        store.insert_many("Asset", [{"Name": "A"}, {"Name": "B", "NoSuchField__c": 1}])
    with pytest.raises(RecordError) as bad:
        store.insert_many(
            "Asset", [{"Name": "A", "CurrentQuantity": 1}, {"Name": "B", "CurrentQuantity": "x"}]
        )
    assert unknown.value.status_code == "INVALID_FIELD"
    assert "NoSuchField__c" in unknown.value.message
    assert bad.value.fields == ["CurrentQuantity"]
    assert store.count("Asset") == 0, "nothing of a refused batch is kept"
