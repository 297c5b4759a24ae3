"""Batched fenced writes: mixed column sets in one call, a lost lease refused, the rest written."""

from __future__ import annotations

from datetime import timedelta

import pytest
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


def test_an_intent_carries_earlier_findings_and_a_lost_lease_in_its_group_costs_the_others_nothing(
    ledger: Ledger,
) -> None:
    """The intent writes each item's own values; a stale lease among them is refused, once counted."""
    run_id = seeded_run(ledger, 4)
    a, b, c, d = ledger.claims.claim(run_id, ["selected"], "w1", 10, lease_s=60)
    stale = Lease(c.id, c.lease_token - 1)
    found = {
        a.id: {"detail": {"pricing": "CompletedWithTax"}},
        b.id: {"detail": {"pricing": "CompletedWithoutPricing"}},
        c.id: {"detail": {"pricing": "CompletedWithTax"}},
    }
    result = ledger.claims.mark_intent(
        [a.lease, b.lease, stale, d.lease], step="order", state="ordering", lease_s=900, values=found
    )
    # The stale lease sits in the same write as a and b: they land, it is refused, and the first,
    # rolled-back attempt counted nobody's attempt twice.
    assert set(result.done) == {a.id, b.id, d.id}
    assert result.refused == (c.id,)
    rows = {i: found_row for i in (a.id, b.id, c.id, d.id) if (found_row := ledger.items.get(i)) is not None}
    assert rows[a.id].detail == {"pricing": "CompletedWithTax"}
    assert rows[b.id].detail == {"pricing": "CompletedWithoutPricing"}
    assert rows[d.id].detail is None, "an item without findings keeps its detail"
    assert [rows[i].state for i in (a.id, b.id, c.id, d.id)] == [
        "ordering",
        "ordering",
        "selected",
        "ordering",
    ]
    assert [rows[i].attempts for i in (a.id, b.id, c.id, d.id)] == [1, 1, 0, 1]
    assert all(rows[i].intent_at is not None and rows[i].step == "order" for i in (a.id, b.id, d.id))
    assert rows[a.id].lease_expires_at is not None
    assert rows[a.id].lease_expires_at - ledger.db_now() > timedelta(seconds=800)


def test_an_intent_refuses_to_count_attempts_it_is_given(ledger: Ledger) -> None:
    """``attempts`` is the intent's own count: passing it is a bug, refused before any write."""
    run_id = seeded_run(ledger, 1)
    [a] = ledger.claims.claim(run_id, ["selected"], "w1", 1, lease_s=60)
    with pytest.raises(ValueError, match="attempts"):
        ledger.claims.mark_intent([a.lease], step="s", state="x", values={a.id: {"attempts": 5}})
    assert ledger.items.get(a.id).attempts == 0  # type: ignore[union-attr]
