"""Values between Python, SQLite and the Salesforce wire format, by field type.

Inside the emulator values are Python types (aware UTC ``datetime``, ``date``, ``float``, ``int``,
``bool``, ``str``, None). In SQLite datetimes are fixed-width UTC text with milliseconds
(``2026-11-23T00:00:00.000Z``) so text order is time order; dates are ``YYYY-MM-DD``; booleans 0/1.
On the wire datetimes go out as ``2026-11-23T00:00:00.000+0000`` and dates as ``2026-11-23``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from sfsync.emulator.schema import NUMERIC_TYPES, FieldDef

SqlValue = str | int | float | None

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
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if moment.year >= 1000:  # isoformat pads years to four digits, strftime does not: same text here
        return moment.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def from_sql(fdef: FieldDef, value: SqlValue) -> object:
    """Decode a stored value to its Python type."""
    if value is None:
        return None
    kind = fdef.type
    if kind == "boolean":
        return bool(value)
    if kind == "int":
        return int(value)
    if kind in NUMERIC_TYPES:
        return float(value)
    if kind == "datetime":
        # Stored by format_sql_datetime (fixed width, "Z"); fromisoformat is ~10x faster than strptime.
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    if kind == "date":
        return date.fromisoformat(str(value))
    return str(value)


def to_wire(value: object) -> object:
    """A Python value as Salesforce's JSON shows it."""
    if isinstance(value, datetime):
        moment = value.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    return value
