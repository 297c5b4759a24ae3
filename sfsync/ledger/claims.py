"""Work sharing: claim items under a lease on the database clock, and fenced writes.

On PostgreSQL a claim is ``SELECT … FOR UPDATE SKIP LOCKED`` followed by an update of the lease;
on SQLite every transaction begins IMMEDIATE, which serialises claimers on the write lock. Each claim
increments the item's ``lease_token``; a write is accepted only with the current token and before
the lease expires by the database's clock, so a worker whose lease was taken over cannot record.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from operator import itemgetter
from typing import Any, Final

import structlog
from sqlalchemy import ColumnElement, Connection, func, or_, select, update

from sfsync.errors import LeaseLostError
from sfsync.ledger.db import (
    Store,
    bind_processor,
    chunks,
    db_now,
    driver_executemany,
    driver_rows,
    driver_value,
)
from sfsync.ledger.models import items
from sfsync.ledger.records import ITEM_FIELDS, Change, FenceResult, Holder, Item, Lease

log = structlog.get_logger(__name__)

#: Columns whose shared value makes items one unit of work (one quote, one order).
GROUP_COLUMNS: Final[dict[str, ColumnElement[Any]]] = {
    "quote_id": items.c.quote_id,
    "order_id": items.c.order_id,
}

#: The items columns in :class:`Item`'s field order, as SQL text and as types, for the claim's
#: driver-level RETURNING (a row then builds an Item positionally).
_ITEM_SQL_COLUMNS: Final[str] = ", ".join(ITEM_FIELDS)
_ITEM_TYPES: Final[tuple[Any, ...]] = tuple(items.c[name].type for name in ITEM_FIELDS)

_HELD_TYPES: Final[tuple[Any, ...]] = (items.c.id.type, items.c.lease_token.type)

#: Columns a lease holder may change through :meth:`Claims.record`.
WRITABLE: Final[frozenset[str]] = frozenset(
    {
        "state",
        "step",
        "account_id",
        "asset_name",
        "quote_id",
        "order_id",
        "price_book_id",
        "term_start",
        "term_end",
        "cancellation_date",
        "sf_error_code",
        "sf_error_message",
        "attempts",
        "detail",
    }
)


def _check(values: dict[str, Any]) -> None:
    unknown = set(values) - WRITABLE
    if unknown:
        msg = f"cannot record {sorted(unknown)}; writable fields: {sorted(WRITABLE)}"
        raise ValueError(msg)


def _held(conn: Connection, leases: Sequence[Lease], now: datetime) -> set[int]:
    """The items whose lease is exactly one of ``leases`` and still running by the database clock.

    The rows are locked until the commit (``FOR UPDATE`` on PostgreSQL; SQLite's transactions hold
    the write lock from the start), so the fence cannot move before the caller's update. Looked up
    by primary key, tokens compared here: a ``(id, token) IN (…)`` row-value list is not indexed.
    """
    tokens = {lease.item_id: lease.token for lease in leases}
    held: set[int] = set()
    now_value = driver_value(conn, items.c.lease_expires_at.type, now)
    lock = " FOR UPDATE" if conn.dialect.name == "postgresql" else ""
    for part in chunks(list(tokens)):
        marks = ", ".join("?" * len(part))
        rows = driver_rows(
            conn,
            f"SELECT id, lease_token FROM items WHERE id IN ({marks}) AND lease_expires_at > ?{lock}",
            (*part, now_value),
            _HELD_TYPES,
        )
        held.update(int(item_id) for item_id, token in rows if tokens[int(item_id)] == token)
    return held


class Claims:
    """Claim, renew and release leases on items; write only while the lease holds."""

    def __init__(self, store: Store) -> None:
        self._s = store

    def claim(
        self,
        run_id: str,
        states: Collection[str],
        worker_id: str,
        limit: int,
        lease_s: float,
        *,
        group_by: str | None = None,
    ) -> list[Item]:
        """Lease up to ``limit`` of the run's items in ``states`` that no live lease holds.

        With ``group_by`` (``"quote_id"`` or ``"order_id"``) whole groups are leased: every claimable
        item sharing the quote (or order), or none of a group another worker holds in part. Items
        whose group column is empty are not claimed that way. At least one group is returned even
        if it alone exceeds ``limit``.
        """
        if limit < 1 or lease_s <= 0:
            msg = "claim needs limit >= 1 and lease_s > 0"
            raise ValueError(msg)
        if group_by is not None and group_by not in GROUP_COLUMNS:
            msg = f"cannot group claims by {group_by!r}; expected one of {sorted(GROUP_COLUMNS)}"
            raise ValueError(msg)
        with self._s.tx() as conn:
            now = db_now(conn)
            if group_by is None:
                ids = _free_ids(conn, now, run_id, list(states), limit)
            else:
                ids = _group_ids(conn, now, run_id, list(states), limit, GROUP_COLUMNS[group_by])
            if not ids:
                return []
            expires = driver_value(conn, items.c.lease_expires_at.type, now + timedelta(seconds=lease_s))
            stamp = driver_value(conn, items.c.updated_at.type, self._s.clock.now())
            claimed: list[Item] = []
            for part in chunks(ids):
                # One statement leases the rows and hands them back (RETURNING: SQLite ≥ 3.35, PG),
                # straight through the driver: SQLAlchemy's row handling cost several times the
                # update itself, for every item of every step.
                marks = ", ".join("?" * len(part))
                rows = driver_rows(
                    conn,
                    f"UPDATE items SET lease_owner = ?, lease_expires_at = ?, lease_token = lease_token + 1, "
                    f"updated_at = ? WHERE id IN ({marks}) RETURNING {_ITEM_SQL_COLUMNS}",
                    (worker_id, expires, stamp, *part),
                    _ITEM_TYPES,
                )
                claimed.extend(Item(*row) for row in rows)
        claimed.sort(key=lambda item: item.id)
        log.debug("items_claimed", run_id=run_id, worker_id=worker_id, count=len(claimed), group_by=group_by)
        return claimed

    def _fenced(
        self,
        changes: Sequence[Change],
        *,
        hold_s: float | None = None,
        intent: bool = False,
        warn: str = "fenced_writes_refused",
    ) -> FenceResult:
        """Apply fenced updates in one transaction; report which leases were refused.

        Every row's UPDATE carries the fence (``id``, ``lease_token``, lease unexpired by the
        database's clock), so the common case, every lease still held, is one ``executemany`` per
        shape of change and nothing else. When a batch matches fewer rows than it has, a lease was
        lost: the transaction is rolled back and the batch written again the careful way, first
        locking the rows whose lease holds (``SELECT … FOR UPDATE``; SQLite's transactions hold the
        write lock from the start) and then updating only those.
        """
        if not changes:
            return FenceResult(done=(), refused=())
        stamp = self._s.clock.now()
        try:
            with self._s.tx() as conn:
                _apply_all(conn, changes, db_now(conn), stamp, hold_s, intent=intent, strict=False)
            return FenceResult(done=tuple(change.lease.item_id for change in changes), refused=())
        except _Shortfall:
            pass  # rolled back: nothing of the batch was written
        with self._s.tx() as conn:
            now = db_now(conn)
            held = _held(conn, [change.lease for change in changes], now)
            kept = [change for change in changes if change.lease.item_id in held]
            _apply_all(conn, kept, now, stamp, hold_s, intent=intent, strict=True)
        done = tuple(change.lease.item_id for change in changes if change.lease.item_id in held)
        refused = tuple(change.lease.item_id for change in changes if change.lease.item_id not in held)
        if refused:
            log.warning(warn, count=len(refused), item_ids=list(refused[:20]))
        return FenceResult(done=done, refused=refused)

    def renew(self, leases: Sequence[Lease], lease_s: float) -> FenceResult:
        """Extend live leases by ``lease_s`` from the database's now; report those already lost."""
        if lease_s <= 0:
            msg = "lease_s must be > 0"
            raise ValueError(msg)
        return self._fenced([Change(lease, {}) for lease in leases], hold_s=lease_s, warn="leases_lost")

    def release(self, leases: Sequence[Lease]) -> FenceResult:
        """Give leases back so any worker may claim the items at once."""
        return self._fenced([Change(lease, {}, release=True) for lease in leases], warn="leases_lost")

    def mark_intent(
        self,
        leases: Sequence[Lease],
        *,
        step: str,
        state: str,
        lease_s: float | None = None,
        values: Mapping[int, Mapping[str, Any]] | None = None,
    ) -> FenceResult:
        """Commit "about to call Salesforce for ``step``" before the call is made.

        Sets ``state``, ``step``, ``intent_at`` (database time) and counts an attempt; with
        ``lease_s``, also extends the lease that long from the database's now (the call may outlive
        the claim's lease). ``values`` (by item ID) are other columns recorded in the same write:
        what an earlier, idempotent step found out (a quote's pricing, an order's address), which
        then needs no write of its own. Call Salesforce only for the items in ``done``: the refused
        ones belong to another worker now.
        """
        if lease_s is not None and lease_s <= 0:
            msg = "lease_s must be > 0"
            raise ValueError(msg)
        more = values or {}
        changes = []
        for lease in leases:
            extra = more.get(lease.item_id, {})
            if "attempts" in extra:
                msg = "an intent counts the attempt itself; do not pass attempts"
                raise ValueError(msg)
            change = {**extra, "state": state, "step": step}
            _check(change)
            changes.append(Change(lease, change))
        return self._fenced(changes, hold_s=lease_s, intent=True, warn="leases_lost")

    def record(self, item_id: int, lease_token: int, *, release: bool = False, **changes: Any) -> Item:
        """Update one item if its lease (``lease_token``) still holds; else raise :class:`LeaseLostError`."""
        result = self.record_many([Change(Lease(item_id, lease_token), dict(changes), release)])
        if result.refused:
            msg = f"item {item_id}: lease {lease_token} was lost or taken over; result not recorded"
            raise LeaseLostError(msg)
        with self._s.read() as conn:
            row = conn.execute(select(items).where(items.c.id == item_id)).mappings().one()
        return Item.from_row(row)

    def record_many(self, changes: Sequence[Change], *, hold_s: float | None = None) -> FenceResult:
        """Apply many fenced updates in one transaction; report which leases were refused.

        Changes with the same columns go in one ``executemany`` UPDATE that fences each row (see
        :meth:`_fenced`). With ``hold_s``, the leases of changes that are not released are extended
        that long from the database's now (the worker goes on working on those items).
        """
        if hold_s is not None and hold_s <= 0:
            msg = "hold_s must be > 0"
            raise ValueError(msg)
        for change in changes:
            _check(change.values)
        return self._fenced(changes, hold_s=hold_s)

    def holders(self, run_id: str) -> list[Holder]:
        """The workers holding live leases on the run's items, by worker ID."""
        with self._s.read() as conn:
            now = db_now(conn)
            rows = conn.execute(
                select(items.c.lease_owner, func.count(), func.max(items.c.lease_expires_at))
                .where(
                    items.c.run_id == run_id, items.c.lease_owner.is_not(None), items.c.lease_expires_at > now
                )
                .group_by(items.c.lease_owner)
                .order_by(items.c.lease_owner)
            ).all()
        return [Holder(str(owner), int(count), until) for owner, count, until in rows]

    def expire(self, worker_id: str, run_id: str | None = None) -> int:
        """End every lease ``worker_id`` holds now (an operator declaring a worker dead)."""
        with self._s.tx() as conn:
            now = db_now(conn)
            where = [items.c.lease_owner == worker_id, items.c.lease_expires_at > now]
            if run_id is not None:
                where.append(items.c.run_id == run_id)
            count = conn.execute(update(items).where(*where).values(lease_expires_at=now)).rowcount
        log.info("leases_expired", worker_id=worker_id, count=count)
        return int(count)


