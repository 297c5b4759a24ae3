"""Alembic environment for the ledger: uses the caller's connection when one is given."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from sfsync.ledger.db import make_engine
from sfsync.ledger.models import metadata


def _run(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=conn.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the given connection, or on a fresh engine for the configured URL."""
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    msg = "offline (SQL script) migrations are not supported; run `sfsync ledger upgrade`"
    raise RuntimeError(msg)
run_migrations_online()
