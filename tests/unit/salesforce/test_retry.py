"""The retry policy: RELIABILITY.md's table as pure functions."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfsync.salesforce.retry import Decision, classify, delay


@pytest.mark.parametrize(
    ("status", "codes", "message", "sent", "creating", "expected"),
    [
        (None, [], "", False, True, Decision.RETRY),
        (None, [], "", True, False, Decision.RETRY),
        (None, [], "", True, True, Decision.RECONCILE),
        (503, [], "", True, True, Decision.RETRY),
        (502, [], "", True, False, Decision.RETRY),
        (502, [], "", True, True, Decision.RECONCILE),
        (504, [], "", True, True, Decision.RECONCILE),
        (500, [], "", True, True, Decision.RECONCILE),
        (500, [], "", True, False, Decision.RETRY),
        (400, ["UNABLE_TO_LOCK_ROW"], "unable to obtain exclusive access", True, True, Decision.RETRY),
        (401, ["INVALID_SESSION_ID"], "Session expired or invalid", True, True, Decision.REAUTH),
        (403, ["REQUEST_LIMIT_EXCEEDED"], "TotalRequests Limit exceeded.", True, False, Decision.PAUSE),
        (
            403,
            ["REQUEST_LIMIT_EXCEEDED"],
            "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
            True,
            True,
            Decision.BACK_OFF,
        ),
        (
            403,
            ["REQUEST_LIMIT_EXCEEDED"],
            "ConcurrentPerOrgLongTxn Limit exceeded",
            True,
            False,
            Decision.BACK_OFF,
        ),
        (400, ["MALFORMED_QUERY"], "unexpected token", True, False, Decision.FAIL),
        (400, ["INVALID_FIELD"], "No such column", True, False, Decision.FAIL),
        (400, ["REQUIRED_FIELD_MISSING"], "Select an account.", True, True, Decision.FAIL),
        (400, ["FIELD_CUSTOM_VALIDATION_EXCEPTION"], "rule", True, True, Decision.FAIL),
        (403, ["INSUFFICIENT_ACCESS"], "no access", True, False, Decision.FAIL),
        (404, ["NOT_FOUND"], "The requested resource does not exist", True, False, Decision.FAIL),
    ],
)
def test_classify_follows_the_table(
    status: int | None, codes: list[str], message: str, sent: bool, creating: bool, expected: Decision
) -> None:
    """Each row of the retry table maps to its decision."""
    assert classify(status, codes, message, sent=sent, creating=creating) is expected


@given(attempt=st.integers(min_value=1, max_value=200), seed=st.integers(0, 2**32))
def test_delay_stays_within_the_capped_exponential(attempt: int, seed: int) -> None:
    """Full jitter: 0 ≤ delay ≤ min(cap, base·2^(attempt−1))."""
    wait = delay(attempt, random.Random(seed), base=0.5, cap=30.0)
    assert 0.0 <= wait <= min(30.0, 0.5 * 2 ** (attempt - 1))


def test_delay_grows_then_caps() -> None:
    """The ceiling doubles per attempt until the cap (upper bound checked over many draws)."""
    rng = random.Random(1)
    highs = [max(delay(attempt, rng, base=1.0, cap=8.0) for _ in range(500)) for attempt in (1, 2, 3, 4, 6)]
    assert highs[0] <= 1.0 < highs[1] <= 2.0 < highs[2] <= 4.0 < highs[3] <= 8.0
    assert 4.0 < highs[4] <= 8.0


def test_delay_refuses_attempt_zero() -> None:
    """Attempts count from 1."""
    with pytest.raises(ValueError, match="attempt"):
        delay(0, random.Random(1))
