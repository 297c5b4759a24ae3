"""Binding SOQL names and literals to the schema: shared by the SQL compiler and the evaluator.

Both back ends use these rules, so they cannot disagree on what a name or a literal means:
paths resolve case-insensitively through single-target parent relationships; literals are checked
against the field's type and become Python values; relative dates become half-open UTC ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sfsync import sfid
from sfsync.emulator import schema
from sfsync.emulator.codec import to18
from sfsync.emulator.errors import ApiError, invalid_field, malformed_query
from sfsync.emulator.soql import ast

Value = str | float | bool | date | datetime


@dataclass(frozen=True)
class Resolved:
    """A checked path: the reference fields traversed, the objects visited, the final field."""

    hops: tuple[schema.FieldDef, ...]
    objects: tuple[schema.ObjectDef, ...]
    field: schema.FieldDef

    @property
    def out_names(self) -> tuple[str, ...]:
        """Canonical names as they appear in results: relationship names, then the field."""
        return (*(h.relationship_name or h.name for h in self.hops), self.field.name)


@dataclass(frozen=True)
class Range:
    """A half-open interval ``[start, end)`` a relative date literal stands for."""

    start: date | datetime
    end: date | datetime


def _caret(text: str, column: int, problem: str) -> str:
    return f"\n{text}\n{' ' * max(column - 1, 0)}^\nERROR at Row:1:Column:{column}\n{problem}"


def resolve(obj: schema.ObjectDef, path: ast.Path, text: str) -> Resolved:
    """Resolve a path on ``obj``; INVALID_FIELD with Salesforce's caret message when unknown."""
    hops: list[schema.FieldDef] = []
    objects = [obj]
    current = obj
    for rel in path.parts[:-1]:
        ref = current.relationship(rel)
        if ref is None:
            problem = (
                f"Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom "
                "relationship, be sure to append the '__r' after the custom relationship name. Please reference "
                "your WSDL or the describe call for the appropriate names."
            )
            raise invalid_field(_caret(text, path.column, problem))
        if len(ref.reference_to) != 1 or schema.lookup(ref.reference_to[0]) is None:
            msg = f"Relationship '{rel}' is polymorphic; the emulator traverses only single-target relationships"
            raise malformed_query(msg)
        target = schema.lookup(ref.reference_to[0])
        assert target is not None  # checked above; narrows for mypy
        hops.append(ref)
        objects.append(target)
        current = target
    fdef = current.field(path.parts[-1])
    if fdef is None:
        name = ".".join(path.parts)
        problem = (
            f"No such column '{path.parts[-1]}' on entity '{current.name}'. If you are attempting to use a "
            "custom field, be sure to append the '__c' after the custom field name. Please reference your "
            "WSDL or the describe call for the appropriate names."
        )
        raise invalid_field(_caret(text, path.column, problem), [name])
    return Resolved(tuple(hops), tuple(objects), fdef)


def _type_error(fdef: schema.FieldDef, what: str) -> ApiError:
    return ApiError(
        400,
        "INVALID_QUERY_FILTER_OPERATOR",
        f"value of filter criterion for field '{fdef.name}' must be of type {fdef.type} {what}",
    )


def relative_range(lit: ast.RelativeDate, today: date) -> tuple[date, date]:
    """The dates ``[first, after_last)`` a relative date literal covers (UTC days)."""
    one = timedelta(days=1)
    if lit.name == "TODAY":
        return today, today + one
    if lit.name == "YESTERDAY":
        return today - one, today
    if lit.name == "TOMORROW":
        return today + one, today + 2 * one
    if lit.name == "NEXT_N_DAYS":  # starts tomorrow, n days, not today
        return today + one, today + (lit.n + 1) * one
    if lit.name == "LAST_N_DAYS":  # the past n days and today
        return today - lit.n * one, today + one
    msg = f"unsupported date literal {lit.name}"
    raise malformed_query(msg)


def coerce(fdef: schema.FieldDef, lit: ast.Literal, now: datetime) -> Value | Range | None:
    """A literal as a Python value of the field's type (None for null; Range for relative dates)."""
    kind = fdef.type
    if isinstance(lit, ast.NullLit):
        return None
    if isinstance(lit, ast.RelativeDate):
        if kind not in ("date", "datetime"):
            raise _type_error(fdef, "and should not be a date literal")
        first, after = relative_range(lit, now.astimezone(UTC).date())
        if kind == "date":
            return Range(first, after)
        return Range(datetime.combine(first, time(), UTC), datetime.combine(after, time(), UTC))
    if kind in ("id", "reference"):
        if not isinstance(lit, ast.StringLit):
            raise _type_error(fdef, "and should be enclosed in quotes")
        try:
            return to18(lit.value)
        except sfid.InvalidIdError as exc:
            raise ApiError(400, "INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {lit.value}") from exc
    if kind in schema.TEXT_TYPES:
        if not isinstance(lit, ast.StringLit):
            raise _type_error(fdef, "and should be enclosed in quotes")
        return lit.value
    if kind == "boolean":
        if not isinstance(lit, ast.BoolLit):
            raise _type_error(fdef, "and should not be enclosed in quotes")
        return lit.value
    if kind in schema.NUMERIC_TYPES:
        if not isinstance(lit, ast.NumberLit):
            raise _type_error(fdef, "and should not be enclosed in quotes")
        return lit.value
    if kind == "date":
        if not isinstance(lit, ast.DateLit):
            raise _type_error(fdef, "and should not be enclosed in quotes")
        return lit.value
    if kind == "datetime":
        if not isinstance(lit, ast.DateTimeLit):
            raise _type_error(fdef, "and should not be enclosed in quotes")
        return lit.value.replace(microsecond=lit.value.microsecond // 1000 * 1000)
    msg = f"cannot filter on field {fdef.name} of type {kind}"
    raise malformed_query(msg)


def check_operator(fdef: schema.FieldDef, op: str, value: object) -> None:
    """Refuse operators SOQL refuses: only = and != with null or booleans; LIKE only on text."""
    if value is None and op not in ("=", "!="):
        msg = f"invalid operator {op} with null on field {fdef.name}"
        raise malformed_query(msg)
    if fdef.type == "boolean" and op not in ("=", "!="):
        raise ApiError(400, "INVALID_QUERY_FILTER_OPERATOR", f"invalid operator on boolean field: {op}")


def fold(text: str) -> str:
    """ASCII-only case folding, exactly what SQLite's NOCASE and LIKE do."""
    return text.translate(_FOLD)


_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
