"""The org's records in SQLite: one table per object, thread-safe, with triggers and transactions.

One connection guarded by a re-entrant lock serves every thread; :meth:`Store.transaction` is
re-entrant (nested levels are SAVEPOINTs, so a caller can roll back one record and keep the rest).
Callbacks registered with :meth:`Store.on_commit` run only if the outermost transaction commits.
"""

from __future__ import annotations

import contextvars
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sfsync import sfid
from sfsync.clock import Clock
from sfsync.emulator import schema
from sfsync.emulator.codec import BadValue, SqlValue, format_sql_datetime, from_sql, to_sql
from sfsync.emulator.columns import ColumnEncoder, indexed
from sfsync.emulator.errors import bad_field_value, bad_reference, entity_deleted, invalid_type, no_such_field

if TYPE_CHECKING:
    from sfsync.emulator.soql.engine import QueryResult

Record = dict[str, object]
Trigger = Callable[["Store", Record, Record], None]

_SQL_TYPES = {"boolean": "INTEGER", "int": "INTEGER", "double": "REAL", "currency": "REAL", "percent": "REAL"}
_SYSTEM_STAMPS = ("LastModifiedDate", "LastModifiedById", "SystemModstamp")


def _q(name: str) -> str:
    return f'"{name}"'


def obj_def(sobject: str) -> schema.ObjectDef:
    """The object definition, or INVALID_TYPE."""
    found = schema.lookup(sobject)
    if found is None:
        raise invalid_type(sobject)
    return found


