"""``initiateRenewal`` / ``initiateCancellation`` over batches of assets, one outcome per asset.

Assets are grouped **one input per account and price book** (and term/date and output type), as
Salesforce's own auto-renew template does and initiateCancellation requires. When an element fails
with a message naming specific assets — ``<assetId>[,<assetId>]: message``, the form the template
parses — those assets fail with that message and the group is sent again without them; any other
element failure fails the whole group. The created quote/order ID is ``renewRecordId`` /
``cancelRecordId`` (``record_id`` accepted as a fallback); ``requestIdentifier`` is optional.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sfsync import sfid
from sfsync.salesforce.actions import Actions, Output
from sfsync.salesforce.outcomes import Done, Failed, Outcome, Uncertain

OutputType = Literal["Quote", "Order"]
_NAMED_RE = re.compile(r"^\s*([A-Za-z0-9]{15,18}(?:\s*,\s*[A-Za-z0-9]{15,18})*)\s*:\s*(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Term:
    """An override renewal term; None on a request means Automatic (the asset's own term)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class RenewalRequest:
    """Renew one root asset."""

    asset_id: str
    account_id: str
    price_book_id: str
    output: OutputType = "Quote"
    term: Term | None = None


@dataclass(frozen=True)
class CancellationRequest:
    """Cancel one root asset from ``cancel_date``."""

    asset_id: str
    account_id: str
    price_book_id: str
    cancel_date: datetime
    output: OutputType = "Quote"


def sf_datetime(moment: datetime) -> str:
    """A datetime input as Salesforce actions take it: ``2026-11-23T00:00:00.000Z``."""
    if moment.tzinfo is None:
        msg = "action datetimes must be timezone-aware"
        raise ValueError(msg)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def named_assets(message: str, group: Sequence[str]) -> tuple[set[str], str]:
    """The group's assets a ``<id>[,<id>]: message`` error names, and the message without the prefix."""
    found = _NAMED_RE.match(message)
    if found is None:
        return set(), message
    members = {record_id[:15]: record_id for record_id in group}
    named = {members[raw.strip()[:15]] for raw in found.group(1).split(",") if raw.strip()[:15] in members}
    return named, found.group(2).strip() if named else message


def _record_id(values: Output, key: str) -> str | None:
    for name in (key, "record_id"):
        value = values.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _run(
    actions: Actions,
    action: str,
    groups: dict[Hashable, list[str]],
    make_input: dict[Hashable, Mapping[str, object]],
    assets_key: str,
    output_key: str,
) -> dict[str, Outcome[str]]:
    results: dict[str, Outcome[str]] = {}
    pending = [(key, ids) for key, ids in groups.items() if ids]
    while pending:
        inputs = [{**make_input[key], assets_key: ids} for key, ids in pending]
        outcomes = actions.invoke(action, inputs, creating=True)
        again: list[tuple[Hashable, list[str]]] = []
        for (key, ids), outcome in zip(pending, outcomes, strict=True):
            if isinstance(outcome, Done):
                record_id = _record_id(outcome.value, output_key)
                done: Outcome[str] = (
                    Done(record_id) if record_id else Uncertain(f"{action} succeeded without {output_key}")
                )
                results.update(dict.fromkeys(ids, done))
                continue
            if isinstance(outcome, Failed):
                named, text = named_assets(outcome.message, ids)
                if named and len(named) < len(ids):
                    results.update(dict.fromkeys(named, Failed(outcome.code, text, outcome.fields)))
                    again.append((key, [asset for asset in ids if asset not in named]))
                    continue
            results.update(dict.fromkeys(ids, outcome))
        pending = again
    return results


Groups = tuple[dict[Hashable, list[str]], dict[Hashable, Mapping[str, object]]]


def _group(
    pairs: Sequence[tuple[RenewalRequest | CancellationRequest, Hashable, Mapping[str, object]]], what: str
) -> Groups:
    """One action input per (account, price book, extra key): that group's assets and its inputs."""
    groups: dict[Hashable, list[str]] = {}
    inputs: dict[Hashable, Mapping[str, object]] = {}
    seen: set[str] = set()
    for item, extra, values in pairs:
        asset = sfid.expect(item.asset_id, "Asset")
        if asset in seen:
            msg = f"asset {asset} appears twice in one {what} batch"
            raise ValueError(msg)
        seen.add(asset)
        key = (sfid.expect(item.account_id, "Account"), sfid.expect(item.price_book_id, "Pricebook2"), extra)
        groups.setdefault(key, []).append(asset)
        inputs[key] = values
    return groups, inputs


def initiate_renewals(actions: Actions, items: Sequence[RenewalRequest]) -> dict[str, Outcome[str]]:
    """Renew the assets; per asset ID (18 characters) the created quote/order ID or why not."""
    pairs = []
    for item in items:
        values: dict[str, object] = {"renewOutputType": item.output}
        if item.term is not None:
            values["renewStartDate"] = sf_datetime(item.term.start)
            values["renewEndDate"] = sf_datetime(item.term.end)
        pairs.append((item, (item.term, item.output), values))
    groups, inputs = _group(pairs, "renewal")
    return _run(actions, "initiateRenewal", groups, inputs, "renewAssetIds", "renewRecordId")


def initiate_cancellations(actions: Actions, items: Sequence[CancellationRequest]) -> dict[str, Outcome[str]]:
    """Cancel the assets; per asset ID (18 characters) the created quote/order ID or why not."""
    pairs = [
        (
            item,
            (item.cancel_date, item.output),
            {"cancelStartDate": sf_datetime(item.cancel_date), "cancelOutputType": item.output},
        )
        for item in items
    ]
    groups, inputs = _group(pairs, "cancellation")
    return _run(actions, "initiateCancellation", groups, inputs, "cancelAssetIds", "cancelRecordId")
