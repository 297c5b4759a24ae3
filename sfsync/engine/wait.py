"""The steps that read or set idempotent things: pricing, shipping address, verification.

Pricing and assetization finish asynchronously in Salesforce, so these steps poll a whole batch in
one query per step, on a backoff schedule per item, until a deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sfsync.engine import mapping
from sfsync.engine.batch import Batch, detail, fail_item, halt_for, iso, parse_iso, wait_until
from sfsync.engine.context import RunContext
from sfsync.engine.failpoints import failpoint
from sfsync.engine.holding import commit
from sfsync.engine.states import State
from sfsync.ledger.records import Item
from sfsync.lifecycle.cancellation import expected_cancellation
from sfsync.lifecycle.model import AssetSnapshot, ObservedPeriod
from sfsync.lifecycle.renewal import expected_renewal
from sfsync.lifecycle.terms import RenewalTerm
from sfsync.lifecycle.verify import Mismatch, Pending, Verified, judge_cancellation, judge_renewal
from sfsync.salesforce.models import PRICING_DONE, PRICING_FAILED, PRICING_INVESTIGATE
from sfsync.salesforce.outcomes import Done, Failed, NotSent

PRICED_OK = PRICING_DONE
#: Final pricing states that fail the item (a partly saved quote needs a person, not a retry).
PRICING_STOPPED = PRICING_FAILED | PRICING_INVESTIGATE
TRACKER_DONE = frozenset({"Completed", "CompletedWithFailures", "Failure"})


def _waited_too_long(item: Item, now: datetime, deadline_s: float, key: str = "since") -> bool:
    since = parse_iso((item.detail or {}).get(key))
    return since is not None and (now - since).total_seconds() >= deadline_s


def pricing(ctx: RunContext, items: Sequence[Item]) -> None:
    """Move quoted items on once their quote's CalculationStatus is final."""
    batch = Batch()
    failpoint("pricing", "before_send")
    quotes = ctx.sf.quote_calculation_status(sorted({item.quote_id for item in items if item.quote_id}))
    failpoint("pricing", "after_send")
    failed_quotes = [q for q, rec in quotes.items() if (rec.CalculationStatus or "") in PRICING_STOPPED]
    reasons = _error_log_reasons(ctx, failed_quotes)
    now = ctx.clock.now()
    stop_at_quote = _mode(ctx) == "stop_at_quote"
    for item in items:
        quote = quotes.get(item.quote_id or "")
        status = (quote.CalculationStatus if quote else None) or ""
        if quote is None:
            batch.fail(
                item, "QUOTE_NOT_FOUND", f"quote {item.quote_id} is not visible to the integration user"
            )
        elif status in PRICED_OK or (status == "" and quote.Id):
            # An org without asynchronous pricing leaves CalculationStatus empty: nothing to wait for.
            state = State.QUOTE_READY if stop_at_quote else State.PRICED
            batch.move(
                item,
                state,
                defer=True,
                detail={**detail(item), "since": iso(now), "pricing": status or "none"},
            )
            if stop_at_quote:
                # The item ends here, ready for a person; otherwise ``order_created`` says how the
                # quote was priced (one job-log line per asset fewer, the same facts).
                ctx.journal.event(
                    "quote_priced",
                    item_id=item.id,
                    asset_id=item.asset_id,
                    quote_id=item.quote_id,
                    status=status,
                    console=False,
                )
        elif status in PRICING_STOPPED:
            reason = reasons.get(item.quote_id or "", f"pricing of quote {item.quote_id} failed")
            fail_item(ctx, batch, item, step="pricing", code=status, message=reason)
        elif _waited_too_long(item, now, ctx.tuning.pricing_timeout_s):
            batch.fail(
                item,
                "PRICING_TIMEOUT",
                f"quote {item.quote_id} still {status} after {ctx.tuning.pricing_timeout_s:.0f} s",
                State.TIMED_OUT,
            )
        else:
            batch.wait(item, detail=wait_until(ctx, item, "since", ctx.tuning.pricing_timeout_s, now))
    commit(ctx, batch)
    failpoint("pricing", "after_record")


