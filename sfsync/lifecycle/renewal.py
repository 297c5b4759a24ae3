"""What a successful renewal must leave in Salesforce (salesforce-api.md Part 1, "Effects to verify").

One ``AssetAction`` with business category ``Renewals`` whose sources are the renewal order's
items; one new ``AssetStatePeriod`` covering the term to the second, at the asset's quantity; and
``Asset.LifecycleEndDate`` equal to the term's end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sfsync.lifecycle.model import AssetSnapshot
from sfsync.lifecycle.terms import RenewalTerm


@dataclass(frozen=True, slots=True)
class ExpectedRenewal:
    """The effects the renewal of one asset by one order must produce."""

    asset_id: str
    term: RenewalTerm
    #: The new period's quantity when no period was read before the renewal (else the last one's).
    quantity: Decimal
    #: The asset's ``LifecycleEndDate`` before the change (tells "not visible yet" from "wrong").
    previous_lifecycle_end: datetime | None
    #: Only asset actions whose sources belong to this order count.
    order_id: str


def expected_renewal(asset: AssetSnapshot, term: RenewalTerm, *, order_id: str) -> ExpectedRenewal:
    """The effects of renewing ``asset`` (as read before the renewal) for ``term`` through ``order_id``."""
    return ExpectedRenewal(
        asset_id=asset.id,
        term=term,
        quantity=asset.quantity,
        previous_lifecycle_end=asset.lifecycle_end,
        order_id=order_id,
    )
