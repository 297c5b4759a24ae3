"""Renewal terms: the automatic term from the asset's own settings, an override from explicit dates,
the datetimes sent to ``initiateRenewal``, and the job-relative date expressions (``today+1y``).

Conventions (salesforce-api.md Part 1, "Renewal" and "Effects to verify"): periods are UTC, start
at ``:00`` and end at ``:59``, and abut to the second. An automatic term starts one second after the
current lifecycle end and ends the term's length later minus one second; month arithmetic clamps to
the end of the month (Jan 31 + 1 month = Feb 28 or 29).

An override term "from S to E" is sent as ``renewStartDate = S T00:00:00.000Z`` and
``renewEndDate = E T00:00:00.000Z``, and E is the boundary the term stops at: the new period runs
from S 00:00:00Z to the second before E 00:00:00Z, i.e. (E − 1 day) 23:59:59Z. This is how the
training unit's figures read ("2025-08-10 → 2026-08-10" is one year, 249.95 = 12 × 20.83 at MRR
20.83) and how the emulator interprets an end sent at 00:00:00; so "today → today + 1 year" is
exactly one year, like an automatic annual term.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from sfsync.errors import InputError
from sfsync.lifecycle.model import ONE_SECOND, AssetSnapshot, day_start, utc_second, wire_datetime

#: Months per ``Asset.RenewalTermUnit`` value (the four values a live org's describe shows).
UNIT_MONTHS: dict[str, int] = {"Annual": 12, "Months": 1, "Quarterly": 3, "Semi-Annual": 6}

_EXPR = re.compile(r"today\s*(?:([+-])\s*([0-9]{1,5})\s*([dwmy]))?", re.IGNORECASE | re.ASCII)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class RenewalTerm:
    """A renewal term as the resulting ``AssetStatePeriod`` must show it (UTC, to the second)."""

    start: datetime
    end: datetime
    #: True for an override term (explicit dates sent); False for the asset's automatic term.
    override: bool

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc_second(self.start))
        object.__setattr__(self, "end", utc_second(self.end))
        if self.end <= self.start:
            msg = f"renewal term ends ({self.end.isoformat()}) before it starts ({self.start.isoformat()})"
            raise ValueError(msg)

    def action_inputs(self) -> dict[str, str]:
        """The ``initiateRenewal`` date inputs: none for an automatic term, both for an override."""
        if not self.override:
            return {}
        return {
            "renewStartDate": wire_datetime(self.start.date()),
            "renewEndDate": wire_datetime((self.end + ONE_SECOND).date()),
        }


def days_in_month(year: int, month: int) -> int:
    """Number of days in a month."""
    return calendar.monthrange(year, month)[1]


def add_months_to_date(day: date, months: int) -> date:
    """``day`` plus a number of months, the day clamped to the target month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    if not 1 <= year <= 9999:
        msg = f"{day.isoformat()} {months:+d} months is out of range"
        raise OverflowError(msg)
    return date(year, month0 + 1, min(day.day, days_in_month(year, month0 + 1)))


def add_months(moment: datetime, months: int) -> datetime:
    """A datetime plus a number of months, keeping the time of day, the day clamped to month end."""
    target = add_months_to_date(moment.date(), months)
    return moment.replace(year=target.year, month=target.month, day=target.day)


def term_months(renewal_term: Decimal | None, unit: str | None, *, asset_id: str = "") -> int:
    """The term's length in whole months; a missing or unusable term raises InputError."""
    who = f"asset {asset_id}: " if asset_id else ""
    if renewal_term is None or unit is None or unit == "":
        msg = (
            f"{who}no renewal term (RenewalTerm={renewal_term}, RenewalTermUnit={unit!r}); "
            "set both on the asset or use an override term"
        )
        raise InputError(msg)
    if unit not in UNIT_MONTHS:
        msg = f"{who}unknown RenewalTermUnit {unit!r} (expected one of {', '.join(UNIT_MONTHS)})"
        raise InputError(msg)
    try:
        months = Decimal(renewal_term) * UNIT_MONTHS[unit]
        whole = months == months.to_integral_value()
    except InvalidOperation:
        whole = False
        months = Decimal(0)
    if not whole or months <= 0:
        msg = f"{who}renewal term {renewal_term} {unit} is not a positive whole number of months"
        raise InputError(msg)
    return int(months)


def automatic_term(asset: AssetSnapshot) -> RenewalTerm:
    """The asset's own renewal term: from one second after its lifecycle end, for its term length."""
    months = term_months(asset.renewal_term, asset.renewal_term_unit, asset_id=asset.id)
    if asset.lifecycle_end is None:
        msg = f"asset {asset.id}: no LifecycleEndDate (evergreen); an automatic renewal needs an end"
        raise InputError(msg)
    start = asset.lifecycle_end + ONE_SECOND
    return RenewalTerm(start=start, end=add_months(start, months) - ONE_SECOND, override=False)


def override_term(start: date, end: date, *, today: date) -> RenewalTerm:
    """An explicit term from ``start`` 00:00:00Z up to (not including) ``end``; start ≥ today, end > start."""
    if start < today:
        msg = f"renewal start {start.isoformat()} is in the past (today is {today.isoformat()})"
        raise InputError(msg)
    if end <= start:
        msg = f"renewal end {end.isoformat()} must be after its start {start.isoformat()}"
        raise InputError(msg)
    return RenewalTerm(start=day_start(start), end=day_start(end) - ONE_SECOND, override=True)


def check_expression(expr: str) -> None:
    """Raise InputError unless ``expr`` is ``today``, ``today±N{d,w,m,y}`` or a ``YYYY-MM-DD`` date."""
    resolve(expr, date(2000, 1, 1))


def resolve(expr: str, today: date) -> date:
    """Evaluate a job-relative date expression (``today``, ``today+3m``, ``today+1y``, ``today+30d``, ISO)."""
    text = expr.strip()
    match = _EXPR.fullmatch(text)
    if match:
        sign, number, unit = match.groups()
        if sign is None:
            return today
        amount = int(number) * (1 if sign == "+" else -1)
        try:
            return _shift(today, amount, unit.lower())
        except (OverflowError, ValueError) as exc:
            msg = f"date expression {expr!r} is out of range from {today.isoformat()}"
            raise InputError(msg) from exc
    if _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError as exc:
            msg = f"{expr!r} is not a real date ({exc})"
            raise InputError(msg) from exc
    msg = f"{expr!r} is not a date: use YYYY-MM-DD, 'today', or 'today+N' with d, w, m or y (e.g. today+3m)"
    raise InputError(msg)


def _shift(today: date, amount: int, unit: str) -> date:
    if unit == "d":
        return today + timedelta(days=amount)
    if unit == "w":
        return today + timedelta(weeks=amount)
    if unit == "m":
        return add_months_to_date(today, amount)
    return add_months_to_date(today, amount * 12)
