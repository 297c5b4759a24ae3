"""The one retry policy: what to do after a failed call, and how long to wait before the next try.

Pure functions (no I/O, no clock): the transport calls :func:`classify` after every failure and
sleeps :func:`delay` seconds through an injected ``sleep``. The table they implement is
RELIABILITY.md's "The retry policy":

- retry: connection refused before sending, 503, ``UNABLE_TO_LOCK_ROW`` (the transaction rolled
  back), 502/504 and 500 on calls that create nothing, a lost answer on calls that create nothing;
- reauth: ``401 INVALID_SESSION_ID`` — the transport re-authenticates once and repeats the call;
- back off: 403 ``REQUEST_LIMIT_EXCEEDED`` for ``ConcurrentRequests…``/``ConcurrentPerOrgLongTxn…``;
- pause: 403 ``REQUEST_LIMIT_EXCEEDED`` ``TotalRequests Limit exceeded.`` (no further call);
- reconcile: a creating call was sent and its answer lost (read timeout, connection reset, 500, and
  502/504 — a gateway timeout may hide a commit), so it must never be resent blindly;
- fail: everything else (validation, permissions, malformed query, 404…).
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence

#: Error codes whose transaction Salesforce rolled back, so sending again is safe.
RETRYABLE_CODES = frozenset({"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"})
_RETRY_STATUSES = frozenset({502, 503, 504})
_UNCERTAIN_ON_CREATE = frozenset({500, 502, 504})


class Decision(enum.Enum):
    """What the caller should do after a failure."""

    RETRY = "retry"
    REAUTH = "reauth"
    BACK_OFF = "back_off"
    PAUSE = "pause"
    RECONCILE = "reconcile"
    FAIL = "fail"


def classify(
    status: int | None,
    error_codes: Sequence[str],
    message: str,
    *,
    sent: bool,
    creating: bool,
) -> Decision:
    """Decide what a failure means; ``status`` is None when no HTTP answer arrived."""
    codes = set(error_codes)
    if status is None:
        # Nothing sent (refused, DNS) is always safe; a lost answer is only safe for reads.
        if not sent or not creating:
            return Decision.RETRY
        return Decision.RECONCILE
    if status == 401 and ("INVALID_SESSION_ID" in codes or not codes):
        return Decision.REAUTH
    if "REQUEST_LIMIT_EXCEEDED" in codes:
        if "Concurrent" in message:
            return Decision.BACK_OFF
        return Decision.PAUSE
    if codes & RETRYABLE_CODES:
        return Decision.RETRY
    if creating and status in _UNCERTAIN_ON_CREATE:
        return Decision.RECONCILE
    if status in _RETRY_STATUSES or status == 500:
        return Decision.RETRY
    return Decision.FAIL


def delay(attempt: int, rng: random.Random, base: float = 0.5, cap: float = 30.0) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): capped exponential, full jitter."""
    if attempt < 1:
        msg = "attempt starts at 1"
        raise ValueError(msg)
    ceiling = min(cap, base * (2 ** min(attempt - 1, 62)))
    return rng.uniform(0.0, ceiling)
