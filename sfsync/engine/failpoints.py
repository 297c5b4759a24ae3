"""Failpoints: kill the worker at an exact point of a step, so crash-and-resume can be tested.

``SFSYNC_TEST_FAILPOINTS`` holds comma-separated ``step:point`` pairs (e.g. ``initiate:after_send``),
read once per process. When the engine reaches an armed point it ends the process at once with
``os._exit(137)`` (what SIGKILL leaves: no cleanup, no flush, no lease release). Unset, every call
is a cheap no-op. Points used by the engine, for each step (``select``, ``initiate``, ``pricing``,
``order``, ``address``, ``activate``, ``verify``):

- ``before_send``: the intent (if any) is committed, the call is not sent;
- ``after_send``: Salesforce answered, nothing of the answer is recorded yet;
- ``after_record``: the outcomes are committed to the ledger.
"""

from __future__ import annotations

import os
from functools import cache

#: A ``SFSYNC_TEST_*`` name: settings ignore that prefix, and it says the knob is for tests only.
ENV = "SFSYNC_TEST_FAILPOINTS"
#: The exit status a failpoint ends the process with (128 + SIGKILL).
EXIT_KILLED = 137
POINTS = ("before_send", "after_send", "after_record")


@cache
def armed() -> frozenset[str]:
    """The ``step:point`` pairs armed in this process (read once)."""
    raw = os.environ.get(ENV, "")
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def failpoint(step: str, point: str) -> None:
    """End the process at once if ``step:point`` is armed."""
    if armed() and f"{step}:{point}" in armed():
        os._exit(EXIT_KILLED)
