"""The ledger as one object: ``open_ledger(url, clock=…)`` gives runs, items, claims, events, ticks, slots."""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy import Engine

from sfsync.clock import Clock, SystemClock
from sfsync.ledger.claims import Claims
from sfsync.ledger.db import SQLITE_BUSY_S, Store, db_now, make_engine
from sfsync.ledger.events import Events
from sfsync.ledger.items import Items
from sfsync.ledger.migrate import upgrade_engine
from sfsync.ledger.runs import Runs
from sfsync.ledger.slots import Slots
from sfsync.ledger.ticks import Ticks

log = structlog.get_logger(__name__)


class Ledger:
    """Everything sfsync records, over one SQLAlchemy engine; safe to share between threads."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        store = Store(engine, clock)
        self._store = store
        self.runs = Runs(store)
        self.items = Items(store)
        self.claims = Claims(store)
        self.events = Events(store)
        self.ticks = Ticks(store)
        self.slots = Slots(store)
        # The verbs the engine uses most, also at the top level.
        self.claim = self.claims.claim
        self.renew = self.claims.renew
        self.release = self.claims.release
        self.record = self.claims.record
        self.record_many = self.claims.record_many
        self.mark_intent = self.claims.mark_intent
        self.claim_tick = self.ticks.claim
        self.record_missed = self.ticks.record_missed

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def db_now(self) -> datetime:
        """The database's clock, which every lease is measured against."""
        with self._store.read() as conn:
            return db_now(conn)

    def release_worker(self, run_id: str, worker_id: str, *, by: str) -> int:
        """End a gone worker's leases on the run's items, saying who did so in the run's log."""
        released = self.claims.expire(worker_id, run_id)
        # An operator's override belongs in the run's log, next to what it changed.
        self.events.append(
            "leases_released",
            run_id=run_id,
            level="warning",
            fields={"worker_id": worker_id, "items": released, "by": by},
        )
        return released

    def close(self) -> None:
        """Close the engine's connections."""
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_ledger(
    url: str, *, clock: Clock | None = None, migrate: bool = True, busy_timeout_s: float = SQLITE_BUSY_S
) -> Ledger:
    """Open the ledger at ``url`` (creating a SQLite file's directory) and migrate it to the head."""
    engine = make_engine(url, busy_timeout_s=busy_timeout_s)
    if migrate:
        upgrade_engine(engine)
    log.debug("ledger_opened", dialect=engine.dialect.name)
    return Ledger(engine, clock or SystemClock())
