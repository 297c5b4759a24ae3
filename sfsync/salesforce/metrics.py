"""Calls per endpoint kind and their latency, as plain data the CLI, bench and ``/metrics`` read."""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field

#: Upper bounds (seconds) of the latency histogram buckets; the last bucket is +Inf.
BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass
class EndpointStats:
    """Counters for one endpoint kind."""

    count: int = 0
    errors: int = 0
    total_seconds: float = 0.0
    #: One counter per bucket in BUCKETS plus the +Inf bucket (not cumulative).
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))


def endpoint_kind(method: str, path: str) -> str:
    """A low-cardinality name for a request: ``query``, ``action:initiateRenewal``, ``collections``…"""
    parts = [part for part in path.split("?")[0].split("/") if part]
    if "data" in parts:
        parts = parts[parts.index("data") + 2 :]
    if not parts:
        return f"{method} versions"
    head = parts[0]
    if head in {"query", "queryAll"}:
        return "query"
    if head == "actions" and len(parts) >= 3:
        return f"action:{parts[2]}"
    if head == "composite":
        return "collections" if len(parts) > 1 and parts[1] == "sobjects" else "composite"
    if head == "sobjects" and len(parts) >= 2:
        return f"{method} sobject:{parts[1]}"
    if "oauth2" in parts:
        return f"oauth2:{parts[-1]}"
    return f"{method} {head}"


class Metrics:
    """Thread-safe call counters and latency histograms per endpoint kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[str, EndpointStats] = {}

    def record(self, kind: str, seconds: float, *, ok: bool) -> None:
        """Count one call of ``kind`` that took ``seconds``."""
        with self._lock:
            stats = self._stats.setdefault(kind, EndpointStats())
            stats.count += 1
            stats.errors += 0 if ok else 1
            stats.total_seconds += seconds
            stats.buckets[bisect.bisect_left(BUCKETS, seconds)] += 1

    def snapshot(self) -> dict[str, EndpointStats]:
        """A copy of the counters, safe to read while calls continue."""
        with self._lock:
            return {
                kind: EndpointStats(s.count, s.errors, s.total_seconds, list(s.buckets))
                for kind, s in self._stats.items()
            }

    def total_calls(self) -> int:
        """All calls counted so far."""
        with self._lock:
            return sum(stats.count for stats in self._stats.values())
