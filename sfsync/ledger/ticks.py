"""Scheduler ticks: each (job, fire time) is claimed by exactly one worker, or recorded as missed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import Select, select, update

from sfsync.ledger.db import Store, db_now, insert_ignore
from sfsync.ledger.models import ticks
from sfsync.ledger.records import Tick

log = structlog.get_logger(__name__)


def _utc(fire_time: datetime) -> datetime:
    if fire_time.tzinfo is None:
        msg = "fire_time must be timezone-aware"
        raise ValueError(msg)
    return fire_time.astimezone(UTC)


class Ticks:
    """The ``ticks`` table."""

    def __init__(self, store: Store) -> None:
        self._s = store

    def _insert(self, job: str, fire_time: datetime, status: str, worker_id: str | None) -> bool:
        with self._s.tx() as conn:
            values = {
                "job": job,
                "fire_time": _utc(fire_time),
                "status": status,
                "run_id": None,
                "claimed_by": worker_id,
                "claimed_at": db_now(conn),
            }
            # The primary key (job, fire_time) decides: of concurrent inserts exactly one lands.
            stmt = insert_ignore(conn, ticks).values(values).returning(ticks.c.job)
            return conn.execute(stmt).first() is not None

    def claim(self, job: str, fire_time: datetime, worker_id: str) -> bool:
        """Claim a fire of ``job``; True for exactly one caller across all workers."""
        won = self._insert(job, fire_time, "claimed", worker_id)
        log.info("tick_claimed" if won else "tick_taken", job=job, fire_time=fire_time.isoformat())
        return won

    def record_missed(self, job: str, fire_time: datetime) -> bool:
        """Record a fire nobody ran in time; False if it was claimed or recorded already."""
        missed = self._insert(job, fire_time, "missed", None)
        if missed:
            log.warning("tick_missed", job=job, fire_time=fire_time.isoformat())
        return missed

    def attach_run(self, job: str, fire_time: datetime, run_id: str) -> None:
        """Link a claimed tick to the run it started."""
        with self._s.tx() as conn:
            conn.execute(
                update(ticks)
                .where(ticks.c.job == job, ticks.c.fire_time == _utc(fire_time))
                .values(run_id=run_id)
            )

    def get(self, job: str, fire_time: datetime) -> Tick | None:
        """The tick of ``job`` at ``fire_time``, if any."""
        with self._s.read() as conn:
            row = (
                conn.execute(select(ticks).where(ticks.c.job == job, ticks.c.fire_time == _utc(fire_time)))
                .mappings()
                .first()
            )
        return Tick.from_row(row) if row else None

    def find(
        self,
        *,
        job: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
    ) -> list[Tick]:
        """Ticks, newest fire first, filtered by job, status and fire time."""
        query: Select[Any] = select(ticks).order_by(ticks.c.fire_time.desc(), ticks.c.job)
        if job is not None:
            query = query.where(ticks.c.job == job)
        if status is not None:
            query = query.where(ticks.c.status == status)
        if since is not None:
            query = query.where(ticks.c.fire_time >= _utc(since))
        with self._s.read() as conn:
            return [Tick.from_row(r) for r in conn.execute(query.limit(limit)).mappings()]
