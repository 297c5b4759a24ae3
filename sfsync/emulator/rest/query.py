"""``query`` / ``queryAll`` with ``nextRecordsUrl`` paging (Part 2 §2.2).

The first call runs the query and keeps the ordered IDs under a locator; ``/query/<locator>-<offset>``
serves later pages from that snapshot. ``Sforce-Query-Options: batchSize=N`` (200–2,000) sets the
page size. Locators expire after ``query_locator_ttl_s`` or when too many are open.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from sfsync.emulator.errors import ApiError
from sfsync.emulator.rest.common import Call, Result, wire_record
from sfsync.emulator.soql.engine import QueryResult, run_query

_MAX_CURSORS = 200
_BATCH_RE = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


@dataclass
class _Cursor:
    result: QueryResult
    batch: int
    created: float


class QueryCursors:
    """Open query locators (bounded, oldest dropped first)."""

    def __init__(self, ttl_s: float) -> None:
        self._ttl = ttl_s
        self._lock = threading.Lock()
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()

    def open(self, result: QueryResult, batch: int) -> str:
        """Keep a result; returns its locator."""
        locator = "01g8d" + secrets.token_hex(7)[:13].upper()
        with self._lock:
            self._cursors[locator] = _Cursor(result, batch, time.monotonic())
            while len(self._cursors) > _MAX_CURSORS:
                self._cursors.popitem(last=False)
        return locator

    def get(self, locator: str) -> _Cursor | None:
        """A live cursor, or None."""
        with self._lock:
            cursor = self._cursors.get(locator)
            if cursor is not None and time.monotonic() - cursor.created > self._ttl:
                del self._cursors[locator]
                return None
            return cursor


def batch_size(call: Call) -> int:
    """The page size asked for by ``Sforce-Query-Options`` (clamped to 200–2,000)."""
    header = call.req.header("sforce-query-options") or ""
    m = _BATCH_RE.search(header)
    if not m:
        return call.org.config.default_query_batch
    return max(200, min(2000, int(m.group(1))))


def _page(call: Call, result: QueryResult, locator: str | None, start: int, batch: int) -> Result:
    if result.is_count:
        return Result(200, {"totalSize": result.total_size, "done": True, "records": []})
    stop = start + batch
    records = [wire_record(r, call.prefix) for r in result.fetch(start, stop)]
    body: dict[str, object] = {"totalSize": result.total_size, "done": stop >= len(result.ids)}
    if stop < len(result.ids):
        body["nextRecordsUrl"] = f"{call.prefix}/query/{locator}-{stop}"
    body["records"] = records
    call.records = len(records)
    return Result(200, body)


def query(call: Call, cursors: QueryCursors, *, include_deleted: bool) -> Result:
    """``GET …/query?q=`` and ``…/queryAll?q=``."""
    text = call.req.param("q")
    if text is None:
        raise ApiError(400, "MALFORMED_QUERY", "A query string (q) must be provided")
    result = run_query(call.org.store, text, include_deleted=include_deleted, now=call.org.clock.now())
    call.sobjects.add(result.sobject)
    batch = batch_size(call)
    locator = cursors.open(result, batch) if len(result.ids) > batch else None
    return _page(call, result, locator, 0, batch)


def more(call: Call, cursors: QueryCursors, token: str) -> Result:
    """``GET …/query/<locator>-<offset>``."""
    locator, _, offset = token.rpartition("-")
    cursor = cursors.get(locator) if offset.isdigit() else None
    if cursor is None:
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    call.sobjects.add(cursor.result.sobject)
    return _page(call, cursor.result, locator, int(offset), cursor.batch)
