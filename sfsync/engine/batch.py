"""Helpers shared by the steps: item details, due times, and outcome bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sfsync.engine.context import RunContext
from sfsync.engine.states import State
from sfsync.ledger.records import Change, Item
from sfsync.lifecycle.polling import poll_delays
from sfsync.salesforce.outcomes import NotSent

#: Exit codes of the ways a run halts (the CLI returns them).
EXIT_PAUSED = 75
EXIT_UNAVAILABLE = 69
EXIT_USAGE = 2


def detail(item: Item) -> dict[str, Any]:
    """A mutable copy of an item's detail document."""
    return dict(item.detail or {})


def iso(moment: datetime) -> str:
    """A datetime as stored in details."""
    return moment.isoformat()


def parse_iso(text: str | None) -> datetime | None:
    """A datetime stored by :func:`iso`."""
    return datetime.fromisoformat(text) if text else None


def next_check(ctx: RunContext, waited_s: float, deadline_s: float) -> float:
    """Seconds until the next poll of an item that has waited ``waited_s`` of ``deadline_s``."""
    elapsed = 0.0
    for delay in poll_delays(
        ctx.tuning.poll_start_s, ctx.tuning.poll_factor, ctx.tuning.poll_cap_s, deadline_s
    ):
        elapsed += delay
        if elapsed > waited_s:
            return elapsed - waited_s
    return 0.0


def is_due(item: Item, now: datetime) -> bool:
    """Whether a waiting item's next check time has come."""
    due = parse_iso((item.detail or {}).get("next_check_at"))
    return due is None or due <= now


def wait_until(
    ctx: RunContext, item: Item, since_key: str, deadline_s: float, now: datetime
) -> dict[str, Any]:
    """The detail of an item that keeps waiting, with its next check time set."""
    doc = detail(item)
    since = parse_iso(doc.get(since_key)) or now
    waited = (now - since).total_seconds()
    doc["next_check_at"] = iso(now + timedelta(seconds=max(next_check(ctx, waited, deadline_s), 0.05)))
    return doc


@dataclass
class Batch:
    """The changes a step makes to its claimed items, written in one fenced transaction."""

    changes: list[Change] = field(default_factory=list)
    #: The claimed item each change is for, by item ID (to hand updated items on).
    items: dict[int, Item] = field(default_factory=dict)
    #: Items to poll again later, with the columns (their detail) that changed in memory.
    waiting: list[tuple[Item, dict[str, Any]]] = field(default_factory=list)
    #: Items whose move needs no write of its own if the next step takes them in this pass: what
    #: an idempotent step (a read, setting an address) found out, which that step's intent records.
    deferred: set[int] = field(default_factory=set)

    def move(self, item: Item, state: State, *, defer: bool = False, **values: Any) -> None:
        """Record a new state (and other columns) for an item and release its lease.

        ``defer``: the step that found this is idempotent (doing it again after a crash changes
        nothing), so when the item is handed on in this pass its next write carries the change.
        """
        self.changes.append(Change(item.lease, {"state": state.value, **values}, release=True))
        self.items[item.id] = item
        if defer:
            self.deferred.add(item.id)

    def keep(self, item: Item, **values: Any) -> None:
        """Keep the item's state, update columns, release the lease."""
        self.changes.append(Change(item.lease, dict(values), release=True))
        self.items[item.id] = item

    def wait(self, item: Item, **values: Any) -> None:
        """Keep the item's state to poll it again later (``values``, e.g. its next check, set)."""
        self.waiting.append((item, values))
        self.items[item.id] = item

    def fail(self, item: Item, code: str, message: str, state: State = State.FAILED) -> None:
        """A final failure with Salesforce's (or our) error code and message."""
        self.move(item, state, sf_error_code=code[:100], sf_error_message=message)


def fail_item(
    ctx: RunContext,
    batch: Batch,
    item: Item,
    *,
    step: str,
    code: str,
    message: str,
    state: State = State.FAILED,
) -> None:
    """Fail an item for good with its code and message, and say so in the job log."""
    batch.fail(item, code, message, state)
    ctx.journal.event("item_failed", level="error", item_id=item.id, asset_id=item.asset_id, step=step,
                      code=code, message=message)  # fmt: skip


def halt_for(ctx: RunContext, outcomes: Sequence[NotSent]) -> None:
    """Stop the run after a batch in which calls could not be sent (budget, outage, auth)."""
    if not outcomes or ctx.halt is not None:
        return
    first = outcomes[0]
    code = {"budget": EXIT_PAUSED, "rate_limited": EXIT_PAUSED, "lock": EXIT_PAUSED}.get(first.cause)
    if code is None:
        code = EXIT_USAGE if first.cause == "auth" else EXIT_UNAVAILABLE
    ctx.halt = (f"{first.cause}: {first.reason}", code)
