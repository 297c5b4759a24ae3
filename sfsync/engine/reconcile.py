"""Reconciliation: resolve items left in an intent state (crash, lost answer) by looking in Salesforce.

No invocable action takes an idempotency key, so before anything is sent again the engine asks what
the earlier call may have made (salesforce-api.md, "Reconciliation"): for initiate calls the
``QuoteAction``/``OrderAction`` rows of the assets made by the integration user since the intent
(minus a skew); for quote → order, the ``Order`` rows of the quotes; for activation, the order's
``Status``. Found → the item moves on with what was made; not found → it goes back one state and
is sent again, at most ``max_reconciles`` times.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from sfsync.engine.batch import Batch, detail, fail_item, iso
from sfsync.engine.context import RunContext
from sfsync.engine.holding import commit
from sfsync.engine.states import State
from sfsync.ledger.records import Item


def reconcile(ctx: RunContext, items: Sequence[Item]) -> None:
    """Resolve a batch of items found in intent states."""
    batch = Batch()
    by_state: dict[str, list[Item]] = {}
    for item in items:
        by_state.setdefault(item.state, []).append(item)
    if State.INITIATING in by_state:
        _initiated(ctx, batch, by_state[State.INITIATING])
    if State.ORDERING in by_state:
        _ordered(ctx, batch, by_state[State.ORDERING])
    if State.ACTIVATING in by_state:
        _activated(ctx, batch, by_state[State.ACTIVATING])
    commit(ctx, batch)


def _earliest_intent(ctx: RunContext, items: Sequence[Item]) -> datetime:
    times = [item.intent_at for item in items if item.intent_at is not None]
    return min(times) if times else ctx.clock.now() - timedelta(days=1)


def _retry_or_fail(ctx: RunContext, batch: Batch, item: Item, back_to: State, what: str) -> None:
    reconciles = int((item.detail or {}).get("reconciles", 0)) + 1
    doc = detail(item)
    doc["reconciles"] = reconciles
    doc["uncertain"] = True
    if reconciles > ctx.tuning.max_reconciles:
        message = f"{what} not found after {reconciles - 1} attempts"
        fail_item(ctx, batch, item, step="reconcile", code="RECONCILE_EXHAUSTED", message=message)
        return
    batch.move(item, back_to, detail=doc)
    ctx.journal.event(
        "reconciled_resend",
        level="warning",
        item_id=item.id,
        asset_id=item.asset_id,
        state=back_to.value,
        attempt=reconciles,
    )


def _initiated(ctx: RunContext, batch: Batch, items: Sequence[Item]) -> None:
    kind: Literal["Renew", "Cancel"] = "Renew" if ctx.job.kind == "renewal" else "Cancel"
    output = (
        ctx.job.renewal_options.output if ctx.job.kind == "renewal" else ctx.job.cancellation_options.output
    )
    since = _earliest_intent(ctx, items)
    assets = [item.asset_id for item in items]
    made: dict[str, str] = {}
    if output == "order":
        for order_action in ctx.sf.find_order_actions(assets, kind, since):
            if order_action.SourceAssetId and order_action.OrderId:
                made[order_action.SourceAssetId] = order_action.OrderId
    else:
        for quote_action in ctx.sf.find_quote_actions(assets, kind, since):
            if quote_action.SourceAssetId and quote_action.QuoteId:
                made[quote_action.SourceAssetId] = quote_action.QuoteId
    now = iso(ctx.clock.now())
    for item in items:
        record = made.get(item.asset_id)
        if record is None:
            _retry_or_fail(ctx, batch, item, State.SELECTED, f"{kind} {output} for asset {item.asset_id}")
            continue
        doc = detail(item)
        doc.update(since=now, reconciled=True)
        if output == "order":
            batch.move(item, State.ORDERED, order_id=record, detail=doc)
        else:
            batch.move(item, State.QUOTED, quote_id=record, detail=doc)
        ctx.journal.event(
            "reconciled_found", item_id=item.id, asset_id=item.asset_id, step="initiate", record_id=record
        )


def _ordered(ctx: RunContext, batch: Batch, items: Sequence[Item]) -> None:
    quotes = sorted({item.quote_id for item in items if item.quote_id})
    found = ctx.sf.find_orders_for_quotes(quotes) if quotes else {}
    now = iso(ctx.clock.now())
    for item in items:
        orders = found.get(item.quote_id or "", [])
        if not orders:
            _retry_or_fail(ctx, batch, item, State.PRICED, f"order for quote {item.quote_id}")
            continue
        order = sorted(orders, key=lambda o: (o.CreatedDate is None, o.CreatedDate))[0]
        doc = detail(item)
        doc.update(since=now, reconciled=True)
        if len(orders) > 1:
            doc["extra_orders"] = [o.Id for o in orders[1:]]
        batch.move(item, State.ORDERED, order_id=order.Id, detail=doc)
        ctx.journal.event(
            "reconciled_found", item_id=item.id, asset_id=item.asset_id, step="order", record_id=order.Id
        )


def _activated(ctx: RunContext, batch: Batch, items: Sequence[Item]) -> None:
    order_ids = sorted({item.order_id for item in items if item.order_id})
    orders = ctx.sf.read_order_status(order_ids) if order_ids else {}
    now = ctx.clock.now()
    for item in items:
        order = orders.get(item.order_id or "")
        if order is not None and order.Status == "Activated":
            doc = detail(item)
            activated = order.ActivatedDate or now
            doc.update(since=iso(now), activated_at=iso(activated), reconciled=True)
            batch.move(item, State.ACTIVATED, detail=doc)
            ctx.journal.event(
                "reconciled_found",
                item_id=item.id,
                asset_id=item.asset_id,
                step="activate",
                record_id=item.order_id,
            )
        else:
            _retry_or_fail(ctx, batch, item, State.ADDRESSED, f"activation of order {item.order_id}")
