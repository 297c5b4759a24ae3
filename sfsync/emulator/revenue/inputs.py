"""Reading invocable-action inputs the way Salesforce does, and the element error they raise.

Leniency as the profile has it: input names in any case, ID lists as JSON lists (or one
comma-separated string), datetimes with or without zone and milliseconds, numbers as JSON strings,
an empty string for an optional input treated as absent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sfsync.emulator.codec import BadValue, parse_datetime


class ElementError(Exception):
    """One input's failure: items of (statusCode, message, asset IDs the message is about)."""

    def __init__(self, problems: list[tuple[str, str, list[str]]]) -> None:
        super().__init__("; ".join(message for _, message, _ in problems))
        self.problems = problems

    @property
    def items(self) -> list[dict[str, Any]]:
        """The element's ``errors`` array; a message about assets reads ``<id>[,<id>]: <message>``."""
        return [
            {"statusCode": code, "message": f"{','.join(ids)}: {message}" if ids else message, "fields": []}
            for code, message, ids in self.problems
        ]


def value(item: dict[str, Any], key: str) -> Any:
    """The input named ``key`` in any case; None when absent or an empty string."""
    found = item.get(key)
    if found is None:
        lowered = key.lower()
        found = next((v for k, v in item.items() if k.lower() == lowered), None)
    return None if found == "" else found


def _missing(key: str) -> ElementError:
    return ElementError([("REQUIRED_FIELD_MISSING", f"Specify a value for {key}, and try again.", [])])


def asset_ids(item: dict[str, Any], key: str) -> list[str]:
    """A required list of asset IDs (duplicates dropped, order kept)."""
    raw = value(item, key)
    if isinstance(raw, str):
        raw = [part.strip() for part in raw.split(",") if part.strip()]
    if not raw:
        raise _missing(key)
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise ElementError([("INVALID_INPUT", f"{key} must be a list of asset IDs.", [])])
    return list(dict.fromkeys(raw))


def output_type(item: dict[str, Any], key: str) -> str:
    """A required output type, ``Quote`` or ``Order`` (any case)."""
    raw = value(item, key)
    if raw is None:
        raise _missing(key)
    text = str(raw).strip().lower()
    if text not in ("quote", "order"):
        raise ElementError([("INVALID_INPUT", f"Specify Quote or Order for {key}, and try again.", [])])
    return text.capitalize()


def optional_datetime(item: dict[str, Any], key: str) -> datetime | None:
    """An optional datetime input (a date alone means its midnight UTC)."""
    raw = value(item, key)
    if raw is None:
        return None
    try:
        return parse_datetime(str(raw))
    except BadValue as exc:
        raise ElementError([("INVALID_INPUT", f"{key}: {exc}", [])]) from exc


def number(item: dict[str, Any], key: str) -> float | None:
    """An optional number input (JSON number or numeric string)."""
    raw = value(item, key)
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ElementError([("INVALID_INPUT", f"{key} must be a number.", [])])
    try:
        return float(raw)
    except (TypeError, ValueError) as exc:
        raise ElementError([("INVALID_INPUT", f"{key} must be a number.", [])]) from exc
