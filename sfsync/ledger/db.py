"""Engines for the ledger: SQLite (one machine) or PostgreSQL (several workers), and the DB clock."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, Insert, Table, create_engine, event, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from sfsync.clock import Clock
from sfsync.errors import LedgerError

T = TypeVar("T")

#: Execution option marking a read-only transaction.
READ_ONLY = "sfsync_read_only"

#: Seconds a SQLite writer waits for another writer before giving up.
SQLITE_BUSY_S = 30.0


def normalise_url(url: str) -> str:
    """Make ``postgresql://`` URLs use psycopg 3, the driver we ship with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for memory/other backends."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database or "")


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite, create the directory and make every transaction immediate."""
    url = normalise_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is None:
            msg = "the ledger needs a SQLite file, not an in-memory database (workers share it)"
            raise ValueError(msg)
        path.parent.mkdir(parents=True, exist_ok=True)
        # NullPool: a connection per use, so no thread ever shares a sqlite3 handle.
        engine = create_engine(
            url, poolclass=NullPool, connect_args={"timeout": SQLITE_BUSY_S, "check_same_thread": False}
        )
        _make_sqlite_immediate(engine)
        return engine
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    msg = f"unsupported ledger database {backend!r}: use sqlite:/// or postgresql+psycopg://"
    raise ValueError(msg)


def _make_sqlite_immediate(engine: Engine) -> None:
    """BEGIN IMMEDIATE takes the write lock up front: SQLite's equivalent of row locks for claims."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Readers take no write lock, so the admin page never waits behind a worker's batch.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def db_now(conn: Connection) -> datetime:
    """The database server's current time (UTC): leases never trust a worker's clock."""
    if conn.dialect.name == "sqlite":
        raw = conn.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
        return datetime.strptime(str(raw), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
    # clock_timestamp(), not now(): now() is frozen at the start of the transaction.
    value = conn.execute(select(func.clock_timestamp())).scalar_one()
    if not isinstance(value, datetime):
        msg = f"database returned {value!r} for the current time"
        raise TypeError(msg)
    return value.astimezone(UTC)


class Store:
    """What every part of the ledger shares: the engine, the worker's clock, and error translation."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    @property
    def is_sqlite(self) -> bool:
        """Whether the ledger is a SQLite file (one machine)."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def tx(self) -> Iterator[Connection]:
        """One transaction; database failures surface as :class:`LedgerError`."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except DBAPIError as exc:
            msg = f"ledger database error: {exc.orig or exc}"
            raise LedgerError(msg) from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read-only transaction (on SQLite it does not take the write lock)."""
        try:
            with self.engine.connect() as plain:
                conn = plain.execution_options(**{READ_ONLY: True})
                with conn.begin():
                    yield conn
        except DBAPIError as exc:
            msg = f"ledger database error: {exc.orig or exc}"
            raise LedgerError(msg) from exc


def insert_ignore(conn: Connection, table: Table) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` for the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return pg_insert(table).on_conflict_do_nothing()
    return sqlite_insert(table).on_conflict_do_nothing()


def chunks(values: Sequence[T], size: int = 900) -> Iterator[Sequence[T]]:
    """Slices of at most ``size`` values (bound-parameter lists stay under backend limits)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def bulk_insert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    constants: dict[str, Any] | None = None,
    ignore_conflicts: bool = False,
) -> None:
    """Insert many rows straight through the driver, converting values with the column types.

    SQLAlchemy's generic executemany re-processes every parameter of every row; for 10,000 items
    that dominates the time, so values are converted once here: SQLite gets one prepared statement
    run by executemany, PostgreSQL one ``INSERT … SELECT FROM unnest(arrays)`` per 5,000 rows.
    Column names come from our own tables, never from input.
    """
    if not rows:
        return
    constants = constants or {}
    dialect = conn.dialect
    names = list(rows[0])
    processors = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
    fixed = tuple(
        (proc(value) if proc else value)
        for name, value in constants.items()
        for proc in [table.c[name].type.dialect_impl(dialect).bind_processor(dialect)]
    )
    params = [
        tuple(proc(row[name]) if proc else row[name] for name, proc in zip(names, processors, strict=True))
        + fixed
        for row in rows
    ]
    columns = ", ".join(dialect.identifier_preparer.quote(n) for n in [*names, *constants])
    head = f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({columns}) "
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    width = len(names) + len(constants)
    if dialect.paramstyle == "qmark":
        # SQLite: executemany of one prepared statement is its fastest path.
        conn.exec_driver_sql(head + "VALUES (" + ", ".join(["?"] * width) + ")" + conflict, params)
        return
    # PostgreSQL: one statement with one array per column (unnest), instead of a row per round trip.
    fixed_marks = "".join(f", %s::{table.c[n].type.compile(dialect=dialect)}" for n in constants)
    arrays = ", ".join(f"%s::{table.c[n].type.compile(dialect=dialect)}[]" for n in names)
    aliases = ", ".join(f"c{i}" for i in range(len(names)))
    select_sql = f"SELECT {aliases}{fixed_marks} FROM unnest({arrays}) AS u({aliases})"
    for start in range(0, len(params), 5_000):
        part = params[start : start + 5_000]
        columns_values = [[row[i] for row in part] for i in range(len(names))]
        conn.exec_driver_sql(head + select_sql + conflict, (*fixed, *columns_values))
