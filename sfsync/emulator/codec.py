"""Values between Python, SQLite and the Salesforce wire format, by field type.

Inside the emulator values are Python types (aware UTC ``datetime``, ``date``, ``float``, ``int``,
``bool``, ``str``, None). In SQLite datetimes are fixed-width UTC text with milliseconds
(``2026-11-23T00:00:00.000Z``) so text order is time order; dates are ``YYYY-MM-DD``; booleans 0/1.
On the wire datetimes go out as ``2026-11-23T00:00:00.000+0000`` and dates as ``2026-11-23``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from sfsync import sfid
from sfsync.emulator.schema import NUMERIC_TYPES, TEXT_TYPES, FieldDef

SqlValue = str | int | float | None

#: sfid.to18, remembered: reads by ID and SOQL ID filters check the same IDs again and again (a bad
#: ID is not remembered, and raises each time).
to18 = lru_cache(maxsize=1 << 16)(sfid.to18)

_DT_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)


class BadValue(ValueError):
    """A value that does not fit its field's type."""


def parse_datetime(text: str) -> datetime:
    """A wire datetime with or without zone (UTC assumed) and with or without millis."""
    m = _DT_RE.match(text.strip())
    if not m:
        if re.match(r"^\d{4}-\d{2}-\d{2}$", text.strip()):
            return datetime.combine(date.fromisoformat(text.strip()), datetime.min.time(), UTC)
        msg = f"'{text}' is not a valid value for the type xsd:dateTime"
        raise BadValue(msg)
    year, month, day, hour, minute, second, frac, zone = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    tz = UTC
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    try:
        value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tz)
    except ValueError as exc:
        msg = f"'{text}' is not a valid value for the type xsd:dateTime"
        raise BadValue(msg) from exc
    return value.astimezone(UTC)


def parse_date(text: str) -> date:
    """A wire date ``YYYY-MM-DD`` (a datetime is cut to its UTC date)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return parse_datetime(text).date()


def to_sql(fdef: FieldDef, value: object) -> SqlValue:
    """Encode a Python (or lenient wire) value for storage in the field's column."""
    if value is None:
        return None
    kind = fdef.type
    if kind in TEXT_TYPES and isinstance(value, str):  # the common case, first: stored as given
        return value
    if kind == "boolean":
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return int(value.lower() == "true")
        msg = f"value not of required type: {value}"
        raise BadValue(msg)
    if kind in NUMERIC_TYPES:
        if isinstance(value, bool):
            msg = f"value not of required type: {value}"
            raise BadValue(msg)
        try:
            number = float(value) if isinstance(value, str | int | float) else float("nan")
        except ValueError as exc:
            msg = f"value not of required type: {value}"
            raise BadValue(msg) from exc
        if number != number:
            msg = f"value not of required type: {value}"
            raise BadValue(msg)
        return int(number) if kind == "int" else number
    if kind == "datetime":
        moment = value if isinstance(value, datetime) else parse_datetime(_text(value))
        return format_sql_datetime(moment)
    if kind == "date":
        if isinstance(value, datetime):
            return value.astimezone(UTC).date().isoformat()
        return (value if isinstance(value, date) else parse_date(_text(value))).isoformat()
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    msg = f"value not of required type: {value}"
    raise BadValue(msg)


def _text(value: object) -> str:
    if not isinstance(value, str):
        msg = f"value not of required type: {value}"
        raise BadValue(msg)
    return value


def format_sql_datetime(moment: datetime) -> str:
    """Fixed-width UTC text with milliseconds; naive datetimes are taken as UTC."""
    if moment.tzinfo is not UTC:  # the store's own instants are UTC already
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    second = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    prefix = _SECONDS.get(second)
    if prefix is None:
        if len(_SECONDS) >= 65536:
            _SECONDS.clear()
        prefix = _SECONDS[second] = moment.strftime("%Y-%m-%dT%H:%M:%S.")
    return f"{prefix}{moment.microsecond // 1000:03d}Z"


