"""Revenue Cloud rules of the emulated org, driven in-process: validation, guards, bundles, assetization."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sfsync import sfid
from sfsync.emulator.errors import RecordError
from sfsync.emulator.revenue.controls import as_json, controls, update_from_json
from sfsync.emulator.revenue.rows import RowBuilder, Sale
from sfsync.emulator.revenue.validate import COMPONENT, NOT_FOUND, NOT_MANAGED, PRICEBOOKS

from .conftest import ADDRESS, NOW, OrgDriver, make_org

TODAY = "2026-11-23T00:00:00.000Z"
NEXT_YEAR = "2027-11-23T00:00:00.000Z"


def renew(driver: OrgDriver, *ids: str, **extra: str) -> tuple[str | None, list[dict[str, object]]]:
    """initiateRenewal to a quote; returns (quote ID or None, errors)."""
    (outcome,) = driver.call(
        "initiateRenewal", {"renewAssetIds": list(ids), "renewOutputType": "Quote", **extra}
    )
    record = outcome.output_values["renewRecordId"] if outcome.output_values else None
    return record, outcome.errors


def test_override_renewal_quote_lines_and_actions(driver: OrgDriver) -> None:
    """An override renewal quotes a Renew line for the new term and a credit for the remainder."""
    gw = driver.asset("Google Workspace")
    quote_id, errors = renew(driver, gw["Id"], renewStartDate=TODAY, renewEndDate=NEXT_YEAR)
    assert errors == []
    assert quote_id is not None
    (action,) = driver.store.find("QuoteAction", QuoteId=quote_id)
    assert (action["Type"], action["SourceAssetId"]) == ("Renew", gw["Id"])
    renew_line, credit = sorted(
        driver.store.find("QuoteLineItem", QuoteId=quote_id), key=lambda r: -r["Quantity"]
    )
    assert (renew_line["Quantity"], str(renew_line["StartDate"]), str(renew_line["EndDate"])) == (
        25.0,
        "2026-11-23",
        "2027-11-22",
    )
    assert (credit["Quantity"], credit["EndQuantity"], str(credit["EndDate"])) == (-25.0, 0.0, "2026-12-12")
    assert credit["TotalPrice"] < 0
    quote = driver.store.get("Quote", quote_id)
    assert quote is not None
    assert quote["QuoteAccountId"] == gw["AccountId"]


def test_invalid_assets_fail_with_ids_in_the_message(driver: OrgDriver) -> None:
    """Unknown, malformed and bundle-component IDs fail the element, naming the assets."""
    child = driver.asset("Inventory Sync Module")
    unknown = sfid.make("02i", 999_999)
    _, errors = renew(driver, unknown, child["Id"], "not-an-id")
    messages = {e["statusCode"]: str(e["message"]) for e in errors}
    assert messages["INVALID_ID_FIELD"].startswith(f"{unknown}: ")
    assert NOT_FOUND in messages["INVALID_ID_FIELD"]
    assert messages["INVALID_INPUT"] == f"{child['Id']}: {COMPONENT}"
    assert "MALFORMED_ID" in messages
    assert driver.store.find("Quote") == []


def test_non_lifecycle_asset_and_missing_term(driver: OrgDriver) -> None:
    """A plain asset is refused; an automatic renewal needs a renewal term."""
    plain = driver.store.insert(
        "Asset", {"Name": "Espresso Machine", "AccountId": driver.asset("QuickBooks Online")["AccountId"]}
    )
    _, errors = renew(driver, plain)
    assert errors[0]["message"] == f"{plain}: {NOT_MANAGED}"
    qbo = driver.asset("QuickBooks Online")
    driver.store.update("Asset", qbo["Id"], {"RenewalTerm": None, "RenewalTermUnit": None})
    _, errors = renew(driver, qbo["Id"])
    assert "no renewal term" in str(errors[0]["message"])
    assert str(errors[0]["message"]).startswith(qbo["Id"])


def test_renewal_start_in_the_past_is_refused(driver: OrgDriver) -> None:
    """Renewal dates can't be back-dated."""
    _, errors = renew(driver, driver.asset("Google Workspace")["Id"], renewStartDate="2026-11-22T00:00:00Z")
    assert "past" in str(errors[0]["message"])


def test_second_renewal_is_refused_pending_or_done(driver: OrgDriver) -> None:
    """The platform guard: a renewal while another one (quoted or assetized) covers the term."""
    gw = driver.asset("Google Workspace")
    first, _ = renew(driver, gw["Id"])
    assert first is not None
    _, errors = renew(driver, gw["Id"])
    assert "future-dated renewal" in str(errors[0]["message"])
    driver.activate(driver.order_from_quote(first))
    _, errors = renew(driver, gw["Id"])
    assert "future-dated renewal" in str(errors[0]["message"])


