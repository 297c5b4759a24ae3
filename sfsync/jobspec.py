"""Job files (``jobs/*.toml``): WHAT sfsync does and WHEN, as typed models.

Admins edit these files; unknown keys are errors, never silently ignored, and every error names the
file and the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sfsync import sfid
from sfsync.errors import JobSpecError

#: ``today``, ``today+3m``, ``today-1d``, ``today+1y``, ``today+2w`` or an ISO date.
DATE_EXPR = re.compile(r"^(?:today(?:[+-]\d{1,4}[dwmy])?|\d{4}-\d{2}-\d{2})$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_date_expr(value: str) -> str:
    if not DATE_EXPR.match(value):
        msg = f"{value!r} is not a date: use YYYY-MM-DD, 'today', or 'today+N' with d, w, m or y (e.g. today+3m)"
        raise ValueError(msg)
    return value


DateExpr = Annotated[str, Field(description="YYYY-MM-DD, today, today+Nd/w/m/y")]


class Schedule(_Model):
    """When a job fires: a five-field cron expression in a time zone."""

    cron: str
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            msg = f"unknown time zone {value!r} (use an IANA name such as Europe/Paris)"
            raise ValueError(msg) from None
        return value

    @model_validator(mode="after")
    def _cron(self) -> Schedule:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(self.cron, timezone=ZoneInfo(self.timezone))
        except ValueError as exc:
            msg = f"cron {self.cron!r} is invalid: {exc} (five fields: minute hour day month weekday)"
            raise ValueError(msg) from None
        return self


class Selection(_Model):
    """Which assets a job considers (all filters combine with AND)."""

    #: Renewal sweeps: LifecycleEndDate from today + window_start_days to today + window_days.
    window_days: Annotated[int, Field(ge=0, le=3650)] = 30
    window_start_days: Annotated[int, Field(ge=-3650, le=3650)] = 0
    accounts: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    product_families: tuple[str, ...] = ()
    #: Only assets with DoesAutomaticallyRenew = true (what Salesforce's auto-renew template does).
    only_auto_renew: bool = False

    @field_validator("accounts")
    @classmethod
    def _account_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sfid.expect(item, "Account") for item in value)

    @field_validator("products")
    @classmethod
    def _product_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sfid.expect(item, "Product2") for item in value)

    @model_validator(mode="after")
    def _window(self) -> Selection:
        if self.window_start_days > self.window_days:
            msg = "window_start_days must not be after window_days"
            raise ValueError(msg)
        return self


class RenewalOptions(_Model):
    """How a renewal sweep renews."""

    #: ``automatic``: the asset's own renewal term; ``override``: explicit start and end.
    term: Literal["automatic", "override"] = "automatic"
    start: DateExpr | None = None
    end: DateExpr | None = None
    output: Literal["quote", "order"] = "quote"
    #: ``stop_at_quote`` leaves renewal quotes for human review; ``full_auto`` orders and activates.
    mode: Literal["full_auto", "stop_at_quote"] = "full_auto"

    @field_validator("start", "end")
    @classmethod
    def _dates(cls, value: str | None) -> str | None:
        return value if value is None else _check_date_expr(value)

    @model_validator(mode="after")
    def _override_dates(self) -> RenewalOptions:
        if self.term == "override" and (self.start is None or self.end is None):
            msg = "term = 'override' needs both start and end"
            raise ValueError(msg)
        if self.term == "automatic" and (self.start is not None or self.end is not None):
            msg = "start and end apply only to term = 'override'"
            raise ValueError(msg)
        if self.output == "order" and self.mode == "stop_at_quote":
            msg = "mode = 'stop_at_quote' needs output = 'quote'"
            raise ValueError(msg)
        return self


class CancellationOptions(_Model):
    """How a cancellation run cancels."""

    #: Default cancellation date for rows without their own.
    date: DateExpr = "today"
    output: Literal["quote", "order"] = "quote"
    mode: Literal["full_auto", "stop_at_quote"] = "full_auto"
    #: A CSV of assets (header AssetId, optional CancellationDate); relative to the job file.
    csv: Path | None = None
    #: Reject the whole input when any row is invalid.
    strict: bool = False

    @field_validator("date")
    @classmethod
    def _date(cls, value: str) -> str:
        return _check_date_expr(value)


class Limits(_Model):
    """Guards against runaway runs."""

    #: Stop before any write when the selection is larger than this.
    max_assets: Annotated[int, Field(ge=1)] = 10_000
    #: Items per engine batch; each request still carries at most what Salesforce allows (200 inputs
    #: or records), so a larger batch means fewer reads per item (IN lists of 500) and fewer passes.
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 1000


class JobSpec(_Model):
    """One job file."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
    kind: Literal["renewal", "cancellation"]
    description: str = ""
    org: str | None = None
    enabled: bool = True
    schedule: Schedule | None = None
    selection: Selection = Selection()
    renewal: RenewalOptions | None = None
    cancellation: CancellationOptions | None = None
    limits: Limits = Limits()
    #: The file the spec came from (set by the loader).
    source: Path | None = None

    @model_validator(mode="after")
    def _kind_section(self) -> JobSpec:
        if self.kind == "renewal" and self.cancellation is not None:
            msg = "a renewal job has no [cancellation] section"
            raise ValueError(msg)
        if self.kind == "cancellation" and self.renewal is not None:
            msg = "a cancellation job has no [renewal] section"
            raise ValueError(msg)
        return self

    @property
    def csv_path(self) -> Path | None:
        """The cancellation CSV, resolved against the job file's folder."""
        csv = self.cancellation_options.csv
        if csv is None or csv.is_absolute() or self.source is None:
            return csv
        return self.source.parent / csv

    @property
    def renewal_options(self) -> RenewalOptions:
        """The renewal options, defaults filled in."""
        return self.renewal or RenewalOptions()

    @property
    def cancellation_options(self) -> CancellationOptions:
        """The cancellation options, defaults filled in."""
        return self.cancellation or CancellationOptions()


def load_job(path: Path) -> JobSpec:
    """Read and validate one job file; raise JobSpecError naming the file and key."""
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except FileNotFoundError:
        msg = f"job file {path} does not exist"
        raise JobSpecError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"{path}: not valid TOML: {exc}"
        raise JobSpecError(msg) from None
    raw.setdefault("name", path.stem)
    try:
        return JobSpec.model_validate({**raw, "source": path})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "(top level)"
            reason = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"  {key}: {reason.removeprefix('Value error, ')}")
        msg = f"{path}: invalid job file:\n" + "\n".join(problems)
        raise JobSpecError(msg) from None


def load_jobs(directory: Path) -> Iterator[JobSpec | JobSpecError]:
    """Every job file in a directory, each valid spec or its error, in name order."""
    for path in sorted(directory.glob("*.toml")):
        try:
            yield load_job(path)
        except JobSpecError as exc:
            yield exc
