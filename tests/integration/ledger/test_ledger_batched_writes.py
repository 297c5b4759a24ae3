"""Batched fenced writes: mixed column sets in one call, a lost lease refused, the rest written."""

from __future__ import annotations

from ledger_helpers import seeded_run

from sfsync.ledger import Change, Ledger
from sfsync.ledger.records import Lease


def test_mixed_changes_in_one_batch_are_written_and_a_stale_lease_is_refused(ledger: Ledger) -> None:
    """Changes with different columns share one call; a stale token is refused, the others land."""
    run_id = seeded_run(ledger, 5)
    claimed = ledger.claims.claim(run_id, ["selected"], "w1", 10, lease_s=60)
    assert len(claimed) == 5
    a, b, c, d, e = claimed
    stale = Change(Lease(d.id, d.lease_token - 1), {"state": "failed"}, release=True)
    changes = [
        Change(a.lease, {"state": "quoted", "quote_id": "0Q08d0000000001AAA"}, release=True),
        Change(b.lease, {"state": "quoted", "quote_id": "0Q08d0000000002AAA"}, release=True),
        Change(c.lease, {"detail": {"since": "2026-11-23T00:00:00+00:00", "n": 3}}, release=False),
        stale,
        Change(e.lease, {"state": "failed", "sf_error_code": "X", "sf_error_message": "m"}, release=True),
    ]
    result = ledger.claims.record_many(changes)
    assert set(result.done) == {a.id, b.id, c.id, e.id}
    assert result.refused == (d.id,)
    rows = {item.id: found for item in claimed if (found := ledger.items.get(item.id)) is not None}
    assert (rows[a.id].state, rows[a.id].quote_id, rows[a.id].lease_owner) == (
        "quoted",
        "0Q08d0000000001AAA",
        None,
    )
    assert rows[b.id].quote_id == "0Q08d0000000002AAA"
    assert rows[c.id].detail == {"since": "2026-11-23T00:00:00+00:00", "n": 3}
    assert rows[c.id].lease_owner == "w1", "a change without release keeps the lease"
    assert rows[d.id].state == "selected", "the refused change wrote nothing"
    assert (rows[e.id].state, rows[e.id].sf_error_code) == ("failed", "X")


def test_empty_batch_refuses_nothing(ledger: Ledger) -> None:
    """No changes: nothing done, nothing refused."""
    result = ledger.claims.record_many([])
    assert (result.done, result.refused) == ((), ())
