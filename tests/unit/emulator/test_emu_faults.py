"""Fault decisions: schedules, rates with a seed, targeting and JSON configuration."""

from __future__ import annotations

import pytest

from sfsync.emulator.config import FaultConfig, FaultRule
from sfsync.emulator.faults import FaultEngine, RequestInfo, config_from_json

QUERY = RequestInfo("GET", "/services/data/v66.0/query")
RENEW = RequestInfo("POST", "/services/data/v66.0/actions/standard/initiateRenewal", action="initiateRenewal")
PATCH_ORDERS = RequestInfo("PATCH", "/services/data/v66.0/composite/sobjects", sobjects=frozenset({"Order"}))


def _fires(engine: FaultEngine, req: RequestInfo, n: int) -> list[int]:
    return [i for i in range(1, n + 1) if engine.decide(req)]


def test_call_numbers_count_matching_requests_only() -> None:
    """`calls` counts the requests the rule matches, not all requests."""
    engine = FaultEngine(
        FaultConfig(rules=[FaultRule(kind="http_503", calls=(2, 4), action="initiateRenewal")])
    )
    fired = []
    for i in range(1, 7):
        assert engine.decide(QUERY) == []
        if engine.decide(RENEW):
            fired.append(i)
    assert fired == [2, 4]


def test_start_at_and_every() -> None:
    """Session expiry at call k and every m calls after it."""
    engine = FaultEngine(FaultConfig(rules=[FaultRule(kind="session_expiry", start_at=3, every=4)]))
    assert _fires(engine, QUERY, 12) == [3, 7, 11]


def test_rate_is_reproducible_with_a_seed() -> None:
    """The same seed fails the same calls; a different seed fails others."""
    rule = FaultRule(kind="http_500", rate=0.3)
    first = _fires(FaultEngine(FaultConfig(seed=7, rules=[rule])), QUERY, 200)
    again = _fires(FaultEngine(FaultConfig(seed=7, rules=[rule])), QUERY, 200)
    other = _fires(FaultEngine(FaultConfig(seed=8, rules=[rule])), QUERY, 200)
    assert first == again
    assert first != other
    assert 30 < len(first) < 90


def test_targeting_by_method_and_sobject_and_max_fires() -> None:
    """A rule for PATCH of Order ignores other requests and stops after max_fires."""
    rule = FaultRule(kind="lock_row", rate=1.0, method="PATCH", sobject="order", max_fires=2)
    engine = FaultEngine(FaultConfig(rules=[rule]))
    assert engine.decide(QUERY) == []
    assert _fires(engine, PATCH_ORDERS, 5) == [1, 2]
    assert engine.counters()[0]["seen"] == 5
    assert engine.counters()[0]["fired"] == 2


def test_time_window() -> None:
    """A window fires only between its bounds (seconds since start)."""
    engine = FaultEngine(FaultConfig(rules=[FaultRule(kind="http_503", window=(10.0, 20.0))]))
    start = engine._started
    assert engine.decide(QUERY, now_s=start + 5) == []
    assert engine.decide(QUERY, now_s=start + 15) != []
    assert engine.decide(QUERY, now_s=start + 25) == []


def test_json_configuration() -> None:
    """Rules come from JSON; unknown kinds and keys are refused."""
    config = config_from_json(
        '{"seed": 3, "rules": [{"kind": "lose_answer", "calls": [1], "action": "initiateRenewal"}]}'
    )
    assert config.seed == 3
    assert config.rules[0] == FaultRule(kind="lose_answer", calls=(1,), action="initiateRenewal")
    with pytest.raises(ValueError, match="unknown fault rule keys"):
        config_from_json('[{"kind": "http_500", "often": true}]')
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultEngine(config_from_json('[{"kind": "meteor"}]'))
