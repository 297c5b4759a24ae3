"""The training unit's scenario, step by step over HTTPS, as its UI steps do it (seed 000_…txt)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from sfsync.emulator.config import EmulatorConfig
from sfsync.emulator.harness import EmulatorHandle, running_emulator
from sfsync.emulator.revenue.periods import add_months

from .api import Api, wire_datetime

ELEMENT_KEYS = {
    "actionName",
    "errors",
    "isSuccess",
    "outputValues",
    "invocationId",
    "outcome",
    "sortOrder",
    "version",
}


@pytest.fixture(scope="module")
def handle() -> Iterator[EmulatorHandle]:
    """A Capricorn org with the profile's default delays (pricing 0.2 s, assetization 0.5 s)."""
    with running_emulator(EmulatorConfig(), seed="capricorn") as running:
        yield running


def test_capricorn_renewal_then_cancellation(handle: EmulatorHandle) -> None:
    """Renew Google Workspace (override today → +1 year), then cancel Retail POS Enterprise at +3 months."""
    api = Api(handle)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    fields = (
        "Id, Name, CurrentQuantity, CurrentMrr, LifecycleStartDate, LifecycleEndDate, TotalLifecycleAmount"
    )
    (account,) = api.query(
        "SELECT Id, ShippingStreet, ShippingCity, ShippingState, ShippingPostalCode, ShippingCountry FROM Account WHERE Name = 'Capricorn Coffee'"
    )
    assets = {
        a["Name"]: a for a in api.query(f"SELECT {fields} FROM Asset WHERE AccountId = '{account['Id']}'")
    }
    gw, pos, qbo = assets["Google Workspace"], assets["Retail POS Enterprise"], assets["QuickBooks Online"]
    assert today < wire_datetime(gw["LifecycleEndDate"]) < today + timedelta(days=30)
    address = {k: v for k, v in account.items() if k.startswith("Shipping")}

    # Renew → Override Renewal Term: start today, end one year from today → Submit: a renewal quote
    next_year = add_months(today, 12)
    response = api.action(
        "initiateRenewal",
        [{"renewAssetIds": [gw["Id"]], "renewOutputType": "Quote",
          "renewStartDate": f"{today:%Y-%m-%dT%H:%M:%S.000Z}", "renewEndDate": f"{next_year:%Y-%m-%dT%H:%M:%S.000Z}"}],
    )  # fmt: skip
    assert response.status_code == 200, response.text
    (element,) = response.json()
    assert set(element) == ELEMENT_KEYS
    assert (element["actionName"], element["isSuccess"], element["errors"]) == ("initiateRenewal", True, None)
    quote_id = element["outputValues"]["renewRecordId"]
    assert quote_id.startswith("0Q0")
    assert element["outputValues"]["requestIdentifier"].startswith("16P")
    quote = api.wait_for_one(
        f"SELECT Id, CalculationStatus FROM Quote WHERE Id = '{quote_id}' AND CalculationStatus = 'CompletedWithPricing'"
    )
    assert quote["Id"] == quote_id

    # Create Order → Create Single Order; the order has no shipping address
    response = api.action("createOrderFromQuote", [{"quoteRecordId": quote_id}])
    assert response.status_code == 200, response.text
    order_id = response.json()[0]["outputValues"]["orderId"]
    assert response.json()[0]["outputValues"]["orderNumber"]
    (order,) = api.query(f"SELECT Id, Status, ShippingStreet, QuoteId FROM Order WHERE Id = '{order_id}'")
    assert (order["Status"], order["ShippingStreet"], order["QuoteId"]) == ("Draft", None, quote_id)

    # Activate: refused without the address, accepted with it
    refused = api.patch("Order", order_id, {"Status": "Activated"})
    assert refused.status_code == 400
    assert refused.json()[0]["errorCode"] == "FAILED_ACTIVATION"
    assert api.patch("Order", order_id, address).status_code == 204
    assert api.patch("Order", order_id, {"Status": "Activated"}).status_code == 204
    tracker = api.wait_for_one(
        f"SELECT Id, Status FROM AsyncOperationTracker WHERE ReferenceEntityId = '{order_id}' "
        "AND JobType = 'AssetizationAsyncJob' AND Status = 'Completed'"
    )
    assert tracker["Status"] == "Completed"

    # The asset's Related tab: a Renewals action and a new period covering the new term
    sources = api.query(
        "SELECT Id, AssetAction.AssetId, AssetAction.CategoryEnum FROM AssetActionSource WHERE ReferenceEntityItemId IN "
        f"(SELECT Id FROM OrderItem WHERE OrderId = '{order_id}') AND AssetAction.CategoryEnum = 'Renewals'"
    )
    assert sources
    assert {s["AssetAction"]["AssetId"] for s in sources} == {gw["Id"]}
    periods = api.query(
        f"SELECT StartDate, EndDate, Quantity FROM AssetStatePeriod WHERE AssetId = '{gw['Id']}' ORDER BY StartDate"
    )
    assert wire_datetime(periods[-1]["StartDate"]) == today
    assert wire_datetime(periods[-1]["EndDate"]) == next_year - timedelta(seconds=1)
    assert wire_datetime(periods[-2]["EndDate"]) == today - timedelta(seconds=1)
    (renewed,) = api.query(f"SELECT LifecycleEndDate FROM Asset WHERE Id = '{gw['Id']}'")
    assert wire_datetime(renewed["LifecycleEndDate"]) == next_year - timedelta(seconds=1)

    # Cancel Retail POS Enterprise three months from today
    cancel_at = add_months(today, 3)
    before = api.query(f"SELECT Id FROM AssetStatePeriod WHERE AssetId = '{pos['Id']}'")
    response = api.action(
        "initiateCancellation",
        [
            {
                "cancelAssetIds": [pos["Id"]],
                "cancelStartDate": f"{cancel_at:%Y-%m-%dT%H:%M:%S}",
                "cancelOutputType": "Quote",
            }
        ],
    )
    assert response.status_code == 200, response.text
    cancel_quote = response.json()[0]["outputValues"]["cancelRecordId"]
    (line,) = api.query(
        f"SELECT Quantity, StartQuantity, EndQuantity FROM QuoteLineItem WHERE QuoteId = '{cancel_quote}'"
    )
    assert (line["Quantity"], line["EndQuantity"]) == (-1.0, 0.0)
    api.wait_for_one(
        f"SELECT Id FROM Quote WHERE Id = '{cancel_quote}' AND CalculationStatus = 'CompletedWithPricing'"
    )
    response = api.action("createOrderFromQuote", [{"quoteRecordId": cancel_quote}])
    cancel_order = response.json()[0]["outputValues"]["orderId"]
    assert api.patch("Order", cancel_order, {**address, "Status": "Activated"}).status_code == 204
    api.wait_for_one(
        f"SELECT Id FROM AsyncOperationTracker WHERE ReferenceEntityId = '{cancel_order}' "
        "AND JobType = 'AssetizationAsyncJob' AND Status = 'Completed'"
    )
    (action,) = api.query(
        f"SELECT QuantityChange, MrrChange, Amount FROM AssetAction WHERE AssetId = '{pos['Id']}' AND CategoryEnum = 'Cancellations'"
    )
    assert action["QuantityChange"] == -1.0
    assert action["MrrChange"] == -pos["CurrentMrr"]
    assert action["Amount"] < 0
    after = api.query(
        f"SELECT Id, EndDate FROM AssetStatePeriod WHERE AssetId = '{pos['Id']}' ORDER BY StartDate"
    )
    assert [p["Id"] for p in after] == [p["Id"] for p in before]  # no new state period
    assert wire_datetime(after[-1]["EndDate"]) == cancel_at - timedelta(seconds=1)

    # QuickBooks Online is untouched
    (qbo_now,) = api.query(f"SELECT {fields} FROM Asset WHERE Id = '{qbo['Id']}'")
    assert qbo_now == qbo
    assert (qbo_now["CurrentQuantity"], qbo_now["CurrentMrr"], qbo_now["TotalLifecycleAmount"]) == (
        5.0,
        20.83,
        249.95,
    )
    assert (
        api.query(
            f"SELECT Id FROM AssetAction WHERE AssetId = '{qbo['Id']}' AND CategoryEnum != 'Initial Sale'"
        )
        == []
    )
