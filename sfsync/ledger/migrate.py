"""Alembic, run programmatically from the package: no alembic.ini on disk."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from sfsync.ledger.db import make_engine, normalise_url

MIGRATIONS = Path(__file__).with_name("migrations")

#: Advisory lock key held while migrating a PostgreSQL ledger ("sfsync" in ASCII).
MIGRATION_LOCK = 0x736673796E63


def alembic_config(url: str) -> Config:
    """An Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Percent signs in passwords would be read as interpolation by configparser.
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision the package knows."""
    head = ScriptDirectory.from_config(alembic_config("sqlite:///unused.db")).get_current_head()
    if head is None:
        msg = "the packaged migrations have no head revision"
        raise RuntimeError(msg)
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the ledger at ``url`` up to ``revision`` (``sfsync ledger upgrade``)."""
    engine = make_engine(url)
    try:
        upgrade_engine(engine, revision)
    finally:
        engine.dispose()


def upgrade_engine(engine: Engine, revision: str = "head") -> None:
    """Upgrade through an existing engine (skips Alembic entirely when already at head)."""
    if revision == "head" and current_revision(engine) == head_revision():
        return
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Workers starting together: one migrates, the others wait here and then find it done.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        # (SQLite needs no lock: the transaction began IMMEDIATE.)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
