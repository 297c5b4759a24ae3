"""The ledger: the only code that speaks SQL (SQLAlchemy 2 + Alembic, SQLite or PostgreSQL).

``open_ledger(url, clock=…)`` returns a :class:`Ledger` whose parts are ``runs``, ``items``,
``claims`` (leases and fenced writes), ``events`` (the job log), ``ticks`` and ``slots`` (per-org
concurrency and API usage shared by all workers). ``upgrade(url)`` runs the packaged migrations.
"""

from __future__ import annotations

from sfsync.ledger.ledger import Ledger, open_ledger
from sfsync.ledger.migrate import upgrade
from sfsync.ledger.records import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    AddResult,
    Change,
    Event,
    FenceResult,
    Item,
    Lease,
    NewEvent,
    NewItem,
    OrgUsage,
    ResetResult,
    Run,
    Slot,
    Tick,
)

__all__ = [
    "ACTIVE_STATUSES",
    "TERMINAL_STATUSES",
    "AddResult",
    "Change",
    "Event",
    "FenceResult",
    "Item",
    "Lease",
    "Ledger",
    "NewEvent",
    "NewItem",
    "OrgUsage",
    "ResetResult",
    "Run",
    "Slot",
    "Tick",
    "open_ledger",
    "upgrade",
]
