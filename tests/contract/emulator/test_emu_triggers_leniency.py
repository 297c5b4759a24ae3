"""Store triggers surface as Salesforce errors over REST; the leniency real orgs allow is accepted."""

from __future__ import annotations

from emu_http import Api

from sfsync.emulator.errors import RecordError
from sfsync.emulator.harness import EmulatorHandle
from sfsync.emulator.store import Record, Store

MESSAGE = "A retired product needs a description."


def _retire_needs_description(_store: Store, _old: Record, new: Record) -> None:
    if new.get("Family") == "Retired" and not new.get("Description"):
        raise RecordError("FIELD_CUSTOM_VALIDATION_EXCEPTION", MESSAGE, ["Description"])


def test_before_trigger_errors_per_record_and_single(api: Api, emu: EmulatorHandle) -> None:
    """A before-update RecordError is a 400 array on a single PATCH and a per-record error in collections."""
    emu.org.store.before_update("Product2", _retire_needs_description)
    products = [api.post("sobjects/Product2", json={"Name": f"P{i}"}).json()["id"] for i in range(2)]
    single = api.patch(f"sobjects/Product2/{products[0]}", json={"Family": "Retired"})
    assert single.status_code == 400
    assert single.json() == [
        {"message": MESSAGE, "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "fields": ["Description"]}
    ]
    batch = api.patch("composite/sobjects", json={"records": [
        {"attributes": {"type": "Product2"}, "id": products[0], "Family": "Retired", "Description": "old"},
        {"attributes": {"type": "Product2"}, "id": products[1], "Family": "Retired"},
    ]}).json()  # fmt: skip
    assert batch[0]["success"] is True
    assert batch[1]["errors"] == [
        {"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": MESSAGE, "fields": ["Description"]}
    ]
    query = f"SELECT Family FROM Product2 WHERE Id IN ('{products[0]}', '{products[1]}') ORDER BY Name"
    assert [r["Family"] for r in api.get("query", params={"q": query}).json()["records"]] == ["Retired", None]


def test_lenient_values_and_names(api: Api, emu: EmulatorHandle) -> None:
    """Numbers as strings, datetimes without zone or millis, "" for an optional lookup, any-case names."""
    resp = api.post(
        "SObjects/asset/",
        json={"name": "Google Workspace", "currentquantity": "5", "LIFECYCLEENDDATE": "2026-11-23T10:00:00",
              "LifecycleStartDate": "2025-11-23T10:00:00.123+01:00", "AccountId": ""},
    )  # fmt: skip
    assert resp.status_code == 201, resp.text
    asset = api.get(f"sobjects/Asset/{resp.json()['id']}/").json()
    assert asset["CurrentQuantity"] == 5.0
    assert asset["LifecycleEndDate"] == "2026-11-23T10:00:00.000+0000"
    assert asset["LifecycleStartDate"] == "2025-11-23T09:00:00.123+0000"
    assert asset["AccountId"] is None
    rows = api.get("query/", params={"q": "select id, name from ASSET where currentquantity = 5"}).json()
    assert rows["records"][0]["Name"] == "Google Workspace"
    bad = api.post("sobjects/Asset", json={"Name": "x", "CurrentQuantity": "five"})
    assert (bad.status_code, bad.json()[0]["errorCode"]) == (400, "JSON_PARSER_ERROR")
    wrong_ref = api.post("sobjects/Asset", json={"Name": "x", "AccountId": emu.org.user_id})
    assert wrong_ref.status_code == 400
