"""Column-level helpers of the store: which columns get an index, and the bulk insert's encoder.

Both exist for speed at 100,000 assets: lookups by the columns the worker and the lifecycle engine
filter on must not scan, and seeding encodes millions of values.
"""

from __future__ import annotations

from sfsync.emulator import schema
from sfsync.emulator.codec import BadValue, SqlValue, to_sql
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
