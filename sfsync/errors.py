"""The one error tree of sfsync.

Every failure sfsync reports on purpose is an :class:`SfsyncError`; misuse of an API stays a
``ValueError``/``TypeError`` outside the tree, so ``except SfsyncError`` never hides a bug::

    SfsyncError
    ├── ConfigError                    settings or a job file is wrong (exit 2)
    │   └── JobSpecError               a job file is wrong
    ├── InputError                     a user-supplied file or value is rejected (exit 2)
    ├── SalesforceError                anything an org answered or failed to answer
    │   ├── AuthError                  the token endpoint refused us, or a 401 survived re-auth
    │   ├── RejectedError              a permanent refusal: validation, permissions, malformed query…
    │   │   └── NotFoundError          404 / NOT_FOUND
    │   ├── RateLimitedError           concurrency limits (REQUEST_LIMIT_EXCEEDED Concurrent…)
    │   ├── BudgetExhaustedError       the daily API allowance or our reserve is reached (pause)
    │   ├── UnavailableError           connection refused, 502/503/504, lock errors after retries
    │   └── UncertainOutcomeError      a creating call was sent but its answer was lost: reconcile
    ├── LedgerError                    the ledger database failed
    │   └── LeaseLostError             another worker owns the item now (fencing)
    └── VerificationError              Salesforce did not show what a success must produce

Each class's docstring is its default message; context travels as keyword attributes.
"""

from __future__ import annotations

from collections.abc import Sequence


class SfsyncError(Exception):
    """sfsync failed."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or (self.__doc__ or "").strip()
        super().__init__(self.message)


class ConfigError(SfsyncError):
    """The configuration is invalid."""


class JobSpecError(ConfigError):
    """A job file is invalid."""


class InputError(SfsyncError):
    """An input file or value was rejected."""


class SalesforceError(SfsyncError):
    """Salesforce refused or failed a call."""

    def __init__(
        self,
        message: str | None = None,
        *,
        status: int | None = None,
        error_codes: Sequence[str] = (),
        fields: Sequence[str] = (),
        endpoint: str | None = None,
        record_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_codes = tuple(error_codes)
        self.fields = tuple(fields)
        self.endpoint = endpoint
        self.record_ids = tuple(record_ids)

    @property
    def error_code(self) -> str | None:
        """The first Salesforce error code, if any."""
        return self.error_codes[0] if self.error_codes else None

    def __str__(self) -> str:
        parts = [self.message]
        if self.error_codes:
            parts.append(f"[{', '.join(self.error_codes)}]")
        if self.status is not None:
            parts.append(f"(HTTP {self.status}")
            parts[-1] += f" {self.endpoint})" if self.endpoint else ")"
        return " ".join(parts)


class AuthError(SalesforceError):
    """Salesforce refused the credentials."""


class RejectedError(SalesforceError):
    """Salesforce rejected the request; retrying will not help."""


class NotFoundError(RejectedError):
    """The requested Salesforce resource does not exist."""


class RateLimitedError(SalesforceError):
    """Salesforce refused the call for concurrency limits; back off and retry."""


class BudgetExhaustedError(SalesforceError):
    """The org's API allowance (or our reserve of it) is used up; pause and resume later."""


class UnavailableError(SalesforceError):
    """Salesforce could not be reached or stayed unavailable after retries."""


class UncertainOutcomeError(SalesforceError):
    """A creating call was sent but its answer was lost; reconcile before resending."""


class LedgerError(SfsyncError):
    """The ledger database failed."""


class LeaseLostError(LedgerError):
    """This worker's lease on the items was taken over; its results are refused."""


class VerificationError(SfsyncError):
    """Salesforce does not show the effects a success must produce."""
