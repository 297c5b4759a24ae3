"""Streaming SOQL reads: ``query``/``queryAll`` page by page through ``nextRecordsUrl``.

Records are yielded one page at a time and never accumulated, so memory stays constant however
many rows match. ``Sforce-Query-Options: batchSize=N`` asks for the page size (200–2,000; Salesforce
may send fewer). Each page is one call through the transport, so a session that expires between
pages is renewed there and the iteration carries on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from sfsync import errors
from sfsync.salesforce.soql import Select
from sfsync.salesforce.transport import Transport

M = TypeVar("M", bound=BaseModel)

Record = dict[str, object]


def _page(body: object, endpoint: str) -> tuple[list[Record], str | None]:
    if not isinstance(body, Mapping) or not isinstance(body.get("records"), list):
        msg = "the query answer has no records list"
        raise errors.RejectedError(msg, endpoint=endpoint)
    records = [dict(record) for record in body["records"] if isinstance(record, Mapping)]
    next_url = body.get("nextRecordsUrl")
    done = body.get("done", True)
    return records, next_url if isinstance(next_url, str) and not done else None


def pages(
    transport: Transport, query: Select | str, *, all_rows: bool = False, batch_size: int | None = None
) -> Iterator[list[Record]]:
    """Yield the records of a query one page (list of dicts) at a time."""
    soql = query.soql() if isinstance(query, Select) else query
    size = batch_size or transport.profile.query_batch_size
    headers = {"Sforce-Query-Options": f"batchSize={size}"}
    resource = "queryAll" if all_rows else "query"
    reply = transport.request("GET", resource, params={"q": soql}, headers=headers)
    records, next_url = _page(reply.body, resource)
    yield records
    while next_url is not None:
        reply = transport.request("GET", next_url, headers=headers)
        records, next_url = _page(reply.body, resource)
        yield records


def records(transport: Transport, query: Select | str, *, all_rows: bool = False) -> Iterator[Record]:
    """Yield the records of a query one by one, fetching pages as needed."""
    for page in pages(transport, query, all_rows=all_rows):
        yield from page


def model_pages(transport: Transport, query: Select, model: type[M]) -> Iterator[list[M]]:
    """Pages of records parsed into ``model``."""
    for page in pages(transport, query):
        yield [parse(model, record) for record in page]


def models(transport: Transport, query: Select, model: type[M]) -> Iterator[M]:
    """Records parsed into ``model``, one by one."""
    for page in model_pages(transport, query, model):
        yield from page


def parse(model: type[M], record: Mapping[str, object]) -> M:
    """One record as ``model``; an unexpected shape is a RejectedError naming the object."""
    try:
        return model.model_validate(record)
    except ValidationError as exc:
        msg = f"Salesforce returned a {model.__name__} sfsync cannot read: {exc.errors()[0]['msg']}"
        raise errors.RejectedError(msg) from exc