def _free_ids(conn: Connection, now: datetime, run_id: str, states: list[str], limit: int) -> list[int]:
    """Lock up to ``limit`` unleased items (others' locked rows are skipped, never waited for)."""
    query = (
        select(items.c.id)
        .where(items.c.run_id == run_id, items.c.state.in_(states), _free(now))
        .order_by(items.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [int(i) for i in conn.execute(query).scalars()]


def _group_ids(
    conn: Connection, now: datetime, run_id: str, states: list[str], limit: int, column: ColumnElement[Any]
) -> list[int]:
    """Lock the items of whole free groups; a group only partly lockable now is left for later."""
    in_run = (items.c.run_id == run_id, items.c.state.in_(states), column.is_not(None))
    busy = select(column).where(*in_run, items.c.lease_expires_at > now)
    groups = conn.execute(
        select(column, func.count())
        .where(*in_run, _free(now), column.not_in(busy))
        .group_by(column)
        .order_by(func.min(items.c.id))
        .limit(limit)
    ).all()
    wanted: dict[str, int] = {}
    for key, count in groups:
        if wanted and sum(wanted.values()) + int(count) > limit:
            break
        wanted[str(key)] = int(count)
    if not wanted:
        return []
    locked: dict[str, list[int]] = defaultdict(list)
    query = (
        select(items.c.id, column)
        .where(*in_run, _free(now), column.in_(list(wanted)))
        .order_by(items.c.id)
        .with_for_update(skip_locked=True)
    )
    for item_id, key in conn.execute(query):
        locked[str(key)].append(int(item_id))
    # Another worker locked or leased part of a group meanwhile: leave the whole group to it.
    return sorted(i for key, ids in locked.items() if len(ids) == wanted[key] for i in ids)


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(items.c.lease_expires_at.is_(None), items.c.lease_expires_at <= now)


class _Shortfall(Exception):
    """A fenced batch matched fewer rows than it had: a lease was lost (the batch is redone)."""


def _apply_all(
    conn: Connection,
    changes: Sequence[Change],
    now: datetime,
    stamp: datetime,
    hold_s: float | None,
    *,
    intent: bool,
    strict: bool,
) -> None:
    """Run the changes as one executemany UPDATE per shape (columns, released or not)."""
    groups: dict[tuple[tuple[str, ...], bool], list[Change]] = defaultdict(list)
    for change in changes:
        groups[(tuple(sorted(change.values)), change.release)].append(change)
    hold_until = now + timedelta(seconds=hold_s) if hold_s is not None else None
    for (columns, release), group in groups.items():
        changed = _apply_many(conn, columns, release, group, now, stamp, hold_until, intent=intent)
        if changed == len(group) or (strict and changed == -1):
            continue
        if strict:
            # The rows were locked as held in this transaction: the fence moved under the lock,
            # which must not pass silently.
            msg = f"fenced batch update changed {changed} of {len(group)} locked items"
            raise LeaseLostError(msg)
        raise _Shortfall


def _apply_many(
    conn: Connection,
    columns: tuple[str, ...],
    release: bool,
    group: Sequence[Change],
    now: datetime,
    stamp: datetime,
    hold_until: datetime | None,
    *,
    intent: bool = False,
) -> int:
    """One executemany UPDATE for changes of the same columns, fenced row by row; the rows changed.

    Released rows lose their lease; the others keep it, extended to ``hold_until`` when given. An
    ``intent`` also stamps ``intent_at`` with the database's now and counts an attempt. The
    statement goes straight to the driver (values converted once by column type): SQLAlchemy's
    generic executemany re-processes every parameter of every row, which dominated a large sweep.
    Column names come from :data:`WRITABLE`, never from input.
    """
    now_value = driver_value(conn, items.c.lease_expires_at.type, now)
    # The times are the same for every row: converted once, not per row.
    sets = [f"{name} = ?" for name in columns] + ["updated_at = ?"]
    fixed = [driver_value(conn, items.c.updated_at.type, stamp)]
    if release:
        sets += ["lease_owner = NULL", "lease_expires_at = NULL"]
    elif hold_until is not None:
        sets.append("lease_expires_at = ?")
        fixed.append(driver_value(conn, items.c.lease_expires_at.type, hold_until))
    if intent:
        sets += ["intent_at = ?", "attempts = attempts + 1"]
        fixed.append(now_value)
    sql = f"UPDATE items SET {', '.join(sets)} WHERE id = ? AND lease_token = ? AND lease_expires_at > ?"
    # One pass per row: the values picked in column order (converted where the type needs it),
    # then the shared values and the fence.
    tail = tuple(fixed)
    pick = _picker(columns)
    convert = [
        (i, proc)
        for i, name in enumerate(columns)
        if (proc := bind_processor(conn.dialect, items.c[name].type))
    ]
    rows: list[tuple[Any, ...]] = []
    for change in group:
        values = pick(change.values)
        if convert:
            values = list(values)
            for index, proc in convert:
                values[index] = proc(values[index])
        lease = change.lease
        rows.append((*values, *tail, lease.item_id, lease.token, now_value))
    return driver_executemany(conn, sql, [], rows)


def _picker(columns: tuple[str, ...]) -> Callable[[Mapping[str, Any]], Sequence[Any]]:
    """A function giving a mapping's values for ``columns``, in order, as a sequence."""
    if not columns:
        return lambda _values: ()
    if len(columns) == 1:
        name = columns[0]
        return lambda values: (values[name],)
    return itemgetter(*columns)
