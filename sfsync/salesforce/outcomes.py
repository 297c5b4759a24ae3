"""Per-item results of batched calls: the engine records exactly one of these for every item.

- :class:`Done` — Salesforce did it; ``value`` is what it made (a record ID, an output map…);
- :class:`Failed` — Salesforce refused this item for good (code + message); do not resend;
- :class:`Uncertain` — the request was sent and its answer lost: reconcile before sending again;
- :class:`NotSent` — nothing happened in Salesforce for this item (budget pause, unavailable after
  retries, rate limited, lock retries used up, auth): safe to send again later; ``cause`` says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Literal, TypeAlias, TypeVar

from sfsync import errors

T = TypeVar("T")

Cause = Literal["budget", "rate_limited", "unavailable", "auth", "lock"]


@dataclass(frozen=True)
class Done(Generic[T]):
    """The item succeeded; ``value`` is its result."""

    value: T


@dataclass(frozen=True)
class Failed:
    """Salesforce refused the item permanently."""

    code: str
    message: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Uncertain:
    """The call was sent but its answer was lost; the engine must reconcile."""

    reason: str


@dataclass(frozen=True)
class NotSent:
    """Nothing was done for the item in Salesforce; it may be sent again later."""

    reason: str
    cause: Cause


Outcome: TypeAlias = Done[T] | Failed | Uncertain | NotSent


def from_error(exc: errors.SalesforceError) -> Failed | Uncertain | NotSent:
    """The outcome for every item of a request that raised ``exc`` as a whole."""
    text = str(exc)
    if isinstance(exc, errors.UncertainOutcomeError):
        return Uncertain(text)
    if isinstance(exc, errors.BudgetExhaustedError):
        return NotSent(text, "budget")
    if isinstance(exc, errors.RateLimitedError):
        return NotSent(text, "rate_limited")
    if isinstance(exc, errors.AuthError):
        return NotSent(text, "auth")
    if isinstance(exc, errors.UnavailableError):
        return NotSent(text, "unavailable")
    return Failed(exc.error_code or type(exc).__name__, exc.message, exc.fields)


def halts(exc: errors.SalesforceError) -> bool:
    """Whether the rest of a batch should not be sent after ``exc`` (it would meet the same fate)."""
    return isinstance(
        exc,
        errors.BudgetExhaustedError | errors.RateLimitedError | errors.AuthError | errors.UnavailableError,
    )
