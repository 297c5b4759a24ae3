"""The verification polling schedule."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sfsync.lifecycle.verify import poll_delays


def test_schedule_grows_caps_and_lands_on_the_deadline() -> None:
    """0.5 s doubling, capped at 4 s, over 20 s: the last wait is trimmed to hit the deadline."""
    assert list(poll_delays(0.5, 2, 4, 20)) == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 0.5]


def test_zero_deadline_means_no_wait() -> None:
    """With no time left there is nothing to wait for."""
    assert list(poll_delays(1, 2, 8, 0)) == []


@pytest.mark.parametrize(
    ("start", "factor", "cap", "deadline"),
    [(0, 2, 1, 10), (1, 0.5, 1, 10), (2, 2, 1, 10), (1, 2, 4, -1), (-1, 2, 4, 10)],
)
def test_bad_arguments_are_misuse(start: float, factor: float, cap: float, deadline: float) -> None:
    """Non-positive start, shrinking factor, cap below start or negative deadline raise ValueError."""
    with pytest.raises(ValueError, match="poll_delays needs"):
        list(poll_delays(start, factor, cap, deadline))


@given(
    start=st.floats(0.01, 5),
    factor=st.floats(1, 4),
    extra_cap=st.floats(0, 30),
    deadline=st.floats(0, 600),
)
def test_schedule_properties(start: float, factor: float, extra_cap: float, deadline: float) -> None:
    """Waits are positive, capped, non-decreasing but for the last, and sum to the deadline."""
    cap = start + extra_cap
    delays = list(poll_delays(start, factor, cap, deadline))
    assert all(0 < d <= cap for d in delays)
    assert all(a <= b for a, b in itertools.pairwise(delays[:-1]))
    assert math.isclose(sum(delays), deadline, abs_tol=1e-6)
    if delays:
        assert delays[0] == min(start, deadline)
