"""Engines for the ledger: SQLite (one machine) or PostgreSQL (several workers), and the DB clock."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Dialect, Engine, Insert, Table, create_engine, event, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeEngine

from sfsync.clock import Clock
from sfsync.errors import LedgerError

T = TypeVar("T")

#: Execution option marking a read-only transaction.
READ_ONLY = "sfsync_read_only"

#: Seconds a SQLite writer waits for another writer before giving up (default of the setting).
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


def json_text(value: object) -> str:
    """JSON for the ledger's JSON columns, by orjson: every claim and record of an item round-trips
    its ``detail`` document, and the standard library's encoder was a tenth of a sweep's time."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, *, busy_timeout_s: float = SQLITE_BUSY_S) -> Engine:
    """Create an engine; for SQLite, create the directory and make every transaction immediate.

    ``busy_timeout_s``: how long a SQLite writer waits for another's write lock before the ledger
    reports an error (and the engine stops before any Salesforce call it could not record).
    """
    url = normalise_url(url)
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is None:
            msg = "the ledger needs a SQLite file, not an in-memory database (workers share it)"
            raise ValueError(msg)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A pool of connections: opening one (and its PRAGMAs) per transaction cost more than the
        # work of most transactions. The pool hands a connection to one thread at a time, so no
        # sqlite3 handle is ever used by two threads at once (hence check_same_thread=False).
        engine = create_engine(
            url,
            poolclass=QueuePool,
            pool_size=5,
            max_overflow=-1,  # never make a thread wait for a connection; extras close on return
            connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
            json_serializer=json_text,
            json_deserializer=orjson.loads,
        )
        _make_sqlite_immediate(engine, busy_timeout_s)
        _check_sqlite_file(engine, path)
        return engine
    if backend == "postgresql":
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            json_serializer=json_text,
            json_deserializer=orjson.loads,
        )
    msg = f"unsupported ledger database {backend!r}: use sqlite:/// or postgresql+psycopg://"
    raise ValueError(msg)


def _make_sqlite_immediate(engine: Engine, busy_timeout_s: float) -> None:
    """BEGIN IMMEDIATE takes the write lock up front: SQLite's equivalent of row locks for claims."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_conn.isolation_level = None
        _write_ahead_log(dbapi_conn, busy_timeout_s)
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Readers take no write lock, so the admin page never waits behind a worker's batch.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def _write_ahead_log(dbapi_conn: Any, busy_timeout_s: float) -> None:
    """Put the file in WAL mode unless it is already (the mode is stored in the file).

    Workers opening a fresh file at once race for the switch, which needs the file to themselves;
    SQLite then answers "database is locked", or leaves the mode as it was, at once instead of
    waiting the busy timeout, so the switch is retried with a short backoff until that timeout.
    """
    deadline = time.monotonic() + busy_timeout_s
    delay = 0.005
    while True:
        try:
            if _journal_mode(dbapi_conn, "PRAGMA journal_mode") == "wal":
                return
            if _journal_mode(dbapi_conn, "PRAGMA journal_mode=WAL") == "wal":
                return
            problem = "the ledger file stayed out of WAL mode (another connection holds it)"
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            problem = str(exc)
        if time.monotonic() >= deadline:
            raise sqlite3.OperationalError(problem)
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


def _journal_mode(dbapi_conn: Any, pragma: str) -> str:
    return str(dbapi_conn.execute(pragma).fetchone()[0]).lower()


def _check_sqlite_file(engine: Engine, path: Path) -> None:
    """Drop a pooled connection whose database file was deleted or replaced since it was opened.

    A pooled sqlite3 handle keeps writing to the file it opened even after that file is unlinked
    (or replaced by a restored copy), so every later record would vanish with it. Checked when a
    connection leaves the pool: a stat is far cheaper than the transaction it guards.
    """

    def identity() -> tuple[int, int] | None:
        try:
            found = path.stat()
        except FileNotFoundError:
            return None
        return (found.st_dev, found.st_ino)

    @event.listens_for(engine, "connect")
    def _opened(_dbapi_conn: Any, record: Any) -> None:
        record.info["sfsync_file"] = identity()

    @event.listens_for(engine, "checkout")
    def _checkout(_dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if record.info.get("sfsync_file") != identity():
            # The pool discards this connection and opens a new one on the path as it is now.
            msg = f"the ledger file {path} was deleted or replaced"
            raise DisconnectionError(msg)


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


def bind_processor(dialect: Dialect, kind: TypeEngine[Any]) -> Callable[[Any], Any] | None:
    """The function that turns a value of column type ``kind`` into the driver's (None: as is)."""
    return kind.dialect_impl(dialect).bind_processor(dialect)