def _mode(ctx: RunContext) -> str:
    if ctx.job.kind == "renewal":
        return ctx.job.renewal_options.mode
    return ctx.job.cancellation_options.mode


def _error_log_reasons(ctx: RunContext, record_ids: Sequence[str]) -> dict[str, str]:
    if not record_ids:
        return {}
    reasons: dict[str, str] = {}
    for row in ctx.sf.read_error_logs(primary_record_ids=record_ids):
        if row.PrimaryRecordId and row.PrimaryRecordId not in reasons:
            reasons[row.PrimaryRecordId] = f"{row.Category}: {row.ErrorCode}: {row.ErrorMessage}"
    return reasons


def address(ctx: RunContext, items: Sequence[Item]) -> None:
    """Copy the account's shipping address onto orders that lack it (orders from quotes have none)."""
    batch = Batch()
    order_ids = sorted({item.order_id for item in items if item.order_id})
    failpoint("address", "before_send")
    outcomes = ctx.sf.fill_shipping_addresses(order_ids) if order_ids else {}
    failpoint("address", "after_send")
    not_sent: list[NotSent] = []
    for item in items:
        outcome = outcomes.get(item.order_id or "") or NotSent("no answer for this order", "unavailable")
        if isinstance(outcome, Done):
            batch.move(item, State.ADDRESSED, defer=True)
        elif isinstance(outcome, Failed):
            fail_item(ctx, batch, item, step="address", code=outcome.code, message=outcome.message)
        elif isinstance(outcome, NotSent):
            not_sent.append(outcome)
            batch.keep(item)
        else:
            # Setting an address is idempotent: an uncertain answer is simply tried again.
            batch.keep(
                item,
                detail={
                    **detail(item),
                    "address_tries": int((item.detail or {}).get("address_tries", 0)) + 1,
                },
            )
    commit(ctx, batch)
    failpoint("address", "after_record")
    halt_for(ctx, not_sent)


def verify(ctx: RunContext, items: Sequence[Item]) -> None:
    """Check in Salesforce that each activated item shows the effects its change must produce."""
    batch = Batch()
    now = ctx.clock.now()
    order_ids = sorted({item.order_id for item in items if item.order_id})
    failpoint("verify", "before_send")
    trackers = ctx.sf.read_trackers(order_ids)
    # Read the effects only of orders whose assetization finished, or that have no tracker at all
    # (some orgs do not write one); a running tracker means "not yet", for one cheap query.
    finished = [o for o in order_ids if not trackers.get(o) or trackers[o][0].Status in TRACKER_DONE]
    failed_orders = [o for o in finished if trackers.get(o) and trackers[o][0].Status == "Failure"]
    reasons = _error_log_reasons(ctx, failed_orders)
    readable = set(finished) - set(failed_orders)
    # Compare IDs, not items: ``item in list`` compared whole records, O(n²) per batch.
    to_read = [item for item in items if item.order_id in readable]
    to_read_ids = {item.id for item in to_read}
    sources = (
        ctx.sf.read_asset_actions_for_orders(sorted({i.order_id for i in to_read if i.order_id}))
        if to_read
        else {}
    )
    asset_ids = sorted({item.asset_id for item in to_read})
    periods = ctx.sf.read_state_periods(asset_ids) if asset_ids else {}
    assets = ctx.sf.read_assets(asset_ids) if asset_ids else {}
    for item in items:
        order_id = item.order_id or ""
        if order_id in failed_orders:
            reason = reasons.get(
                order_id, f"assetization of order {order_id} failed (AsyncOperationTracker Failure)"
            )
            fail_item(ctx, batch, item, step="verify", code="ASSETIZATION_FAILED", message=reason)
            continue
        verdict: Verified | Pending | Mismatch
        if item.id not in to_read_ids:
            verdict = Pending(f"assetization of order {order_id} still {trackers[order_id][0].Status}")
        else:
            actions = mapping.actions_by_asset(order_id, sources.get(order_id, [])).get(item.asset_id, [])
            observed = mapping.periods(periods.get(item.asset_id, []))
            asset = assets.get(item.asset_id)
            if asset is None:
                verdict = Mismatch(f"asset {item.asset_id} is no longer visible")
            else:
                verdict = _judge(ctx, item, actions, observed, mapping.snapshot(asset))
        _record_verdict(ctx, batch, item, verdict, bool(trackers.get(order_id)), now)
    failpoint("verify", "after_send")
    commit(ctx, batch)
    failpoint("verify", "after_record")


