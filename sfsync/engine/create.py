"""The steps that create something in Salesforce: initiate, order, activate.

Each writes its intent to the ledger (and commits) before the call, so a crash or a lost answer
leaves the item in an intent state that :mod:`sfsync.engine.reconcile` resolves by looking in
Salesforce before anything is sent again. Items that share a quote or an order (Salesforce makes
one quote per account and price book) are claimed together, so two workers never create an order
for the same quote.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

from sfsync.engine.batch import Batch, detail, fail_item, halt_for, iso
from sfsync.engine.context import RunContext
from sfsync.engine.failpoints import failpoint
from sfsync.engine.holding import commit
from sfsync.engine.states import State
from sfsync.ledger.records import Item
from sfsync.lifecycle.model import day_start
from sfsync.salesforce.initiate import CancellationRequest, RenewalRequest, Term
from sfsync.salesforce.orders import OrderRef
from sfsync.salesforce.outcomes import Done, Failed, NotSent, Outcome, Uncertain

T = TypeVar("T")

#: Element errors that, after an earlier lost answer, mean "the first call did it" (platform guards).
ALREADY_DONE_CODES = frozenset({"DUPLICATE_VALUE", "FIELD_INTEGRITY_EXCEPTION"})
#: The lifecycle guards answer ``INVALID_INPUT`` (a code shared with real input errors), so they are
#: told apart by their text (Salesforce's wording; the emulator's revenue/initiate.py and assets.py).
ALREADY_DONE_TEXTS = (
    "already has a future-dated renewal",
    "has a pending cancellation",
    "the asset is canceled",
)


def already_done(code: str, message: str) -> bool:
    """Whether an element error is a platform guard saying the change was already made."""
    text = message.lower()
    return code in ALREADY_DONE_CODES or (
        code == "INVALID_INPUT" and any(part in text for part in ALREADY_DONE_TEXTS)
    )


def _intent(ctx: RunContext, items: Sequence[Item], *, step: str, state: State) -> list[Item]:
    """Commit the intent for the items and keep those whose lease still holds."""
    # The call may outlive the claim's lease: the intent extends it past the client's worst-case
    # duration — every attempt may wait for both timeouts, and the backoff sleeps between attempts
    # count too (left out, a long retry chain outlived the lease and another worker could reconcile
    # and resend while the call was still in flight).
    profile = ctx.profile
    attempts = profile.max_retries + 1
    longest = (profile.connect_timeout_s + profile.read_timeout_s) * attempts + profile.backoff_cap_s * (
        attempts - 1
    )
    # What the previous, idempotent step found (a quote priced, an order addressed) is recorded
    # with the intent rather than on its own.
    found = {item.id: values for item in items if (values := ctx.pending.pop(item.id, None))}
    result = ctx.ledger.claims.mark_intent(
        [item.lease for item in items],
        step=step,
        state=state.value,
        lease_s=max(ctx.tuning.lease_s, longest),
        values=found,
    )
    kept = set(result.done)
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
        failpoint("initiate", "before_send")
        outcomes = _call_initiate(ctx, sent)
        failpoint("initiate", "after_send")
        _apply_initiate(ctx, batch, sent, outcomes)
    commit(ctx, batch)
    failpoint("initiate", "after_record")


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


def settle(
    ctx: RunContext,
    batch: Batch,
    item: Item,
    outcome: Outcome[T],
    *,
    step: str,
    now: datetime,
    back_to: State,
    not_sent: list[NotSent],
    done: Callable[[T], None],
) -> None:
    """Record one item's outcome of a creating call: done, failed for good, uncertain, or not sent."""
    if isinstance(outcome, Done):
        done(outcome.value)
    elif isinstance(outcome, Failed):
        if (item.detail or {}).get("uncertain") and already_done(outcome.code, outcome.message):
            # The earlier call whose answer was lost did it: look again instead of failing.
            batch.keep(item, detail=_since(item, now, guard=outcome.code))
            ctx.journal.event("guard_after_lost_answer", level="warning", item_id=item.id,
                              asset_id=item.asset_id, step=step, code=outcome.code)  # fmt: skip
        else:
            fail_item(ctx, batch, item, step=step, code=outcome.code, message=outcome.message)
    elif isinstance(outcome, Uncertain):
        batch.keep(item, detail=_since(item, now, uncertain=True))
        ctx.journal.event("call_outcome_uncertain", level="warning", item_id=item.id,
                          asset_id=item.asset_id, step=step, reason=outcome.reason)  # fmt: skip
    else:
        not_sent.append(outcome)
        batch.move(item, back_to)


