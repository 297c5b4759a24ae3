"""The typed SOQL syntax tree (frozen dataclasses), before names are checked against the schema."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Path:
    """A field, possibly through parent relationships: ``Account.Owner.Name``."""

    parts: tuple[str, ...]
    column: int = 0


@dataclass(frozen=True)
class CountStar:
    """``COUNT()``."""


@dataclass(frozen=True)
class StringLit:
    """A quoted string; ``like`` is the same text as a LIKE pattern with ``\\`` as escape."""

    value: str
    like: str


@dataclass(frozen=True)
class NumberLit:
    """A number."""

    value: float


@dataclass(frozen=True)
class BoolLit:
    """``true`` or ``false``."""

    value: bool


@dataclass(frozen=True)
class NullLit:
    """``null``."""


@dataclass(frozen=True)
class DateLit:
    """``2026-11-23``."""

    value: date


@dataclass(frozen=True)
class DateTimeLit:
    """``2026-11-23T00:00:00Z`` (aware, UTC)."""

    value: datetime


@dataclass(frozen=True)
class RelativeDate:
    """``TODAY``, ``YESTERDAY``, ``TOMORROW``, ``NEXT_N_DAYS:n``, ``LAST_N_DAYS:n``."""

    name: str
    n: int = 0


Literal = StringLit | NumberLit | BoolLit | NullLit | DateLit | DateTimeLit | RelativeDate


@dataclass(frozen=True)
class Compare:
    """``path op value`` with op one of ``= != < <= > >=`` (``<>`` is ``!=``)."""

    path: Path
    op: str
    value: Literal


@dataclass(frozen=True)
class Like:
    """``path LIKE 'pattern'``."""

    path: Path
    pattern: StringLit


@dataclass(frozen=True)
class InList:
    """``path [NOT] IN (v1, v2…)``."""

    path: Path
    values: tuple[Literal, ...]
    negated: bool = False


@dataclass(frozen=True)
class SemiJoin:
    """``path [NOT] IN (SELECT field FROM Object WHERE …)``."""

    path: Path
    query: SubQuery
    negated: bool = False


@dataclass(frozen=True)
class Not:
    """``NOT cond``."""

    cond: Cond


@dataclass(frozen=True)
class And:
    """``a AND b AND …``."""

    conds: tuple[Cond, ...]


@dataclass(frozen=True)
class Or:
    """``a OR b OR …``."""

    conds: tuple[Cond, ...]


Cond = Compare | Like | InList | SemiJoin | Not | And | Or


@dataclass(frozen=True)
class SubQuery:
    """The inner query of a semi-join: one plain field, one object, optional WHERE."""

    field: Path
    sobject: str
    where: Cond | None = None


@dataclass(frozen=True)
class OrderItem:
    """One ORDER BY key; ``nulls_first`` None means SOQL's default (first for ASC, last for DESC)."""

    path: Path
    descending: bool = False
    nulls_first: bool | None = None


@dataclass(frozen=True)
class Query:
    """A whole SOQL query."""

    select: tuple[Path | CountStar, ...]
    sobject: str
    where: Cond | None = None
    order: tuple[OrderItem, ...] = ()
    limit: int | None = None
    offset: int | None = None

    @property
    def is_count(self) -> bool:
        """Whether this is ``SELECT COUNT() FROM …``."""
        return any(isinstance(item, CountStar) for item in self.select)
