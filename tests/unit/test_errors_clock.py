"""The error tree and the clocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sfsync import errors
from sfsync.clock import FixedClock, SystemClock


def test_docstring_is_the_default_message() -> None:
    """Each error's docstring is its message when none is given."""
    assert (
        str(errors.LeaseLostError())
        == "This worker's lease on the items was taken over; its results are refused."
    )
    assert errors.ConfigError("bad key").message == "bad key"


def test_salesforce_error_carries_context() -> None:
    """Salesforce errors keep status, codes, fields, endpoint and record IDs, and print them."""
    exc = errors.RejectedError(
        "Select an account.",
        status=400,
        error_codes=["REQUIRED_FIELD_MISSING"],
        fields=["QuoteAccountId"],
        endpoint="actions/standard/createOrderFromQuote",
        record_ids=["0Q0xx0000004P32CAE"],
    )
    assert exc.error_code == "REQUIRED_FIELD_MISSING"
    assert exc.record_ids == ("0Q0xx0000004P32CAE",)
    assert (
        str(exc)
        == "Select an account. [REQUIRED_FIELD_MISSING] (HTTP 400 actions/standard/createOrderFromQuote)"
    )


def test_tree_shape() -> None:
    """Every error sfsync raises on purpose is an SfsyncError; misuse stays outside the tree."""
    for cls in (
        errors.NotFoundError,
        errors.UncertainOutcomeError,
        errors.BudgetExhaustedError,
        errors.JobSpecError,
    ):
        assert issubclass(cls, errors.SfsyncError)
    assert issubclass(errors.NotFoundError, errors.RejectedError)
    assert not issubclass(ValueError, errors.SfsyncError)


def test_fixed_clock_moves_only_when_told() -> None:
    """A fixed clock returns its instant and advances on demand."""
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    clock = FixedClock(start)
    assert clock.now() == start
    clock.advance(90)
    assert clock.now() == start + timedelta(seconds=90)
    assert clock.monotonic() == 90


def test_fixed_clock_refuses_naive_time() -> None:
    """Naive datetimes are a bug, not a time."""
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 11, 23))  # noqa: DTZ001 — the point of the test


def test_system_clock_is_utc() -> None:
    """The system clock answers in UTC."""
    assert SystemClock().now().utcoffset() == timedelta(0)


def test_exit_codes_of_failures() -> None:
    """Each failure maps to the exit code the README documents; a ledger outage is resumable (69)."""
    from sfsync.cli import exit_code_for
    from sfsync.engine.batch import EXIT_PAUSED, EXIT_UNAVAILABLE, EXIT_USAGE
    from sfsync.errors import BudgetExhaustedError, ConfigError, LedgerError, UnavailableError

    assert exit_code_for(LedgerError("ledger database error: database is locked")) == EXIT_UNAVAILABLE
    assert exit_code_for(UnavailableError("503 storm")) == EXIT_UNAVAILABLE
    assert exit_code_for(BudgetExhaustedError("TotalRequests")) == EXIT_PAUSED
    assert exit_code_for(ConfigError("bad key")) == EXIT_USAGE
    assert exit_code_for(RuntimeError("bug")) == 1


def test_error_line_says_a_quoted_cause_once() -> None:
    """The CLI's error line adds what was being handled, but not a cause its wrapper already quotes."""
    from sfsync.cli import _cause_chain
    from sfsync.errors import LedgerError

    def stop(wrap: str) -> None:
        try:
            raise LedgerError("ledger database error: database is locked")
        except LedgerError as exc:
            raise LedgerError(wrap.format(exc=exc))  # noqa: B904 — implicit chaining is the case

    with pytest.raises(LedgerError) as quoted:
        stop("{exc}; run r-1 stopped: sfsync run --resume r-1")
    assert _cause_chain(quoted.value) == (
        "ledger database error: database is locked; run r-1 stopped: sfsync run --resume r-1"
    )
    with pytest.raises(LedgerError) as plain:
        stop("could not pause run r-1")
    assert _cause_chain(plain.value) == "could not pause run r-1: ledger database error: database is locked"
