"""Item states of a run and the steps that move items between them.

An item moves forward one step at a time; a step takes a batch of items in its input state, makes
one batched call, and records every item's outcome. States ending in ``-ing`` are *intent* states:
the ledger row was committed before a creating call was sent, so after a crash or a lost answer the
item is **reconciled** (look in Salesforce for what the call may have made) before anything is sent
again::

    selected ─▶ initiating ─▶ quoted ─▶ priced ─▶ ordering ─▶ ordered ─▶ addressed ─▶ activating ─▶ activated ─▶ verified
                    │ (output = order) ─────────────────────────────▶ ordered        (stop at quote: priced ─▶ quote_ready)
    final: verified · quote_ready · mismatch · timed_out · failed · rejected · skipped · cancelled
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class State(StrEnum):
    """Where an item is."""

    SELECTED = "selected"
    INITIATING = "initiating"
    QUOTED = "quoted"
    PRICED = "priced"
    ORDERING = "ordering"
    ORDERED = "ordered"
    ADDRESSED = "addressed"
    ACTIVATING = "activating"
    ACTIVATED = "activated"
    VERIFIED = "verified"
    QUOTE_READY = "quote_ready"
    MISMATCH = "mismatch"
    TIMED_OUT = "timed_out"
    FAILED = "failed"
    REJECTED = "rejected"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


#: Intent states: a creating call may have been sent; reconcile before resending.
INTENT: Final[frozenset[State]] = frozenset({State.INITIATING, State.ORDERING, State.ACTIVATING})

#: Final states: nothing more will happen to the item in this run.
FINAL: Final[frozenset[State]] = frozenset(
    {
        State.VERIFIED,
        State.QUOTE_READY,
        State.MISMATCH,
        State.TIMED_OUT,
        State.FAILED,
        State.REJECTED,
        State.SKIPPED,
        State.CANCELLED,
    }
)

#: Final states that count as success.
SUCCESS: Final[frozenset[State]] = frozenset({State.VERIFIED, State.QUOTE_READY})

#: Final states that count as failure (the run ends ``partial`` or ``failed``).
FAILURE: Final[frozenset[State]] = frozenset({State.MISMATCH, State.TIMED_OUT, State.FAILED, State.REJECTED})

#: Every state in which work remains.
OPEN: Final[frozenset[State]] = frozenset(State) - FINAL


def is_final(state: str) -> bool:
    """Whether nothing more will happen to an item in this state."""
    return state in {s.value for s in FINAL}
