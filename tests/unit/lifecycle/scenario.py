"""The training unit's assets as snapshots (Capricorn Coffee), shared by the lifecycle tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sfsync.lifecycle.model import AssetSnapshot, ObservedAction, ObservedPeriod
from sfsync.sfid import make

#: The day the tests pretend it is.
TODAY = date(2026, 11, 23)

QUICKBOOKS_ID = make("02i", 1)
WORKSPACE_ID = make("02i", 2)
RETAIL_POS_ID = make("02i", 3)
ORDER_ID = make("801", 1)
OTHER_ORDER_ID = make("801", 2)


def at(text: str) -> datetime:
    """An aware UTC datetime from ``YYYY-MM-DDTHH:MM:SS``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


#: QuickBooks Online: 5 licences, MRR 20.83, 2025-08-10 → 2026-08-10, lifecycle amount 249.95.
QUICKBOOKS = AssetSnapshot(
    id=QUICKBOOKS_ID,
    quantity=Decimal(5),
    mrr=Decimal("20.83"),
    lifecycle_start=at("2025-08-10T00:00:00"),
    lifecycle_end=at("2026-08-09T23:59:59"),
    renewal_term=Decimal(1),
    renewal_term_unit="Annual",
    total_lifecycle_amount=Decimal("249.95"),
)

#: Google Workspace: its current term runs to 2027-02-28; renewed early with an override term.
WORKSPACE = AssetSnapshot(
    id=WORKSPACE_ID,
    quantity=Decimal(20),
    mrr=Decimal("240.00"),
    lifecycle_start=at("2026-03-01T00:00:00"),
    lifecycle_end=at("2027-02-28T23:59:59"),
    renewal_term=Decimal(12),
    renewal_term_unit="Months",
)

#: Retail POS Enterprise: quantity 1, cancelled three months from today.
RETAIL_POS = AssetSnapshot(
    id=RETAIL_POS_ID,
    quantity=Decimal(1),
    mrr=Decimal("125.00"),
    lifecycle_start=at("2026-05-23T00:00:00"),
    lifecycle_end=at("2027-05-22T23:59:59"),
    renewal_term=Decimal(1),
    renewal_term_unit="Annual",
)


def period(pid: int, start: str, end: str | None, quantity: int | str, mrr: str) -> ObservedPeriod:
    """An AssetStatePeriod with a minted ID."""
    return ObservedPeriod(
        make("4nK", pid), at(start), None if end is None else at(end), Decimal(quantity), Decimal(mrr)
    )


def action(
    aid: int, category: str, quantity_change: str, mrr_change: str, order_id: str = ORDER_ID
) -> ObservedAction:
    """An AssetAction tied to an order, recorded on the test's today."""
    return ObservedAction(
        make("4nL", aid),
        category,
        at("2026-11-23T10:15:00"),
        Decimal(quantity_change),
        Decimal(mrr_change),
        order_id=order_id,
    )
