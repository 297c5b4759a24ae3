"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, Dialect, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

#: Auto-incrementing 64-bit key; SQLite only auto-increments a plain INTEGER primary key.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")

#: JSON document; JSONB on PostgreSQL so it can be indexed later. Python None is SQL NULL.
JSONDoc = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _sqlite_datetime_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        msg = "the ledger stores timezone-aware datetimes only"
        raise ValueError(msg)
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _sqlite_datetime_value(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _sqlite_date_text(value: date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):  # a datetime is a date too: store its day, as DATE does
        value = value.date()
    return value.isoformat()


def _sqlite_date_value(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


class _SqliteIso(TypeDecorator[Any]):
    """A type whose SQLite text is converted by two plain functions (the C ISO ones, in one call).

    On SQLite, SQLAlchemy's DATE/DATETIME types parse their text with a regex and a decorator then
    converts again; every claim reads seven such values per item, so that cost showed. Elsewhere the
    decorator's usual processing applies.
    """

    sqlite_bind: Callable[[Any], Any]
    sqlite_result: Callable[[Any], Any]

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, :attr:`sqlite_bind`; elsewhere the decorator's own processing."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        return self.sqlite_bind

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """On SQLite, :attr:`sqlite_result`; elsewhere the decorator's own processing."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return self.sqlite_result


class UTCDateTime(_SqliteIso):
    """A timezone-aware UTC instant on every backend.

    SQLite has no time zone type, so values are stored as naive UTC and made aware again on read;
    PostgreSQL stores ``timestamp with time zone``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Plain DATETIME on SQLite, TIMESTAMPTZ elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(DateTime())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes (they hide clock bugs); store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            msg = "the ledger stores timezone-aware datetimes only"
            raise ValueError(msg)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Always hand back an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    # On SQLite: naive UTC text in SQLAlchemy's DATETIME storage format, ``YYYY-MM-DD HH:MM:SS.ffffff``.
    sqlite_bind = staticmethod(_sqlite_datetime_text)
    sqlite_result = staticmethod(_sqlite_datetime_value)


class LedgerDate(_SqliteIso):
    """A calendar date; on SQLite read and written with the C ISO functions (``YYYY-MM-DD``)."""

    impl = Date
    cache_ok = True
    sqlite_bind = staticmethod(_sqlite_date_text)
    sqlite_result = staticmethod(_sqlite_date_value)
