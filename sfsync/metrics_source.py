"""The worker's figures for ``/metrics``: API calls, remaining daily budget and call latency.

The web app reads runs and items from the ledger itself; this source adds what only the worker
knows, from each org client's ``metrics`` and ``budget``. The clients are looked up at every scrape
(the worker connects to orgs lazily), and their counters are summed per endpoint kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sfsync.salesforce.client import SalesforceClient
from sfsync.salesforce.metrics import BUCKETS
from sfsync.web.metrics import Histogram, WorkerMetrics


def snapshot(clients: Mapping[str, SalesforceClient]) -> WorkerMetrics:
    """One scrape's figures from the clients of the connected org profiles."""
    calls: dict[str, int] = {}
    errors: dict[str, int] = {}
    remaining: dict[str, int] = {}
    buckets: dict[str, list[int]] = {}
    seconds: dict[str, float] = {}
    for org, client in clients.items():
        for kind, stats in client.metrics.snapshot().items():
            calls[kind] = calls.get(kind, 0) + stats.count
            errors[kind] = errors.get(kind, 0) + stats.errors
            merged = buckets.setdefault(kind, [0] * (len(BUCKETS) + 1))
            for index, n in enumerate(stats.buckets):
                merged[index] += n
            seconds[kind] = seconds.get(kind, 0.0) + stats.total_seconds
        usage = client.budget.usage
        if usage is not None:
            remaining[org] = max(usage.max - usage.used, 0)
    # The client measures each batched call by endpoint kind (``action:initiateRenewal``, ``query``…),
    # which is what each step's calls are; the histogram is labelled with that kind.
    latency = {kind: Histogram(BUCKETS, tuple(counts), seconds[kind]) for kind, counts in buckets.items()}
    return WorkerMetrics(api_calls=calls, api_errors=errors, api_remaining=remaining, step_latency=latency)


class ClientMetricsSource:
    """A ``metrics_source`` for ``create_app``: a fresh snapshot of the current clients per scrape."""

    def __init__(self, clients: Callable[[], Mapping[str, SalesforceClient]]) -> None:
        self._clients = clients

    def __call__(self) -> WorkerMetrics:
        """The worker's current figures."""
        return snapshot(self._clients())
