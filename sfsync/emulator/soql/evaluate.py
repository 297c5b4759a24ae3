"""The same SOQL semantics as the compiler, in plain Python over in-memory records.

Used by the property tests as an independent oracle for the SQL compiler: both resolve names and
literals with :mod:`resolve`, then each applies the operators its own way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from sfsync.emulator import schema
from sfsync.emulator.errors import invalid_type, malformed_query
from sfsync.emulator.soql import ast
from sfsync.emulator.soql.resolve import Range, check_operator, coerce, fold, resolve

Record = Mapping[str, object]
Dataset = Mapping[str, Sequence[Record]]


def _key(value: object) -> object:
    return fold(value) if isinstance(value, str) else value


def like_regex(pattern: str) -> re.Pattern[str]:
    """A LIKE pattern (``\\`` escapes, ``%`` and ``_`` wildcards) as an ASCII-case-insensitive regex."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out.append(re.escape(fold(pattern[i + 1])))
            i += 2
            continue
        out.append(".*" if char == "%" else "." if char == "_" else re.escape(fold(char)))
        i += 1
    return re.compile("".join(out), re.DOTALL)


class Evaluator:
    """Evaluates a parsed query over a dataset of records keyed by object name."""

    def __init__(self, data: Dataset, text: str, now: datetime) -> None:
        self.data = data
        self.text = text
        self.now = now
        self._by_id = {str(r["Id"]): r for rows in data.values() for r in rows}

    def value(self, obj: schema.ObjectDef, record: Record, path: ast.Path) -> tuple[schema.FieldDef, object]:
        res = resolve(obj, path, self.text)
        current: Record | None = record
        for hop in res.hops:
            parent_id = current.get(hop.name) if current is not None else None
            current = self._by_id.get(str(parent_id)) if parent_id is not None else None
        return res.field, (current.get(res.field.name) if current is not None else None)

    def test(self, obj: schema.ObjectDef, record: Record, node: ast.Cond) -> bool:
        if isinstance(node, ast.And):
            return all(self.test(obj, record, c) for c in node.conds)
        if isinstance(node, ast.Or):
            return any(self.test(obj, record, c) for c in node.conds)
        if isinstance(node, ast.Not):
            return not self.test(obj, record, node.cond)
        if isinstance(node, ast.Like):
            fdef, actual = self.value(obj, record, node.path)
            if fdef.type not in ("string", "textarea", "picklist"):
                msg = "LIKE on a non-text field"
                raise malformed_query(msg)
            return (
                actual is not None and like_regex(node.pattern.like).fullmatch(fold(str(actual))) is not None
            )
        if isinstance(node, ast.Compare):
            return self.compare(obj, record, node)
        if isinstance(node, ast.InList):
            fdef, actual = self.value(obj, record, node.path)
            values = [coerce(fdef, v, self.now) for v in node.values]
            if any(isinstance(v, Range) for v in values):
                msg = "date literal in IN list"
                raise malformed_query(msg)
            keys = {_key(v) for v in values if v is not None}
            hit = (actual is None and None in values) or (actual is not None and _key(actual) in keys)
            return hit != node.negated
        fdef, actual = self.value(obj, record, node.path)
        sub_obj = schema.lookup(node.query.sobject)
        if sub_obj is None:
            raise invalid_type(node.query.sobject)
        sub_field = resolve(sub_obj, node.query.field, self.text).field
        found = {
            _key(r.get(sub_field.name))
            for r in self.data.get(sub_obj.name, ())
            if not r.get("IsDeleted")
            and r.get(sub_field.name) is not None
            and (node.query.where is None or self.test(sub_obj, r, node.query.where))
        }
        return (actual is not None and _key(actual) in found) != node.negated

    def compare(self, obj: schema.ObjectDef, record: Record, node: ast.Compare) -> bool:
        fdef, actual = self.value(obj, record, node.path)
        value = coerce(fdef, node.value, self.now)
        check_operator(fdef, node.op, value)
        if value is None:
            return (actual is None) == (node.op == "=")
        if isinstance(value, Range):
            if actual is None:
                return node.op == "!="
            inside = value.start <= actual < value.end  # type: ignore[operator]
            return {
                "=": inside,
                "!=": not inside,
                "<": actual < value.start,  # type: ignore[operator]
                "<=": actual < value.end,  # type: ignore[operator]
                ">": actual >= value.end,  # type: ignore[operator]
                ">=": actual >= value.start,  # type: ignore[operator]
            }[node.op]
        if actual is None:
            return node.op == "!="
        a, b = _key(actual), _key(value)
        results: dict[str, bool] = {
            "=": a == b,
            "!=": a != b,
            "<": a < b,  # type: ignore[operator]
            "<=": a <= b,  # type: ignore[operator]
            ">": a > b,  # type: ignore[operator]
            ">=": a >= b,  # type: ignore[operator]
        }
        return results[node.op]

    def ids(self, query: ast.Query, *, include_deleted: bool = False) -> list[str]:
        """The IDs of matching base records, in result order (ORDER BY, then Id; else insertion)."""
        obj = schema.lookup(query.sobject)
        if obj is None:
            raise invalid_type(query.sobject)
        rows = [
            r
            for r in self.data.get(obj.name, ())
            if (include_deleted or not r.get("IsDeleted"))
            and (query.where is None or self.test(obj, r, query.where))
        ]
        if query.order:
            rows.sort(key=lambda r: fold(str(r["Id"])))
            for item in reversed(query.order):
                nulls_first = (not item.descending) if item.nulls_first is None else item.nulls_first
                present = [r for r in rows if self.value(obj, r, item.path)[1] is not None]
                absent = [r for r in rows if self.value(obj, r, item.path)[1] is None]
                present.sort(key=lambda r: _key(self.value(obj, r, item.path)[1]), reverse=item.descending)  # type: ignore[arg-type,return-value]
                rows = absent + present if nulls_first else present + absent
        start = query.offset or 0
        end = None if query.limit is None else start + query.limit
        return [str(r["Id"]) for r in rows[start:end]]