def _apply_initiate(
    ctx: RunContext, batch: Batch, items: Sequence[Item], outcomes: dict[str, Outcome[str]]
) -> None:
    now = ctx.clock.now()
    event = "renewal_initiated" if ctx.job.kind == "renewal" else "cancellation_initiated"
    output_is_order = _output(ctx) == "Order"
    not_sent: list[NotSent] = []
    for item in items:

        def made(record: str, item: Item = item) -> None:
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

        outcome = outcomes.get(item.asset_id) or NotSent("no answer for this asset", "unavailable")
        settle(ctx, batch, item, outcome, step="initiate", now=now, back_to=State.SELECTED,
               not_sent=not_sent, done=made)  # fmt: skip
    halt_for(ctx, not_sent)


def create_orders(ctx: RunContext, items: Sequence[Item]) -> None:
    """Create one order per quote (Create Single Order) for priced items."""
    batch = Batch()
    sent = _intent(ctx, items, step="order", state=State.ORDERING)
    quote_ids = sorted({item.quote_id for item in sent if item.quote_id})
    failpoint("order", "before_send")
    outcomes = ctx.sf.create_orders_from_quotes(quote_ids) if quote_ids else {}
    failpoint("order", "after_send")
    now = ctx.clock.now()
    not_sent: list[NotSent] = []
    for item in sent:

        def ordered(ref: OrderRef, item: Item = item) -> None:
            batch.move(item, State.ORDERED, order_id=ref.order_id, detail=_since(item, now))
            ctx.journal.event("order_created", item_id=item.id, asset_id=item.asset_id, quote_id=item.quote_id,
                              order_id=ref.order_id, pricing=(item.detail or {}).get("pricing"),
                              console=False)  # fmt: skip

        outcome = outcomes.get(item.quote_id or "") or NotSent("no answer for this quote", "unavailable")
        settle(ctx, batch, item, outcome, step="order", now=now, back_to=State.PRICED, not_sent=not_sent,
               done=ordered)  # fmt: skip
    commit(ctx, batch)
    failpoint("order", "after_record")
    halt_for(ctx, not_sent)


def activate(ctx: RunContext, items: Sequence[Item]) -> None:
    """Activate the orders of addressed items."""
    batch = Batch()
    sent = _intent(ctx, items, step="activate", state=State.ACTIVATING)
    order_ids = sorted({item.order_id for item in sent if item.order_id})
    failpoint("activate", "before_send")
    outcomes = ctx.sf.activate_orders(order_ids) if order_ids else {}
    failpoint("activate", "after_send")
    now = ctx.clock.now()
    not_sent: list[NotSent] = []
    for item in sent:

        def activated(_status: str, item: Item = item) -> None:
            batch.move(item, State.ACTIVATED, detail=_since(item, now, activated_at=iso(now)))
            ctx.journal.event("order_activated", item_id=item.id, asset_id=item.asset_id,
                              order_id=item.order_id, console=False)  # fmt: skip

        outcome = outcomes.get(item.order_id or "") or NotSent("no answer for this order", "unavailable")
        settle(ctx, batch, item, outcome, step="activate", now=now, back_to=State.ADDRESSED,
               not_sent=not_sent, done=activated)  # fmt: skip
    commit(ctx, batch)
    failpoint("activate", "after_record")
    halt_for(ctx, not_sent)
