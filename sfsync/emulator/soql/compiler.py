"""SOQL AST → parameterised SQLite SQL over the store's tables.

Every atom compiles to a two-valued expression (never SQL NULL), so NOT/AND/OR behave as SOQL's:
``!=`` and ``NOT IN`` match nulls, other comparisons never do. Text columns use NOCASE, which is
SOQL's case-insensitive comparison for ASCII. Literals are always parameters, never SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sfsync.emulator import schema
from sfsync.emulator.codec import SqlValue, to_sql
from sfsync.emulator.errors import invalid_type, malformed_query
from sfsync.emulator.soql import ast
from sfsync.emulator.soql.resolve import Range, Resolved, check_operator, coerce, resolve

_LIKE_TYPES = frozenset({"string", "textarea", "picklist"})


def q(name: str) -> str:
    """Quote an identifier (names come from the schema, never from the query text)."""
    return f'"{name}"'


@dataclass
class Column:
    """One selected field: its SQL expression and where it goes in the result record."""

    resolved: Resolved
    expr: str


@dataclass
class Compiled:
    """A compiled query: FROM/JOIN text, WHERE with parameters, ORDER BY, selected columns."""

    obj: schema.ObjectDef
    from_sql: str
    where_sql: str
    params: list[SqlValue]
    order_sql: str
    columns: list[Column]
    parents: list[tuple[tuple[str, ...], str, schema.ObjectDef]]
    count: bool
    limit: int | None
    offset: int | None

    def ids_sql(self) -> tuple[str, list[SqlValue]]:
        """SQL for the ordered IDs of every matching row (LIMIT/OFFSET applied)."""
        sql = f"SELECT t0.Id {self.from_sql} WHERE {self.where_sql} ORDER BY {self.order_sql}"
        params = list(self.params)
        if self.limit is not None or self.offset is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [self.limit if self.limit is not None else -1, self.offset or 0]
        return sql, params

    def rows_sql(self, n: int) -> str:
        """SQL fetching the selected columns (then each parent's Id) of ``n`` given IDs."""
        exprs = ["t0.Id", *(c.expr for c in self.columns), *(f"{alias}.Id" for _, alias, _ in self.parents)]
        return f"SELECT {', '.join(exprs)} {self.from_sql} WHERE t0.Id IN ({', '.join('?' * n)})"


@dataclass
class _Builder:
    text: str
    now: datetime
    prefix: str = "t"
    joins: dict[tuple[str, ...], str] = field(default_factory=dict)
    join_sql: list[str] = field(default_factory=list)
    params: list[SqlValue] = field(default_factory=list)
    subqueries: int = 0

    def column(self, obj: schema.ObjectDef, path: ast.Path) -> tuple[Resolved, str]:
        res = resolve(obj, path, self.text)
        alias = f"{self.prefix}0"
        key: tuple[str, ...] = ()
        for hop, target in zip(res.hops, res.objects[1:], strict=True):
            key = (*key, hop.name.lower())
            if key not in self.joins:
                new_alias = f"{self.prefix}{len(self.joins) + 1}"
                self.joins[key] = new_alias
                self.join_sql.append(
                    f"LEFT JOIN {q(target.name)} AS {new_alias} ON {new_alias}.Id = {alias}.{q(hop.name)}"
                )
            alias = self.joins[key]
        return res, f"{alias}.{q(res.field.name)}"

    def param(self, fdef: schema.FieldDef, value: object) -> str:
        self.params.append(to_sql(fdef, value))
        return "?"

    def cond(self, obj: schema.ObjectDef, node: ast.Cond) -> str:
        if isinstance(node, ast.And | ast.Or):
            joiner = " AND " if isinstance(node, ast.And) else " OR "
            return "(" + joiner.join(self.cond(obj, c) for c in node.conds) + ")"
        if isinstance(node, ast.Not):
            return f"(NOT {self.cond(obj, node.cond)})"
        if isinstance(node, ast.Compare):
            return self.compare(obj, node)
        if isinstance(node, ast.Like):
            res, col = self.column(obj, node.path)
            if res.field.type not in _LIKE_TYPES:
                msg = f"invalid operator LIKE on field {res.field.name} of type {res.field.type}"
                raise malformed_query(msg)
            self.params.append(node.pattern.like)
            return f"({col} IS NOT NULL AND {col} LIKE ? ESCAPE '\\')"
        if isinstance(node, ast.InList):
            return self.in_list(obj, node)
        return self.semi_join(obj, node)

    def compare(self, obj: schema.ObjectDef, node: ast.Compare) -> str:
        res, col = self.column(obj, node.path)
        value = coerce(res.field, node.value, self.now)
        check_operator(res.field, node.op, value)
        if value is None:
            return f"({col} IS NULL)" if node.op == "=" else f"({col} IS NOT NULL)"
        if isinstance(value, Range):
            op = node.op
            if op in ("=", "!="):
                lo, hi = self.param(res.field, value.start), self.param(res.field, value.end)
                if op == "=":
                    return f"({col} IS NOT NULL AND {col} >= {lo} AND {col} < {hi})"
                return f"({col} IS NULL OR {col} < {lo} OR {col} >= {hi})"
            bound = value.start if op in ("<", ">=") else value.end
            sql_op = {"<": "<", "<=": "<", ">": ">=", ">=": ">="}[op]
            return f"({col} IS NOT NULL AND {col} {sql_op} {self.param(res.field, bound)})"
        p = self.param(res.field, value)
        if node.op == "!=":
            return f"({col} IS NULL OR {col} <> {p})"
        return f"({col} IS NOT NULL AND {col} {node.op} {p})"

    def in_list(self, obj: schema.ObjectDef, node: ast.InList) -> str:
        res, col = self.column(obj, node.path)
        values = [coerce(res.field, v, self.now) for v in node.values]
        if any(isinstance(v, Range) for v in values):
            msg = "date literals such as TODAY are not allowed in an IN list"
            raise malformed_query(msg)
        parts = []
        present = [v for v in values if v is not None]
        if present:
            marks = ", ".join(self.param(res.field, v) for v in present)
            parts.append(f"({col} IS NOT NULL AND {col} IN ({marks}))")
        if len(present) < len(values):
            parts.append(f"({col} IS NULL)")
        sql = "(" + " OR ".join(parts) + ")"
        return f"(NOT {sql})" if node.negated else sql

    def semi_join(self, obj: schema.ObjectDef, node: ast.SemiJoin) -> str:
        res, col = self.column(obj, node.path)
        sub_obj = schema.lookup(node.query.sobject)
        if sub_obj is None:
            raise invalid_type(node.query.sobject)
        if len(node.query.field.parts) != 1:
            msg = "the semi-join subquery must select one plain field"
            raise malformed_query(msg)
        sub_field = resolve(sub_obj, node.query.field, self.text).field
        if res.field.type not in ("id", "reference") or sub_field.type not in ("id", "reference"):
            msg = "semi-joins are supported only on ID and reference fields"
            raise malformed_query(msg)
        self.subqueries += 1
        inner = _Builder(self.text, self.now, prefix=f"{self.prefix}s{self.subqueries}_")
        where = inner.cond(sub_obj, node.query.where) if node.query.where is not None else "1"
        self.params.extend(inner.params)
        a0 = f"{inner.prefix}0"
        sub_sql = (
            f"SELECT {a0}.{q(sub_field.name)} FROM {q(sub_obj.name)} AS {a0} {' '.join(inner.join_sql)} "
            f"WHERE {a0}.IsDeleted = 0 AND {a0}.{q(sub_field.name)} IS NOT NULL AND {where}"
        )
        sql = f"({col} IS NOT NULL AND {col} IN ({sub_sql}))"
        return f"(NOT {sql})" if node.negated else sql


def compile_query(query: ast.Query, text: str, *, now: datetime, include_deleted: bool = False) -> Compiled:
    """Compile a parsed query (``text`` is used for caret error messages)."""
    obj = schema.lookup(query.sobject)
    if obj is None:
        raise invalid_type(query.sobject)
    b = _Builder(text, now)
    columns: list[Column] = []
    seen: set[tuple[str, ...]] = set()
    for item in query.select:
        if isinstance(item, ast.CountStar):
            continue
        res, expr = b.column(obj, item)
        key = tuple(n.lower() for n in res.out_names)
        if key in seen:
            msg = f"duplicate field selected: {'.'.join(res.out_names)}"
            raise malformed_query(msg)
        seen.add(key)
        columns.append(Column(res, expr))
    select_params = list(b.params)
    where = b.cond(obj, query.where) if query.where is not None else "1"
    if not include_deleted:
        where = f"t0.IsDeleted = 0 AND {where}"
    order = []
    for okey in query.order:
        _, expr = b.column(obj, okey.path)
        first = (not okey.descending) if okey.nulls_first is None else okey.nulls_first
        order.append(f"{expr} {'DESC' if okey.descending else 'ASC'} NULLS {'FIRST' if first else 'LAST'}")
    order_sql = ", ".join([*order, "t0.Id ASC"]) if order else "t0.rowid ASC"
    parents = [
        (tuple(h.relationship_name or h.name for h in _hops_for(obj, key)), alias, _target(obj, key))
        for key, alias in b.joins.items()
    ]
    assert not select_params  # selecting never binds parameters
    return Compiled(
        obj, f"FROM {q(obj.name)} AS t0 {' '.join(b.join_sql)}", where, b.params, order_sql, columns, parents,
        query.is_count, query.limit, query.offset,
    )  # fmt: skip


def _hops_for(obj: schema.ObjectDef, key: tuple[str, ...]) -> list[schema.FieldDef]:
    hops, current = [], obj
    for name in key:
        fdef = current.field(name)
        assert fdef is not None
        assert fdef.reference_to
        hops.append(fdef)
        target = schema.lookup(fdef.reference_to[0])
        assert target is not None
        current = target
    return hops


def _target(obj: schema.ObjectDef, key: tuple[str, ...]) -> schema.ObjectDef:
    hops = _hops_for(obj, key)
    found = schema.lookup(hops[-1].reference_to[0])
    assert found is not None
    return found
