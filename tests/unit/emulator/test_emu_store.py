"""Store: IDs, system fields, triggers, transactions, soft delete and bulk insert."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime

import pytest

from sfsync import sfid
from sfsync.clock import FixedClock
from sfsync.emulator.background import Background
from sfsync.emulator.errors import RecordError
from sfsync.emulator.store import Record, Store

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
def store() -> Store:
    """A fresh in-memory store with a fixed clock."""
    return Store(FixedClock(NOW), default_user_id="0058d0000000001AAA")


def test_insert_mints_ids_and_stamps_system_fields(store: Store) -> None:
    """IDs carry the key prefix and a valid checksum; system fields come from clock and user."""
    new_id = store.insert(
        "asset", {"name": "Google Workspace", "CurrentQuantity": "5", "PurchaseDate": "2025-08-10"}
    )
    assert sfid.expect(new_id, "Asset") == new_id
    record = store.get("Asset", new_id[:15])
    assert record is not None
    assert record["Name"] == "Google Workspace"
    assert record["CurrentQuantity"] == 5.0
    assert record["PurchaseDate"] == date(2025, 8, 10)
    assert record["CreatedDate"] == NOW
    assert record["CreatedById"] == "0058d0000000001AAA"
    assert record["IsDeleted"] is False
    assert record["HasLifecycleManagement"] is False


def test_autonumber_and_defaults(store: Store) -> None:
    """Auto-number fields and declared defaults are filled on insert."""
    account = store.insert("Account", {"Name": "Capricorn Coffee"})
    first = store.insert("Order", {"AccountId": account, "EffectiveDate": date(2026, 11, 23)})
    second = store.insert("Order", {"AccountId": account, "EffectiveDate": date(2026, 11, 23)})
    orders = [store.get("Order", i) for i in (first, second)]
    assert [o["OrderNumber"] for o in orders if o] == ["00000001", "00000002"]
    assert all(o and o["Status"] == "Draft" for o in orders)


def test_unknown_field_is_a_record_error(store: Store) -> None:
    """Writing a field the object does not have fails with INVALID_FIELD."""
    with pytest.raises(RecordError) as err:
        store.insert("Account", {"Name": "x", "Bogus__c": 1})
    assert err.value.status_code == "INVALID_FIELD"


def test_update_triggers_can_edit_and_refuse(store: Store) -> None:
    """A before-trigger may change the new values or refuse the write; after-triggers see the result."""
    seen: list[tuple[object, object]] = []

    def before(_s: Store, old: Record, new: Record) -> None:
        if new.get("Status") == "Activated" and not new.get("ShippingCity"):
            raise RecordError("FAILED_ACTIVATION", "Enter the shipping address", ["ShippingCity"])
        new["Description"] = "checked"

    store.before_update("Order", before)
    store.after_update("Order", lambda _s, old, new: seen.append((old["Status"], new["Status"])))
    account = store.insert("Account", {"Name": "A"})
    order = store.insert("Order", {"AccountId": account, "EffectiveDate": date(2026, 11, 23)})
    with pytest.raises(RecordError) as err:
        store.update("Order", order, {"Status": "Activated"})
    assert err.value.status_code == "FAILED_ACTIVATION"
    assert (store.get("Order", order) or {})["Status"] == "Draft"
    store.update("Order", order, {"Status": "Activated", "ShippingCity": "Seattle"})
    record = store.get("Order", order) or {}
    assert (record["Status"], record["Description"]) == ("Activated", "checked")
    assert seen == [("Draft", "Activated")]


def _insert_then_fail(store: Store, name: str) -> None:
    with store.transaction():
        store.insert("Account", {"Name": name})
        raise RuntimeError("boom")


def _fail_after_commit_hook(store: Store, ran: list[str]) -> None:
    with store.transaction():
        store.on_commit(lambda: ran.append("rolled back"))
        raise RuntimeError("boom")


def test_nested_transaction_rolls_back_only_its_part(store: Store) -> None:
    """A failing savepoint undoes its own writes; the outer transaction keeps the rest."""
    with store.transaction():
        kept = store.insert("Account", {"Name": "kept"})
        with pytest.raises(RuntimeError):
            _insert_then_fail(store, "lost")
    names = [r["Name"] for r in store.find("Account")]
    assert names == ["kept"]
    assert store.get("Account", kept) is not None


def test_outer_rollback_drops_commit_callbacks(store: Store) -> None:
    """on_commit callbacks run only if the outermost transaction commits."""
    ran: list[str] = []
    with pytest.raises(RuntimeError):
        _fail_after_commit_hook(store, ran)
    with store.transaction():
        store.on_commit(lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]


def test_soft_delete_hides_records_except_for_query_all(store: Store) -> None:
    """Deleted records vanish from get/find/query but remain for queryAll."""
    account = store.insert("Account", {"Name": "gone"})
    store.delete("Account", account)
    assert store.get("Account", account) is None
    assert store.query("SELECT Id FROM Account").total_size == 0
    assert (
        store.query("SELECT Id, IsDeleted FROM Account", include_deleted=True).records[0]["IsDeleted"] is True
    )
    with pytest.raises(RecordError) as err:
        store.update("Account", account, {"Name": "back"})
    assert err.value.status_code == "ENTITY_IS_DELETED"


def test_insert_many_is_fast(store: Store) -> None:
    """100,000 assets insert in a few seconds and are queryable."""
    started = time.monotonic()
    ids = store.insert_many(
        "Asset",
        [
            {
                "Name": f"A{i}",
                "CurrentQuantity": i % 7,
                "LifecycleEndDate": NOW,
                "HasLifecycleManagement": True,
            }
            for i in range(100_000)
        ],
    )
    elapsed = time.monotonic() - started
    assert len(set(ids)) == 100_000
    assert elapsed < 20
    assert store.query("SELECT COUNT() FROM Asset WHERE CurrentQuantity = 3").total_size == 14_286


def test_concurrent_writers_are_serialised(store: Store) -> None:
    """Many threads inserting at once lose nothing and mint distinct IDs."""
    ids: list[str] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(50):
            new_id = store.insert("Account", {"Name": f"t{n}-{i}"})
            with lock:
                ids.append(new_id)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 400
    assert store.count("Account") == 400


def test_background_runs_after_commit_and_keeps_errors(store: Store) -> None:
    """call_later waits for the transaction to commit; failures are kept, not lost."""
    background = Background(store)
    try:
        done: list[str] = []
        with store.transaction():
            background.call_later(0, lambda: done.append("ran"))
            assert done == []
        background.call_later(0.01, lambda: (_ for _ in ()).throw(ValueError("bad")))
        assert background.wait_idle(5)
        assert done == ["ran"]
        assert [str(e) for e in background.errors] == ["bad"]
    finally:
        background.close()
