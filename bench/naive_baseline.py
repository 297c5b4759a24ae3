"""The naive baseline: a renewal sweep scripted with simple-salesforce the way the UI steps read.

One asset at a time, exactly as a user following the Salesforce screens would script it: select the
assets once, then per asset initiateRenewal, poll the quote until pricing is done,
createOrderFromQuote, copy the account's shipping address onto the order, PATCH Status Activated,
and query the asset's AssetActions, state periods and end date until the renewal shows up.
Run by ``bench/sweep.py``; not part of the package and not collected by pytest.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, cast

import requests
from simple_salesforce.api import Salesforce, SFType

#: Quote statuses after which a quote can be ordered (or never will be).
_PRICED = {"CompletedWithTax", "CompletedWithPricing", "CompletedWithoutPricing"}
_POLL_S = 0.1
_DEADLINE_S = 60.0


@dataclass
class BaselineResult:
    """What the baseline did: assets attempted, verified, failed, and its wall time."""

    attempted: int = 0
    verified: int = 0
    failures: list[str] = field(default_factory=list)
    wall_s: float = 0.0


def connect(instance_url: str, access_token: str, ca_path: str, api_version: str = "66.0") -> Salesforce:
    """A simple-salesforce connection with a ready token, trusting the emulator's CA."""
    session = requests.Session()
    session.verify = ca_path
    # REQUESTS_CA_BUNDLE in the environment would override session.verify: trust only the emulator.
    session.trust_env = False
    return Salesforce(
        instance_url=instance_url, session_id=access_token, version=api_version, session=session
    )


def select_assets(sf: Salesforce, window_days: int, limit: int) -> list[dict[str, object]]:
    """The lifecycle-managed assets ending within the window (the list view a user would open)."""
    soql = (
        "SELECT Id, AccountId, LifecycleEndDate FROM Asset WHERE HasLifecycleManagement = true "
        f"AND LifecycleEndDate >= TODAY AND LifecycleEndDate <= NEXT_N_DAYS:{window_days} "
        f"ORDER BY LifecycleEndDate LIMIT {limit}"
    )
    return list(sf.query_all(soql)["records"])


def _first(sf: Salesforce, soql: str) -> dict[str, object] | None:
    records = sf.query(soql)["records"]
    return records[0] if records else None


def _wait(check: object, what: str) -> dict[str, object]:
    deadline = time.monotonic() + _DEADLINE_S
    while True:
        found = check()  # type: ignore[operator]
        if found:
            return found  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            msg = f"timed out waiting for {what}"
            raise TimeoutError(msg)
        time.sleep(_POLL_S)


def _output(answer: Any, key: str) -> str:
    """An output value of the first result of an invocable action (raises if it failed)."""
    if not answer or not answer[0].get("isSuccess", True):
        msg = f"action failed: {answer}"
        raise RuntimeError(msg)
    return str(answer[0]["outputValues"][key])


def renew_one(sf: Salesforce, asset: dict[str, object]) -> None:
    """Renew one asset through the UI's steps; raises on any failure."""
    asset_id = str(asset["Id"])
    old_end = str(asset["LifecycleEndDate"])[:10]
    answer = sf.restful(
        "actions/standard/initiateRenewal",
        method="POST",
        json={"inputs": [{"renewAssetIds": [asset_id], "renewOutputType": "quote"}]},
    )
    quote_id = _output(answer, "renewRecordId")

    def priced() -> dict[str, object] | None:
        quote = _first(sf, f"SELECT Id, CalculationStatus FROM Quote WHERE Id = '{quote_id}'")
        return quote if quote and quote["CalculationStatus"] in _PRICED else None

    _wait(priced, f"pricing of quote {quote_id}")
    answer = sf.restful(
        "actions/standard/createOrderFromQuote", method="POST", json={"inputs": [{"quoteRecordId": quote_id}]}
    )
    order_id = _output(answer, "orderId")
    account = _first(
        sf,
        "SELECT ShippingStreet, ShippingCity, ShippingState, ShippingPostalCode, ShippingCountry "
        f"FROM Account WHERE Id = '{asset['AccountId']}'",
    )
    address = {k: v for k, v in (account or {}).items() if k.startswith("Shipping")}
    orders = cast(SFType, sf.Order)  # simple-salesforce builds sObject types by attribute access
    orders.update(order_id, address)
    orders.update(order_id, {"Status": "Activated"})

    def renewed() -> dict[str, object] | None:
        actions = sf.query(
            f"SELECT Id, CategoryEnum FROM AssetAction WHERE AssetId = '{asset_id}' AND CategoryEnum = 'Renewals'"
        )["records"]
        if not actions:
            return None
        periods = sf.query(
            f"SELECT Id, StartDate, EndDate FROM AssetStatePeriod WHERE AssetId = '{asset_id}' ORDER BY StartDate"
        )["records"]
        current = _first(sf, f"SELECT LifecycleEndDate FROM Asset WHERE Id = '{asset_id}'")
        new_end = str((current or {}).get("LifecycleEndDate") or "")[:10]
        return {"periods": len(periods)} if new_end > old_end else None

    _wait(renewed, f"the renewal of asset {asset_id}")


def run(sf: Salesforce, *, window_days: int, assets: int) -> BaselineResult:
    """Renew up to ``assets`` assets one after the other; failures are counted, not raised."""
    result = BaselineResult()
    started = time.perf_counter()
    for asset in select_assets(sf, window_days, assets):
        result.attempted += 1
        try:
            renew_one(sf, asset)
            result.verified += 1
        except Exception as exc:  # a script like this one logs and moves on
            result.failures.append(f"{asset['Id']}: {type(exc).__name__}: {exc}"[:300])
    result.wall_s = time.perf_counter() - started
    return result