def test_different_price_books_in_one_input(driver: OrgDriver) -> None:
    """Assets of two price books cannot share one input."""
    qbo = driver.asset("QuickBooks Online")
    rows = RowBuilder(owner_id=driver.org.user_id, now=NOW)
    book = rows.pricebook("Partner Price Book")
    entry = rows.entry(book, str(qbo["Product2Id"]), 45.0)
    rows.initial_order(
        str(qbo["AccountId"]),
        book,
        [Sale("QuickBooks Online Partner", entry, 2, datetime(2026, 8, 10, tzinfo=UTC), 12)],
        activated_at=NOW,
    )
    rows.insert_into(driver.store)
    other = driver.asset("QuickBooks Online Partner")
    (outcome,) = driver.call(
        "initiateCancellation",
        {
            "cancelAssetIds": [qbo["Id"], other["Id"]],
            "cancelStartDate": "2027-01-10T00:00:00",
            "cancelOutputType": "Quote",
        },
    )
    assert outcome.errors[0]["message"] == f"{qbo['Id']},{other['Id']}: {PRICEBOOKS}"


def test_cancellation_date_outside_the_life(driver: OrgDriver) -> None:
    """A cancellation after the lifecycle end is refused."""
    (outcome,) = driver.call(
        "initiateCancellation",
        {
            "cancelAssetIds": [driver.asset("QuickBooks Online")["Id"]],
            "cancelStartDate": "2030-01-01",
            "cancelOutputType": "Quote",
        },
    )
    assert "cancellation date" in str(outcome.errors[0]["message"])


def test_cancelled_asset_accepts_nothing(driver: OrgDriver) -> None:
    """After a cancellation (pending or done) renew, amend and cancel all fail."""
    pos = driver.asset("Retail POS Enterprise")
    cancel = {
        "cancelAssetIds": [pos["Id"]],
        "cancelStartDate": "2027-02-23T00:00:00Z",
        "cancelOutputType": "Order",
    }
    (outcome,) = driver.call("initiateCancellation", cancel)
    assert outcome.output_values is not None
    (again,) = driver.call("initiateCancellation", cancel)
    assert "pending cancellation" in str(again.errors[0]["message"])
    driver.activate(str(outcome.output_values["cancelRecordId"]))
    _, errors = renew(driver, pos["Id"])
    assert "canceled" in str(errors[0]["message"])
    (amend,) = driver.call(
        "initiateAmendment",
        {
            "amendAssetIds": [pos["Id"]],
            "amendStartDate": TODAY,
            "quantityChange": 1,
            "amendOutputType": "Order",
        },
    )
    assert "canceled" in str(amend.errors[0]["message"])


def test_bundle_root_carries_its_component(driver: OrgDriver) -> None:
    """Renewing the bundle root renews its component too, each with its own QuoteAction."""
    root = driver.asset("Roastery Operations Suite")
    child = driver.asset("Inventory Sync Module")
    quote_id, errors = renew(driver, root["Id"])
    assert errors == []
    actions = driver.store.find("QuoteAction", QuoteId=quote_id)
    assert {a["SourceAssetId"] for a in actions} == {root["Id"], child["Id"]}
    assert quote_id is not None
    driver.activate(driver.order_from_quote(quote_id))
    for asset_id in (root["Id"], child["Id"]):
        (renewal,) = driver.store.find("AssetAction", AssetId=asset_id, CategoryEnum="Renewals")
        assert renewal["QuantityChange"] == 0


def test_amendment_upsell(driver: OrgDriver) -> None:
    """Adding licences splits the current period and records an Upsells action."""
    qbo = driver.asset("QuickBooks Online")
    (outcome,) = driver.call(
        "initiateAmendment",
        {
            "amendAssetIds": [qbo["Id"]],
            "amendStartDate": "2027-01-01T00:00:00Z",
            "quantityChange": "2",
            "amendOutputType": "Order",
        },
    )
    assert outcome.output_values is not None
    driver.activate(str(outcome.output_values["amendRecordId"]))
    (upsell,) = driver.store.find("AssetAction", AssetId=qbo["Id"], CategoryEnum="Upsells")
    assert upsell["QuantityChange"] == 2
    periods = sorted(driver.store.find("AssetStatePeriod", AssetId=qbo["Id"]), key=lambda p: p["StartDate"])
    assert [p["Quantity"] for p in periods] == [5.0, 7.0]
    assert periods[0]["EndDate"] == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)


def test_injected_assetization_failure_logs_the_error() -> None:
    """A chosen order's assetization fails: tracker Failure, one OrderToAsset error log, no effects."""
    org = make_org()
    try:
        driver = OrgDriver(org)
        gw = driver.asset("Google Workspace")
        (outcome,) = driver.call("initiateRenewal", {"renewAssetIds": [gw["Id"]], "renewOutputType": "Order"})
        assert outcome.output_values is not None
        order_id = str(outcome.output_values["renewRecordId"])
        controls(org).fail_orders.add(order_id)
        driver.activate(order_id)
        (tracker,) = driver.store.find(
            "AsyncOperationTracker", ReferenceEntityId=order_id, JobType="AssetizationAsyncJob"
        )
        assert tracker["Status"] == "Failure"
        (log,) = driver.store.find("RevenueTransactionErrorLog", PrimaryRecordId=order_id)
        assert (log["Category"], log["ErrorCode"]) == ("OrderToAsset", "INSUFFICIENT_ACCESS")
        assert driver.store.find("AssetAction", AssetId=gw["Id"], CategoryEnum="Renewals") == []
    finally:
        org.close()


