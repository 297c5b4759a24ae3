"""The Salesforce client against the embedded emulator over HTTPS (real sockets, real TLS)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sf_emulator_helpers import OPEN_CLIENTS

from sfsync.emulator.config import EmulatorConfig
from sfsync.emulator.harness import running_emulator


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    """Close every client a test made before its emulator stops."""
    yield
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().close()


@pytest.fixture
def emulator() -> Iterator[Any]:
    """A fresh emulated org seeded with the Capricorn Coffee scenario, fast async completion."""
    config = EmulatorConfig(pricing_delay_s=0.1, assetize_delay_s=0.1)
    with running_emulator(config=config, seed="capricorn") as handle:
        yield handle


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Any]]:
    """Start emulators with a given config and seed; all are stopped at the end."""
    stack: list[Any] = []

    def start(config: EmulatorConfig, seed: str = "capricorn") -> Any:
        manager = running_emulator(config=config, seed=seed)
        handle = manager.__enter__()
        stack.append(manager)
        return handle

    yield start
    for manager in reversed(stack):
        manager.__exit__(None, None, None)
