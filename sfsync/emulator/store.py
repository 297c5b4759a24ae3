"""The org's records in SQLite: one table per object, thread-safe, with triggers and transactions.

One connection guarded by a re-entrant lock serves every thread; :meth:`Store.transaction` is
re-entrant (nested levels are SAVEPOINTs, so a caller can roll back one record and keep the rest).
Callbacks registered with :meth:`Store.on_commit` run only if the outermost transaction commits.

A sweep of 100,000 assets reads and writes millions of rows one at a time, so the per-call work is
kept small: table metadata and filter SQL are worked out once (``columns.Table``); savepoints are
opened only when something is written, one for all the levels entered since the last write
(``savepoints.Levels``); a write without triggers inside a transaction needs no level of its own;
ID serials are counted in memory, rolled back with their level and, for a database file, saved
with the commit that used them.
"""

from __future__ import annotations

import contextvars
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import TYPE_CHECKING

from sfsync import sfid
from sfsync.clock import Clock
from sfsync.emulator import schema
from sfsync.emulator.codec import BadValue, SqlValue, format_sql_datetime, to18, to_sql
from sfsync.emulator.columns import ColumnEncoder, Projection, Table, indexed, table
from sfsync.emulator.columns import quote as _q
from sfsync.emulator.errors import bad_field_value, bad_reference, entity_deleted, invalid_type, no_such_field
from sfsync.emulator.savepoints import Levels

if TYPE_CHECKING:
    from sfsync.emulator.soql.engine import QueryResult

Record = dict[str, object]
Trigger = Callable[["Store", Record, Record], None]

_SQL_TYPES = {"boolean": "INTEGER", "int": "INTEGER", "double": "REAL", "currency": "REAL", "percent": "REAL"}
_SYSTEM_STAMPS = ("LastModifiedDate", "LastModifiedById", "SystemModstamp")
_SAVE_SERIAL = (
    "INSERT INTO _serial (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value"
)
#: A filter's shape: object, include_deleted, then (field name as given, value is None) per field.
_FilterKey = tuple[object, ...]


def obj_def(sobject: str) -> schema.ObjectDef:
    """The object definition, or INVALID_TYPE."""
    found = schema.OBJECTS.get(sobject) or schema.lookup(sobject)
    if found is None:
        raise invalid_type(sobject)
    return found


class _Level:
    """One level of :meth:`Store.transaction` (a class, not a generator: nearly every write enters one)."""

    __slots__ = ("_outer", "_serials", "_store")

    def __init__(self, store: Store) -> None:
        self._store = store

    def __enter__(self) -> None:
        self._outer, self._serials = self._store._open_level()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._store._close_level(self._outer, self._serials, ok=kind is None)


class _KeepSerials:
    """Around a write inside a transaction: on failure, give back the serials it took."""

    __slots__ = ("_serials", "_store")

    def __init__(self, store: Store) -> None:
        self._store = store

    def __enter__(self) -> None:
        self._serials = self._store._serials.copy()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is not None:
            self._store._serials = self._serials


