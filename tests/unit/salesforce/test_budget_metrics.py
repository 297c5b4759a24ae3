"""The API budget from Sforce-Limit-Info, and the call metrics."""

from __future__ import annotations

import threading

import pytest

from sfsync.errors import BudgetExhaustedError
from sfsync.salesforce.budget import ApiBudget, Usage, parse_limit_info
from sfsync.salesforce.metrics import Metrics, endpoint_kind


def test_parse_plain_and_per_app_usage() -> None:
    """Both documented header forms parse; api-bursts is ignored."""
    assert parse_limit_info("api-usage=18/5000") == Usage(18, 5000)
    assert parse_limit_info(
        "api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)"
    ) == Usage(25, 5000, 17, 250, "sample-connected-app")
    assert parse_limit_info("api-usage=1/15000; api-bursts=1/750") == Usage(1, 15000)
    assert parse_limit_info("per-app-api-usage=17/250(appName=x)") is None


def test_reserve_stops_before_usage_passes_the_threshold() -> None:
    """85% used with a 10% reserve: calls pass until the next one would exceed 90%."""
    budget = ApiBudget(0.10)
    budget.observe("api-usage=850/1000")
    budget.check()
    budget.observe("api-usage=899/1000")
    budget.check()
    budget.observe("api-usage=900/1000")
    with pytest.raises(BudgetExhaustedError, match="reserve reached: 900 of 1000 daily calls"):
        budget.check()


def test_unknown_usage_allows_calls_and_exhaustion_sticks() -> None:
    """Before any header all calls pass; after a TotalRequests refusal none do."""
    budget = ApiBudget(0.2)
    budget.check()
    budget.mark_exhausted("TotalRequests Limit exceeded.")
    budget.observe("api-usage=1/1000")
    with pytest.raises(BudgetExhaustedError, match="TotalRequests"):
        budget.check()


def test_budget_is_thread_safe() -> None:
    """Concurrent observers and checkers leave a consistent last value."""
    budget = ApiBudget(0.0)

    def work(n: int) -> None:
        for i in range(200):
            budget.observe(f"api-usage={n * 1000 + i}/1000000")
            budget.check()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    usage = budget.usage
    assert usage is not None
    assert usage.max == 1000000
    assert usage.used % 1000 == 199


def test_endpoint_kinds_are_low_cardinality() -> None:
    """Paths collapse into a few kinds."""
    assert endpoint_kind("GET", "/services/data/v66.0/query") == "query"
    assert endpoint_kind("GET", "/services/data/v66.0/query/01gRO0000016PIAYA2-500") == "query"
    assert (
        endpoint_kind("POST", "/services/data/v66.0/actions/standard/initiateRenewal")
        == "action:initiateRenewal"
    )
    assert endpoint_kind("PATCH", "/services/data/v66.0/composite/sobjects") == "collections"
    assert endpoint_kind("POST", "/services/data/v66.0/composite") == "composite"
    assert endpoint_kind("PATCH", "/services/data/v66.0/sobjects/Order/801x") == "PATCH sobject:Order"
    assert endpoint_kind("GET", "/services/oauth2/userinfo") == "oauth2:userinfo"


def test_metrics_count_and_bucket() -> None:
    """Counts, errors, total time and histogram buckets per kind."""
    metrics = Metrics()
    metrics.record("query", 0.003, ok=True)
    metrics.record("query", 0.2, ok=False)
    metrics.record("collections", 100.0, ok=True)
    snap = metrics.snapshot()
    assert snap["query"].count == 2
    assert snap["query"].errors == 1
    assert snap["query"].total_seconds == pytest.approx(0.203)
    assert snap["query"].buckets[0] == 1
    assert sum(snap["query"].buckets) == 2
    assert snap["collections"].buckets[-1] == 1
    assert metrics.total_calls() == 3


def test_per_app_allowance_is_respected_too() -> None:
    """When the connected app has its own allowance, its reserve also stops new calls."""
    budget = ApiBudget(0.2)
    budget.observe("api-usage=10/5000; per-app-api-usage=200/250(appName=sfsync)")
    with pytest.raises(BudgetExhaustedError, match="200 of 250 calls of app sfsync"):
        budget.check()


def test_refusal_and_usage_go_stale() -> None:
    """A long-lived worker tries again once what it knew about the daily window is stale."""
    from sfsync.errors import BudgetExhaustedError as Exhausted
    from sfsync.salesforce.budget import ApiBudget as Budget

    now = [0.0]
    budget = Budget(0.1, stale_after_s=900, monotonic=lambda: now[0])
    budget.observe("api-usage=950/1000")
    with pytest.raises(Exhausted):
        budget.check()
    budget.mark_exhausted("TotalRequests Limit exceeded.")
    now[0] = 899.0
    with pytest.raises(Exhausted):
        budget.check()
    now[0] = 900.0
    budget.check()
