"""Selection: which assets a run works on, validated against Salesforce before any write.

Renewal sweeps stream the candidates of the job's window page by page; cancellation runs take the
rows of a CSV. Either way every asset becomes a ledger item — ``selected`` when it can go ahead,
``rejected`` with the reason when it cannot (no price book, no renewal term, cancelled, a date
outside its life…), ``skipped`` in a dry run — and no Salesforce write happens here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sfsync.engine import mapping
from sfsync.engine.batch import iso
from sfsync.engine.cancel_input import CancelRow
from sfsync.engine.context import RunContext
from sfsync.engine.states import State
from sfsync.errors import InputError
from sfsync.ledger.records import NewItem
from sfsync.lifecycle.cancellation import cancellation_problem, expected_line
from sfsync.lifecycle.model import ONE_SECOND, AssetSnapshot, day_start
from sfsync.lifecycle.terms import RenewalTerm, automatic_term, override_term, resolve
from sfsync.salesforce import reads, soql
from sfsync.salesforce.models import Asset, AssetStatePeriod

#: Assets read and written to the ledger per chunk while selecting.
CHUNK = 500


class SelectionTooLarge(InputError):
    """The selection is larger than the job's max_assets; nothing was sent to Salesforce."""


@dataclass
class Selected:
    """What selection put in the ledger."""

    total: int = 0
    selected: int = 0
    rejected: int = 0
    held: dict[str, str] = field(default_factory=dict)


def override(ctx: RunContext) -> RenewalTerm | None:
    """The job's override term resolved against today, or None for automatic terms."""
    options = ctx.job.renewal_options
    if options.term != "override" or options.start is None or options.end is None:
        return None
    return override_term(resolve(options.start, ctx.today), resolve(options.end, ctx.today), today=ctx.today)


def select_renewals(ctx: RunContext) -> Selected:
    """Stream the job's renewal candidates into the ledger; raise SelectionTooLarge past max_assets."""
    sel = ctx.job.selection
    start = day_start(ctx.today + timedelta(days=sel.window_start_days))
    end = day_start(ctx.today + timedelta(days=sel.window_days + 1)) - ONE_SECOND
    term = override(ctx)
    result = Selected()
    chunk: list[Asset] = []
    for asset in ctx.sf.select_renewal_candidates(
        start,
        end,
        account_ids=sel.accounts,
        product_ids=sel.products,
        product_families=sel.product_families,
        only_auto_renew=sel.only_auto_renew,
    ):
        result.total += 1
        if result.total > ctx.job.limits.max_assets:
            msg = (
                f"the selection has more than max_assets = {ctx.job.limits.max_assets} assets; "
                "nothing was sent to Salesforce (narrow the window or raise [limits] max_assets)"
            )
            raise SelectionTooLarge(msg)
        chunk.append(asset)
        if len(chunk) >= CHUNK:
            _add_renewals(ctx, chunk, term, result)
            chunk = []
    _add_renewals(ctx, chunk, term, result)
    return result


def _period_rows(rows: Iterable[AssetStatePeriod]) -> list[list[str | None]]:
    # Each period keeps its own quantity and MRR: an asset whose current term has not started yet
    # has CurrentQuantity 0, and its renewal carries the last period's quantity, not that zero.
    return [
        [
            row.Id,
            iso(row.StartDate),
            iso(row.EndDate) if row.EndDate else None,
            str(row.Quantity) if row.Quantity is not None else None,
            str(row.Mrr) if row.Mrr is not None else None,
        ]
        for row in rows
        if row.Id and row.StartDate
    ]


def _asset_doc(snap: AssetSnapshot) -> dict[str, Any]:
    return {
        "quantity": str(snap.quantity),
        "mrr": str(snap.mrr),
        "start": iso(snap.lifecycle_start) if snap.lifecycle_start else None,
        "end": iso(snap.lifecycle_end) if snap.lifecycle_end else None,
    }


def _add_renewals(
    ctx: RunContext, assets: Sequence[Asset], fixed: RenewalTerm | None, result: Selected
) -> None:
    if not assets:
        return
    ids = [asset.Id for asset in assets if asset.Id]
    books = ctx.sf.asset_price_books(ids)
    periods = ctx.sf.read_state_periods(ids)
    new: list[NewItem] = []
    for asset in assets:
        assert asset.Id is not None
        snap = mapping.snapshot(asset)
        doc: dict[str, Any] = {"asset": _asset_doc(snap), "periods": _period_rows(periods.get(asset.Id, []))}
        state, reason, term = State.SELECTED, None, fixed
        try:
            term = fixed or automatic_term(snap)
        except InputError as exc:
            state, reason = State.REJECTED, str(exc)
        if state is State.SELECTED and asset.Id not in books:
            state, reason = State.REJECTED, "no price book found (no AssetActionSource with a PricebookEntry)"
        if term is not None:
            doc["term"] = {
                "start": iso(term.start),
                "end": iso(term.end),
                "override": term.override,
                "wire_start": iso(day_start(term.start.date())),
                "wire_end": iso(day_start((term.end + ONE_SECOND).date())),
            }
        new.append(_item(ctx, asset, state, reason, books.get(asset.Id), doc, term))
    _store(ctx, new, result)


