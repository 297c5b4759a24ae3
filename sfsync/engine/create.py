"""The steps that create something in Salesforce: initiate, order, activate.

Each writes its intent to the ledger (and commits) before the call, so a crash or a lost answer
leaves the item in an intent state that :mod:`sfsync.engine.reconcile` resolves by looking in
Salesforce before anything is sent again. Items that share a quote or an order (Salesforce makes
one quote per account and price book) are claimed together, so two workers never create an order
for the same quote.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sfsync.engine.batch import Batch, detail, halt_for, iso
from sfsync.engine.context import RunContext
from sfsync.engine.states import State
from sfsync.ledger.records import Item
from sfsync.lifecycle.model import day_start
from sfsync.salesforce.initiate import CancellationRequest, RenewalRequest, Term
from sfsync.salesforce.outcomes import Done, Failed, NotSent, Outcome, Uncertain

#: Element errors that, after an earlier lost answer, mean "the first call did it" (platform guards).
ALREADY_DONE_CODES = frozenset({"DUPLICATE_VALUE", "INVALID_OPERATION", "FIELD_INTEGRITY_EXCEPTION"})


def _intent(ctx: RunContext, items: Sequence[Item], *, step: str, state: State) -> list[Item]:
    """Commit the intent for the items and keep those whose lease still holds."""
    result = ctx.ledger.claims.mark_intent([item.lease for item in items], step=step, state=state.value)
    kept = set(result.done)
    # The call may outlive the claim's lease: extend it past the client's worst-case duration.
    longest = ctx.profile.connect_timeout_s + ctx.profile.read_timeout_s * (ctx.profile.max_retries + 1)
    ctx.ledger.claims.renew(
        [item.lease for item in items if item.id in kept], max(ctx.tuning.lease_s, longest)
    )
    return [item for item in items if item.id in kept]


def initiate(ctx: RunContext, items: Sequence[Item]) -> None:
    """Initiate renewal or cancellation for a batch of selected items."""
    batch = Batch()
    carried = [item for item in items if item.quote_id or item.order_id]
    for item in carried:
        # A retried item keeps what Salesforce already made for it: continue from there.
        batch.move(
            item, State.ORDERED if item.order_id else State.QUOTED, detail=_since(item, ctx.clock.now())
        )
    fresh = [item for item in items if not (item.quote_id or item.order_id)]
    sent = _intent(ctx, fresh, step="initiate", state=State.INITIATING) if fresh else []
    if sent:
        outcomes = _call_initiate(ctx, sent)
        _apply_initiate(ctx, batch, sent, outcomes)
    ctx.ledger.claims.record_many(batch.changes)


def _output(ctx: RunContext) -> str:
    options = ctx.job.renewal_options if ctx.job.kind == "renewal" else ctx.job.cancellation_options
    return "Order" if options.output == "order" else "Quote"


def _call_initiate(ctx: RunContext, items: Sequence[Item]) -> dict[str, Outcome[str]]:
    output = _output(ctx)
    if ctx.job.kind == "renewal":
        requests = []
        for item in items:
            term_doc = (item.detail or {}).get("term", {})
            term = None
            if term_doc.get("override"):
                # The boundaries sent are the start day and the day after the term's last second.
                term = Term(
                    start=datetime.fromisoformat(term_doc["wire_start"]),
                    end=datetime.fromisoformat(term_doc["wire_end"]),
                )
            requests.append(
                RenewalRequest(
                    asset_id=item.asset_id,
                    account_id=item.account_id or "",
                    price_book_id=item.price_book_id or "",
                    output=output,  # type: ignore[arg-type]
                    term=term,
                )
            )
        return ctx.sf.initiate_renewals(requests)
    cancels = [
        CancellationRequest(
            asset_id=item.asset_id,
            account_id=item.account_id or "",
            price_book_id=item.price_book_id or "",
            cancel_date=day_start(item.cancellation_date) if item.cancellation_date else ctx.clock.now(),
            output=output,  # type: ignore[arg-type]
        )
        for item in items
    ]
    return ctx.sf.initiate_cancellations(cancels)


def _since(item: Item, now: datetime, **extra: object) -> dict[str, object]:
    doc = detail(item)
    doc["since"] = iso(now)
    doc.pop("next_check_at", None)
    doc.update(extra)
    return doc


def _apply_initiate(
    ctx: RunContext, batch: Batch, items: Sequence[Item], outcomes: dict[str, Outcome[str]]
) -> None:
    now = ctx.clock.now()
    event = "renewal_initiated" if ctx.job.kind == "renewal" else "cancellation_initiated"
    output_is_order = _output(ctx) == "Order"
    not_sent: list[NotSent] = []
    for item in items:
        outcome = outcomes.get(item.asset_id) or NotSent("no answer for this asset", "unavailable")
        if isinstance(outcome, Done):
            record = outcome.value
            if output_is_order:
                batch.move(item, State.ORDERED, order_id=record, detail=_since(item, now))
                ctx.journal.event(
                    event, item_id=item.id, asset_id=item.asset_id, order_id=record, console=False
                )
            else:
                batch.move(item, State.QUOTED, quote_id=record, detail=_since(item, now))
                ctx.journal.event(
                    event, item_id=item.id, asset_id=item.asset_id, quote_id=record, console=False
                )
        elif isinstance(outcome, Failed):
            if (item.detail or {}).get("uncertain") and outcome.code in ALREADY_DONE_CODES:
                # The earlier call whose answer was lost did it: look again instead of failing.
                batch.keep(item, detail=_since(item, now, guard=outcome.code))
                ctx.journal.event(
                    "initiate_guard_after_lost_answer",
                    level="warning",
                    item_id=item.id,
                    asset_id=item.asset_id,
                    code=outcome.code,
                )
            else:
                batch.fail(item, outcome.code, outcome.message)
                ctx.journal.event(
                    "item_failed",
                    level="error",
                    item_id=item.id,
                    asset_id=item.asset_id,
                    step="initiate",
                    code=outcome.code,
                    message=outcome.message,
                )
        elif isinstance(outcome, Uncertain):
            batch.keep(item, detail=_since(item, now, uncertain=True))
            ctx.journal.event(
                "call_outcome_uncertain",
                level="warning",
                item_id=item.id,
                asset_id=item.asset_id,
                step="initiate",
                reason=outcome.reason,
            )
        else:
            not_sent.append(outcome)
            batch.move(item, State.SELECTED)
    halt_for(ctx, not_sent)


def create_orders(ctx: RunContext, items: Sequence[Item]) -> None:
    """Create one order per quote (Create Single Order) for priced items."""
    batch = Batch()
    sent = _intent(ctx, items, step="order", state=State.ORDERING)
    quote_ids = sorted({item.quote_id for item in sent if item.quote_id})
    outcomes = ctx.sf.create_orders_from_quotes(quote_ids) if quote_ids else {}
    now = ctx.clock.now()
    not_sent: list[NotSent] = []
    for item in sent:
        outcome = outcomes.get(item.quote_id or "") or NotSent("no answer for this quote", "unavailable")
        if isinstance(outcome, Done):
            batch.move(item, State.ORDERED, order_id=outcome.value.order_id, detail=_since(item, now))
            ctx.journal.event(
                "order_created",
                item_id=item.id,
                asset_id=item.asset_id,
                quote_id=item.quote_id,
                order_id=outcome.value.order_id,
                console=False,
            )
        elif isinstance(outcome, Failed):
            batch.fail(item, outcome.code, outcome.message)
            ctx.journal.event(
                "item_failed",
                level="error",
                item_id=item.id,
                asset_id=item.asset_id,
                step="order",
                code=outcome.code,
                message=outcome.message,
            )
        elif isinstance(outcome, Uncertain):
            batch.keep(item, detail=_since(item, now, uncertain=True))
            ctx.journal.event(
                "call_outcome_uncertain",
                level="warning",
                item_id=item.id,
                asset_id=item.asset_id,
                step="order",
                reason=outcome.reason,
            )
        else:
            not_sent.append(outcome)
            batch.move(item, State.PRICED)
    ctx.ledger.claims.record_many(batch.changes)
    halt_for(ctx, not_sent)


def activate(ctx: RunContext, items: Sequence[Item]) -> None:
    """Activate the orders of addressed items."""
    batch = Batch()
    sent = _intent(ctx, items, step="activate", state=State.ACTIVATING)
    order_ids = sorted({item.order_id for item in sent if item.order_id})
    outcomes = ctx.sf.activate_orders(order_ids) if order_ids else {}
    now = ctx.clock.now()
    not_sent: list[NotSent] = []
    for item in sent:
        outcome = outcomes.get(item.order_id or "") or NotSent("no answer for this order", "unavailable")
        if isinstance(outcome, Done):
            batch.move(item, State.ACTIVATED, detail=_since(item, now, activated_at=iso(now)))
            ctx.journal.event(
                "order_activated",
                item_id=item.id,
                asset_id=item.asset_id,
                order_id=item.order_id,
                console=False,
            )
        elif isinstance(outcome, Failed):
            batch.fail(item, outcome.code, outcome.message)
            ctx.journal.event(
                "item_failed",
                level="error",
                item_id=item.id,
                asset_id=item.asset_id,
                step="activate",
                code=outcome.code,
                message=outcome.message,
            )
        elif isinstance(outcome, Uncertain):
            batch.keep(item, detail=_since(item, now, uncertain=True))
            ctx.journal.event(
                "call_outcome_uncertain",
                level="warning",
                item_id=item.id,
                asset_id=item.asset_id,
                step="activate",
                reason=outcome.reason,
            )
        else:
            not_sent.append(outcome)
            batch.move(item, State.ADDRESSED)
    ctx.ledger.claims.record_many(batch.changes)
    halt_for(ctx, not_sent)