def _convert(
    rows: Iterable[Sequence[Any]],
    processors: Sequence[Callable[[Any], Any] | None],
    tail: tuple[Any, ...] = (),
) -> list[tuple[Any, ...]]:
    """Each row with its values passed through their position's processor, then ``tail`` appended.

    Only the positions that have a processor are touched: a generator over every value of every row
    cost more than the statement it fed.
    """
    convert = [(index, proc) for index, proc in enumerate(processors) if proc is not None]
    out = []
    for row in rows:
        values = list(row)
        for index, proc in convert:
            values[index] = proc(values[index])
        out.append((*values, *tail))
    return out


def _driver_sql(dialect: Dialect, sql: str) -> str:
    """Our ``?`` placeholders in the driver's paramstyle (psycopg takes ``%s``)."""
    return sql if dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def driver_value(conn: Connection, kind: TypeEngine[Any], value: Any) -> Any:
    """``value`` as the driver takes it for a column of type ``kind`` (convert a constant once)."""
    processor = bind_processor(conn.dialect, kind)
    return processor(value) if processor else value


def driver_rows(
    conn: Connection, sql: str, params: Sequence[Any], types: Sequence[TypeEngine[Any]]
) -> list[tuple[Any, ...]]:
    """Run one statement (``?`` placeholders) through the driver; its rows converted by column type.

    ``params`` must already be driver values (see :func:`driver_value`); ``types`` gives each result
    column's type, whose result processor (if any) converts it as SQLAlchemy would. The SQL must be
    our own, never built from input.
    """
    dialect = conn.dialect
    processors = [kind.dialect_impl(dialect).result_processor(dialect, None) for kind in types]
    raw = conn.exec_driver_sql(_driver_sql(dialect, sql), tuple(params)).fetchall()
    return _convert(raw, processors)


def driver_executemany(
    conn: Connection, sql: str, types: Sequence[TypeEngine[Any] | None], rows: Sequence[Sequence[Any]]
) -> int:
    """Run one statement (``?`` placeholders) for many rows through the driver; the rows changed.

    Values are converted once with each position's column type, as SQLAlchemy would (``None``: the
    value is already the driver's, see :func:`driver_value`); the SQL must be our own (table and
    column names from the models), never built from input.
    """
    dialect = conn.dialect
    processors = [bind_processor(dialect, kind) if kind else None for kind in types]
    params = _convert(rows, processors) if any(processors) else rows
    return int(conn.exec_driver_sql(_driver_sql(dialect, sql), params).rowcount)


def bulk_insert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    constants: dict[str, Any] | None = None,
    ignore_conflicts: bool = False,
    ready: Collection[str] = (),
) -> None:
    """Insert many rows straight through the driver, converting values with the column types.

    SQLAlchemy's generic executemany re-processes every parameter of every row; for 10,000 items
    that dominates the time, so values are converted once here: SQLite gets one prepared statement
    run by executemany, PostgreSQL one ``INSERT … SELECT FROM unnest(arrays)`` per 5,000 rows.
    Column names come from our own tables, never from input. Columns in ``ready`` hold values
    already as the driver takes them (e.g. JSON text): they are not converted again.
    """
    if not rows:
        return
    constants = constants or {}
    dialect = conn.dialect
    names = list(rows[0])
    processors = [None if n in ready else bind_processor(dialect, table.c[n].type) for n in names]
    fixed = tuple(driver_value(conn, table.c[name].type, value) for name, value in constants.items())
    params = _convert(([row[n] for n in names] for row in rows), processors, fixed)
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
