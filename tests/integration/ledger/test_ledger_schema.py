"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from sfsync.clock import SystemClock
from sfsync.ledger import Ledger, open_ledger, upgrade
from sfsync.ledger.db import make_engine
from sfsync.ledger.migrate import current_revision, head_revision
from sfsync.ledger.models import metadata


def test_migrated_schema_equals_models(ledger_url: str) -> None:
    """compare_metadata finds no difference between the migrated database and the models."""
    engine = make_engine(ledger_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_migrations_reach_head_and_are_idempotent(ledger_url: str) -> None:
    """The database is at the packaged head, and upgrading again changes nothing."""
    upgrade(ledger_url)
    engine = make_engine(ledger_url)
    try:
        assert current_revision(engine) == head_revision()
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert set(metadata.tables) <= tables


def test_workers_starting_together_migrate_once(blank_url: str) -> None:
    """Four workers opening a never-migrated ledger at once all succeed on one migrated schema."""

    def start(n: int) -> str:
        with open_ledger(blank_url, clock=SystemClock()) as opened:
            return opened.runs.create(f"job-{n}", "renewal", "manual", "prod").id

    with ThreadPoolExecutor(4) as pool:
        run_ids = list(pool.map(start, range(4)))
    engine = make_engine(blank_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()
    with open_ledger(blank_url) as opened:
        assert {r.id for r in opened.runs.find()} == set(run_ids)


def test_open_ledger_creates_the_sqlite_directory(tmp_path: Path) -> None:
    """A SQLite ledger in a missing directory is created and migrated on first open."""
    path = tmp_path / "deep" / "var" / "sfsync.db"
    with open_ledger(f"sqlite:///{path}", clock=SystemClock()) as opened:
        assert isinstance(opened, Ledger)
        assert opened.runs.find() == []
    assert path.is_file()


def test_db_now_is_close_to_real_time(ledger: Ledger) -> None:
    """The database clock reads an aware UTC time near the system's."""
    db = ledger.db_now()
    real = SystemClock().now()
    assert db.tzinfo is not None
    assert abs((db - real).total_seconds()) < 5


def test_a_fresh_sqlite_file_held_by_another_connection_is_waited_for(tmp_path: Path) -> None:
    """The switch to WAL mode waits out a connection holding a fresh file, then fails clearly, or succeeds."""
    path = tmp_path / "fresh.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE taken (x)")
    engine = make_engine(f"sqlite:///{path}", busy_timeout_s=0.2)
    try:
        with pytest.raises(OperationalError, match=r"locked|WAL"), engine.connect():
            pass
        holder.execute("COMMIT")
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()
        holder.close()
