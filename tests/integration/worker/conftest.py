"""Worker fixtures: the engine tests' emulated world, both ledgers, and a local webhook receiver."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_TESTS = str(Path(__file__).resolve().parents[2])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from dbfixtures import pg  # noqa: E402

from tests.integration.engine.conftest import world_factory  # noqa: E402
from tests.integration.worker.hooks import Webhook  # noqa: E402

__all__ = ["Webhook", "pg", "webhook", "world_factory"]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A webhook receiver whose first answer is a 500 (so delivery must retry)."""
    hook = Webhook(fail_first=1)
    yield hook
    hook.close()
