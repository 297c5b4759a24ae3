"""Runs: create, find, list, and move through their statuses."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Connection, delete, func, or_, select, update

from sfsync.ledger.db import Store, db_now
from sfsync.ledger.models import active_assets, items, runs
from sfsync.ledger.records import ACTIVE_STATUSES, RUN_STATUSES, TERMINAL_STATUSES, Run

log = structlog.get_logger(__name__)

KINDS = frozenset({"renewal", "cancellation"})
TRIGGERS = frozenset({"schedule", "manual", "demo", "retry", "resume"})


def new_run_id() -> str:
    """A short, readable, unguessable run id: ``r-`` and 10 base32 characters."""
    return "r-" + base64.b32encode(secrets.token_bytes(10)).decode()[:10].lower()


def count_states(conn: Connection, run_id: str) -> dict[str, int]:
    """Items of a run per state, computed from the items themselves."""
    rows = conn.execute(
        select(items.c.state, func.count()).where(items.c.run_id == run_id).group_by(items.c.state)
    )
    return {str(state): int(n) for state, n in rows}


class Runs:
    """The ``runs`` table."""

    def __init__(self, store: Store) -> None:
        self._s = store

    def create(
        self,
        job: str,
        kind: str,
        trigger: str,
        org: str,
        *,
        dry_run: bool = False,
        parameters: dict[str, Any] | None = None,
        fire_time: datetime | None = None,
        worker_id: str | None = None,
    ) -> Run:
        """Record a new pending run and return it."""
        if kind not in KINDS:
            msg = f"unknown run kind {kind!r}; expected one of {sorted(KINDS)}"
            raise ValueError(msg)
        if trigger not in TRIGGERS:
            msg = f"unknown trigger {trigger!r}; expected one of {sorted(TRIGGERS)}"
            raise ValueError(msg)
        values = {
            "id": new_run_id(),
            "job": job,
            "kind": kind,
            "trigger": trigger,
            "fire_time": fire_time,
            "org": org,
            "status": "pending",
            "dry_run": dry_run,
            "parameters": dict(parameters or {}),
            "counts": {},
            "worker_id": worker_id,
            "error": None,
            "created_at": self._s.clock.now(),
            "started_at": None,
            "finished_at": None,
            "heartbeat_at": None,
        }
        with self._s.tx() as conn:
            conn.execute(runs.insert().values(values))
        log.info("run_created", run_id=values["id"], job=job, kind=kind, trigger=trigger)
        return Run.from_row(values)

    def get(self, run_id: str) -> Run | None:
        """The run with this id, or None."""
        with self._s.read() as conn:
            row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        return Run.from_row(row) if row else None

    def _must(self, conn: Connection, run_id: str) -> Run:
        row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
        if row is None:
            msg = f"no run {run_id!r} in the ledger"
            raise LookupError(msg)
        return Run.from_row(row)

    def find(
        self,
        *,
        job: str | None = None,
        statuses: Collection[str] | None = None,
        since: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[Run]:
        """Runs, newest first, filtered by job, status and creation time; paginated."""
        query = select(runs).order_by(runs.c.created_at.desc(), runs.c.id.desc())
        if job is not None:
            query = query.where(runs.c.job == job)
        if statuses is not None:
            query = query.where(runs.c.status.in_(list(statuses)))
        if since is not None:
            query = query.where(runs.c.created_at >= since)
        with self._s.read() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
        return [Run.from_row(r) for r in rows]

    def active(self, job: str | None = None) -> list[Run]:
        """Runs that still hold their assets (pending, running, paused), optionally of one job."""
        return self.find(job=job, statuses=ACTIVE_STATUSES, limit=1_000)

    def set_status(
        self, run_id: str, status: str, *, error: str | None = None, worker_id: str | None = None
    ) -> Run:
        """Move an active run to ``status``; a terminal status frees its assets and freezes its counts.

        A finished run is not reopened here: :meth:`Items.reset_failed` does that on purpose.
        """
        if status not in RUN_STATUSES:
            msg = f"unknown run status {status!r}; expected one of {sorted(RUN_STATUSES)}"
            raise ValueError(msg)
        now = self._s.clock.now()
        with self._s.tx() as conn:
            run = self._must(conn, run_id)
            if run.status in TERMINAL_STATUSES:
                msg = f"run {run_id} is already {run.status}; it cannot become {status}"
                raise ValueError(msg)
            values: dict[str, Any] = {"status": status, "counts": count_states(conn, run_id)}
            if error is not None:
                values["error"] = error
            if worker_id is not None:
                values["worker_id"] = worker_id
            if status == "running":
                # Starting counts as a heartbeat (database time, like every heartbeat).
                values["heartbeat_at"] = db_now(conn)
                if run.started_at is None:
                    values["started_at"] = now
            if status in TERMINAL_STATUSES:
                values["finished_at"] = now
                conn.execute(delete(active_assets).where(active_assets.c.run_id == run_id))
            conn.execute(update(runs).where(runs.c.id == run_id).values(values))
            result = self._must(conn, run_id)
        log.info("run_status_changed", run_id=run_id, status=status, previous=run.status)
        return result

    def cancel(self, run_id: str, *, reason: str = "cancelled by an operator") -> bool:
        """Cancel an active run; False if it had already finished."""
        try:
            self.set_status(run_id, "cancelled", error=reason)
        except ValueError:
            return False
        return True

    def heartbeat(self, run_id: str, worker_id: str) -> None:
        """Note that ``worker_id`` is still working on the run (and refresh its counts).

        The time is the database's, so workers with skewed clocks judge each other fairly.
        """
        with self._s.tx() as conn:
            counts = count_states(conn, run_id)
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(heartbeat_at=db_now(conn), worker_id=worker_id, counts=counts)
            )

    def stalled(self, max_age_s: float) -> list[Run]:
        """Running runs with no heartbeat for ``max_age_s`` by the database clock (their worker died?)."""
        with self._s.read() as conn:
            cutoff = db_now(conn) - timedelta(seconds=max_age_s)
            rows = conn.execute(
                select(runs)
                .where(
                    runs.c.status == "running",
                    or_(runs.c.heartbeat_at < cutoff, runs.c.heartbeat_at.is_(None)),
                )
                .order_by(runs.c.created_at)
            ).mappings()
            return [Run.from_row(r) for r in rows]

    def update_parameters(self, run_id: str, **values: Any) -> Run:
        """Merge ``values`` into the run's parameters document (e.g. ``selection_done=True``)."""
        with self._s.tx() as conn:
            run = self._must(conn, run_id)
            merged = {**run.parameters, **values}
            conn.execute(update(runs).where(runs.c.id == run_id).values(parameters=merged))
            return self._must(conn, run_id)

    def refresh_counts(self, run_id: str) -> dict[str, int]:
        """Recompute and store the run's per-state counts; return them."""
        with self._s.tx() as conn:
            counts = count_states(conn, run_id)
            conn.execute(update(runs).where(runs.c.id == run_id).values(counts=counts))
        return counts
