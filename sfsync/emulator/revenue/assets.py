"""What the emulated org knows about an asset: its periods, price source, bundle and guards.

Read helpers over the store shared by the actions (validation, planning) and by assetization.
The price book of an asset is the one of the ``PricebookEntry`` on its latest
``AssetActionSource``; its annual unit price is that source's ``UnitPrice`` (the last negotiated
price), else the entry's list price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sfsync.emulator.revenue.periods import LifecycleRuleError, Period

if TYPE_CHECKING:
    from sfsync.emulator.store import Store

Record = dict[str, Any]

# The columns these helpers read: the store reads only those (assets have dozens).
#: What validation, planning and the quote or order read of an asset (``AssetState.record``).
ASSET_FIELDS = ("Id", "Name", "AccountId", "Product2Id", "HasLifecycleManagement", "RenewalTerm", "RenewalTermUnit",
                "DoesAutomaticallyRenew")  # fmt: skip
_PERIOD_FIELDS = ("Id", "StartDate", "EndDate", "Quantity", "Mrr", "Amount")
_SOURCE_FIELDS = ("Id", "PricebookEntryId", "UnitPrice", "TransactionDate", "CreatedDate")


@dataclass(frozen=True)
class AssetState:
    """An asset (its ``ASSET_FIELDS``) with its state periods and where its price comes from."""

    record: Record
    periods: list[Period]
    entry_id: str | None
    pricebook_id: str | None
    unit_price: float

    @property
    def id(self) -> str:
        """The asset's 18-character ID."""
        return str(self.record["Id"])


def periods_of(store: Store, asset_id: str) -> list[Period]:
    """The asset's live state periods, oldest first."""
    out = []
    for row in store.select("AssetStatePeriod", _PERIOD_FIELDS, AssetId=asset_id):
        if row["EndDate"] is None:
            msg = "Evergreen assets (a state period without an end date) aren't supported by this org."
            raise LifecycleRuleError(msg)
        out.append(
            Period(
                start=_dt(row["StartDate"]),
                end=_dt(row["EndDate"]),
                quantity=num(row["Quantity"]),
                mrr=num(row["Mrr"]),
                amount=num(row["Amount"]),
                id=str(row["Id"]),
            )
        )
    return sorted(out, key=lambda p: p.start)


def latest_source(store: Store, asset_id: str) -> Record | None:
    """The asset's most recent AssetActionSource that names a price book entry (``_SOURCE_FIELDS``)."""
    best: Record | None = None
    for action in store.select("AssetAction", ("Id",), AssetId=asset_id):
        for source in store.select("AssetActionSource", _SOURCE_FIELDS, AssetActionId=action["Id"]):
            if source["PricebookEntryId"] is None:
                continue
            key = (source["TransactionDate"] or source["CreatedDate"], source["CreatedDate"])
            if best is None or key >= (best["TransactionDate"] or best["CreatedDate"], best["CreatedDate"]):
                best = source
    return best


def load_state(store: Store, record: Record) -> AssetState:
    """The asset's periods and price source."""
    source = latest_source(store, str(record["Id"]))
    entry = (
        store.get(
            "PricebookEntry", str(source["PricebookEntryId"]), fields=("Id", "Pricebook2Id", "UnitPrice")
        )
        if source
        else None
    )
    price = source["UnitPrice"] if source and source["UnitPrice"] is not None else None
    if price is None and entry is not None:
        price = entry["UnitPrice"]
    return AssetState(
        record=record,
        periods=periods_of(store, str(record["Id"])),
        entry_id=str(entry["Id"]) if entry else None,
        pricebook_id=str(entry["Pricebook2Id"]) if entry else None,
        unit_price=float(price or 0.0),
    )


def bundle_root(store: Store, asset_id: str) -> str | None:
    """The root asset when ``asset_id`` is a bundle component, else None."""
    rows = store.select("AssetRelationship", ("AssetId",), RelatedAssetId=asset_id, AssetRole="Bundle")
    return str(rows[0]["AssetId"]) if rows else None


def bundle_children(store: Store, root_id: str) -> list[str]:
    """The components of a bundle root (AssetRelationship, role Bundle)."""
    return [
        str(row["RelatedAssetId"])
        for row in store.select("AssetRelationship", ("RelatedAssetId",), AssetId=root_id, AssetRole="Bundle")
    ]


def cancellation_of(store: Store, asset_id: str) -> str | None:
    """Why the asset accepts no change: cancelled, or a cancellation is pending; None when neither."""
    if store.exists("AssetAction", AssetId=asset_id, CategoryEnum="Cancellations"):
        return "The asset is canceled. You can't renew, amend, or cancel a canceled asset."
    if store.exists("QuoteAction", SourceAssetId=asset_id, Type="Cancel") or store.exists(
        "OrderAction", SourceAssetId=asset_id, Type="Cancel"
    ):
        return "The asset has a pending cancellation. You can't renew, amend, or cancel it again."
    return None


def renewal_terms(store: Store, asset_id: str) -> list[tuple[date, date]]:
    """(start, end) dates of every renewal line for the asset: quoted, ordered or already done."""
    lines: list[Record] = []
    for action in store.select("QuoteAction", ("Id",), SourceAssetId=asset_id, Type="Renew"):
        lines += store.select(
            "QuoteLineItem", ("Quantity", "StartDate", "EndDate"), QuoteActionId=action["Id"]
        )
    for action in store.select("OrderAction", ("Id",), SourceAssetId=asset_id, Type="Renew"):
        lines += store.select("OrderItem", ("Quantity", "ServiceDate", "EndDate"), OrderActionId=action["Id"])
    return [
        (line["StartDate"] if "StartDate" in line else line["ServiceDate"], line["EndDate"])
        for line in lines
        if num(line["Quantity"]) > 0
        and isinstance(line.get("StartDate", line.get("ServiceDate")), date)
        and isinstance(line["EndDate"], date)
    ]


def num(value: object) -> float:
    """A stored number (None as 0)."""
    if value is None:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    msg = f"expected a number, got {value!r}"
    raise TypeError(msg)


def _dt(value: object) -> datetime:
    if not isinstance(value, datetime):
        msg = f"expected a datetime, got {value!r}"
        raise TypeError(msg)
    return value
