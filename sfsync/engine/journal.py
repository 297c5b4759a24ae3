"""The job log of a run: every event goes to structlog and, batched, to the ledger's events table.

Per-item successes are many (one per asset per step), so they are written to the ledger at their
level but printed on the console only in debug mode; batch summaries, warnings and errors are
printed too. Events are flushed to the ledger at the end of every batch, before the next call to
Salesforce, so the CLI and the admin page see a run's progress as it happens.
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import Any

import structlog

from sfsync.clock import Clock
from sfsync.ledger.ledger import Ledger
from sfsync.ledger.records import NewEvent
from sfsync.logging import redactor

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class Journal:
    """Events of one run, bound to its ``run_id`` and ``job``."""

    def __init__(self, ledger: Ledger, clock: Clock, *, run_id: str, job: str) -> None:
        self._ledger = ledger
        self._clock = clock
        self.run_id = run_id
        self.job = job
        self._log = structlog.get_logger("sfsync.run").bind(run_id=run_id, job=job)
        self._pending: list[NewEvent] = []
        self._lock = threading.Lock()

    def event(
        self,
        name: str,
        *,
        level: str = "info",
        item_id: int | None = None,
        asset_id: str | None = None,
        console: bool = True,
        **fields: Any,
    ) -> None:
        """Record one event; ``console=False`` keeps per-item noise out of the terminal below debug."""
        if level not in _LEVELS:
            msg = f"unknown level {level!r}"
            raise ValueError(msg)
        shown = level if console or level in ("warning", "error") else "debug"
        context = {"asset_id": asset_id} if asset_id else {}
        getattr(self._log, shown)(name, **context, **fields)
        event = NewEvent(
            event=name,
            run_id=self.run_id,
            level=level,
            item_id=item_id,
            asset_id=asset_id,
            # The ledger is shown in the CLI and web page: redact as the log does.
            fields=_ledger_fields(fields),
            at=self._clock.now(),
        )
        with self._lock:
            self._pending.append(event)

    def flush(self) -> None:
        """Write the buffered events to the ledger in one batch."""
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            self._ledger.events.append_many(batch)


def _ledger_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """Event fields as stored: redacted and JSON-safe (as ``_plain(redactor.redact(fields))``).

    Most events carry only record IDs, counts and names, redacted here one scalar at a time; that
    skips the walk over containers and the second JSON-safety pass, which run for every item at
    every step. Anything else goes the general way.
    """
    out: dict[str, Any] = {}
    for key, value in fields.items():
        if value is not None and type(value) not in _SCALARS:
            return _plain(redactor.redact(fields))
        out[key] = redactor.redact(value, key)
    return out


#: Field value types stored as they are once redacted (what :func:`_plain` keeps unchanged).
_SCALARS = (str, int, float, bool)


def _plain(fields: object) -> dict[str, Any]:
    """JSON-safe copy of event fields: nested mappings and lists kept, dates and decimals as text."""
    return _json_safe(fields) if isinstance(fields, dict) else {}


def _json_safe(value: object) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(key): _json_safe(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(inner) for inner in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
