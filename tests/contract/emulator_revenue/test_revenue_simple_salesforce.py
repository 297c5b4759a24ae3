"""The renewal half of the scenario through simple-salesforce used directly (a real client's view)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sfsync.emulator.config import EmulatorConfig
from sfsync.emulator.harness import running_emulator, wait_for


def test_renewal_through_simple_salesforce() -> None:
    """Query, initiateRenewal, createOrderFromQuote, activation and verification with simple-salesforce."""
    with running_emulator(
        EmulatorConfig(pricing_delay_s=0.05, assetize_delay_s=0.05), seed="capricorn"
    ) as handle:
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override verify (profile "Transport")
        session.verify = str(handle.ca_path)
        sf = Salesforce(
            instance_url=handle.base_url, session_id=handle.access_token(), version="66.0", session=session
        )
        gw = sf.query("SELECT Id, AccountId FROM Asset WHERE Name = 'Google Workspace'")["records"][0]
        answer: Any = sf.restful(
            "actions/standard/initiateRenewal",
            method="POST",
            json={"inputs": [{"renewAssetIds": [gw["Id"]], "renewOutputType": "Quote"}]},
        )
        quote_id = answer[0]["outputValues"]["renewRecordId"]
        assert wait_for(
            lambda: (
                sf.query(f"SELECT CalculationStatus FROM Quote WHERE Id = '{quote_id}'")["records"][0][
                    "CalculationStatus"
                ]
                == "CompletedWithPricing"
            )
        )
        answer = sf.restful(
            "actions/standard/createOrderFromQuote",
            method="POST",
            json={"inputs": [{"quoteRecordId": quote_id}]},
        )
        order_id = answer[0]["outputValues"]["orderId"]
        with pytest.raises(SalesforceMalformedRequest) as refused:
            sf.Order.update(order_id, {"Status": "Activated"})
        assert refused.value.content[0]["errorCode"] == "FAILED_ACTIVATION"
        account = sf.Account.get(gw["AccountId"])
        address = {
            k: account[k]
            for k in (
                "ShippingStreet",
                "ShippingCity",
                "ShippingState",
                "ShippingPostalCode",
                "ShippingCountry",
            )
        }
        assert sf.Order.update(order_id, {**address, "Status": "Activated"}) == 204
        completed = f"SELECT Id FROM AsyncOperationTracker WHERE ReferenceEntityId = '{order_id}' AND Status = 'Completed'"
        assert wait_for(lambda: sf.query(completed)["totalSize"] == 1)
        renewals = sf.query(
            "SELECT AssetAction.AssetId FROM AssetActionSource WHERE ReferenceEntityItemId IN "
            f"(SELECT Id FROM OrderItem WHERE OrderId = '{order_id}') AND AssetAction.CategoryEnum = 'Renewals'"
        )["records"]
        assert {r["AssetAction"]["AssetId"] for r in renewals} == {gw["Id"]}
