"""Claiming items under leases on the database clock, and fenced writes."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from dbfixtures import PgServer
from ledger_helpers import drain, poll, seeded_run
from sqlalchemy.engine import make_url

from sfsync.clock import FixedClock, SystemClock
from sfsync.errors import LeaseLostError, LedgerError
from sfsync.ledger import Change, Ledger, open_ledger


@pytest.mark.parametrize("workers", [2, 4])
def test_concurrent_claimers_never_share_an_item(ledger: Ledger, ledger_url: str, workers: int) -> None:
    """Threads draining one run claim every item exactly once between them."""
    run_id = seeded_run(ledger, 600)
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda n: drain(ledger_url, run_id, f"w{n}", 25), range(workers)))
    claimed = [i for r in results for i in r]
    assert len(claimed) == len(set(claimed)) == 600
    assert ledger.items.counts(run_id) == {"done": 600}


@pytest.mark.postgres
@pytest.mark.slow
def test_claiming_processes_never_share_an_item(pg: PgServer) -> None:
    """Four worker processes on PostgreSQL claim every item exactly once between them."""
    url = pg.fresh()
    try:
        with open_ledger(url) as ledger:
            run_id = seeded_run(ledger, 2_000)
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(4) as pool:
                results = pool.starmap(drain, [(url, run_id, f"p{n}", 50) for n in range(4)])
            claimed = [i for r in results for i in r]
            assert len(claimed) == len(set(claimed)) == 2_000
            assert sum(1 for r in results if r) >= 2, "the work should be shared"
            assert ledger.items.counts(run_id) == {"done": 2_000}
    finally:
        pg.drop(url)


def test_expired_lease_is_reclaimed_and_the_old_owner_is_fenced(ledger: Ledger) -> None:
    """After its lease expires another worker takes the item and the first one can no longer write."""
    run_id = seeded_run(ledger, 1)
    [first] = ledger.claims.claim(run_id, ["selected"], "w-old", 1, lease_s=0.3)
    assert first.lease_owner == "w-old"
    taken = poll(lambda: ledger.claims.claim(run_id, ["selected"], "w-new", 1, lease_s=60))
    assert taken[0].id == first.id
    assert taken[0].lease_token == first.lease_token + 1
    with pytest.raises(LeaseLostError, match=f"item {first.id}"):
        ledger.claims.record(first.id, first.lease_token, state="done")
    written = ledger.claims.record(taken[0].id, taken[0].lease_token, state="done", quote_id=None)
    assert written.state == "done"
    refused = ledger.claims.record_many([Change(first.lease, {"state": "failed"})])
    assert refused.refused == (first.id,)
    assert ledger.items.get(first.id).state == "done"  # type: ignore[union-attr]


def test_live_lease_is_not_claimable(ledger: Ledger) -> None:
    """An item under a live lease is skipped by other claimers."""
    run_id = seeded_run(ledger, 2)
    mine = ledger.claims.claim(run_id, ["selected"], "a", 10, lease_s=60)
    assert len(mine) == 2
    assert ledger.claims.claim(run_id, ["selected"], "b", 10, lease_s=60) == []


def test_worker_clock_ten_minutes_off_changes_nothing(ledger_url: str, ledger: Ledger) -> None:
    """Leases are measured on the database's clock, never on the worker's."""
    run_id = seeded_run(ledger, 5)
    now = SystemClock().now()
    behind = open_ledger(ledger_url, clock=FixedClock(now - timedelta(minutes=10)), migrate=False)
    ahead = open_ledger(ledger_url, clock=FixedClock(now + timedelta(minutes=10)), migrate=False)
    try:
        claimed = behind.claim(run_id, ["selected"], "slow-clock", 5, lease_s=60)
        db_now = ledger.db_now()
        for item in claimed:
            assert item.lease_expires_at is not None
            assert timedelta(seconds=50) < item.lease_expires_at - db_now <= timedelta(seconds=61)
        # A worker whose clock runs ten minutes ahead must not see those leases as expired.
        assert ahead.claim(run_id, ["selected"], "fast-clock", 5, lease_s=60) == []
        assert behind.record(claimed[0].id, claimed[0].lease_token, state="done").state == "done"
    finally:
        behind.close()
        ahead.close()


def test_renew_extends_and_release_frees(ledger: Ledger) -> None:
    """Renewing pushes the expiry on; releasing lets another worker claim at once."""
    run_id = seeded_run(ledger, 2)
    claimed = ledger.claims.claim(run_id, ["selected"], "a", 2, lease_s=5)
    leases = [i.lease for i in claimed]
    renewed = ledger.claims.renew(leases, lease_s=600)
    assert renewed.done == tuple(i.id for i in claimed)
    after = ledger.items.get(claimed[0].id)
    assert after is not None
    assert after.lease_expires_at is not None
    assert after.lease_expires_at - ledger.db_now() > timedelta(seconds=500)
    released = ledger.claims.release(leases[:1])
    assert released.done == (claimed[0].id,)
    again = ledger.claims.claim(run_id, ["selected"], "b", 5, lease_s=60)
    assert [i.id for i in again] == [claimed[0].id]
    # The released lease is dead: neither renewing nor writing with it works.
    assert ledger.claims.renew(leases[:1], lease_s=60).refused == (claimed[0].id,)
    with pytest.raises(LeaseLostError):
        ledger.claims.record(leases[0].item_id, leases[0].token, state="done")


def test_mark_intent_commits_before_the_call(ledger_url: str, ledger: Ledger) -> None:
    """The intent (state, step, intent_at, attempt) is visible to another connection at once."""
    run_id = seeded_run(ledger, 3)
    claimed = ledger.claims.claim(run_id, ["selected"], "a", 3, lease_s=60)
    result = ledger.claims.mark_intent([i.lease for i in claimed], step="initiate_renewal", state="renewing")
    assert result.done == tuple(i.id for i in claimed)
    with open_ledger(ledger_url, migrate=False) as other:
        seen = other.items.find(run_id)
    assert {i.state for i in seen} == {"renewing"}
    assert {i.step for i in seen} == {"initiate_renewal"}
    assert all(i.intent_at is not None and i.attempts == 1 for i in seen)


def test_mark_intent_refuses_lost_leases(ledger: Ledger) -> None:
    """Items whose lease was taken over get no intent, and are reported as refused."""
    run_id = seeded_run(ledger, 2)
    claimed = ledger.claims.claim(run_id, ["selected"], "a", 2, lease_s=60)
    assert ledger.claims.expire("a") == 2
    retaken = ledger.claims.claim(run_id, ["selected"], "b", 1, lease_s=60)
    result = ledger.claims.mark_intent([i.lease for i in claimed], step="s", state="in_flight")
    assert result.done == ()
    assert set(result.refused) == {i.id for i in claimed}
    assert ledger.items.get(retaken[0].id).state == "selected"  # type: ignore[union-attr]


def test_record_changes_fields_and_refuses_unknown_ones(ledger: Ledger) -> None:
    """A fenced write stores what it is given; a non-writable field is a programming error."""
    run_id = seeded_run(ledger, 1)
    [item] = ledger.claims.claim(run_id, ["selected"], "a", 1, lease_s=60)
    quote = "0Q0" + item.asset_id[3:]
    written = ledger.claims.record(
        item.id, item.lease_token, state="quoted", quote_id=quote, detail={"term": "2027-01-01"}, release=True
    )
    assert (written.state, written.quote_id, written.detail) == ("quoted", quote, {"term": "2027-01-01"})
    assert written.lease_owner is None
    with pytest.raises(ValueError, match="lease_owner"):
        ledger.claims.record(item.id, item.lease_token, lease_owner="intruder")


def test_ledger_gone_means_no_intent(ledger_url: str, ledger: Ledger, request: pytest.FixtureRequest) -> None:
    """When the database disappears, mark_intent raises LedgerError, so no Salesforce call may follow."""
    run_id = seeded_run(ledger, 2)
    claimed = ledger.claims.claim(run_id, ["selected"], "w", 2, lease_s=60)
    if ledger.dialect == "postgresql":
        server: PgServer = request.getfixturevalue("pg")
        server.drop(ledger_url)
    else:
        database = make_url(ledger_url).database
        assert database is not None
        for suffix in ("", "-wal", "-shm"):
            Path(database + suffix).unlink(missing_ok=True)
    with pytest.raises(LedgerError, match="ledger database error"):
        ledger.claims.mark_intent([i.lease for i in claimed], step="initiate", state="in_flight")
