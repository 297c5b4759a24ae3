"""Per-org API concurrency and budget shared by all workers (issue 7).

An org has ``max_concurrency`` slot rows; a caller leases one before a Salesforce call and releases
it after. Leases expire on the database clock, so a dead worker's slots come back by themselves.
The last ``Sforce-Limit-Info`` any worker saw is kept per org so every worker honours the reserve.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from sqlalchemy import func, or_, select, update

from sfsync.errors import LeaseLostError
from sfsync.ledger.db import Store, db_now, insert_ignore
from sfsync.ledger.models import org_slots, org_usage
from sfsync.ledger.records import OrgUsage, Slot

log = structlog.get_logger(__name__)


class Slots:
    """The ``org_slots`` and ``org_usage`` tables."""

    def __init__(self, store: Store) -> None:
        self._s = store

    def acquire(self, org: str, holder: str, max_concurrency: int, lease_s: float) -> Slot | None:
        """Lease a free concurrency slot of ``org``, or None when all ``max_concurrency`` are taken."""
        if max_concurrency < 1 or lease_s <= 0:
            msg = "acquire needs max_concurrency >= 1 and lease_s > 0"
            raise ValueError(msg)
        with self._s.tx() as conn:
            conn.execute(
                insert_ignore(conn, org_slots),
                [
                    {"org": org, "slot": n, "holder": None, "token": 0, "expires_at": None}
                    for n in range(max_concurrency)
                ],
            )
            now = db_now(conn)
            slot = conn.execute(
                select(org_slots.c.slot)
                .where(
                    org_slots.c.org == org,
                    org_slots.c.slot < max_concurrency,
                    or_(org_slots.c.expires_at.is_(None), org_slots.c.expires_at <= now),
                )
                .order_by(org_slots.c.slot)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).scalar()
            if slot is None:
                return None
            where = (org_slots.c.org == org, org_slots.c.slot == slot)
            conn.execute(
                update(org_slots)
                .where(*where)
                .values(
                    holder=holder, token=org_slots.c.token + 1, expires_at=now + timedelta(seconds=lease_s)
                )
            )
            row = conn.execute(select(org_slots).where(*where)).mappings().one()
        return Slot.from_row(row)

    def renew(self, slot: Slot, lease_s: float) -> Slot:
        """Extend a held slot; raise :class:`LeaseLostError` if it expired and was taken."""
        with self._s.tx() as conn:
            now = db_now(conn)
            where = (
                org_slots.c.org == slot.org,
                org_slots.c.slot == slot.slot,
                org_slots.c.token == slot.token,
                org_slots.c.expires_at > now,
            )
            changed = conn.execute(
                update(org_slots).where(*where).values(expires_at=now + timedelta(seconds=lease_s))
            ).rowcount
            if changed != 1:
                msg = f"org {slot.org}: concurrency slot {slot.slot} was lost"
                raise LeaseLostError(msg)
            row = conn.execute(select(org_slots).where(*where[:3])).mappings().one()
        return Slot.from_row(row)

    def release(self, slot: Slot) -> bool:
        """Free a slot; False if its lease had already been lost."""
        with self._s.tx() as conn:
            changed = conn.execute(
                update(org_slots)
                .where(
                    org_slots.c.org == slot.org,
                    org_slots.c.slot == slot.slot,
                    org_slots.c.token == slot.token,
                )
                .values(holder=None, expires_at=None)
            ).rowcount
        return bool(changed == 1)

    def in_use(self, org: str) -> int:
        """How many of the org's slots are leased right now."""
        with self._s.read() as conn:
            now = db_now(conn)
            count = conn.execute(
                select(func.count())
                .select_from(org_slots)
                .where(org_slots.c.org == org, org_slots.c.expires_at > now)
            ).scalar_one()
        return int(count)

    def report_usage(self, org: str, used: int, allowance: int, worker_id: str | None = None) -> None:
        """Store the API usage a worker just read from ``Sforce-Limit-Info`` for everyone to see."""
        with self._s.tx() as conn:
            values = {
                "org": org,
                "used": used,
                "allowance": allowance,
                "observed_at": db_now(conn),
                "worker_id": worker_id,
            }
            # Insert or update without dialect-specific upserts: the row is created once per org.
            conn.execute(insert_ignore(conn, org_usage).values(values))
            conn.execute(update(org_usage).where(org_usage.c.org == org).values(values))

    def usage(self, org: str) -> OrgUsage | None:
        """The last API usage any worker reported for ``org``."""
        with self._s.read() as conn:
            row = conn.execute(select(org_usage).where(org_usage.c.org == org)).mappings().first()
        return OrgUsage.from_row(row) if row else None
