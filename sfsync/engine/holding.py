"""Items a worker keeps leased while Salesforce finishes its asynchronous part.

Pricing and assetization take a while, so a batch is polled several times. Released between polls,
every poll of every item cost a claim (an UPDATE and a read of the whole row), a write of its next
check time and a release. Instead the worker keeps such items leased in memory (``ctx.waiting``),
polls them when due, and renews their leases together every half lease. Other workers still cannot
touch them, and if this worker dies the leases run out and any worker picks the items up from what
the ledger says, as before. Past ``ctx.tuning.max_waiting`` items, more wait in the ledger the old
way (their next check recorded, the lease released), which bounds the memory a slow org can take.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from operator import attrgetter

import structlog

from sfsync.engine.batch import Batch, is_due
from sfsync.engine.context import RunContext
from sfsync.ledger.records import Change, Item, updated

log = structlog.get_logger(__name__)


def commit(ctx: RunContext, batch: Batch) -> None:
    """Record a step's changes in one fenced transaction, handing items on to the next steps.

    - An item moved into a state that a later step of this pass takes without polling keeps its
      lease (extended by ``lease_s``) and joins ``ctx.carry``, updated as recorded: the next step
      works on it without claiming and reading it again. If the move was ``defer``-red (an
      idempotent step's finding), it is not written now: the next step's intent carries it.
    - An item moved into a state a polling step takes, or kept to be polled again, stays leased
      and waits in ``ctx.waiting`` (see the module's docstring); one already held there needs no
      write at all to wait longer.
    - Everything else is written and released. Findings not yet written for an item (``ctx.pending``)
      go with its next write, whatever it is.
    """
    # Decided once for the whole batch: items that share a quote are in one batch, and must wait
    # the same way, or the ones released could later ask for a second order of that quote.
    hold = room(ctx) > 0
    writes: list[Change] = []
    for change in batch.changes:
        item_id = change.lease.item_id
        values = change.values
        earlier = ctx.pending.pop(item_id, None)
        if earlier:
            values = {**earlier, **values}
        state = values.get("state")
        if change.release and state in ctx.carry_into:
            if item_id in batch.deferred:
                ctx.held.discard(item_id)
                ctx.pending[item_id] = values
                ctx.carry.append(updated(batch.items[item_id], values))
                continue
            writes.append(Change(change.lease, values, release=False))
        elif change.release and state in ctx.wait_into and hold:
            writes.append(Change(change.lease, values, release=False))
        else:
            writes.append(Change(change.lease, values, change.release) if earlier else change)
    for item, values in batch.waiting:
        if item.id in ctx.held and hold:
            # Still leased by this worker: the next check lives in memory, nothing to write.
            ctx.waiting.append(updated(item, values))
            continue
        writes.append(Change(item.lease, {**ctx.pending.pop(item.id, {}), **values}, release=not hold))
    result = ctx.ledger.claims.record_many(writes, hold_s=ctx.tuning.lease_s)
    recorded = set(result.done)
    now_waiting: list[Item] = []
    for change in writes:
        item_id = change.lease.item_id
        # Held again below only if it waits (and its lease was just extended).
        ctx.held.discard(item_id)
        if change.release or item_id not in recorded:
            continue
        item = updated(batch.items[item_id], change.values)
        if item.state in ctx.carry_into:
            ctx.carry.append(item)
        else:
            now_waiting.append(item)
    admit(ctx, now_waiting)


def room(ctx: RunContext) -> int:
    """How many more items may wait in memory (a batch that starts below the bound may pass it)."""
    return ctx.tuning.max_waiting - len(ctx.waiting)


def admit(ctx: RunContext, items: Sequence[Item]) -> None:
    """Add items whose lease was just extended by ``ctx.tuning.lease_s`` to the waiting ones."""
    if not items:
        return
    ctx.waiting.extend(items)
    ctx.held.update(item.id for item in items)
    # Measured after the write that extended them, so the real expiry is later than this assumes.
    ctx.renew_by = min(ctx.renew_by, ctx.clock.monotonic() + ctx.tuning.lease_s / 2)


def split_due(
    items: Sequence[Item], now: datetime, group_by: str | None = None
) -> tuple[list[Item], list[Item]]:
    """Items whose next check has come, and the others; a group (``group_by``) goes whole.

    Items sharing a quote make one order: if any of them is due, all of them are, or the ones
    left behind would ask for a second order of the same quote later.
    """
    if group_by is None:
        due = [item for item in items if is_due(item, now)]
        return due, [item for item in items if not is_due(item, now)]
    key = attrgetter(group_by)
    due_groups = {key(item) or item.id for item in items if is_due(item, now)}
    due = [item for item in items if (key(item) or item.id) in due_groups]
    return due, [item for item in items if (key(item) or item.id) not in due_groups]


def take_due(ctx: RunContext, states: Collection[str], limit: int, group_by: str | None = None) -> list[Item]:
    """Up to ``limit`` waiting items in ``states`` whose next check has come (taken out of waiting).

    With ``group_by``, whole groups only (see :func:`split_due`), and at least one.
    """
    if not ctx.waiting or limit < 1:
        return []
    mine = [item for item in ctx.waiting if item.state in states]
    due, _later = split_due(mine, ctx.clock.now(), group_by)
    if not due:
        return []
    if len(due) > limit:
        due = _first_groups(due, limit, group_by)
    taken = {item.id for item in due}
    ctx.waiting = [item for item in ctx.waiting if item.id not in taken]
    return due


def _first_groups(items: Sequence[Item], limit: int, group_by: str | None) -> list[Item]:
    """The first ``limit`` items, cut only between groups (at least one whole group)."""
    if group_by is None:
        return list(items[:limit])
    key = attrgetter(group_by)
    groups: dict[object, list[Item]] = {}
    for item in items:
        groups.setdefault(key(item) or item.id, []).append(item)
    chosen: list[Item] = []
    for members in groups.values():
        if chosen and len(chosen) + len(members) > limit:
            break
        chosen.extend(members)
    return chosen


def hold_later(ctx: RunContext, items: Sequence[Item]) -> None:
    """Claimed items whose next check has not come: keep them leased and waiting (or release them).

    All or none, like :func:`commit`: the items may share quotes.
    """
    if not items:
        return
    if room(ctx) <= 0:
        ctx.ledger.claims.release([item.lease for item in items])
        return
    done = set(ctx.ledger.claims.renew([item.lease for item in items], ctx.tuning.lease_s).done)
    admit(ctx, [item for item in items if item.id in done])


def renew(ctx: RunContext) -> None:
    """Renew the waiting items' leases when half a lease has gone by; drop any that were lost."""
    if not ctx.waiting:
        ctx.renew_by = float("inf")
        ctx.held.clear()
        return
    if ctx.clock.monotonic() < ctx.renew_by:
        return
    result = ctx.ledger.claims.renew([item.lease for item in ctx.waiting], ctx.tuning.lease_s)
    if result.refused:
        lost = set(result.refused)
        ctx.waiting = [item for item in ctx.waiting if item.id not in lost]
        ctx.held.difference_update(lost)
        log.warning("waiting_items_lost", run_id=ctx.run_id, count=len(lost))
    ctx.renew_by = ctx.clock.monotonic() + ctx.tuning.lease_s / 2


def release_all(ctx: RunContext) -> None:
    """Give back every lease this worker keeps for the run (it stops driving it here)."""
    kept = [*ctx.waiting, *ctx.carry]
    ctx.waiting, ctx.carry, ctx.carry_into = [], [], frozenset()
    ctx.held.clear()
    ctx.pending.clear()
    ctx.renew_by = float("inf")
    if kept:
        ctx.ledger.claims.release([item.lease for item in kept])
