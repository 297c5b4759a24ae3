"""Plain records the lifecycle rules work on; the engine maps the client's records onto them.

All datetimes are timezone-aware and normalised to UTC with whole seconds, because Salesforce
lifecycle periods abut to the second (ends at ``:59``, starts at ``:00``) and answers carry
milliseconds (``.000``) that must not make two equal instants look different. Money and
quantities are :class:`~decimal.Decimal` so that ``20.83`` stays ``20.83``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

#: Business categories (``AssetAction.CategoryEnum``) the rules care about.
RENEWALS = "Renewals"
CANCELLATIONS = "Cancellations"

ONE_SECOND = timedelta(seconds=1)


def utc_second(value: datetime) -> datetime:
    """The instant in UTC, truncated to the second; a naive datetime is misuse (ValueError)."""
    if value.tzinfo is UTC:  # what the client's models hand over: no conversion needed
        return value.replace(microsecond=0) if value.microsecond else value
    if value.tzinfo is None or value.utcoffset() is None:
        msg = f"naive datetime {value.isoformat()}: lifecycle rules need timezone-aware datetimes"
        raise ValueError(msg)
    return value.astimezone(UTC).replace(microsecond=0)


def _opt_utc(value: datetime | None) -> datetime | None:
    return None if value is None else utc_second(value)


def day_start(day: date) -> datetime:
    """``day`` at 00:00:00 UTC: when a term or a cancellation takes effect."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def wire_datetime(day: date) -> str:
    """The datetime literal Salesforce's actions take for a date: ``YYYY-MM-DDT00:00:00.000Z``."""
    return f"{day.isoformat()}T00:00:00.000Z"


@dataclass(frozen=True, slots=True)
class AssetSnapshot:
    """What the rules need of one ``Asset``, read before or after a change."""

    id: str
    quantity: Decimal
    mrr: Decimal
    lifecycle_start: datetime | None
    lifecycle_end: datetime | None
    renewal_term: Decimal | None = None
    renewal_term_unit: str | None = None
    total_lifecycle_amount: Decimal | None = None
    #: True when a ``Cancellations`` asset action already exists (the asset is terminal).
    is_cancelled: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "lifecycle_start", _opt_utc(self.lifecycle_start))
        object.__setattr__(self, "lifecycle_end", _opt_utc(self.lifecycle_end))


@dataclass(frozen=True, slots=True)
class ObservedAction:
    """One ``AssetAction`` as read back; ``order_id`` is the order its source items belong to."""

    id: str
    category: str
    action_date: datetime
    quantity_change: Decimal
    mrr_change: Decimal
    amount: Decimal | None = None
    order_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "action_date", utc_second(self.action_date))


@dataclass(frozen=True, slots=True)
class ObservedPeriod:
    """One ``AssetStatePeriod`` as read back; ``end`` is None on an evergreen asset's last period."""

    id: str
    start: datetime
    end: datetime | None
    quantity: Decimal
    mrr: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc_second(self.start))
        object.__setattr__(self, "end", _opt_utc(self.end))


def money_equal(left: Decimal, right: Decimal) -> bool:
    """Whether two amounts agree to the cent (Salesforce currency fields have two decimals)."""
    return abs(left - right) < Decimal("0.005")


def fmt(value: object) -> str:
    """A stable text form of a value for verdict details (ISO ``Z`` datetimes, plain decimals)."""
    if isinstance(value, datetime):
        return utc_second(value).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if value is None:
        return "none"
    return str(value)