def test_assetization_disabled_is_a_silent_no_op() -> None:
    """With assetization off, activation succeeds and nothing else happens."""
    org = make_org(assetization_enabled=False)
    try:
        driver = OrgDriver(org)
        gw = driver.asset("Google Workspace")
        (outcome,) = driver.call("initiateRenewal", {"renewAssetIds": [gw["Id"]], "renewOutputType": "Order"})
        assert outcome.output_values is not None
        order_id = str(outcome.output_values["renewRecordId"])
        driver.activate(order_id)
        order = driver.store.get("Order", order_id)
        assert order is not None
        assert (order["Status"], order["ActivatedDate"]) == ("Activated", NOW)
        assert driver.store.find("AsyncOperationTracker", JobType="AssetizationAsyncJob") == []
        assert driver.store.find("AssetAction", AssetId=gw["Id"], CategoryEnum="Renewals") == []
        assert driver.store.find("RevenueTransactionErrorLog") == []
    finally:
        org.close()


def test_reactivation_does_not_assetize_twice(driver: OrgDriver) -> None:
    """Draft → Activated → Draft → Activated yields one tracker and one Renewals action."""
    gw = driver.asset("Google Workspace")
    (outcome,) = driver.call("initiateRenewal", {"renewAssetIds": [gw["Id"]], "renewOutputType": "Order"})
    assert outcome.output_values is not None
    order_id = str(outcome.output_values["renewRecordId"])
    driver.activate(order_id)
    driver.store.update("Order", order_id, {"Status": "Draft"})
    driver.store.update("Order", order_id, {"Status": "Activated"})
    driver.settle()
    assert (
        len(
            driver.store.find(
                "AsyncOperationTracker", ReferenceEntityId=order_id, JobType="AssetizationAsyncJob"
            )
        )
        == 1
    )
    assert len(driver.store.find("AssetAction", AssetId=gw["Id"], CategoryEnum="Renewals")) == 1


def test_late_assetization_and_json_controls(driver: OrgDriver) -> None:
    """A late order stays Submitted until its delay has passed, then completes."""
    assert update_from_json(driver.org, {"extra_delay_s": 0.5, "fail_orders": []})["extra_delay_s"] == 0.5
    gw = driver.asset("Google Workspace")
    (outcome,) = driver.call("initiateRenewal", {"renewAssetIds": [gw["Id"]], "renewOutputType": "Order"})
    assert outcome.output_values is not None
    order_id = str(outcome.output_values["renewRecordId"])
    driver.store.update("Order", order_id, {**ADDRESS, "Status": "Activated"})
    (tracker,) = driver.store.find(
        "AsyncOperationTracker", ReferenceEntityId=order_id, JobType="AssetizationAsyncJob"
    )
    assert tracker["Status"] == "Submitted"
    driver.settle()
    tracker = driver.store.get("AsyncOperationTracker", str(tracker["Id"]))
    assert tracker is not None
    assert tracker["Status"] == "Completed"


def test_json_controls_refuse_unknown_keys(driver: OrgDriver) -> None:
    """An unknown control is a ValueError, and known ones round-trip."""
    with pytest.raises(ValueError, match="not a revenue control"):
        update_from_json(driver.org, {"explode": True})
    assert as_json(driver.org)["fail_all"] is False


def test_injected_pricing_failure_is_logged(driver: OrgDriver) -> None:
    """A quote whose pricing fails: PriceCalculationFailed, tracker Failure, an InitiateRenewal error log."""
    gw = driver.asset("Google Workspace")
    controls(driver.org).fail_pricing_assets.add(str(gw["Id"]))
    quote_id, errors = renew(driver, gw["Id"])
    assert errors == []
    driver.settle()
    quote = driver.store.get("Quote", str(quote_id))
    assert quote is not None
    assert quote["CalculationStatus"] == "PriceCalculationFailed"
    (log,) = driver.store.find("RevenueTransactionErrorLog", PrimaryRecordId=quote_id)
    assert (log["Category"], log["RelatedRecordId"]) == ("InitiateRenewal", gw["Id"])
    (outcome,) = driver.call("createOrderFromQuote", {"quoteRecordId": quote_id})
    assert outcome.errors[0]["statusCode"] == "INVALID_STATUS"


def test_activated_order_cannot_be_deleted(driver: OrgDriver) -> None:
    """Deleting an activated order fails with DELETE_FAILED; a Draft one can be deleted."""
    gw = driver.asset("Google Workspace")
    (outcome,) = driver.call("initiateRenewal", {"renewAssetIds": [gw["Id"]], "renewOutputType": "Order"})
    assert outcome.output_values is not None
    order_id = str(outcome.output_values["renewRecordId"])
    driver.activate(order_id)
    with pytest.raises(RecordError) as refused:
        driver.store.delete("Order", order_id)
    assert refused.value.status_code == "DELETE_FAILED"
    driver.store.update("Order", order_id, {"Status": "Draft"})
    driver.store.delete("Order", order_id)
    assert driver.store.get("Order", order_id) is None
