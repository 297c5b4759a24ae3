"""Fixtures for raw-HTTP contract tests against a running emulator (this directory is no package)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from emu_http import Api

from sfsync.clock import FixedClock
from sfsync.emulator.config import EmulatorConfig
from sfsync.emulator.harness import EmulatorHandle, running_emulator

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    """The org clock."""
    return FixedClock(NOW)


@pytest.fixture
def emu(clock: FixedClock) -> Iterator[EmulatorHandle]:
    """A running emulator without seed data."""
    with running_emulator(EmulatorConfig(pricing_delay_s=0, assetize_delay_s=0), clock=clock) as handle:
        yield handle


@pytest.fixture
def api(emu: EmulatorHandle) -> Iterator[Api]:
    """An authenticated client for the emulator."""
    client = Api(emu)
    yield client
    client.session.close()
