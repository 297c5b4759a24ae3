"""The request log: one entry per HTTP request the emulator answered (or dropped).

Tests and the reliability report read it to count attempted calls, committed writes and lost
answers; the admin endpoint serves it as JSON.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass


@dataclass
class LogEntry:
    """What happened to one request."""

    seq: int
    method: str
    path: str
    action: str | None
    status: int | None
    duration_ms: float
    committed: bool
    records: int
    fault: str | None = None
    api_version: str | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-friendly form."""
        return asdict(self)


class RequestLog:
    """Thread-safe, bounded list of :class:`LogEntry`."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._entries: list[LogEntry] = []
        self._seq = 0
        self._max = max_entries

    def add(self, **fields: object) -> LogEntry:
        """Append an entry (fields as in :class:`LogEntry`, without ``seq``)."""
        with self._lock:
            self._seq += 1
            entry = LogEntry(seq=self._seq, **fields)  # type: ignore[arg-type]
            self._entries.append(entry)
            if len(self._entries) > self._max:
                del self._entries[: len(self._entries) - self._max]
            return entry

    def entries(self) -> list[LogEntry]:
        """A copy of all entries, oldest first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
