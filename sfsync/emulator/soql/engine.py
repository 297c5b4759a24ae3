"""Running SOQL against the store: parse, compile, snapshot the matching IDs, build records.

A query result keeps the ordered IDs that matched when it ran (the snapshot behind a query
locator); pages are fetched by ID, so later pages do not shift when records change meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sfsync.emulator.codec import decoder
from sfsync.emulator.soql.compiler import Compiled, compile_query
from sfsync.emulator.soql.parser import parse

if TYPE_CHECKING:
    from sfsync.emulator.store import Record, Store

_CHUNK = 900  # IDs per fetch, under SQLite's parameter limit


@dataclass(frozen=True)
class _Layout:
    """Each selected column's result path and decoder (None: text, as stored); parents' paths and types."""

    columns: list[tuple[tuple[str, ...], Callable[[Any], object] | None]]
    parent_keys: list[tuple[str, ...]]
    parent_types: dict[tuple[str, ...], str]


@dataclass
class QueryResult:
    """Matching IDs in order (or a count), and a way to fetch records for any slice of them."""

    store: Store
    compiled: Compiled
    ids: list[str]
    total_size: int

    @property
    def sobject(self) -> str:
        """The queried object's canonical name."""
        return self.compiled.obj.name

    @property
    def is_count(self) -> bool:
        """Whether this was ``SELECT COUNT()`` (no records)."""
        return self.compiled.count

    def fetch(self, start: int = 0, stop: int | None = None) -> list[Record]:
        """Records for ``ids[start:stop]`` in order; rows deleted since the query are skipped."""
        wanted = self.ids[start:stop]
        rows: dict[str, Record] = {}
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i : i + _CHUNK]
            for raw in self.store.execute(self.compiled.rows_sql(len(chunk)), chunk):
                rows[str(raw[0])] = self._record(raw)
        return [rows[i] for i in wanted if i in rows]

    @property
    def records(self) -> list[Record]:
        """All records at once."""
        return self.fetch()

    @cached_property
    def _layout(self) -> _Layout:
        """What :meth:`_record` needs of the compiled query, worked out once per query, not per row."""
        c = self.compiled
        return _Layout(
            columns=[(col.resolved.out_names, decoder(col.resolved.field.type)) for col in c.columns],
            parent_keys=[p[0] for p in c.parents],
            parent_types={p[0]: p[2].name for p in c.parents},
        )

    def _record(self, raw: tuple[object, ...]) -> Record:
        c = self.compiled
        columns, parent_types = self._layout.columns, self._layout.parent_types
        record: Record = {"attributes": {"type": c.obj.name, "url": f"/sobjects/{c.obj.name}/{raw[0]}"}}
        parent_ids = dict(zip(self._layout.parent_keys, raw[1 + len(columns) :], strict=True))
        for (names, convert), value in zip(columns, raw[1 : 1 + len(columns)], strict=True):
            if value is not None and convert is not None:
                value = convert(value)  # as codec.from_sql: text columns come back as str already
            if len(names) == 1:
                record[names[0]] = value
                continue
            target: Record | None = record
            for depth in range(1, len(names)):
                assert target is not None
                rel = names[depth - 1]
                key = names[:depth]
                if rel not in target:
                    pid = parent_ids.get(key)
                    target[rel] = (
                        None
                        if pid is None
                        else {
                            "attributes": {
                                "type": parent_types[key],
                                "url": f"/sobjects/{parent_types[key]}/{pid}",
                            }
                        }
                    )
                nxt = target[rel]
                target = nxt if isinstance(nxt, dict) else None
                if target is None:
                    break
            if target is not None:
                target[names[-1]] = value
        return record


def run_query(store: Store, text: str, *, include_deleted: bool = False, now: datetime) -> QueryResult:
    """Parse, compile and run a query; ApiError (MALFORMED_QUERY, INVALID_FIELD…) when refused."""
    compiled = compile_query(parse(text), text, now=now, include_deleted=include_deleted)
    sql, params = compiled.ids_sql()
    ids = [str(row[0]) for row in store.execute(sql, params)]
    return QueryResult(store, compiled, [] if compiled.count else ids, len(ids))
