"""How runs and items are shown: rich tables on a terminal, plain text otherwise, JSON with --json."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from sfsync.engine.runner import RunResult
from sfsync.ledger.records import Event, Item, Run


def run_dict(run: Run) -> dict[str, Any]:
    """A run as plain data."""
    return {
        "id": run.id,
        "job": run.job,
        "kind": run.kind,
        "trigger": run.trigger,
        "status": run.status,
        "dry_run": run.dry_run,
        "org": run.org,
        "counts": run.counts,
        "created_at": run.created_at,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "error": run.error,
    }


def item_dict(item: Item) -> dict[str, Any]:
    """An item as plain data."""
    return {
        "asset_id": item.asset_id,
        "asset_name": item.asset_name,
        "account_id": item.account_id,
        "state": item.state,
        "quote_id": item.quote_id,
        "order_id": item.order_id,
        "error_code": item.sf_error_code,
        "error_message": item.sf_error_message,
        "attempts": item.attempts,
    }


def duration(run: Run) -> str:
    """How long a run took (or has been running)."""
    if run.started_at is None:
        return "-"
    end = run.finished_at or run.heartbeat_at or run.started_at
    seconds = int((end - run.started_at).total_seconds())
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def runs_table(console: Console, runs: Sequence[Run]) -> None:
    """The runs list."""
    table = Table(box=None)
    # IDs are what an admin copies into the next command: never wrap or cut them.
    table.add_column("run", no_wrap=True)
    for name in ("job", "kind", "status", "items", "started", "took"):
        table.add_column(name)
    for run in runs:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items())) or "-"
        started = run.started_at.strftime("%Y-%m-%d %H:%M:%S") if run.started_at else "-"
        table.add_row(run.id, run.job, run.kind, run.status, counts, started, duration(run))
    console.print(table)


def items_table(console: Console, items: Sequence[Item]) -> None:
    """A run's items."""
    table = Table(box=None)
    for name in ("asset", "name", "state", "quote", "order"):
        table.add_column(name, no_wrap=name in {"asset", "quote", "order"})
    table.add_column("error")
    for item in items:
        error = f"{item.sf_error_code}: {item.sf_error_message}" if item.sf_error_code else ""
        table.add_row(item.asset_id, item.asset_name or "", item.state, item.quote_id or "", item.order_id or "",
                      error)  # fmt: skip
    console.print(table)


def events_lines(console: Console, events: Sequence[Event]) -> None:
    """A run's log, one line per event."""
    for event in events:
        fields = " ".join(f"{k}={v}" for k, v in event.fields.items())
        asset = f" asset={event.asset_id}" if event.asset_id else ""
        console.print(f"{event.at:%H:%M:%S} {event.level:<7} {event.event}{asset} {fields}", markup=False)


def result_line(result: RunResult) -> str:
    """One line saying how a run ended here."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items()))
    tail = f" — {result.message}" if result.message else ""
    return f"run {result.run_id}: {result.status} ({counts}){tail}"
