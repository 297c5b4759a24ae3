"""sObject Collections (≤ 200 records per request) and Composite (≤ 25 subrequests).

Results come back per record in request order and are mapped onto the inputs as outcomes. A record
refused with ``UNABLE_TO_LOCK_ROW`` was rolled back, so it is sent again (alone with the other
locked ones) after a backoff, up to the profile's retry count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import structlog

from sfsync import errors
from sfsync.salesforce import retry
from sfsync.salesforce.errors import parse_error_items
from sfsync.salesforce.outcomes import Done, Failed, NotSent, Outcome, Uncertain, from_error, halts
from sfsync.salesforce.transport import Transport

log = structlog.get_logger(__name__)

MAX_COLLECTION = 200
MAX_COMPOSITE = 25


@dataclass(frozen=True)
class RecordWrite:
    """One record to create (no ``id``) or update (with ``id``)."""

    sobject: str
    values: Mapping[str, object]
    id: str | None = None


def _body(record: RecordWrite) -> dict[str, object]:
    out: dict[str, object] = {"attributes": {"type": record.sobject}}
    if record.id is not None:
        out["id"] = record.id
    out.update(record.values)
    return out


def write(
    transport: Transport,
    method: Literal["POST", "PATCH"],
    records: Sequence[RecordWrite],
    *,
    creating: bool,
    all_or_none: bool = False,
) -> list[Outcome[str]]:
    """Create (POST) or update (PATCH) records; one outcome per record, the value its ID."""
    size = min(transport.profile.collection_batch_size, MAX_COLLECTION)
    results: list[Outcome[str] | None] = [None] * len(records)
    tries = [0] * len(records)
    queue = list(range(len(records)))
    stop: Outcome[str] | None = None
    while queue:
        chunk, queue = queue[:size], queue[size:]
        if stop is not None:
            for index in chunk:
                results[index] = stop
            continue
        body = {"allOrNone": all_or_none, "records": [_body(records[index]) for index in chunk]}
        try:
            reply = transport.request(method, "composite/sobjects", json=body, creating=creating)
        except errors.SalesforceError as exc:
            outcome = from_error(exc)
            for index in chunk:
                results[index] = outcome
            stop = outcome if halts(exc) else None
            continue
        items = reply.body if isinstance(reply.body, list) else []
        if len(items) != len(chunk):
            lost = Uncertain(f"sObject Collections answered {len(items)} results for {len(chunk)} records")
            for index in chunk:
                results[index] = lost
            continue
        locked: list[int] = []
        for index, item in zip(chunk, items, strict=True):
            results[index], again = _record_outcome(item, tries[index], transport.profile.max_retries)
            if again:
                tries[index] += 1
                locked.append(index)
        if locked:
            attempt = max(tries[index] for index in locked)
            transport.sleep(retry.delay(attempt, transport.rng, cap=transport.profile.backoff_cap_s))
            queue = locked + queue
    return [outcome if outcome is not None else Uncertain("no result") for outcome in results]


def _record_outcome(item: object, tries: int, max_retries: int) -> tuple[Outcome[str], bool]:
    """The outcome of one per-record result, and whether to send the record again."""
    if not isinstance(item, Mapping):
        return Uncertain("unreadable per-record result"), False
    record_id = item.get("id")
    if item.get("success") is True:
        return Done(record_id if isinstance(record_id, str) else ""), False
    found = parse_error_items(item.get("errors"))
    first = found[0] if found else None
    if first is None:
        return Failed("UNKNOWN_ERROR", "Salesforce reported a failure without an error"), False
    if first.code in retry.RETRYABLE_CODES:
        if tries < max_retries:
            return NotSent(first.message, "lock"), True
        return NotSent(f"{first.code}: {first.message}", "lock"), False
    return Failed(first.code, first.message, first.fields), False


@dataclass(frozen=True)
class SubRequest:
    """One Composite subrequest."""

    method: Literal["GET", "POST", "PATCH", "DELETE"]
    url: str
    reference_id: str
    body: Mapping[str, object] | None = None


@dataclass(frozen=True)
class SubResult:
    """One Composite subresult."""

    reference_id: str
    status: int
    body: object = field(default=None)


def composite(
    transport: Transport,
    subrequests: Sequence[SubRequest],
    *,
    all_or_none: bool = False,
    creating: bool = True,
) -> list[SubResult]:
    """Send up to 25 subrequests as one call; results in request order."""
    if not 0 < len(subrequests) <= MAX_COMPOSITE:
        msg = f"Composite takes 1 to {MAX_COMPOSITE} subrequests, got {len(subrequests)}"
        raise ValueError(msg)
    payload = {
        "allOrNone": all_or_none,
        "compositeRequest": [
            {"method": sub.method, "url": sub.url, "referenceId": sub.reference_id}
            | ({"body": dict(sub.body)} if sub.body is not None else {})
            for sub in subrequests
        ],
    }
    reply = transport.request("POST", "composite", json=payload, creating=creating)
    body = reply.body if isinstance(reply.body, Mapping) else {}
    answers = body.get("compositeResponse")
    out: list[SubResult] = []
    for answer in answers if isinstance(answers, list) else []:
        if isinstance(answer, Mapping):
            status = answer.get("httpStatusCode")
            out.append(
                SubResult(
                    str(answer.get("referenceId")),
                    status if isinstance(status, int) else 0,
                    answer.get("body"),
                )
            )
    return out
