"""Streaming SOQL reads: ``query``/``queryAll`` page by page through ``nextRecordsUrl``.

Records are yielded one page at a time and never accumulated, so memory stays constant however
many rows match. ``Sforce-Query-Options: batchSize=N`` asks for the page size (200–2,000; Salesforce
may send fewer). Each page is one call through the transport, so a session that expires between
pages is renewed there and the iteration carries on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Generic, TypeVar

import msgspec

from sfsync import errors
from sfsync.salesforce.models import SObject
from sfsync.salesforce.soql import Select
from sfsync.salesforce.transport import Reply, Transport

M = TypeVar("M", bound=SObject)

Record = dict[str, object]


def _page(body: object, endpoint: str) -> tuple[list[Record], str | None]:
    if not isinstance(body, Mapping) or not isinstance(body.get("records"), list):
        msg = "the query answer has no records list"
        raise errors.RejectedError(msg, endpoint=endpoint)
    records = [dict(record) for record in body["records"] if isinstance(record, Mapping)]
    next_url = body.get("nextRecordsUrl")
    done = body.get("done", True)
    return records, next_url if isinstance(next_url, str) and not done else None


def _first(
    transport: Transport, query: Select | str, *, all_rows: bool, batch_size: int | None
) -> tuple[Reply, str, dict[str, str]]:
    """The answer to the query's first page, the resource name (for errors) and the page headers."""
    soql = query.soql() if isinstance(query, Select) else query
    size = batch_size or transport.profile.query_batch_size
    headers = {"Sforce-Query-Options": f"batchSize={size}"}
    resource = "queryAll" if all_rows else "query"
    return transport.request("GET", resource, params={"q": soql}, headers=headers), resource, headers


def pages(
    transport: Transport, query: Select | str, *, all_rows: bool = False, batch_size: int | None = None
) -> Iterator[list[Record]]:
    """Yield the records of a query one page (list of dicts) at a time."""
    reply, resource, headers = _first(transport, query, all_rows=all_rows, batch_size=batch_size)
    while True:
        records, next_url = _page(reply.body, resource)
        yield records
        if next_url is None:
            return
        reply = transport.request("GET", next_url, headers=headers)


def records(transport: Transport, query: Select | str, *, all_rows: bool = False) -> Iterator[Record]:
    """Yield the records of a query one by one, fetching pages as needed."""
    for page in pages(transport, query, all_rows=all_rows):
        yield from page


class _Page(msgspec.Struct, Generic[M]):
    """One query answer with its records typed (``totalSize`` and unknown keys ignored)."""

    records: list[M]
    done: bool = True
    nextRecordsUrl: str | None = None


@cache
def _page_decoder(model: type[M]) -> msgspec.json.Decoder[_Page[M]]:
    # One decoder per record model, built once (decoders are thread-safe): msgspec parses the JSON
    # and checks the records in one pass in C, numbers straight from their text into Decimal.
    return msgspec.json.Decoder(_Page[model])  # type: ignore[valid-type]


def _unreadable(model: type[SObject], exc: msgspec.DecodeError) -> str:
    """The message for a page that cannot be read: the model, where (``$.records[3].Field``) and why."""
    why, _, where = str(exc).partition(" - at `")
    place = f" at {where.rstrip('`')}" if where else ""
    return f"Salesforce returned a {model.__name__} page sfsync cannot read{place}: {why}"


def model_pages(transport: Transport, query: Select, model: type[M]) -> Iterator[list[M]]:
    """Pages of records parsed into ``model`` straight from the answer's bytes."""
    reply, resource, headers = _first(transport, query, all_rows=False, batch_size=None)
    decoder = _page_decoder(model)
    while True:
        try:
            page = decoder.decode(reply.content)
        except msgspec.DecodeError as exc:  # ValidationError is a DecodeError too
            raise errors.RejectedError(_unreadable(model, exc), endpoint=resource) from exc
        yield page.records
        if page.done or page.nextRecordsUrl is None:
            return
        reply = transport.request("GET", page.nextRecordsUrl, headers=headers)


def models(transport: Transport, query: Select, model: type[M]) -> Iterator[M]:
    """Records parsed into ``model``, one by one."""
    for page in model_pages(transport, query, model):
        yield from page
