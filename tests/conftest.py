"""Suite-wide fixtures and guards."""

from __future__ import annotations

import logging
import os
from collections.abc import Generator, Iterator

import pytest
import structlog

#: Markers whose skips are failures when CI asks for them (.ci/run sets these variables).
_REQUIRED = {"postgres": "SFSYNC_TEST_REQUIRE_PG", "browser": "SFSYNC_TEST_REQUIRE_BROWSER"}


@pytest.fixture(autouse=True)
def _scrub_sfsync_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's SFSYNC_* settings (SFSYNC_TEST_* stay: they steer tests)."""
    for name in list(os.environ):
        if name.startswith("SFSYNC_") and not name.startswith("SFSYNC_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """A test that configures logging (the CLI does) must not leave it pointing at a closed stream."""
    handlers = list(logging.getLogger().handlers)
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    logging.getLogger().handlers[:] = handlers


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    """Turn the skip of a required backend (PostgreSQL, browser) into a failure in CI."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not report.skipped:
        return
    for marker, variable in _REQUIRED.items():
        if item.get_closest_marker(marker) is not None and os.environ.get(variable) == "1":
            report.outcome = "failed"
            report.longrepr = f"{marker} test skipped but {variable}=1 requires it: {report.longrepr}"
