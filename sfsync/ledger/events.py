"""The job log in the ledger: append in batches, read a run's events in order (and follow them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Select, select

from sfsync.ledger.db import Store, bulk_insert
from sfsync.ledger.models import events
from sfsync.ledger.records import LEVELS, Event, NewEvent


def _json_text(fields: dict[str, Any]) -> str:
    """The fields as JSON text, serialised once; dates as ISO text, decimals and the rest as ``str``."""
    return orjson.dumps(fields, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


class Events:
    """The ``events`` table."""

    def __init__(self, store: Store) -> None:
        self._s = store

    def append(
        self,
        event: str,
        *,
        run_id: str | None = None,
        level: str = "info",
        item_id: int | None = None,
        asset_id: str | None = None,
        fields: dict[str, Any] | None = None,
    ) -> None:
        """Append one event, stamped with the worker's clock."""
        self.append_many([NewEvent(event, run_id, level, item_id, asset_id, dict(fields or {}))])

    def append_many(self, new_events: Sequence[NewEvent]) -> None:
        """Append events in one transaction, in the given order."""
        if not new_events:
            return
        now = self._s.clock.now()
        levels = set(LEVELS)
        rows = []
        for e in new_events:
            if e.level not in levels:
                msg = f"unknown level {e.level!r}; expected one of {LEVELS}"
                raise ValueError(msg)
            rows.append(
                {
                    "at": e.at or now,
                    "level": e.level,
                    "event": e.event,
                    "run_id": e.run_id,
                    "item_id": e.item_id,
                    "asset_id": e.asset_id,
                    "fields": _json_text(e.fields),
                }
            )
        with self._s.tx() as conn:
            # One event per item per step: the driver-level bulk path keeps that cheap at 100,000,
            # and the fields go in as the JSON text made above (not serialised a second time).
            bulk_insert(conn, events, rows, ready=("fields",))

    def find(
        self,
        run_id: str,
        *,
        min_level: str | None = None,
        asset_id: str | None = None,
        after_id: int | None = None,
        limit: int = 1_000,
    ) -> list[Event]:
        """A run's events in order; ``after_id`` returns only newer ones (for ``--follow``)."""
        query: Select[Any] = select(events).where(events.c.run_id == run_id).order_by(events.c.id)
        if min_level is not None:
            if min_level not in LEVELS:
                msg = f"unknown level {min_level!r}; expected one of {LEVELS}"
                raise ValueError(msg)
            query = query.where(events.c.level.in_(LEVELS[LEVELS.index(min_level) :]))
        if asset_id is not None:
            query = query.where(events.c.asset_id == asset_id)
        if after_id is not None:
            query = query.where(events.c.id > after_id)
        with self._s.read() as conn:
            rows = conn.execute(query.limit(limit)).mappings().all()
        return [Event.from_row(r) for r in rows]
