"""``/metrics`` in the Prometheus text format, from the ledger and from what the worker reports.

Each app has its own :class:`CollectorRegistry` (never the process-global one), so two apps in one
process (tests, a worker with several ledgers) do not mix. The ledger figures are read at scrape
time; the worker passes a :class:`MetricsSource`, a callable returning a :class:`WorkerMetrics`
snapshot (API calls, remaining daily budget, step latencies), so the web layer needs no link to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import structlog
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from sfsync.ledger import ACTIVE_STATUSES, Ledger

log = structlog.get_logger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_PAGE = 500


@dataclass(frozen=True, slots=True)
class Histogram:
    """Latency observations: ``counts`` per bucket of ``bounds`` plus +Inf (not cumulative)."""

    bounds: Sequence[float]
    counts: Sequence[int]
    total_seconds: float

    def __post_init__(self) -> None:
        if len(self.counts) != len(self.bounds) + 1:
            msg = f"a histogram with {len(self.bounds)} bounds needs {len(self.bounds) + 1} counts"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class WorkerMetrics:
    """What the worker knows and the ledger does not, at one instant."""

    #: endpoint kind (``query``, ``action:initiateRenewal``…) -> calls made
    api_calls: Mapping[str, int] = field(default_factory=dict)
    #: endpoint kind -> calls that failed
    api_errors: Mapping[str, int] = field(default_factory=dict)
    #: org profile -> API calls left today (from ``Sforce-Limit-Info``)
    api_remaining: Mapping[str, int] = field(default_factory=dict)
    #: step name -> latency histogram of its batched calls
    step_latency: Mapping[str, Histogram] = field(default_factory=dict)


class MetricsSource(Protocol):
    """A callable the worker passes to ``create_app``: a fresh :class:`WorkerMetrics` each scrape."""

    def __call__(self) -> WorkerMetrics:
        """The worker's current figures."""
        ...


class LedgerCollector(Collector):
    """Runs by job and status, items by state: read from the ledger at each scrape."""

    def __init__(self, ledger: Ledger, source: Callable[[], WorkerMetrics] | None) -> None:
        self._ledger = ledger
        self._source = source

    def collect(self) -> Iterator[Metric]:
        """Yield the metric families of one scrape."""
        runs = GaugeMetricFamily(
            "sfsync_runs", "Runs in the ledger by job and status", labels=["job", "status"]
        )
        items = GaugeMetricFamily("sfsync_items", "Items of all runs by state", labels=["state"])
        by_run: dict[tuple[str, str], int] = {}
        by_state: dict[str, int] = {}
        offset = 0
        while True:
            page = self._ledger.runs.find(limit=_PAGE, offset=offset)
            for run in page:
                by_run[(run.job, run.status)] = by_run.get((run.job, run.status), 0) + 1
                # An active run's stored counts lag behind; count its items now.
                counts = self._ledger.items.counts(run.id) if run.status in ACTIVE_STATUSES else run.counts
                for state, n in counts.items():
                    by_state[state] = by_state.get(state, 0) + n
            if len(page) < _PAGE:
                break
            offset += _PAGE
        for (job, status), n in sorted(by_run.items()):
            runs.add_metric([job, status], n)
        for state, n in sorted(by_state.items()):
            items.add_metric([state], n)
        yield runs
        yield items
        if self._source is not None:
            yield from _worker_families(self._source())


def _worker_families(snapshot: WorkerMetrics) -> Iterator[Metric]:
    calls = CounterMetricFamily("sfsync_api_calls", "Salesforce API calls by endpoint kind", labels=["kind"])
    for kind, n in sorted(snapshot.api_calls.items()):
        calls.add_metric([kind], n)
    errors = CounterMetricFamily(
        "sfsync_api_errors", "Salesforce API calls that failed, by endpoint kind", labels=["kind"]
    )
    for kind, n in sorted(snapshot.api_errors.items()):
        errors.add_metric([kind], n)
    remaining = GaugeMetricFamily(
        "sfsync_api_daily_remaining", "Salesforce API calls left today, by org profile", labels=["org"]
    )
    for org, n in sorted(snapshot.api_remaining.items()):
        remaining.add_metric([org], n)
    latency = HistogramMetricFamily(
        "sfsync_step_latency_seconds", "Latency of a step's batched calls", labels=["step"]
    )
    for step, hist in sorted(snapshot.step_latency.items()):
        cumulative, buckets = 0, []
        for bound, n in zip([*map(float, hist.bounds), float("inf")], hist.counts, strict=True):
            cumulative += n
            buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
        latency.add_metric([step], buckets, sum_value=hist.total_seconds)
    yield from (calls, errors, remaining, latency)


class WebMetrics:
    """The app's registry: ledger and worker figures plus the web layer's own counters."""

    def __init__(self, ledger: Ledger, source: Callable[[], WorkerMetrics] | None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(LedgerCollector(ledger, source))
        self.login_failures = Counter(
            "sfsync_web_login_failures", "Refused admin-page logins", ["reason"], registry=self.registry
        )

    def render(self) -> bytes:
        """The exposition text of one scrape."""
        return generate_latest(self.registry)
