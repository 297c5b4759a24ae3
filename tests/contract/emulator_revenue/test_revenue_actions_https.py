"""The Revenue Cloud actions over HTTPS: documented sample requests, envelopes and switches (Part 2 §4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sfsync.emulator.config import EmulatorConfig
from sfsync.emulator.harness import EmulatorHandle, running_emulator

from .api import Api

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


def fast(**overrides: object) -> EmulatorConfig:
    """Profile defaults with instant pricing and assetization, plus overrides."""
    config = EmulatorConfig(pricing_delay_s=0.0, assetize_delay_s=0.0)
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


@pytest.fixture
def handle() -> Iterator[EmulatorHandle]:
    """A fresh Capricorn org with instant pricing."""
    with running_emulator(fast(), seed="capricorn") as running:
        yield running


def asset_id(api: Api, name: str) -> str:
    """The ID of the seeded asset of that name."""
    (row,) = api.query(f"SELECT Id FROM Asset WHERE Name = '{name}'")
    return str(row["Id"])


def test_documented_renewal_sample(handle: EmulatorHandle) -> None:
    """The §4.1 sample request (the sample asset ID swapped for a seeded one) gets the documented shape."""
    api = Api(handle, "67.0")
    today = datetime.now(UTC).date()
    body = {"renewAssetIds": [asset_id(api, "Google Workspace")], "renewOutputType": "Quote",
            "renewStartDate": f"{today}T00:00:00.000Z", "renewEndDate": f"{today.replace(year=today.year + 1)}T00:00:00.000Z"}  # fmt: skip
    response = api.action("initiateRenewal", [body])
    assert response.status_code == 200
    (element,) = response.json()
    assert set(element) == ELEMENT_KEYS
    assert (element["actionName"], element["errors"], element["isSuccess"], element["version"]) == (
        "initiateRenewal",
        None,
        True,
        1,
    )
    assert set(element["outputValues"]) == {"renewRecordId", "requestIdentifier"}
    assert len(element["outputValues"]["renewRecordId"]) == 18
    assert len(element["outputValues"]["requestIdentifier"]) == 15  # as the sample: "16Pxx0000004OTY"


def test_documented_cancellation_and_order_samples(handle: EmulatorHandle) -> None:
    """§4.2 (zoneless cancelStartDate) and §4.4 createOrderFromQuote answer with the documented keys."""
    api = Api(handle)
    response = api.action(
        "initiateCancellation",
        [
            {
                "cancelAssetIds": [asset_id(api, "Retail POS Enterprise")],
                "cancelStartDate": "2027-02-23T00:00:00",
                "cancelOutputType": "Quote",
            }
        ],
    )
    assert response.status_code == 200, response.text
    (element,) = response.json()
    assert set(element["outputValues"]) == {"cancelRecordId", "requestIdentifier"}
    handle.admin.wait_idle()
    response = api.action(
        "createOrderFromQuote", [{"quoteRecordId": element["outputValues"]["cancelRecordId"]}]
    )
    assert response.status_code == 200
    (order,) = response.json()
    assert set(order) == ELEMENT_KEYS
    assert (order["invocationId"], order["outcome"], order["sortOrder"]) == (None, None, -1)
    assert set(order["outputValues"]) == {"orderId", "orderNumber"}
    assert order["outputValues"]["orderId"].startswith("801")
    (usage,) = api.query(
        f"SELECT AppUsageType FROM AppUsageAssignment WHERE RecordId = '{order['outputValues']['orderId']}'"
    )
    assert usage["AppUsageType"] == "RevenueLifecycleManagement"


def test_one_failed_input_makes_a_400_with_the_full_array(handle: EmulatorHandle) -> None:
    """Three inputs, one bad: HTTP 400, three elements, the good ones succeeded."""
    api = Api(handle)
    inputs = [
        {"renewAssetIds": [asset_id(api, "QuickBooks Online")], "renewOutputType": "Quote"},
        {"renewAssetIds": [asset_id(api, "Inventory Sync Module")], "renewOutputType": "Quote"},
        {"renewAssetIds": [asset_id(api, "Google Workspace")], "renewOutputType": "Order"},
    ]
    response = api.action("initiateRenewal", inputs)
    assert response.status_code == 400
    body = response.json()
    assert [e["isSuccess"] for e in body] == [True, False, True]
    (error,) = body[1]["errors"]
    assert set(error) == {"statusCode", "message", "fields"}
    assert error["message"].startswith(asset_id(api, "Inventory Sync Module") + ": ")
    assert body[1]["outputValues"] is None
    assert body[2]["outputValues"]["renewRecordId"].startswith("801")


def test_limit_exceeded_processes_nothing() -> None:
    """More inputs than the org accepts: a top-level LIMIT_EXCEEDED and no quote created."""
    with running_emulator(fast(max_action_inputs=2), seed="capricorn") as handle:
        api = Api(handle)
        inputs = [
            {"renewAssetIds": [asset_id(api, n)], "renewOutputType": "Quote"}
            for n in ("QuickBooks Online", "Google Workspace", "Retail POS Enterprise")
        ]
        response = api.action("initiateRenewal", inputs)
        assert response.status_code == 400
        assert response.json()[0]["errorCode"] == "LIMIT_EXCEEDED"
        assert api.query("SELECT Id FROM Quote") == []


def test_request_identifier_can_be_left_out() -> None:
    """With include_request_identifier off, outputValues holds renewRecordId only (the live v67 answer)."""
    with running_emulator(fast(include_request_identifier=False), seed="capricorn") as handle:
        api = Api(handle, "67.0")
        response = api.action(
            "initiateRenewal",
            [{"renewAssetIds": [asset_id(api, "Google Workspace")], "renewOutputType": "Quote"}],
        )
        assert response.status_code == 200
        assert set(response.json()[0]["outputValues"]) == {"renewRecordId"}


def renewal_quote(api: Api) -> str:
    """A priced renewal quote for Google Workspace."""
    response = api.action(
        "initiateRenewal",
        [{"renewAssetIds": [asset_id(api, "Google Workspace")], "renewOutputType": "Quote"}],
    )
    api.handle.admin.wait_idle()
    return str(response.json()[0]["outputValues"]["renewRecordId"])


def test_create_orders_from_quote_v65_and_later(handle: EmulatorHandle) -> None:
    """createOrdersFromQuote answers {orderIds, requestId, statusUrl} from v65 and is unknown before."""
    api = Api(handle, "66.0")
    quote_id = renewal_quote(api)
    old = api.action(
        "createOrdersFromQuote",
        [{"quoteId": quote_id, "orderCreationMethod": "CreateSingleOrder"}],
        version="64.0",
    )
    assert old.status_code == 404
    assert old.json()[0]["errorCode"] == "NOT_FOUND"
    response = api.action(
        "createOrdersFromQuote", [{"quoteId": quote_id, "orderCreationMethod": "CreateSingleOrder"}]
    )
    assert response.status_code == 200, response.text
    values = response.json()[0]["outputValues"]
    assert values["requestId"] is None
    assert values["statusUrl"] is None
    (order_id,) = values["orderIds"]
    (order,) = api.query(f"SELECT Status, QuoteId FROM Order WHERE Id = '{order_id}'")
    assert (order["Status"], order["QuoteId"]) == ("Draft", quote_id)


def test_create_orders_from_quote_switched_off() -> None:
    """Without Advanced Order Creation every element fails with INVALID_OPERATION."""
    with running_emulator(fast(advanced_order_creation=False), seed="capricorn") as handle:
        api = Api(handle)
        quote_id = renewal_quote(api)
        response = api.action(
            "createOrdersFromQuote", [{"quoteId": quote_id, "orderCreationMethod": "CreateSingleOrder"}]
        )
        assert response.status_code == 400
        assert response.json()[0]["errors"][0]["statusCode"] == "INVALID_OPERATION"
        assert api.query("SELECT Id FROM Order WHERE QuoteId != null") == []


def test_unpriced_quote_and_missing_account() -> None:
    """A quote still pricing fails INVALID_STATUS; a quote without account REQUIRED_FIELD_MISSING."""
    with running_emulator(fast(pricing_delay_s=30.0), seed="capricorn") as handle:
        api = Api(handle)
        response = api.action(
            "initiateRenewal",
            [{"renewAssetIds": [asset_id(api, "Google Workspace")], "renewOutputType": "Quote"}],
        )
        quote_id = response.json()[0]["outputValues"]["renewRecordId"]
        response = api.action("createOrderFromQuote", [{"quoteRecordId": quote_id}])
        assert response.status_code == 400
        assert response.json()[0]["errors"][0]["statusCode"] == "INVALID_STATUS"
        patched = api.patch(
            "Quote", quote_id, {"CalculationStatus": "CompletedWithPricing", "QuoteAccountId": None}
        )
        assert patched.status_code == 204, patched.text
        response = api.action("createOrderFromQuote", [{"quoteRecordId": quote_id}])
        (error,) = response.json()[0]["errors"]
        assert (error["statusCode"], error["message"]) == ("REQUIRED_FIELD_MISSING", "Select an account.")


def test_assetization_disabled_over_https() -> None:
    """Activation with assetization off: 204, ActivatedDate set, no tracker, no asset action."""
    with running_emulator(fast(assetization_enabled=False), seed="capricorn") as handle:
        api = Api(handle)
        gw = asset_id(api, "Google Workspace")
        response = api.action("initiateRenewal", [{"renewAssetIds": [gw], "renewOutputType": "Order"}])
        order_id = response.json()[0]["outputValues"]["renewRecordId"]
        address = {
            "ShippingStreet": "1 Roastery Lane",
            "ShippingCity": "San Francisco",
            "ShippingPostalCode": "94105",
            "ShippingCountry": "United States",
        }
        assert api.patch("Order", order_id, {**address, "Status": "Activated"}).status_code == 204
        handle.admin.wait_idle()
        (order,) = api.query(f"SELECT Status, ActivatedDate FROM Order WHERE Id = '{order_id}'")
        assert order["Status"] == "Activated"
        assert order["ActivatedDate"] is not None
        assert api.query("SELECT Id FROM AsyncOperationTracker WHERE JobType = 'AssetizationAsyncJob'") == []
        assert (
            api.query(f"SELECT Id FROM AssetAction WHERE AssetId = '{gw}' AND CategoryEnum = 'Renewals'")
            == []
        )


def test_bulk_activation_through_collections(handle: EmulatorHandle) -> None:
    """Activation via sObject Collections: per-record FAILED_ACTIVATION without address, success with it."""
    api = Api(handle)
    orders = []
    for name in ("Google Workspace", "QuickBooks Online"):
        response = api.action(
            "initiateRenewal", [{"renewAssetIds": [asset_id(api, name)], "renewOutputType": "Order"}]
        )
        orders.append(response.json()[0]["outputValues"]["renewRecordId"])
    address = {
        "ShippingStreet": "1 Roastery Lane",
        "ShippingCity": "San Francisco",
        "ShippingPostalCode": "94105",
        "ShippingCountry": "United States",
    }
    records = [
        {"attributes": {"type": "Order"}, "id": orders[0], "Status": "Activated", **address},
        {"attributes": {"type": "Order"}, "id": orders[1], "Status": "Activated"},
    ]
    response = api.session.patch(
        api.url("composite/sobjects"),
        json={"allOrNone": False, "records": records},
        verify=api.verify,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    first, second = response.json()
    assert first["success"] is True
    assert second["success"] is False
    assert second["errors"][0]["statusCode"] == "FAILED_ACTIVATION"
    tracker = api.wait_for_one(
        f"SELECT Status FROM AsyncOperationTracker WHERE ReferenceEntityId = '{orders[0]}' "
        "AND JobType = 'AssetizationAsyncJob' AND Status = 'Completed'"
    )
    assert tracker["Status"] == "Completed"
    (draft,) = api.query(f"SELECT Status FROM Order WHERE Id = '{orders[1]}'")
    assert draft["Status"] == "Draft"


def test_platform_guards_over_https(handle: EmulatorHandle) -> None:
    """A second renewal and any action on a cancelled asset fail their element (what reconciliation reads)."""
    api = Api(handle)
    gw, pos = asset_id(api, "Google Workspace"), asset_id(api, "Retail POS Enterprise")
    first = api.action("initiateRenewal", [{"renewAssetIds": [gw], "renewOutputType": "Quote"}])
    assert first.status_code == 200
    second = api.action("initiateRenewal", [{"renewAssetIds": [gw], "renewOutputType": "Quote"}])
    assert second.status_code == 400
    (error,) = second.json()[0]["errors"]
    assert error["message"].startswith(f"{gw}: ")
    assert "future-dated renewal" in error["message"]
    cancel = {
        "cancelAssetIds": [pos],
        "cancelStartDate": "2027-02-23T00:00:00.000Z",
        "cancelOutputType": "Order",
    }
    order_id = api.action("initiateCancellation", [cancel]).json()[0]["outputValues"]["cancelRecordId"]
    address = {
        "ShippingStreet": "1 Roastery Lane",
        "ShippingCity": "San Francisco",
        "ShippingPostalCode": "94105",
        "ShippingCountry": "United States",
    }
    assert api.patch("Order", order_id, {**address, "Status": "Activated"}).status_code == 204
    handle.admin.wait_idle()
    for name, body in (
        ("initiateRenewal", {"renewAssetIds": [pos], "renewOutputType": "Quote"}),
        ("initiateCancellation", cancel),
        (
            "initiateAmendment",
            {
                "amendAssetIds": [pos],
                "amendStartDate": "2027-01-01",
                "quantityChange": 1,
                "amendOutputType": "Quote",
            },
        ),
    ):
        response = api.action(name, [body])
        assert response.status_code == 400, name
        assert "canceled" in response.json()[0]["errors"][0]["message"]
