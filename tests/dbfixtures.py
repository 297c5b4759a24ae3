"""Shared ledger fixtures: a fresh database per test on SQLite and on the real PostgreSQL.

PostgreSQL comes from ``SFSYNC_TEST_PG`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
The template database is migrated once per session; every test gets a ``CREATE DATABASE … TEMPLATE``
copy, dropped afterwards. Use from a conftest with ``from dbfixtures import ledger, ledger_url, pg``
(the folder ``tests/`` must be on ``sys.path``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from sfsync.clock import SystemClock
from sfsync.ledger import Ledger, open_ledger, upgrade

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pg_url() -> str:
    """The PostgreSQL URL the tests use."""
    return os.environ.get("SFSYNC_TEST_PG", PG_DEFAULT)


def _libpq(url: str) -> str:
    """A SQLAlchemy URL as a libpq connection string for psycopg."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgServer:
    """Creates databases on the test server: one migrated template, and fresh copies of it."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.template = f"sfsync_tpl_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self._execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.template)))
        upgrade(self.url_of(self.template))

    def _execute(self, statement: sql.Composed) -> None:
        with psycopg.connect(_libpq(self.admin_url), autocommit=True, connect_timeout=5) as conn:
            conn.execute(statement)

    def url_of(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def fresh(self, *, migrated: bool = True) -> str:
        """Create a new database (migrated from the template, or blank); return its URL."""
        name = f"sfsync_t_{uuid.uuid4().hex[:12]}"
        template = self.template if migrated else "template0"
        self._execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        )
        return self.url_of(name)

    def drop(self, url: str) -> None:
        """Drop a database made by :meth:`fresh` (closing any connection left to it)."""
        name = make_url(url).database or ""
        self._execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def close(self) -> None:
        """Drop the template."""
        self._execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.template))
        )


def pg_unreachable_reason(url: str) -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return (
            f"PostgreSQL is not reachable at {make_url(url).render_as_string()} ({exc}); set SFSYNC_TEST_PG"
        )
    return None


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    """The PostgreSQL test server with a migrated template (skips with the reason when absent)."""
    url = pg_url()
    reason = pg_unreachable_reason(url)
    if reason:
        pytest.skip(reason)
    server = PgServer(url)
    yield server
    server.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated ledger: a SQLite file, then a new PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'var' / 'ledger.db'}"
        upgrade(url)
        yield url
        return
    server: PgServer = request.getfixturevalue("pg")
    url = server.fresh()
    yield url
    server.drop(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database never migrated: a SQLite path not yet created, or an empty PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'new' / 'ledger.db'}"
        return
    server: PgServer = request.getfixturevalue("pg")
    url = server.fresh(migrated=False)
    yield url
    server.drop(url)


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    """An open ledger on the fresh database, with the system clock."""
    opened = open_ledger(ledger_url, clock=SystemClock())
    yield opened
    opened.close()
