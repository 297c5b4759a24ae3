"""The escaping SOQL builder: the only place a value becomes SOQL text.

Queries are built from typed parts (:class:`Select`, conditions from :func:`eq`, :func:`in_ids`,
:func:`like`…); every literal is rendered by :func:`literal`, which escapes strings per the SOQL
rules (``\\ \\' \\" \\n \\r \\t \\b \\f``; in ``LIKE`` patterns also ``\\% \\_``), validates IDs through
:mod:`sfsync.sfid` against the object they must belong to, and renders dates and datetimes in UTC.
Field and object names are checked against an identifier pattern. Long ``IN`` lists are cut with
:func:`batched` (≤ :data:`IN_BATCH` values per query) and every statement is checked against
:data:`MAX_SOQL_CHARS`, far below Salesforce's 100,000-character limit.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Literal, TypeVar

from sfsync import sfid

#: Values per IN list. A query travels in the URL of a GET, which Salesforce caps at 16,384
#: characters: 500 quoted 18-character IDs make about 10,500 characters of SOQL and about 14,000
#: once URL-encoded (``'`` and ``,`` become three characters each). Fewer, larger IN lists are
#: what keeps verification near one query per step per 500 items.
IN_BATCH = 500
#: Salesforce's limit on a request URI, characters.
MAX_URI_CHARS = 16_384
#: Our own ceiling for a statement (Salesforce allows 100,000 characters).
MAX_SOQL_CHARS = 20_000

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*$")
_DATE_LITERAL_RE = re.compile(r"^(?:TODAY|YESTERDAY|TOMORROW|(?:NEXT|LAST)_N_DAYS:\d{1,4})$")
_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_LIKE_ESCAPES = {"%": "\\%", "_": "\\_"}

T = TypeVar("T")


@dataclass(frozen=True)
class Id:
    """A record ID literal, validated for its object (an Order ID where an Asset ID belongs is refused)."""

    value: str
    #: The object the ID must belong to; None accepts any well-formed ID (polymorphic fields).
    sobject: str | None

    def __post_init__(self) -> None:
        object.__setattr__(self, "value", _valid_id(self.value, self.sobject))


def _valid_id(record_id: str, sobject: str | None) -> str:
    """The 18-character form of an ID of ``sobject`` (any object if None); raises InvalidIdError."""
    return sfid.to18(record_id) if sobject is None else sfid.expect(record_id, sobject)


@functools.lru_cache(maxsize=16_384)
def _quoted_id(record_id: str, sobject: str | None) -> str:
    """``literal(Id(record_id, sobject))`` without the Id: a valid ID is ASCII letters and digits only."""
    # Cached like sfid.to18 (IN lists name each ID again for every query, ~20 times per asset); a
    # refused ID raises and is not cached.
    return f"'{_valid_id(record_id, sobject)}'"


@dataclass(frozen=True)
class DateLiteral:
    """A relative date literal such as ``TODAY`` or ``NEXT_N_DAYS:30``."""

    text: str

    def __post_init__(self) -> None:
        if not _DATE_LITERAL_RE.match(self.text):
            msg = f"{self.text!r} is not a supported SOQL date literal"
            raise ValueError(msg)


Value = str | bool | int | float | Decimal | date | datetime | Id | DateLiteral | None


def name(text: str) -> str:
    """A field or object name, checked (names never come from user input, but never trust that)."""
    if not _NAME_RE.match(text):
        msg = f"{text!r} is not a SOQL field or object name"
        raise ValueError(msg)
    return text


def escape(text: str, *, like: bool = False) -> str:
    """The body of a quoted SOQL string literal for ``text``."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif like and char in _LIKE_ESCAPES:
            out.append(_LIKE_ESCAPES[char])
        elif ord(char) < 0x20 or char == "\x7f":
            msg = f"control character U+{ord(char):04X} cannot appear in a SOQL literal"
            raise ValueError(msg)
        else:
            out.append(char)
    return "".join(out)


