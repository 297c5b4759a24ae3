"""The org's daily API allowance, read from ``Sforce-Limit-Info`` on every response.

Salesforce sends no ``Retry-After``; ``Sforce-Limit-Info: api-usage=N/M`` (optionally
``; per-app-api-usage=U/T(appName=X)``) is the only budget signal (salesforce-api.md §2.7). Before
each request the transport asks :meth:`ApiBudget.check`; past ``(1 - reserve) * max`` it raises
:class:`~sfsync.errors.BudgetExhaustedError` and the engine pauses the run cleanly.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sfsync.errors import BudgetExhaustedError

_USAGE_RE = re.compile(r"(?:^|[;,\s])api-usage=(\d+)/(\d+)")
_PER_APP_RE = re.compile(r"per-app-api-usage=(\d+)/(\d+)\(appName=([^)]*)\)")


@dataclass(frozen=True)
class Usage:
    """API calls used and allowed, org-wide and (when sent) for this connected app."""

    used: int
    max: int
    app_used: int | None = None
    app_max: int | None = None
    app_name: str | None = None


def parse_limit_info(header: str) -> Usage | None:
    """Parse a ``Sforce-Limit-Info`` header value; None when it carries no ``api-usage``."""
    found = _USAGE_RE.search(header)
    if found is None:
        return None
    app = _PER_APP_RE.search(header)
    if app is None:
        return Usage(int(found.group(1)), int(found.group(2)))
    return Usage(int(found.group(1)), int(found.group(2)), int(app.group(1)), int(app.group(2)), app.group(3))


class ApiBudget:
    """Thread-safe view of the API allowance with a reserve that new work must not eat into.

    What it knows goes stale: the daily allowance is a rolling 24-hour window, so a refusal (or a
    usage reading) older than ``stale_after_s`` no longer stops a call — a long-lived worker tries
    again, and the answer's ``Sforce-Limit-Info`` (or another 403) tells it where it stands.
    """

    def __init__(
        self, reserve: float, *, stale_after_s: float = 900.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if not 0 <= reserve < 1:
            msg = "reserve must be in [0, 1)"
            raise ValueError(msg)
        self.reserve = reserve
        self.stale_after_s = stale_after_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._usage: Usage | None = None
        self._usage_at = 0.0
        self._exhausted_reason: str | None = None
        self._exhausted_at = 0.0

    @property
    def usage(self) -> Usage | None:
        """The last usage seen, if any."""
        with self._lock:
            return self._usage

    def observe(self, header: str | None) -> None:
        """Record the usage a response reported."""
        if not header:
            return
        usage = parse_limit_info(header)
        if usage is not None:
            with self._lock:
                self._usage = usage
                self._usage_at = self._monotonic()

    def mark_exhausted(self, reason: str) -> None:
        """Refuse further calls (Salesforce answered ``TotalRequests Limit exceeded.``) until stale."""
        with self._lock:
            self._exhausted_reason = reason
            self._exhausted_at = self._monotonic()

    def check(self, endpoint: str | None = None) -> None:
        """Raise BudgetExhaustedError if one more call would pass the allowance minus the reserve."""
        now = self._monotonic()
        with self._lock:
            if self._exhausted_reason is not None and now - self._exhausted_at >= self.stale_after_s:
                self._exhausted_reason = None
            if self._usage is not None and now - self._usage_at >= self.stale_after_s:
                self._usage = None
            reason, usage = self._exhausted_reason, self._usage
        if reason is not None:
            raise BudgetExhaustedError(reason, error_codes=["REQUEST_LIMIT_EXCEEDED"], endpoint=endpoint)
        if usage is None:
            return
        pools = [("daily calls", usage.used, usage.max)]
        if usage.app_used is not None and usage.app_max is not None:
            pools.append((f"calls of app {usage.app_name}", usage.app_used, usage.app_max))
        for what, used, allowed in pools:
            if allowed > 0 and used + 1 > (1 - self.reserve) * allowed:
                msg = (
                    f"API budget reserve reached: {used} of {allowed} {what} used, "
                    f"{self.reserve:.0%} kept in reserve; the run pauses and resumes later"
                )
                raise BudgetExhaustedError(msg, endpoint=endpoint)
