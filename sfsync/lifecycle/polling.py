"""The verification polling schedule: pure arithmetic, so the engine's loop only sleeps and asks."""

from __future__ import annotations

from collections.abc import Iterator


def poll_delays(start: float, factor: float, cap: float, deadline: float) -> Iterator[float]:
    """Seconds to wait before each poll: growing by ``factor``, capped, summing exactly to ``deadline``.

    The first wait is ``start``; the last one is shortened so the final poll falls on the deadline.

    >>> list(poll_delays(0.5, 2, 4, 10))
    [0.5, 1.0, 2.0, 4.0, 2.5]
    """
    if start <= 0 or factor < 1 or cap < start or deadline < 0:
        msg = (
            "poll_delays needs start > 0, factor >= 1, cap >= start, deadline >= 0 "
            f"(got {start}, {factor}, {cap}, {deadline})"
        )
        raise ValueError(msg)
    elapsed = 0.0
    delay = start
    # Compare with a small tolerance so float sums never add a near-zero final wait.
    while deadline - elapsed > 1e-9:
        step = min(delay, cap, deadline - elapsed)
        elapsed += step
        yield step
        delay = min(delay * factor, cap)
