"""Items: one per asset per run. Bulk insert with the one-active-run-per-asset guard, lists, retry."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import structlog
from sqlalchemy import Connection, Select, select, update

from sfsync.ledger.db import Store, bulk_insert, chunks
from sfsync.ledger.models import active_assets, items, runs
from sfsync.ledger.records import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    AddResult,
    Item,
    NewItem,
    ResetResult,
)
from sfsync.ledger.runs import count_states

log = structlog.get_logger(__name__)


def hold_assets(conn: Connection, run_id: str, asset_ids: Sequence[str]) -> dict[str, str]:
    """Make ``run_id`` hold these assets; return those another active run holds (asset -> run).

    The primary key of ``active_assets`` makes this atomic across workers: of two runs racing for
    an asset, exactly one insert lands.
    """
    if not asset_ids:
        return {}
    # Sorted, so concurrent runs lock the same keys in the same order and cannot deadlock.
    bulk_insert(
        conn,
        active_assets,
        [{"asset_id": a} for a in sorted(asset_ids)],
        constants={"run_id": run_id},
        ignore_conflicts=True,
    )
    held: dict[str, str] = {}
    for part in chunks(asset_ids):
        rows = conn.execute(
            select(active_assets.c.asset_id, active_assets.c.run_id).where(
                active_assets.c.asset_id.in_(part), active_assets.c.run_id != run_id
            )
        )
        held.update({str(a): str(r) for a, r in rows})
    return held


class Items:
    """The ``items`` table."""

    def __init__(self, store: Store) -> None:
        self._s = store

    def _run_status(self, conn: Connection, run_id: str) -> str:
        status = conn.execute(select(runs.c.status).where(runs.c.id == run_id)).scalar()
        if status is None:
            msg = f"no run {run_id!r} in the ledger"
            raise LookupError(msg)
        return str(status)

    def add(self, run_id: str, new_items: Iterable[NewItem]) -> AddResult:
        """Add items to an active run in bulk; assets held by another active run are left out.

        Re-adding an asset already in this run changes nothing (it is reported in ``duplicates``).
        """
        wanted: dict[str, NewItem] = {}
        repeated: list[str] = []
        for item in new_items:
            if item.asset_id in wanted:
                repeated.append(item.asset_id)
            else:
                wanted[item.asset_id] = item
        now = self._s.clock.now()
        with self._s.tx() as conn:
            status = self._run_status(conn, run_id)
            if status not in ACTIVE_STATUSES:
                msg = f"run {run_id} is {status}; items can only be added to an active run"
                raise ValueError(msg)
            held = hold_assets(conn, run_id, list(wanted))
            existing: set[str] = set()
            for part in chunks([a for a in wanted if a not in held]):
                existing.update(
                    conn.execute(
                        select(items.c.asset_id).where(items.c.run_id == run_id, items.c.asset_id.in_(part))
                    ).scalars()
                )
            rows = _rows(run_id, [i for a, i in wanted.items() if a not in held and a not in existing])
            if rows:
                # Constant columns bound once in .values(), not once per row: 10,000 rows stay fast.
                constants = {"attempts": 0, "lease_token": 0, "created_at": now, "updated_at": now}
                bulk_insert(conn, items, rows, constants=constants)
        if held:
            log.warning("assets_held_by_other_runs", run_id=run_id, count=len(held))
        return AddResult(inserted=len(rows), held=held, duplicates=(*sorted(existing), *repeated))

    def held_by_other_runs(self, asset_ids: Sequence[str], run_id: str | None = None) -> dict[str, str]:
        """Which of these assets an active run (other than ``run_id``) holds: asset -> run."""
        found: dict[str, str] = {}
        with self._s.read() as conn:
            for part in chunks(list(asset_ids)):
                query = select(active_assets.c.asset_id, active_assets.c.run_id).where(
                    active_assets.c.asset_id.in_(part)
                )
                if run_id is not None:
                    query = query.where(active_assets.c.run_id != run_id)
                found.update({str(a): str(r) for a, r in conn.execute(query)})
        return found

    def get(self, item_id: int) -> Item | None:
        """The item with this id, or None."""
        with self._s.read() as conn:
            row = conn.execute(select(items).where(items.c.id == item_id)).mappings().first()
        return Item.from_row(row) if row else None

    def find(
        self,
        run_id: str,
        *,
        states: Collection[str] | None = None,
        asset_prefix: str | None = None,
        name_contains: str | None = None,
        limit: int = 100,
        offset: int = 0,
        after_id: int | None = None,
    ) -> list[Item]:
        """A run's items in insertion order, filtered by state, asset id prefix or name; paginated."""
        query: Select[Any] = select(items).where(items.c.run_id == run_id).order_by(items.c.id)
        if states is not None:
            query = query.where(items.c.state.in_(list(states)))
        if asset_prefix:
            query = query.where(items.c.asset_id.startswith(asset_prefix, autoescape=True))
        if name_contains:
            query = query.where(items.c.asset_name.icontains(name_contains, autoescape=True))
        if after_id is not None:
            query = query.where(items.c.id > after_id)
        with self._s.read() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
        return [Item.from_row(r) for r in rows]

    def counts(self, run_id: str) -> dict[str, int]:
        """Number of the run's items in each state."""
        with self._s.read() as conn:
            return count_states(conn, run_id)

    def set_errors(self, run_id: str, errors: Mapping[str, tuple[str, str]]) -> int:
        """Store error codes and messages on a run's items by asset id; return how many changed.

        Unfenced: meant for rejections found at selection, before any item is claimed.
        """
        changed = 0
        with self._s.tx() as conn:
            stamp = self._s.clock.now()
            for asset_id, (code, message) in errors.items():
                changed += conn.execute(
                    update(items)
                    .where(items.c.run_id == run_id, items.c.asset_id == asset_id)
                    .values(sf_error_code=code, sf_error_message=message, updated_at=stamp)
                ).rowcount
        return changed

    def skip_open(
        self, run_id: str, reason: str, *, states: Collection[str] | None = None, to_state: str = "skipped"
    ) -> int:
        """Mark items ``to_state`` with ``reason`` when a run is refused before any write.

        ``states`` picks the items; by default, every item never sent to Salesforce (no intent written)
        and not already carrying an error, so rejected rows keep their own reason.
        """
        where = [items.c.run_id == run_id]
        if states is not None:
            where.append(items.c.state.in_(list(states)))
        else:
            where += [items.c.intent_at.is_(None), items.c.sf_error_code.is_(None)]
        with self._s.tx() as conn:
            changed = conn.execute(
                update(items)
                .where(*where)
                .values(state=to_state, sf_error_message=reason, updated_at=self._s.clock.now())
            ).rowcount
        return int(changed)

    def reset_failed(
        self, run_id: str, *, states: Collection[str] = ("failed",), to_state: str = "selected"
    ) -> ResetResult:
        """Put a run's failed items back to ``to_state`` for a retry, and reopen the run if it ended.

        Quote and order ids are kept, so a retry continues from what Salesforce already has instead
        of creating a second one. Items whose asset another active run now holds stay failed.
        """
        with self._s.tx() as conn:
            status = self._run_status(conn, run_id)
            failed = conn.execute(
                select(items.c.id, items.c.asset_id).where(
                    items.c.run_id == run_id, items.c.state.in_(list(states))
                )
            ).all()
            held = hold_assets(conn, run_id, [str(a) for _, a in failed])
            ids = [int(i) for i, a in failed if a not in held]
            for part in chunks(ids):
                conn.execute(
                    update(items)
                    .where(items.c.id.in_(part))
                    .values(
                        state=to_state,
                        sf_error_code=None,
                        sf_error_message=None,
                        attempts=0,
                        intent_at=None,
                        lease_owner=None,
                        lease_expires_at=None,
                        updated_at=self._s.clock.now(),
                    )
                )
            if ids and status in TERMINAL_STATUSES:
                conn.execute(
                    update(runs)
                    .where(runs.c.id == run_id)
                    .values(status="pending", finished_at=None, error=None, counts=count_states(conn, run_id))
                )
            elif not ids and status in TERMINAL_STATUSES:
                # Nothing to retry: give back the holds taken above.
                conn.execute(active_assets.delete().where(active_assets.c.run_id == run_id))
        log.info("items_reset_for_retry", run_id=run_id, reset=len(ids), held=len(held))
        return ResetResult(reset=len(ids), held=held)


def _rows(run_id: str, new_items: Sequence[NewItem]) -> list[dict[str, Any]]:
    """Insert parameters; optional columns appear only if some item sets them (less to bind)."""
    optional = (
        "account_id",
        "asset_name",
        "price_book_id",
        "term_start",
        "term_end",
        "cancellation_date",
        "detail",
        "sf_error_code",
        "sf_error_message",
    )
    present = [name for name in optional if any(getattr(i, name) is not None for i in new_items)]
    return [
        {"run_id": run_id, "asset_id": i.asset_id, "state": i.state, **{n: getattr(i, n) for n in present}}
        for i in new_items
    ]