class Store:
    """All records of one emulated org."""

    def __init__(self, clock: Clock, *, path: str = ":memory:", default_user_id: str | None = None) -> None:
        self.clock = clock
        self.default_user_id = default_user_id
        self._acting: contextvars.ContextVar[str | None] = contextvars.ContextVar("acting_user", default=None)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._owner: int | None = None
        self._depth = 0
        self._pending: list[list[Callable[[], None]]] = []
        self._triggers: dict[tuple[str, str], list[Trigger]] = {}
        self._dirty = False
        self._local = threading.local()
        self._create_tables()

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
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Re-entrant transaction: outermost BEGIN/COMMIT, nested SAVEPOINTs; rollback on exception."""
        with self._lock:
            outer = self._depth == 0
            name = f"sp{self._depth}"
            if outer:
                self._dirty = False
            self._conn.execute("BEGIN IMMEDIATE" if outer else f"SAVEPOINT {name}")
            self._owner = threading.get_ident()
            self._depth += 1
            self._pending.append([])
            try:
                yield
            except BaseException:
                self._pending.pop()
                self._depth -= 1
                self._conn.execute("ROLLBACK" if outer else f"ROLLBACK TO {name}")
                if not outer:
                    self._conn.execute(f"RELEASE {name}")
                else:
                    self._owner = None
                raise
            callbacks = self._pending.pop()
            self._depth -= 1
            if outer:
                self._conn.execute("COMMIT")
                self._owner = None
                if self._dirty:
                    self._local.commits = self.commits_on_this_thread() + 1
            else:
                self._conn.execute(f"RELEASE {name}")
                self._pending[-1].extend(callbacks)
                callbacks = []
        for fn in callbacks:
            fn()

    def commits_on_this_thread(self) -> int:
        """How many transactions with writes this thread has committed (for the request log)."""
        return int(getattr(self._local, "commits", 0))

    def in_transaction(self) -> bool:
        """Whether the calling thread is inside :meth:`transaction`."""
        return self._depth > 0 and self._owner == threading.get_ident()

    def on_commit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` after the current outermost transaction commits (now, if there is none)."""
        with self._lock:
            if self.in_transaction():
                self._pending[-1].append(fn)
                return
        fn()

    # -- serials ----------------------------------------------------------------------------
    def _next_serials(self, name: str, count: int) -> int:
        row = self._conn.execute("SELECT value FROM _serial WHERE name = ?", (name,)).fetchone()
        start = (row[0] if row else 0) + 1
        self._conn.execute(
            "INSERT INTO _serial (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = ?",
            (name, start + count - 1, start + count - 1),
        )
        return int(start)

    # -- writes -----------------------------------------------------------------------------
    def _encode(self, obj: schema.ObjectDef, values: Mapping[str, object]) -> dict[str, SqlValue]:
        out: dict[str, SqlValue] = {}
        for key, value in values.items():
            fdef = obj.field(key)
            if fdef is None:
                raise no_such_field(key, obj.name)
            try:
                out[fdef.name] = to_sql(fdef, value)
            except BadValue as exc:
                raise bad_field_value(fdef.name, str(exc)) from exc
        return out

    def _prepare(self, obj: schema.ObjectDef, values: Mapping[str, object], serial: int) -> Record:
        now = self.clock.now()
        user = self._user()
        row: Record = {f.name: f.default for f in obj.fields.values() if f.default is not None}
        for key, value in values.items():
            fdef = obj.field(key)
            row[fdef.name if fdef else key] = value
        row.update(
            Id=sfid.make(obj.key_prefix, serial), CreatedDate=now, CreatedById=user, LastModifiedDate=now,
            LastModifiedById=user, SystemModstamp=now, IsDeleted=False,
        )  # fmt: skip
        return row

    def _autonumber(self, obj: schema.ObjectDef, rows: Sequence[Record]) -> None:
        for f in obj.fields.values():
            if f.autonumber:
                first = self._next_serials(f"{obj.name}.{f.name}", len(rows))
                for i, row in enumerate(rows):
                    if row.get(f.name) is None:
                        row[f.name] = f"{first + i:08d}"

    def insert(self, sobject: str, values: Mapping[str, object]) -> str:
        """Insert one record; mints its 18-character ID and stamps the system fields."""
        obj = obj_def(sobject)
        with self.transaction():
            row = self._prepare(obj, values, self._next_serials(obj.key_prefix, 1))
            self._fire("before_insert", obj.name, {}, row)
            self._autonumber(obj, [row])
            encoded = self._encode(obj, row)
            cols = list(encoded)
            self._dirty = True
            self._conn.execute(
                f"INSERT INTO {_q(obj.name)} ({', '.join(map(_q, cols))}) VALUES ({', '.join('?' * len(cols))})",
                [encoded[c] for c in cols],
            )
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
        defaults: Record = {f.name: f.default for f in obj.fields.values() if f.default is not None}
        with self.transaction():
            first = self._next_serials(obj.key_prefix, len(rows))
            now, user = self.clock.now(), self._user()
            stamps: Record = dict(
                CreatedDate=now, CreatedById=user, LastModifiedDate=now, LastModifiedById=user,
                SystemModstamp=now, IsDeleted=False,
            )  # fmt: skip
            prepared: list[Record] = []
            for i, values in enumerate(rows):
                row = dict(defaults)
                for key, value in values.items():
                    row[fields[key].name] = value
                row["Id"] = sfid.make(obj.key_prefix, first + i)
                row.update(stamps)
                prepared.append(row)
            self._autonumber(obj, prepared)
            cols = sorted({c for row in prepared for c in row})
            encoders = [ColumnEncoder(obj.fields[c]) for c in cols]
            matrix = [[enc(row.get(c)) for c, enc in zip(cols, encoders, strict=True)] for row in prepared]
            self._dirty = True
            self._conn.executemany(
                f"INSERT INTO {_q(obj.name)} ({', '.join(map(_q, cols))}) VALUES ({', '.join('?' * len(cols))})",
                matrix,
            )
        return [str(row["Id"]) for row in prepared]

    def update(
        self, sobject: str, record_id: str, values: Mapping[str, object], *, triggers: bool = True
    ) -> None:
        """Update fields of one live record; RecordError ENTITY_IS_DELETED / INVALID_CROSS_REFERENCE_KEY."""
        obj = obj_def(sobject)
        with self.transaction():
            old = self.get(obj.name, record_id, include_deleted=True)
            if old is None:
                raise bad_reference(record_id)
            if old["IsDeleted"]:
                raise entity_deleted()
            new = dict(old)
            for key, value in values.items():
                fdef = obj.field(key)
                new[fdef.name if fdef else key] = value
            if triggers:
                self._fire("before_update", obj.name, old, new)
            now = self.clock.now()
            new.update(LastModifiedDate=now, LastModifiedById=self._user(), SystemModstamp=now)
            changed = {k: v for k, v in new.items() if k in _SYSTEM_STAMPS or old.get(k) != v}
            encoded = self._encode(obj, changed)
            self._dirty = True
            sets = ", ".join(f"{_q(c)} = ?" for c in encoded)
            self._conn.execute(
                f"UPDATE {_q(obj.name)} SET {sets} WHERE Id = ?", [*encoded.values(), old["Id"]]
            )
            if triggers:
                self._fire("after_update", obj.name, old, self.get(obj.name, str(old["Id"])) or new)

    def delete(self, sobject: str, record_id: str) -> None:
        """Soft-delete one record (queryAll still sees it, with IsDeleted = true)."""
        obj = obj_def(sobject)
        with self.transaction():
            old = self.get(obj.name, record_id, include_deleted=True)
            if old is None:
                raise bad_reference(record_id)
            if old["IsDeleted"]:
                raise entity_deleted()
            self._fire("before_delete", obj.name, old, {})
            now = format_sql_datetime(self.clock.now())
            self._dirty = True
            self._conn.execute(
                f"UPDATE {_q(obj.name)} SET IsDeleted = 1, SystemModstamp = ? WHERE Id = ?", (now, old["Id"])
            )

    # -- reads ------------------------------------------------------------------------------
    def _decode(self, obj: schema.ObjectDef, names: Sequence[str], values: Sequence[SqlValue]) -> Record:
        return {n: from_sql(obj.fields[n], v) for n, v in zip(names, values, strict=True)}

    def get(self, sobject: str, record_id: str, *, include_deleted: bool = False) -> Record | None:
        """One record by ID (15 or 18 characters), or None (also None when deleted, unless asked)."""
        obj = obj_def(sobject)
        try:
            full = sfid.to18(record_id)
        except sfid.InvalidIdError:
            return None
        rows = self.find(obj.name, Id=full, include_deleted=include_deleted)
        return rows[0] if rows else None

    def find(self, sobject: str, *, include_deleted: bool = False, **equals: object) -> list[Record]:
        """Live records whose fields equal the given values (None matches null), in insertion order."""
        obj = obj_def(sobject)
        names = list(obj.fields)
        clauses, params = [], []
        for key, value in equals.items():
            fdef = obj.field(key)
            if fdef is None:
                raise no_such_field(key, obj.name)
            if value is None:
                clauses.append(f"{_q(fdef.name)} IS NULL")
            else:
                clauses.append(f"{_q(fdef.name)} = ?")
                params.append(to_sql(fdef, value))
        if not include_deleted:
            clauses.append("IsDeleted = 0")
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {', '.join(map(_q, names))} FROM {_q(obj.name)}{where} ORDER BY rowid"
        with self._lock:
            fetched = self._conn.execute(sql, params).fetchall()
        return [self._decode(obj, names, row) for row in fetched]

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
