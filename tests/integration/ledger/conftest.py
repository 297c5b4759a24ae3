"""Ledger fixtures: every test runs on SQLite and on the real PostgreSQL (see ``tests/dbfixtures.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/ holds the shared fixture module; pytest puts only this folder on sys.path.
_TESTS = str(Path(__file__).resolve().parents[2])
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

from dbfixtures import blank_url, ledger, ledger_url, pg  # noqa: E402

__all__ = ["blank_url", "ledger", "ledger_url", "pg"]
