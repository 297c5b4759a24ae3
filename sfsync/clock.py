"""Time as a dependency: production reads the system clock, tests pass a fixed one."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where sfsync gets the time; always timezone-aware UTC."""

    def now(self) -> datetime:
        """The current instant, UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for deadlines and durations."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """The current instant, UTC."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """The process's monotonic clock."""
        return time.monotonic()


class FixedClock:
    """A clock that moves only when told to; for tests."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            msg = "FixedClock needs a timezone-aware datetime"
            raise ValueError(msg)
        self._at = at.astimezone(UTC)
        self._mono = 0.0

    def now(self) -> datetime:
        """The fixed instant."""
        return self._at

    def monotonic(self) -> float:
        """Seconds advanced since creation."""
        return self._mono

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self._at += timedelta(seconds=seconds)
        self._mono += seconds