def _judge(ctx: RunContext, item: Item, actions: list, observed: list[ObservedPeriod], after: AssetSnapshot):  # type: ignore[type-arg, no-untyped-def]
    doc = item.detail or {}
    before = before_snapshot(doc, item.asset_id)
    # Rows are [id, start, end, quantity, mrr]; rows from older ledgers lack the last two.
    before_periods = [
        ObservedPeriod(
            id=p[0],
            start=datetime.fromisoformat(p[1]),
            end=datetime.fromisoformat(p[2]) if p[2] else None,
            quantity=Decimal(p[3]) if len(p) > 3 and p[3] is not None else before.quantity,
            mrr=Decimal(p[4]) if len(p) > 4 and p[4] is not None else before.mrr,
        )
        for p in doc.get("periods", [])
    ]
    if ctx.job.kind == "renewal":
        term_doc = doc["term"]
        term = RenewalTerm(
            start=datetime.fromisoformat(term_doc["start"]),
            end=datetime.fromisoformat(term_doc["end"]),
            override=bool(term_doc.get("override")),
        )
        return judge_renewal(
            expected_renewal(before, term, order_id=item.order_id or ""),
            before_periods,
            actions,
            observed,
            after,
        )
    assert item.cancellation_date is not None
    expected = expected_cancellation(before, item.cancellation_date, order_id=item.order_id or "")
    return judge_cancellation(expected, before_periods, actions, observed, after)


def before_snapshot(doc: dict[str, object], asset_id: str) -> AssetSnapshot:
    """The asset as it was at selection, from an item's detail."""
    from decimal import Decimal

    raw = doc.get("asset")
    asset = raw if isinstance(raw, dict) else {}

    def when(key: str) -> datetime | None:
        value = asset.get(key)
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    return AssetSnapshot(
        id=asset_id,
        quantity=Decimal(str(asset.get("quantity", "0"))),
        mrr=Decimal(str(asset.get("mrr", "0"))),
        lifecycle_start=when("start"),
        lifecycle_end=when("end"),
    )


def _record_verdict(
    ctx: RunContext,
    batch: Batch,
    item: Item,
    verdict: Verified | Pending | Mismatch,
    has_tracker: bool,
    now: datetime,
) -> None:
    if isinstance(verdict, Verified):
        batch.move(
            item,
            State.VERIFIED,
            detail={**detail(item), "action_id": verdict.action_id, "verified_at": iso(now)},
        )
        ctx.journal.event(
            "asset_verified",
            item_id=item.id,
            asset_id=item.asset_id,
            order_id=item.order_id,
            action_id=verdict.action_id,
            console=False,
        )
    elif isinstance(verdict, Mismatch):
        differences = "; ".join(
            f"{d.field}: expected {d.expected}, saw {d.observed}" for d in verdict.details
        )
        message = verdict.reason + (f" ({differences})" if differences else "")
        batch.fail(item, "MISMATCH", message, State.MISMATCH)
        ctx.journal.event(
            "asset_mismatch", level="error", item_id=item.id, asset_id=item.asset_id, message=message
        )
    elif _waited_too_long(item, now, ctx.tuning.verify_timeout_s, "activated_at"):
        hint = (
            ""
            if has_tracker
            else (
                "; no AsyncOperationTracker exists for the order: assetization is probably not set up "
                "(AppUsageAssignment for Revenue Lifecycle Management or the assetization flow) — run `sfsync doctor`"
            )
        )
        batch.fail(
            item,
            "VERIFY_TIMEOUT",
            f"{verdict.reason} after {ctx.tuning.verify_timeout_s:.0f} s{hint}",
            State.TIMED_OUT,
        )
        ctx.journal.event(
            "asset_verify_timed_out",
            level="error",
            item_id=item.id,
            asset_id=item.asset_id,
            reason=verdict.reason + hint,
        )
    else:
        batch.wait(item, detail=wait_until(ctx, item, "activated_at", ctx.tuning.verify_timeout_s, now))
