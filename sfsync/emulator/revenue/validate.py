"""Validation of the assets named by one initiate input (Salesforce-style element errors).

Per asset: a well-formed ID of an existing asset, lifecycle-managed, not a bundle component, not
cancelled (nor with a cancellation pending). Per input: one account and one price book.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sfsync import sfid
from sfsync.emulator.revenue.assets import ASSET_FIELDS, AssetState, bundle_root, cancellation_of, load_state
from sfsync.emulator.revenue.inputs import ElementError
from sfsync.emulator.revenue.periods import LifecycleRuleError

if TYPE_CHECKING:
    from sfsync.emulator.store import Store

NOT_FOUND = "The asset doesn't exist, or you don't have access to it."
NOT_MANAGED = "The asset isn't managed by Revenue Lifecycle Management (HasLifecycleManagement is false)."
COMPONENT = "The asset is a bundle component. Specify the root asset of the bundle, and try again."
ACCOUNTS = "All assets in a request must belong to the same account."
PRICEBOOKS = "All assets in a request must belong to the same price book."


def state_of(store: Store, record: dict[str, Any]) -> AssetState:
    """The asset's state (periods, price source)."""
    return load_state(store, record)


def check_assets(store: Store, ids: list[str]) -> list[AssetState]:
    """The states of the named assets; ElementError listing every problem otherwise."""
    problems: dict[tuple[str, str], list[str]] = {}
    states: list[AssetState] = []
    for raw in ids:
        try:
            asset_id = sfid.to18(raw)
        except sfid.InvalidIdError:
            problems.setdefault(("MALFORMED_ID", f"Malformed ID: {raw}"), [])
            continue
        record = (
            store.get("Asset", asset_id, fields=ASSET_FIELDS)
            if asset_id.startswith(sfid.KEY_PREFIXES["Asset"])
            else None
        )
        reason = _refusal(store, record)
        if reason is not None:
            problems.setdefault(reason, []).append(asset_id)
            continue
        assert record is not None
        try:
            states.append(state_of(store, record))
        except LifecycleRuleError as exc:
            problems.setdefault(("INVALID_INPUT", str(exc)), []).append(asset_id)
    if not problems:
        if len({str(s.record["AccountId"]) for s in states}) > 1:
            problems[("INVALID_INPUT", ACCOUNTS)] = [s.id for s in states]
        elif len({s.pricebook_id for s in states}) > 1:
            problems[("INVALID_INPUT", PRICEBOOKS)] = [s.id for s in states]
    if problems:
        raise ElementError([(code, message, found) for (code, message), found in problems.items()])
    return states


def _refusal(store: Store, record: dict[str, Any] | None) -> tuple[str, str] | None:
    if record is None:
        return ("INVALID_ID_FIELD", NOT_FOUND)
    if not record["HasLifecycleManagement"]:
        return ("INVALID_INPUT", NOT_MANAGED)
    if bundle_root(store, str(record["Id"])) is not None:
        return ("INVALID_INPUT", COMPONENT)
    cancelled = cancellation_of(store, str(record["Id"]))
    if cancelled is not None:
        return ("INVALID_INPUT", cancelled)
    return None
