"""The initiate actions: ``initiateRenewal``, ``initiateCancellation``, ``initiateAmendment``.

One quote or order per input; per-input validation with element errors ``{statusCode, message,
fields}`` whose message names the assets it is about as ``<assetId>[,<assetId>]: <message>`` (the
form Salesforce's auto-renew template parses). An input that fails writes nothing (its own
savepoint). Bundle roots carry their components along; components may not be passed themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sfsync.emulator.errors import ApiError, RecordError
from sfsync.emulator.org import ActionContext, ActionOutcome
from sfsync.emulator.revenue.assets import (
    ASSET_FIELDS,
    AssetState,
    bundle_children,
    cancellation_of,
    renewal_terms,
)
from sfsync.emulator.revenue.documents import Change, create_document, line_start
from sfsync.emulator.revenue.inputs import ElementError, asset_ids, number, optional_datetime, output_type
from sfsync.emulator.revenue.lifecycle import plan_amendment, plan_cancellation, plan_renewal
from sfsync.emulator.revenue.periods import LifecycleRuleError, end_at
from sfsync.emulator.revenue.validate import check_assets, state_of

#: Plans one asset's change: (context, input, asset, the root's change when the asset is a component).
Planner = Callable[[ActionContext, dict[str, Any], AssetState, "Change | None"], Change]


@dataclass
class InitiateAction:
    """One initiate action: its input/output names and how it plans an asset's change."""

    name: str
    kind: str  # Renew | Cancel | Amend
    ids_key: str
    output_key: str
    record_key: str
    planner: Planner
    with_components: bool = True
    min_version: float = 60.0

    def invoke(self, ctx: ActionContext, inputs: list[dict[str, Any]]) -> list[ActionOutcome]:
        """Process every input in order, each in its own savepoint."""
        outcomes = []
        for item in inputs:
            try:
                with ctx.org.store.transaction():
                    outcomes.append(ActionOutcome(self._one(ctx, item)))
            except ElementError as exc:
                outcomes.append(ActionOutcome(None, exc.items))
            except (RecordError, ApiError) as exc:
                code = exc.status_code if isinstance(exc, RecordError) else exc.error_code
                outcomes.append(
                    ActionOutcome(None, [{"statusCode": code, "message": exc.message, "fields": []}])
                )
        return outcomes

    def _one(self, ctx: ActionContext, item: dict[str, Any]) -> dict[str, Any]:
        ids = asset_ids(item, self.ids_key)
        output = output_type(item, self.output_key)
        roots = check_assets(ctx.org.store, ids)
        changes: list[Change] = []
        problems: dict[str, list[str]] = {}
        for root in roots:
            try:
                root_change = self.planner(ctx, item, root, None)
            except LifecycleRuleError as exc:
                problems.setdefault(str(exc), []).append(root.id)
                continue
            changes.append(root_change)
            for component in _components(ctx, root) if self.with_components else []:
                try:
                    changes.append(self.planner(ctx, item, component, root_change))
                except LifecycleRuleError as exc:
                    problems.setdefault(str(exc), []).append(component.id)
        if problems:
            raise ElementError([("INVALID_INPUT", msg, found) for msg, found in problems.items()])
        record_id, tracker = create_document(
            ctx.org,
            kind=self.kind,
            output=output,
            account_id=str(roots[0].record["AccountId"]),
            pricebook_id=roots[0].pricebook_id,
            changes=changes,
        )
        out: dict[str, Any] = {self.record_key: record_id}
        if ctx.org.config.include_request_identifier:
            out["requestIdentifier"] = tracker[:15]
        return out


def _components(ctx: ActionContext, root: AssetState) -> list[AssetState]:
    """The live, lifecycle-managed, not cancelled components of a bundle root."""
    out = []
    for child_id in bundle_children(ctx.org.store, root.id):
        child = ctx.org.store.get("Asset", child_id, fields=ASSET_FIELDS)
        if child and child["HasLifecycleManagement"] and cancellation_of(ctx.org.store, child_id) is None:
            out.append(state_of(ctx.org.store, child))
    return out


def _end_of_day(at: datetime) -> datetime:
    return datetime.combine(end_at(at).date(), time(23, 59, 59), at.tzinfo)


def plan_renew(ctx: ActionContext, item: dict[str, Any], state: AssetState, root: Change | None) -> Change:
    """Automatic term (no dates) or override term (``renewStartDate``/``renewEndDate``)."""
    start = optional_datetime(item, "renewStartDate")
    end = optional_datetime(item, "renewEndDate")
    now = ctx.now
    if root is not None:
        # a component renews over its root's new term
        first = root.plan.lines[0]
        start, end, now = first.start, first.end, min(ctx.now, first.start)
    plan = plan_renewal(
        state.periods,
        now=now,
        term=state.record["RenewalTerm"],
        unit=state.record["RenewalTermUnit"],
        unit_price=state.unit_price,
        start=line_start(start) if start else None,
        end=_end_of_day(end) if end else None,
    )
    new_start = plan.lines[0].start.date()
    for begin, finish in renewal_terms(ctx.org.store, state.id):
        # the platform guard: a renewal overlapping this one, or one that starts after today
        if finish >= new_start or begin > ctx.now.date():
            msg = "The asset already has a future-dated renewal. You can't renew it again."
            raise LifecycleRuleError(msg)
    return Change(state, "Renew", plan)


def plan_cancel(ctx: ActionContext, item: dict[str, Any], state: AssetState, root: Change | None) -> Change:
    """Cancel from ``cancelStartDate`` (required)."""
    at = optional_datetime(item, "cancelStartDate")
    if at is None:
        raise ElementError(
            [("REQUIRED_FIELD_MISSING", "Specify a value for cancelStartDate, and try again.", [])]
        )
    return Change(
        state, "Cancel", plan_cancellation(state.periods, at=line_start(at), unit_price=state.unit_price)
    )


def plan_amend(ctx: ActionContext, item: dict[str, Any], state: AssetState, root: Change | None) -> Change:
    """Change the quantity from ``amendStartDate`` by ``quantityChange`` (both required)."""
    at = optional_datetime(item, "amendStartDate")
    change = number(item, "quantityChange")
    if at is None or change is None:
        missing = "amendStartDate" if at is None else "quantityChange"
        raise ElementError([("REQUIRED_FIELD_MISSING", f"Specify a value for {missing}, and try again.", [])])
    plan = plan_amendment(
        state.periods, now=ctx.now, at=line_start(at), quantity_change=change, unit_price=state.unit_price
    )
    return Change(state, "Amend", plan)


def initiate_actions() -> list[InitiateAction]:
    """The three initiate actions, as the org registers them."""
    return [
        InitiateAction(
            "initiateRenewal", "Renew", "renewAssetIds", "renewOutputType", "renewRecordId", plan_renew
        ),
        InitiateAction(
            "initiateCancellation",
            "Cancel",
            "cancelAssetIds",
            "cancelOutputType",
            "cancelRecordId",
            plan_cancel,
        ),
        # a quantity amendment changes the asset it names, not the bundle's components
        InitiateAction(
            "initiateAmendment",
            "Amend",
            "amendAssetIds",
            "amendOutputType",
            "amendRecordId",
            plan_amend,
            False,
        ),
    ]