def _item(
    ctx: RunContext,
    asset: Asset,
    state: State,
    reason: str | None,
    book: str | None,
    doc: dict[str, Any],
    term: RenewalTerm | None,
    cancellation: Any = None,
) -> NewItem:
    if state is State.SELECTED and ctx.dry_run:
        state = State.SKIPPED
        doc["dry_run"] = True
    if reason is not None:
        doc["reason"] = reason
    return NewItem(
        asset_id=asset.Id or "",
        state=state.value,
        account_id=asset.AccountId,
        asset_name=(asset.Name or "")[:255] or None,
        price_book_id=book,
        term_start=term.start.date() if term else None,
        term_end=term.end.date() if term else None,
        cancellation_date=cancellation,
        detail=doc,
        sf_error_code="REJECTED" if reason else None,
        sf_error_message=reason,
    )


def _store(ctx: RunContext, new: Sequence[NewItem], result: Selected) -> None:
    added = ctx.ledger.items.add(ctx.run_id, new)
    result.held.update(added.held)
    for item in new:
        if item.asset_id in added.held:
            continue
        if item.state == State.REJECTED:
            result.rejected += 1
            ctx.journal.event(
                "asset_rejected", level="warning", asset_id=item.asset_id, reason=item.sf_error_message
            )
        else:
            result.selected += 1
    if added.held:
        ctx.journal.event(
            "assets_held_by_other_runs",
            level="warning",
            count=len(added.held),
            assets=sorted(added.held)[:20],
        )


def select_cancellations(ctx: RunContext, rows: Sequence[CancelRow]) -> Selected:
    """Validate CSV rows against Salesforce and put them in the ledger."""
    if len(rows) > ctx.job.limits.max_assets:
        msg = (
            f"{len(rows)} assets to cancel is more than max_assets = {ctx.job.limits.max_assets}; "
            "nothing was sent to Salesforce"
        )
        raise SelectionTooLarge(msg)
    result = Selected(total=len(rows))
    for start in range(0, len(rows), CHUNK):
        _add_cancellations(ctx, rows[start : start + CHUNK], result)
    return result


def _cancelled_assets(ctx: RunContext, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in soql.batched(list(ids)):
        query = soql.select(
            "AssetAction",
            ("AssetId",),
            soql.and_(soql.eq("CategoryEnum", "Cancellations"), soql.in_ids("AssetId", chunk, "Asset")),
        )
        found.update(str(row["AssetId"]) for row in ctx.sf.query(query) if row.get("AssetId"))
    return found


def _add_cancellations(ctx: RunContext, rows: Sequence[CancelRow], result: Selected) -> None:
    ids = [row.asset_id for row in rows]
    assets = ctx.sf.read_assets(ids)
    known = [asset_id for asset_id in ids if asset_id in assets]
    cancelled = _cancelled_assets(ctx, known)
    roots = {asset.Id for asset in reads.drop_bundle_children(ctx.sf.transport, list(assets.values()))}
    books = ctx.sf.asset_price_books(known)
    periods = ctx.sf.read_state_periods(known)
    new: list[NewItem] = []
    for row in rows:
        asset = assets.get(row.asset_id)
        if asset is None:
            missing = Asset(Id=row.asset_id)
            new.append(
                _item(
                    ctx,
                    missing,
                    State.REJECTED,
                    "no such asset, or not visible to the integration user",
                    None,
                    {"line": row.line},
                    None,
                    row.cancellation_date,
                )
            )
            continue
        snap = mapping.snapshot(asset, cancelled=row.asset_id in cancelled)
        reason: str | None = None
        if not asset.HasLifecycleManagement:
            reason = "not a lifecycle-managed asset (HasLifecycleManagement is false)"
        elif row.asset_id not in roots:
            reason = "a bundle component: cancel the bundle's root asset instead"
        else:
            reason = cancellation_problem(snap, row.cancellation_date, today=ctx.today)
        if reason is None and row.asset_id not in books:
            reason = "no price book found (no AssetActionSource with a PricebookEntry)"
        line = expected_line(snap)
        doc: dict[str, Any] = {
            "asset": _asset_doc(snap),
            "periods": _period_rows(periods.get(row.asset_id, [])),
            "line": row.line,
            "expected_line": {"quantity": str(line.quantity), "end_quantity": str(line.end_quantity)},
        }
        state = State.REJECTED if reason else State.SELECTED
        new.append(
            _item(ctx, asset, state, reason, books.get(row.asset_id), doc, None, row.cancellation_date)
        )
    _store(ctx, new, result)