def literal(value: Value) -> str:
    """A value as SOQL literal text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Id):
        return f"'{value.value}'"
    if isinstance(value, DateLiteral):
        return value.text
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        if value != value or value in {float("inf"), float("-inf")}:
            msg = "NaN and infinity have no SOQL literal"
            raise ValueError(msg)
        return repr(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            msg = "datetimes in SOQL must be timezone-aware"
            raise ValueError(msg)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    return f"'{escape(value)}'"


@dataclass(frozen=True)
class Cond:
    """A rendered condition; build it with the functions below, never by hand."""

    text: str


def _cmp(field: str, op: str, value: Value) -> Cond:
    return Cond(f"{name(field)} {op} {literal(value)}")


def eq(field: str, value: Value) -> Cond:
    """``field = value``."""
    return _cmp(field, "=", value)


def ne(field: str, value: Value) -> Cond:
    """``field != value``."""
    return _cmp(field, "!=", value)


def lt(field: str, value: Value) -> Cond:
    """``field < value``."""
    return _cmp(field, "<", value)


def le(field: str, value: Value) -> Cond:
    """``field <= value``."""
    return _cmp(field, "<=", value)


def gt(field: str, value: Value) -> Cond:
    """``field > value``."""
    return _cmp(field, ">", value)


def ge(field: str, value: Value) -> Cond:
    """``field >= value``."""
    return _cmp(field, ">=", value)


def in_(field: str, values: Iterable[Value], *, negate: bool = False) -> Cond:
    """``field IN (…)`` over literal values (strings, numbers, Id literals)."""
    rendered = [literal(value) for value in values]
    if not rendered:
        msg = f"IN list for {field} is empty"
        raise ValueError(msg)
    op = "NOT IN" if negate else "IN"
    return Cond(f"{name(field)} {op} ({', '.join(rendered)})")


def in_ids(field: str, ids: Iterable[str], sobject: str | None) -> Cond:
    """``field IN ('id', …)`` with each ID validated as an ID of ``sobject``."""
    rendered = [_quoted_id(record_id, sobject) for record_id in ids]
    if not rendered:
        msg = f"IN list for {field} is empty"
        raise ValueError(msg)
    return Cond(f"{name(field)} IN ({', '.join(rendered)})")


def in_select(field: str, sub: Select) -> Cond:
    """A semi-join: ``field IN (SELECT … )``."""
    return Cond(f"{name(field)} IN ({sub.soql()})")


def like(
    field: str, text: str, mode: Literal["contains", "startswith", "endswith", "exact"] = "contains"
) -> Cond:
    """``field LIKE '…'`` matching ``text`` literally (its ``%`` and ``_`` escaped)."""
    body = escape(text, like=True)
    pattern = {"contains": f"%{body}%", "startswith": f"{body}%", "endswith": f"%{body}", "exact": body}[mode]
    return Cond(f"{name(field)} LIKE '{pattern}'")


def _join(op: str, conds: Sequence[Cond]) -> Cond:
    if not conds:
        msg = f"{op} needs at least one condition"
        raise ValueError(msg)
    if len(conds) == 1:
        return conds[0]
    return Cond("(" + f" {op} ".join(cond.text for cond in conds) + ")")


def and_(*conds: Cond) -> Cond:
    """All of the conditions."""
    return _join("AND", conds)


def or_(*conds: Cond) -> Cond:
    """Any of the conditions."""
    return _join("OR", conds)


def not_(cond: Cond) -> Cond:
    """The negation of a condition."""
    return Cond(f"(NOT {cond.text})")


@dataclass(frozen=True)
class Select:
    """``SELECT fields FROM sobject [WHERE …] [ORDER BY …] [LIMIT n]``."""

    sobject: str
    fields: tuple[str, ...]
    where: Cond | None = None
    order_by: tuple[tuple[str, Literal["ASC", "DESC"]], ...] = ()
    limit: int | None = None

    def soql(self) -> str:
        """The statement text; raises ValueError beyond MAX_SOQL_CHARS."""
        if not self.fields:
            msg = "a SELECT needs fields"
            raise ValueError(msg)
        parts = [f"SELECT {', '.join(name(field) for field in self.fields)} FROM {name(self.sobject)}"]
        if self.where is not None:
            parts.append(f"WHERE {self.where.text}")
        if self.order_by:
            parts.append("ORDER BY " + ", ".join(f"{name(field)} {way}" for field, way in self.order_by))
        if self.limit is not None:
            if self.limit < 1:
                msg = "LIMIT must be positive"
                raise ValueError(msg)
            parts.append(f"LIMIT {int(self.limit)}")
        text = " ".join(parts)
        if len(text) > MAX_SOQL_CHARS:
            msg = f"SOQL statement of {len(text)} characters exceeds {MAX_SOQL_CHARS}; batch the IN lists"
            raise ValueError(msg)
        return text


def select(
    sobject: str,
    fields: Iterable[str],
    where: Cond | None = None,
    *,
    order_by: Sequence[tuple[str, Literal["ASC", "DESC"]]] = (),
    limit: int | None = None,
) -> Select:
    """Shorthand for :class:`Select` with the fields and ordering given as any sequence."""
    return Select(sobject, tuple(fields), where, tuple(order_by), limit)


def batched(values: Iterable[T], size: int = IN_BATCH) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` distinct values, in first-seen order."""
    if size < 1:
        msg = "size must be positive"
        raise ValueError(msg)
    seen: set[T] = set()
    chunk: list[T] = []
    for value in values:
        if value in seen:
            continue
        seen.add(value)
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
