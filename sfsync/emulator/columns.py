"""Column-level helpers of the store: indexes, the bulk insert's encoder, per-table metadata.

All exist for speed at 100,000 assets: lookups by the columns the worker and the lifecycle engine
filter on must not scan, seeding encodes millions of values, and a sweep reads and writes a few
million rows one at a time, so nothing about a table is worked out more than once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sfsync.emulator import schema
from sfsync.emulator.codec import BadValue, SqlValue, decoder, encoder, to_sql
from sfsync.emulator.errors import bad_field_value

#: Columns the worker and the lifecycle engine filter by that are not reference fields; without an
#: index, every such lookup scans a table of 100,000 rows.
_EXTRA_INDEXES = frozenset(
    {
        ("Asset", "LifecycleEndDate"),
        ("AsyncOperationTracker", "ReferenceEntityId"),
        ("RevenueTransactionErrorLog", "PrimaryRecordId"),
        ("AppUsageAssignment", "RecordId"),
    }
)


def indexed(sobject: str, fdef: schema.FieldDef) -> bool:
    """Whether the store keeps an index on this column (references, and the columns above)."""
    if fdef.type == "reference":
        return fdef.name not in ("CreatedById", "LastModifiedById")
    return (sobject, fdef.name) in _EXTRA_INDEXES


class ColumnEncoder:
    """``to_sql`` for one column, remembering encoded values (hashable ones only)."""

    def __init__(self, fdef: schema.FieldDef) -> None:
        self.fdef = fdef
        self.seen: dict[tuple[type, object], SqlValue] = {}
        # Strings are stored as given in every column that is not typed otherwise.
        self.text = fdef.type not in _CONVERTED

    def __call__(self, value: object) -> SqlValue:
        """The stored form of ``value``; RecordError (bad value) as a single insert would raise."""
        if value is None:
            return None
        if self.text and type(value) is str:
            return value
        try:
            # keyed by type too: True == 1 == 1.0 must not share an encoding
            key = (type(value), value)
            found = self.seen.get(key, _MISSING)
        except TypeError:  # unhashable: encode (and fail) without the memo
            key, found = None, _MISSING
        if found is not _MISSING:
            return found  # type: ignore[return-value]
        try:
            encoded = to_sql(self.fdef, value)
        except BadValue as exc:
            raise bad_field_value(self.fdef.name, str(exc)) from exc
        if key is not None and len(self.seen) < 100_000:
            self.seen[key] = encoded
        return encoded


_MISSING = object()
_CONVERTED = frozenset({"boolean", "datetime", "date", *schema.NUMERIC_TYPES})


def quote(name: str) -> str:
    """An identifier quoted for SQL (names come from the schema, never from requests)."""
    return f'"{name}"'


class Projection:
    """Some columns of a table, in schema order: their ``SELECT`` and how to decode a fetched row."""

    def __init__(self, table: Table, names: tuple[str, ...]) -> None:
        fields = table.obj.fields
        self.names = names
        self.select = f"SELECT {', '.join(map(quote, names))} FROM {table.sql_name}"
        #: By ID, deleted rows included or not.
        self.by_id = {
            True: f'{self.select} WHERE "Id" = ? ORDER BY rowid',
            False: f'{self.select} WHERE "Id" = ? AND IsDeleted = 0 ORDER BY rowid',
        }
        # Text columns come back from SQLite as str already: only the others need converting.
        self.converters: tuple[tuple[str, Callable[[Any], object]], ...] = tuple(
            (name, convert) for name in names if (convert := decoder(fields[name].type)) is not None
        )

    def decode(self, row: Sequence[SqlValue]) -> dict[str, object]:
        """A fetched row as a record, each value exactly as ``codec.from_sql`` reads it."""
        record: dict[str, object] = dict(zip(self.names, row, strict=True))
        for name, convert in self.converters:
            value = record[name]
            if value is not None:
                record[name] = convert(value)
        return record


class Table:
    """One object's table as the store sees it on every call: SQL text, decoders, defaults."""

    def __init__(self, obj: schema.ObjectDef) -> None:
        self.obj = obj
        self.sql_name = quote(obj.name)
        self.position = {name: i for i, name in enumerate(obj.fields)}
        self.every = Projection(self, tuple(obj.fields))
        self.decoders = {f.name: decoder(f.type) for f in obj.fields.values()}
        self.encoders = {f.name: encoder(f) for f in obj.fields.values()}
        self.defaults = {f.name: f.default for f in obj.fields.values() if f.default is not None}
        self.autonumbers = tuple(f for f in obj.fields.values() if f.autonumber)
        self._inserts: dict[tuple[str, ...], str] = {}
        self._updates: dict[tuple[str, ...], str] = {}
        self._projections: dict[tuple[str, ...], Projection] = {}

    def projection(self, names: tuple[str, ...]) -> Projection:
        """These columns (canonical names, any order, repeats allowed) in schema order (remembered)."""
        found = self._projections.get(names)
        if found is None:
            ordered = tuple(sorted(set(names), key=self.position.__getitem__))
            found = self._projections[names] = Projection(self, ordered)
        return found

    def update_sql(self, columns: tuple[str, ...]) -> str:
        """``UPDATE`` of these columns of the row with a given Id (remembered, as inserts)."""
        sql = self._updates.get(columns)
        if sql is None:
            sets = ", ".join(f"{quote(c)} = ?" for c in columns)
            sql = self._updates[columns] = f"UPDATE {self.sql_name} SET {sets} WHERE Id = ?"
        return sql

    def insert_sql(self, columns: tuple[str, ...]) -> str:
        """``INSERT`` of these columns (remembered: single inserts repeat a handful of shapes)."""
        sql = self._inserts.get(columns)
        if sql is None:
            sql = self._inserts[columns] = (
                f"INSERT INTO {self.sql_name} ({', '.join(map(quote, columns))}) "
                f"VALUES ({', '.join('?' * len(columns))})"
            )
        return sql


_TABLES: dict[str, Table] = {}


def table(obj: schema.ObjectDef) -> Table:
    """The (shared) metadata of an object's table; objects are fixed, so it is built once."""
    found = _TABLES.get(obj.name)
    if found is None or found.obj is not obj:
        found = _TABLES[obj.name] = Table(obj)
    return found
