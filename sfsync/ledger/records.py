"""Plain, immutable records the ledger hands out and takes in (no ORM objects escape)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any, Final, Literal, Self

RunKind = Literal["renewal", "cancellation"]
Trigger = Literal["schedule", "manual", "demo", "retry", "resume"]
RunStatus = Literal["pending", "running", "paused", "succeeded", "failed", "partial", "cancelled"]
Level = Literal["debug", "info", "warning", "error"]

#: Statuses in which a run holds its assets (an asset is in at most one active run).
ACTIVE_STATUSES: Final[frozenset[str]] = frozenset({"pending", "running", "paused"})
TERMINAL_STATUSES: Final[frozenset[str]] = frozenset({"succeeded", "failed", "partial", "cancelled"})
RUN_STATUSES: Final[frozenset[str]] = ACTIVE_STATUSES | TERMINAL_STATUSES
LEVELS: Final[tuple[str, ...]] = ("debug", "info", "warning", "error")


class _FromRow:
    """Build a dataclass from a result row whose column names match its fields."""

    __slots__ = ()

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Self:
        """Take the fields this record has from a row mapping."""
        names = _field_names(cls)
        return cls(**{k: v for k, v in row.items() if k in names})


_FIELD_NAMES: dict[type, frozenset[str]] = {}


def _field_names(cls: type) -> frozenset[str]:
    # Computed once per class: from_row runs for every item of every claim.
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in fields(cls))
    return names


@dataclass(frozen=True, slots=True)
class Run(_FromRow):
    """One execution of a job."""

    id: str
    job: str
    kind: str
    trigger: str
    fire_time: datetime | None
    org: str
    status: str
    dry_run: bool
    parameters: dict[str, Any]
    counts: dict[str, int]
    worker_id: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None

    @property
    def active(self) -> bool:
        """Whether the run still holds its assets."""
        return self.status in ACTIVE_STATUSES


@dataclass(frozen=True, slots=True)
class NewItem:
    """An asset to add to a run."""

    asset_id: str
    state: str = "selected"
    account_id: str | None = None
    asset_name: str | None = None
    price_book_id: str | None = None
    term_start: date | None = None
    term_end: date | None = None
    cancellation_date: date | None = None
    detail: dict[str, Any] | None = None
    #: set when the asset is recorded as rejected at selection (it is then never claimed for work)
    sf_error_code: str | None = None
    sf_error_message: str | None = None


@dataclass(frozen=True, slots=True)
class Item(_FromRow):
    """One asset in one run, as stored."""

    id: int
    run_id: str
    asset_id: str
    account_id: str | None
    asset_name: str | None
    state: str
    step: str | None
    quote_id: str | None
    order_id: str | None
    price_book_id: str | None
    term_start: date | None
    term_end: date | None
    cancellation_date: date | None
    sf_error_code: str | None
    sf_error_message: str | None
    attempts: int
    intent_at: datetime | None
    lease_owner: str | None
    lease_expires_at: datetime | None
    lease_token: int
    detail: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime

    @property
    def lease(self) -> Lease:
        """The (item id, lease token) pair that fenced writes must present."""
        return Lease(self.id, self.lease_token)


#: Item's field names in order (claims select its columns in this order and build it positionally).
ITEM_FIELDS: Final[tuple[str, ...]] = tuple(f.name for f in fields(Item))


def updated(item: Item, values: Mapping[str, Any]) -> Item:
    """A copy of ``item`` with ``values`` (column names) applied, as recorded.

    Built positionally: ``dataclasses.replace`` costs twice as much, and the engine makes one copy
    per item each time it hands an item on to the next step.
    """
    return Item(*[values[name] if name in values else getattr(item, name) for name in ITEM_FIELDS])


@dataclass(frozen=True, slots=True)
class Lease:
    """Proof of a claim: writes are accepted only while the token is current and unexpired."""

    item_id: int
    token: int


@dataclass(frozen=True, slots=True)
class Holder:
    """A worker holding live leases on some of a run's items."""

    worker_id: str
    items: int
    #: When the last of its leases runs out (by the database clock) unless it renews them.
    until: datetime

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form (the job log, ``sfsync runs show --json``)."""
        return {"worker_id": self.worker_id, "items": self.items, "until": self.until.isoformat()}


@dataclass(frozen=True, slots=True)
class Change:
    """One fenced update of an item, for :meth:`Claims.record_many`."""

    lease: Lease
    values: dict[str, Any]
    release: bool = False


@dataclass(frozen=True, slots=True)
class FenceResult:
    """Which leased items a batched write changed, and which it refused (lease lost)."""

    done: tuple[int, ...]
    refused: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AddResult:
    """Outcome of adding items: how many went in, and the assets another active run holds."""

    inserted: int
    #: asset id -> the id of the active run that holds it
    held: dict[str, str] = field(default_factory=dict)
    #: asset ids already in this run (re-adding is a no-op)
    duplicates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A job-log line to append."""

    event: str
    run_id: str | None = None
    level: str = "info"
    item_id: int | None = None
    asset_id: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Event(_FromRow):
    """A stored job-log line."""

    id: int
    at: datetime
    level: str
    event: str
    run_id: str | None
    item_id: int | None
    asset_id: str | None
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Tick(_FromRow):
    """A scheduled fire: ``claimed`` by one worker or ``missed``."""

    job: str
    fire_time: datetime
    status: str
    run_id: str | None
    claimed_by: str | None
    claimed_at: datetime


@dataclass(frozen=True, slots=True)
class Slot(_FromRow):
    """A leased unit of an org's API concurrency."""

    org: str
    slot: int
    holder: str | None
    token: int
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrgUsage(_FromRow):
    """The last API usage seen for an org by any worker."""

    org: str
    used: int
    allowance: int
    observed_at: datetime
    worker_id: str | None

    @property
    def fraction(self) -> float:
        """Share of the daily allowance used (1.0 when the allowance is unknown or zero)."""
        return self.used / self.allowance if self.allowance > 0 else 1.0


@dataclass(frozen=True, slots=True)
class ResetResult:
    """Outcome of resetting failed items for a retry."""

    reset: int
    #: asset id -> the id of another active run that holds it now (those items were left failed)
    held: dict[str, str] = field(default_factory=dict)