#: Text up to the milliseconds per second: every write stamps "now", and formatting the whole
#: instant each time costs twice as much. (strftime pads years from 1000 on, as isoformat does.)
_SECONDS: dict[tuple[int, ...], str] = {}


def encoder(fdef: FieldDef) -> Callable[[object], SqlValue]:
    """:func:`to_sql` for one field, with the value type that needs no checking taken first.

    The store encodes every column of every row it writes, and most values already have their
    field's own Python type (str for text, datetime, date, bool, float).
    """
    kind = fdef.type
    if kind == "datetime":
        return _encode_datetime
    own, convert = _OWN_TYPES.get(kind, (None, None))
    if kind in TEXT_TYPES or kind in _FLOAT_TYPES:

        def as_is(value: object) -> SqlValue:
            # value == value: a float NaN is refused by to_sql
            if type(value) is own and value == value:
                return value  # type: ignore[return-value]
            return to_sql(fdef, value)

        return as_is
    if convert is not None:

        def converted(value: object) -> SqlValue:
            return convert(value) if type(value) is own else to_sql(fdef, value)

        return converted
    return lambda value: to_sql(fdef, value)


#: The last datetime value encoded and its text: a row stamps the same instant (now) on several columns.
_last_datetime: tuple[object, SqlValue] = (None, None)


def _encode_datetime(value: object) -> SqlValue:
    """:func:`to_sql` for any datetime column (the result depends on the value alone)."""
    global _last_datetime
    seen = _last_datetime  # read once: another thread may replace it, never half of it
    if value is seen[0]:
        return seen[1]
    text = format_sql_datetime(value) if type(value) is datetime else to_sql(_ANY_DATETIME, value)
    _last_datetime = (value, text)
    return text


_ANY_DATETIME = FieldDef("datetime", "datetime")
_FLOAT_TYPES = NUMERIC_TYPES - {"int"}
#: Per field type: the Python type stored without checks, and how (None: as it is).
_OWN_TYPES: dict[str, tuple[type, Callable[[Any], SqlValue] | None]] = {
    **{kind: (str, None) for kind in TEXT_TYPES},
    **{kind: (float, None) for kind in _FLOAT_TYPES},
    "date": (date, date.isoformat),
    "boolean": (bool, int),
}


def from_sql(fdef: FieldDef, value: SqlValue) -> object:
    """Decode a stored value to its Python type."""
    if value is None:
        return None
    convert = decoder(fdef.type)
    return str(value) if convert is None else convert(value)


def decoder(kind: str) -> Callable[[Any], object] | None:
    """How :func:`from_sql` turns a non-null stored value of this field type into Python.

    None for text types: their columns have TEXT affinity, so SQLite hands back ``str`` already and
    a reader of many rows can leave those values alone.
    """
    if kind == "boolean":
        return bool
    if kind == "int":
        return int
    if kind in NUMERIC_TYPES:
        return float
    if kind == "datetime":
        return _datetime_from_sql
    if kind == "date":
        return _date_from_sql
    return None


# Both cached: rows repeat the same few stamps and term dates, and the results are immutable.
@lru_cache(maxsize=8192)
def _datetime_from_sql(value: SqlValue) -> datetime:
    # Stored by format_sql_datetime (fixed width, "Z"); fromisoformat is ~10x faster than strptime.
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


@lru_cache(maxsize=8192)
def _date_from_sql(value: SqlValue) -> date:
    return date.fromisoformat(str(value))


def to_wire(value: object) -> object:
    """A Python value as Salesforce's JSON shows it."""
    if isinstance(value, datetime):
        if value.tzinfo is None:  # astimezone reads a naive value as local time, as it always did here
            value = value.astimezone(UTC)
        return format_sql_datetime(value)[:-1] + "+0000"
    if isinstance(value, date):
        return value.isoformat()
    return value