class Store:
    """All records of one emulated org."""

    def __init__(self, clock: Clock, *, path: str = ":memory:", default_user_id: str | None = None) -> None:
        self.clock = clock
        self.default_user_id = default_user_id
        self._acting: contextvars.ContextVar[str | None] = contextvars.ContextVar("acting_user", default=None)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._levels = Levels(self._conn)
        self._owner: int | None = None
        # An in-memory database dies with the process: its serials need not be saved.
        self._keeps_serials = path != ":memory:"
        self._pending: list[list[Callable[[], None]]] = []
        self._triggers: dict[tuple[str, str], list[Trigger]] = {}
        self._dirty = False
        self._writes = 0  # write statements run, to tell whether a trigger wrote anything
        self._local = threading.local()
        self._filters: dict[_FilterKey, tuple[str, tuple[Callable[[object], SqlValue], ...]]] = {}
        self._create_tables()
        self._serials: dict[str, int] = dict(self._conn.execute("SELECT name, value FROM _serial").fetchall())
        self._saved_serials = dict(self._serials)

    # -- schema -----------------------------------------------------------------------------
    def _create_tables(self) -> None:
        with self._lock:
            self._conn.execute("CREATE TABLE IF NOT EXISTS _serial (name TEXT PRIMARY KEY, value INTEGER)")
            for obj in schema.OBJECTS.values():
                cols = []
                for f in obj.fields.values():
                    sql_type = _SQL_TYPES.get(f.type, "TEXT")
                    collate = " COLLATE NOCASE" if f.type in schema.TEXT_TYPES else ""
                    pk = " PRIMARY KEY" if f.name == "Id" else ""
                    cols.append(f"{_q(f.name)} {sql_type}{collate}{pk}")
                self._conn.execute(f"CREATE TABLE IF NOT EXISTS {_q(obj.name)} ({', '.join(cols)})")
                for f in obj.fields.values():
                    if indexed(obj.name, f):
                        self._conn.execute(
                            f"CREATE INDEX IF NOT EXISTS {_q(f'ix_{obj.name}_{f.name}')} "
                            f"ON {_q(obj.name)} ({_q(f.name)})"
                        )

    # -- acting user and triggers -----------------------------------------------------------
    @contextmanager
    def acting_as(self, user_id: str | None) -> Iterator[None]:
        """Stamp writes in this context (thread/task) with ``user_id``."""
        token = self._acting.set(user_id)
        try:
            yield
        finally:
            self._acting.reset(token)

    def _user(self) -> str | None:
        return self._acting.get() or self.default_user_id

    def before_insert(self, sobject: str, fn: Trigger) -> None:
        """Run ``fn(store, {}, new)`` before inserts; it may edit ``new`` or raise RecordError."""
        self._triggers.setdefault(("before_insert", obj_def(sobject).name), []).append(fn)

    def after_insert(self, sobject: str, fn: Trigger) -> None:
        """Run ``fn(store, {}, new)`` after inserts, inside the transaction."""
        self._triggers.setdefault(("after_insert", obj_def(sobject).name), []).append(fn)

    def before_update(self, sobject: str, fn: Trigger) -> None:
        """Run ``fn(store, old, new)`` before updates; it may edit ``new`` or raise RecordError."""
        self._triggers.setdefault(("before_update", obj_def(sobject).name), []).append(fn)

    def after_update(self, sobject: str, fn: Trigger) -> None:
        """Run ``fn(store, old, new)`` after updates, inside the transaction."""
        self._triggers.setdefault(("after_update", obj_def(sobject).name), []).append(fn)

    def before_delete(self, sobject: str, fn: Trigger) -> None:
        """Run ``fn(store, old, {})`` before deletes; it may raise RecordError."""
        self._triggers.setdefault(("before_delete", obj_def(sobject).name), []).append(fn)

    def _fire(self, when: str, sobject: str, old: Record, new: Record) -> None:
        for fn in self._triggers.get((when, sobject), ()):
            fn(self, old, new)

    # -- transactions -----------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[None]:
        """Re-entrant transaction: outermost commits, nested levels are savepoints; rollback on exception."""
        return _Level(self)

    def _open_level(self) -> tuple[bool, dict[str, int]]:
        """Enter a level (taking the lock); returns what :meth:`_close_level` needs."""
        self._lock.acquire()
        outer = self._levels.depth == 0
        if outer:
            self._dirty = False
        self._levels.enter()
        self._owner = threading.get_ident()
        self._pending.append([])
        return outer, self._serials.copy()

    def _close_level(self, outer: bool, serials: dict[str, int], *, ok: bool) -> None:
        """Leave a level: keep or undo its writes, release the lock, then run commit callbacks."""
        callbacks: list[Callable[[], None]] = []
        try:
            if ok and outer:
                try:
                    self._save_serials()
                except BaseException:
                    self._undo_level(outer, serials)
                    raise
            if not ok:
                self._undo_level(outer, serials)
                return
            callbacks = self._pending.pop()
            self._levels.leave(ok=True)
            if outer:
                if self._keeps_serials:
                    self._saved_serials = self._serials.copy()
                self._owner = None
                if self._dirty:
                    self._local.commits = self.commits_on_this_thread() + 1
            else:
                self._pending[-1].extend(callbacks)
                callbacks = []
        finally:
            self._lock.release()
        for fn in callbacks:
            fn()

    def _undo_level(self, outer: bool, serials: dict[str, int]) -> None:
        """Roll the innermost level back, serials included."""
        self._pending.pop()
        self._serials = serials
        self._levels.leave(ok=False)
        if outer:
            self._owner = None

    def _write(self, sql: str, params: Sequence[SqlValue]) -> None:
        """Run one write statement (inside a transaction level)."""
        self._levels.before_write()
        self._dirty = True
        self._writes += 1
        self._conn.execute(sql, params)

    def _atomic(self, triggered: bool) -> AbstractContextManager[None]:
        """Around one write: a transaction level, unless the write is one statement inside one already.

        Without triggers a write is a single SQL statement, atomic by itself; the serials it took
        are its only other effect, and they are put back when it fails.
        """
        if triggered or not self.in_transaction():
            return _Level(self)
        return _KeepSerials(self)

    def commits_on_this_thread(self) -> int:
        """How many transactions with writes this thread has committed (for the request log)."""
        return int(getattr(self._local, "commits", 0))

    def in_transaction(self) -> bool:
        """Whether the calling thread is inside :meth:`transaction`."""
        return self._levels.depth > 0 and self._owner == threading.get_ident()

    def on_commit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` after the current outermost transaction commits (now, if there is none)."""
        with self._lock:
            if self.in_transaction():
                self._pending[-1].append(fn)
                return
        fn()

    # -- serials ----------------------------------------------------------------------------
    def _next_serials(self, name: str, count: int) -> int:
        """Take ``count`` serials (call inside a transaction: its rollback gives them back)."""
        start = self._serials.get(name, 0) + 1
        self._serials[name] = start + count - 1
        return start

    def _save_serials(self) -> None:
        """Write the serials taken since the last commit, as part of the committing transaction."""
        if not self._keeps_serials:
            return
        saved = self._saved_serials
        changed = [(name, value) for name, value in self._serials.items() if saved.get(name) != value]
        if changed:
            self._levels.before_write()
            self._conn.executemany(_SAVE_SERIAL, changed)

    # -- writes -----------------------------------------------------------------------------
    def _encode(self, tab: Table, values: Mapping[str, object]) -> dict[str, SqlValue]:
        """Values by canonical column name, as stored; INVALID_FIELD or a bad-value RecordError."""
        encoders = tab.encoders
        try:  # the usual case, canonical names and good values, in one pass
            return {key: encoders[key](value) for key, value in values.items()}
        except (KeyError, BadValue):
            pass  # again one by one, for the canonical name or the error a bad one gets
        out: dict[str, SqlValue] = {}
        for key, value in values.items():
            name = key
            encode = encoders.get(key)
            if encode is None:  # not the canonical name
                fdef = tab.obj.field(key)
                if fdef is None:
                    raise no_such_field(key, tab.obj.name)
                name, encode = fdef.name, encoders[fdef.name]
            try:
                out[name] = encode(value)
            except BadValue as exc:
                raise bad_field_value(name, str(exc)) from exc
        return out

    def _prepare(self, tab: Table, values: Mapping[str, object], serial: int) -> Record:
        obj, now, user = tab.obj, self.clock.now(), self._user()
        row: Record = dict(tab.defaults)
        if values.keys() <= obj.fields.keys():  # canonical names already
            row.update(values)
        else:
            for key, value in values.items():
                fdef = obj.field(key)
                row[fdef.name if fdef else key] = value
        row.update(
            Id=sfid.make(obj.key_prefix, serial), CreatedDate=now, CreatedById=user, LastModifiedDate=now,
            LastModifiedById=user, SystemModstamp=now, IsDeleted=False,
        )  # fmt: skip
        return row

    def _autonumber(self, tab: Table, rows: Sequence[Record]) -> None:
        for f in tab.autonumbers:
            first = self._next_serials(f"{tab.obj.name}.{f.name}", len(rows))
            for i, row in enumerate(rows):
                if row.get(f.name) is None:
                    row[f.name] = f"{first + i:08d}"

    def insert(self, sobject: str, values: Mapping[str, object]) -> str:
        """Insert one record; mints its 18-character ID and stamps the system fields."""
        obj = obj_def(sobject)
        tab = table(obj)
        after = self._triggers.get(("after_insert", obj.name))
        with self._atomic(bool(after or self._triggers.get(("before_insert", obj.name)))):
            row = self._prepare(tab, values, self._next_serials(obj.key_prefix, 1))
            self._fire("before_insert", obj.name, {}, row)
            self._autonumber(tab, [row])
            encoded = self._encode(tab, row)
            self._write(tab.insert_sql(tuple(encoded)), list(encoded.values()))
            if after:  # reading the row back is only for them
                self._fire("after_insert", obj.name, {}, self.get(obj.name, str(row["Id"])) or row)
        return str(row["Id"])

    def insert_many(self, sobject: str, rows: Sequence[Mapping[str, object]]) -> list[str]:
        """Insert many records with one executemany (no triggers); returns their IDs in order.

        Seeding 100,000 assets goes through here, so the per-value work is kept small: every field
        name is resolved once per call, the system stamps once, and each column's encoder remembers
        the values it already encoded (dates, picklist values and references repeat a lot).
        """
        obj = obj_def(sobject)
        if not rows:
            return []
        fields: dict[str, schema.FieldDef] = {}
        for values in rows:
            for key in values:
                if key not in fields:
                    fdef = obj.field(key)
                    if fdef is None:
                        raise no_such_field(key, obj.name)
                    fields[key] = fdef
        tab = table(obj)
        with self.transaction():
            first = self._next_serials(obj.key_prefix, len(rows))
            now, user = self.clock.now(), self._user()
            stamps: Record = dict(
                CreatedDate=now, CreatedById=user, LastModifiedDate=now, LastModifiedById=user,
                SystemModstamp=now, IsDeleted=False,
            )  # fmt: skip
            prepared: list[Record] = []
            for i, values in enumerate(rows):
                row = dict(tab.defaults)
                for key, value in values.items():
                    row[fields[key].name] = value
                row["Id"] = sfid.make(obj.key_prefix, first + i)
                row.update(stamps)
                prepared.append(row)
            self._autonumber(tab, prepared)
            cols = sorted({c for row in prepared for c in row})
            encoders = [ColumnEncoder(obj.fields[c]) for c in cols]
            matrix = [[enc(row.get(c)) for c, enc in zip(cols, encoders, strict=True)] for row in prepared]
            self._levels.before_write()
            self._dirty = True
            self._conn.executemany(tab.insert_sql(tuple(cols)), matrix)
        return [str(row["Id"]) for row in prepared]

    def update(
        self, sobject: str, record_id: str, values: Mapping[str, object], *, triggers: bool = True
    ) -> None:
        """Update fields of one live record; RecordError ENTITY_IS_DELETED / INVALID_CROSS_REFERENCE_KEY."""
        obj = obj_def(sobject)
        after = self._triggers.get(("after_update", obj.name)) if triggers else None
        before = self._triggers.get(("before_update", obj.name)) if triggers else None
        with self._atomic(bool(after or before)):
            old = (
                self.get(obj.name, record_id, include_deleted=True)
                if after or before  # triggers see whole records
                else self._compared(obj, record_id, values)
            )
            if old is None:
                raise bad_reference(record_id)
            if old["IsDeleted"]:
                raise entity_deleted()
            # untouched by before-triggers (they may edit ``old``): the row as stored, for after-triggers
            stored, writes = (dict(old), self._writes) if after else (old, 0)
            new = dict(old)
            for key, value in values.items():
                fdef = obj.fields.get(key) or obj.field(key)
                new[fdef.name if fdef else key] = value
            if triggers:
                self._fire("before_update", obj.name, old, new)
            now = self.clock.now()
            new.update(LastModifiedDate=now, LastModifiedById=self._user(), SystemModstamp=now)
            changed = {k: v for k, v in new.items() if k in _SYSTEM_STAMPS or old.get(k) != v}
            tab = table(obj)
            encoded = self._encode(tab, changed)
            self._write(tab.update_sql(tuple(encoded)), [*encoded.values(), str(old["Id"])])
            if after:
                # When this statement was the only write and kept the Id, the row is known without reading it.
                known = self._writes == writes + 1 and "Id" not in encoded
                row = self._updated(tab, stored, encoded) if known else self.get(obj.name, str(old["Id"]))
                self._fire("after_update", obj.name, old, row or new)

    @staticmethod
    def _updated(tab: Table, stored: Record, encoded: Mapping[str, SqlValue]) -> Record | None:
        """The whole row after an update, as :meth:`get` would read it (None once deleted)."""
        row = dict(stored)
        for name, value in encoded.items():
            convert = tab.decoders[name]
            row[name] = value if value is None or convert is None else convert(value)
        return None if row["IsDeleted"] else row

    def delete(self, sobject: str, record_id: str) -> None:
        """Soft-delete one record (queryAll still sees it, with IsDeleted = true)."""
        obj = obj_def(sobject)
        with self._atomic(bool(self._triggers.get(("before_delete", obj.name)))):
            old = self.get(obj.name, record_id, include_deleted=True)
            if old is None:
                raise bad_reference(record_id)
            if old["IsDeleted"]:
                raise entity_deleted()
            self._fire("before_delete", obj.name, old, {})
            now = format_sql_datetime(self.clock.now())
            self._write(
                f"UPDATE {_q(obj.name)} SET IsDeleted = 1, SystemModstamp = ? WHERE Id = ?",
                (now, str(old["Id"])),
            )

    def _compared(self, obj: schema.ObjectDef, record_id: str, values: Mapping[str, object]) -> Record | None:
        """What an update without triggers compares: the row's Id, IsDeleted and the fields it sets.

        The rest of the row would only be copied into the new values unchanged, so it is not read.
        """
        names = ["Id", "IsDeleted"]
        for key in values:
            fdef = obj.fields.get(key) or obj.field(key)
            if fdef is not None:
                names.append(fdef.name)
        return self._by_id(table(obj).projection(tuple(names)), record_id, include_deleted=True)

    # -- reads ------------------------------------------------------------------------------
    def get(
        self, sobject: str, record_id: str, *, include_deleted: bool = False, fields: tuple[str, ...] = ()
    ) -> Record | None:
        """One record by ID (15 or 18 characters), or None (also None when deleted, unless asked).

        ``fields`` (canonical names) reads only those columns.
        """
        tab = table(obj_def(sobject))
        columns = tab.projection(fields) if fields else tab.every
        return self._by_id(columns, record_id, include_deleted=include_deleted)

    def _by_id(self, columns: Projection, record_id: str, *, include_deleted: bool) -> Record | None:
        """Some columns of the row with this ID (15 or 18 characters), or None."""
        try:
            full = to18(record_id)
        except sfid.InvalidIdError:
            return None
        with self._lock:
            row = self._conn.execute(columns.by_id[include_deleted], (full,)).fetchone()
        return None if row is None else columns.decode(row)

    def find(self, sobject: str, *, include_deleted: bool = False, **equals: object) -> list[Record]:
        """Live records whose fields equal the given values (None matches null), in insertion order."""
        obj = obj_def(sobject)
        return self._select(obj, table(obj).every, include_deleted, equals)

    def select(self, sobject: str, fields: tuple[str, ...], **equals: object) -> list[Record]:
        """:meth:`find`, reading only ``fields`` (canonical names): for lookups that need a few columns."""
        obj = obj_def(sobject)
        return self._select(obj, table(obj).projection(fields), False, equals)

    def _select(
        self, obj: schema.ObjectDef, columns: Projection, include_deleted: bool, equals: Mapping[str, object]
    ) -> list[Record]:
        """Some columns of the rows whose fields equal ``equals``, in insertion order."""
        where, params = self._where(obj, include_deleted, equals)
        with self._lock:
            fetched = self._conn.execute(f"{columns.select}{where} ORDER BY rowid", params).fetchall()
        return [columns.decode(row) for row in fetched]

    def exists(self, sobject: str, **equals: object) -> bool:
        """Whether :meth:`find` would find a live record (without reading any)."""
        obj = obj_def(sobject)
        where, params = self._where(obj, False, equals)
        sql = f"SELECT 1 FROM {table(obj).sql_name}{where} LIMIT 1"
        with self._lock:
            return self._conn.execute(sql, params).fetchone() is not None

    def _where(
        self, obj: schema.ObjectDef, include_deleted: bool, equals: Mapping[str, object]
    ) -> tuple[str, list[SqlValue]]:
        """`` WHERE …`` matching fields to values, with its parameters; INVALID_FIELD when unknown."""
        key: _FilterKey = (obj.name, include_deleted, *[(k, v is None) for k, v in equals.items()])
        known = self._filters.get(key)
        if known is not None:
            where, encoders = known
            return where, [
                encode(v) for encode, v in zip(encoders, equals.values(), strict=True) if v is not None
            ]
        clauses, params, fields = [], [], []
        for name, value in equals.items():
            fdef = obj.field(name)
            if fdef is None:
                raise no_such_field(name, obj.name)
            fields.append(fdef)
            if value is None:
                clauses.append(f"{_q(fdef.name)} IS NULL")
            else:
                clauses.append(f"{_q(fdef.name)} = ?")
                params.append(to_sql(fdef, value))
        if not include_deleted:
            clauses.append("IsDeleted = 0")
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        self._filters[key] = (where, tuple(table(obj).encoders[f.name] for f in fields))
        return where, params

    def count(self, sobject: str, *, include_deleted: bool = False) -> int:
        """How many records of a type exist."""
        obj = obj_def(sobject)
        where = "" if include_deleted else " WHERE IsDeleted = 0"
        with self._lock:
            return int(self._conn.execute(f"SELECT COUNT(*) FROM {_q(obj.name)}{where}").fetchone()[0])

    def execute(self, sql: str, params: Sequence[SqlValue] = ()) -> list[tuple[SqlValue, ...]]:
        """Run raw read SQL under the lock (used by the SOQL engine)."""
        with self._lock:
            return list(self._conn.execute(sql, list(params)).fetchall())

    def query(self, soql: str, *, include_deleted: bool = False) -> QueryResult:
        """Run a SOQL query; all rows at once (the REST layer pages with a snapshot of IDs)."""
        from sfsync.emulator.soql.engine import run_query

        return run_query(self, soql, include_deleted=include_deleted, now=self.clock.now())

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._conn.close()
