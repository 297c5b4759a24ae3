"""Runs: creation, lookup, listing with filters, and the status lifecycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ledger_helpers import poll, seeded_run

from sfsync.clock import FixedClock
from sfsync.ledger import Ledger, NewItem, open_ledger


def test_create_and_get_round_trip(ledger: Ledger) -> None:
    """A created run reads back with every field as given."""
    fire = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    run = ledger.runs.create(
        "renewal-sweep",
        "renewal",
        "schedule",
        "prod",
        dry_run=True,
        parameters={"window_days": 30, "families": ["Software"]},
        fire_time=fire,
        worker_id="w1",
    )
    assert run.id.startswith("r-")
    assert len(run.id) == 12
    got = ledger.runs.get(run.id)
    assert got == run
    assert got.fire_time == fire
    assert got.dry_run
    assert got.status == "pending"
    assert ledger.runs.get("r-doesnotexist") is None


def test_create_refuses_unknown_kind_and_trigger(ledger: Ledger) -> None:
    """Kinds and triggers are a closed set."""
    with pytest.raises(ValueError, match="kind"):
        ledger.runs.create("j", "upgrade", "manual", "prod")
    with pytest.raises(ValueError, match="trigger"):
        ledger.runs.create("j", "renewal", "cron", "prod")


def test_find_filters_newest_first_and_paginates(ledger_url: str) -> None:
    """Runs list newest first, filter by job, status and time, and page with limit/offset."""
    clock = FixedClock(datetime(2026, 11, 1, tzinfo=UTC))
    with open_ledger(ledger_url, clock=clock, migrate=False) as ledger:
        made = []
        for n in range(6):
            job = "renewal-sweep" if n % 2 == 0 else "cancellation-run"
            kind = "renewal" if n % 2 == 0 else "cancellation"
            made.append(ledger.runs.create(job, kind, "manual", "prod"))
            clock.advance(60)
        ledger.runs.set_status(made[0].id, "running")
        assert [r.id for r in ledger.runs.find()] == [r.id for r in reversed(made)]
        assert [r.id for r in ledger.runs.find(job="renewal-sweep")] == [made[4].id, made[2].id, made[0].id]
        assert [r.id for r in ledger.runs.find(statuses=["running"])] == [made[0].id]
        since = made[3].created_at
        assert [r.id for r in ledger.runs.find(since=since)] == [made[5].id, made[4].id, made[3].id]
        page1 = ledger.runs.find(limit=4)
        page2 = ledger.runs.find(limit=4, offset=4)
        assert [r.id for r in page1 + page2] == [r.id for r in reversed(made)]


def test_status_lifecycle_stamps_times_and_frees_assets(ledger_url: str) -> None:
    """Running stamps the start, a terminal status stamps the end, freezes counts and frees assets."""
    clock = FixedClock(datetime(2026, 11, 1, tzinfo=UTC))
    with open_ledger(ledger_url, clock=clock, migrate=False) as ledger:
        run_id = seeded_run(ledger, 3)
        running = ledger.runs.set_status(run_id, "running", worker_id="w1")
        assert running.started_at == clock.now()
        assert running.worker_id == "w1"
        clock.advance(30)
        ledger.runs.heartbeat(run_id, "w1")
        beat = ledger.runs.get(run_id).heartbeat_at  # type: ignore[union-attr]
        assert beat is not None
        assert abs((ledger.db_now() - beat).total_seconds()) < 5
        paused = ledger.runs.set_status(run_id, "paused", error="API reserve reached")
        assert paused.status == "paused"
        assert paused.started_at == running.started_at
        assert [r.id for r in ledger.runs.active("renewal-sweep")] == [run_id]
        clock.advance(30)
        done = ledger.runs.set_status(run_id, "succeeded")
        assert done.finished_at == clock.now()
        assert done.counts == {"selected": 3}
        assert ledger.runs.active("renewal-sweep") == []
        with pytest.raises(ValueError, match="already succeeded"):
            ledger.runs.set_status(run_id, "running")
        # The assets are free again: a new run can take them.
        other = ledger.runs.create("renewal-sweep", "renewal", "manual", "prod")
        added = ledger.items.add(other.id, [NewItem(i.asset_id) for i in ledger.items.find(run_id)])
        assert added.inserted == 3
        assert added.held == {}


def test_cancel_only_active_runs(ledger: Ledger) -> None:
    """Cancelling an active run works once; a finished run stays as it ended."""
    run_id = seeded_run(ledger, 1)
    assert ledger.runs.cancel(run_id)
    cancelled = ledger.runs.get(run_id)
    assert cancelled is not None
    assert cancelled.status == "cancelled"
    assert cancelled.finished_at is not None
    assert not ledger.runs.cancel(run_id)
    with pytest.raises(LookupError):
        ledger.runs.set_status("r-missing0000", "running")


def test_refresh_counts_tracks_item_states(ledger: Ledger) -> None:
    """Stored counts follow the items after a refresh."""
    run_id = seeded_run(ledger, 4)
    claimed = ledger.claims.claim(run_id, ["selected"], "w", 2, lease_s=60)
    for item in claimed:
        ledger.claims.record(
            item.id, item.lease_token, state="failed", sf_error_code="FIELD_INTEGRITY_EXCEPTION"
        )
    assert ledger.runs.refresh_counts(run_id) == {"selected": 2, "failed": 2}
    assert ledger.runs.get(run_id).counts == {"selected": 2, "failed": 2}  # type: ignore[union-attr]
    assert ledger.runs.find(since=datetime.now(UTC) - timedelta(days=1))[0].id == run_id


def test_stalled_runs_are_found_on_the_database_clock(ledger_url: str) -> None:
    """A running run whose heartbeat is old is stalled; a fresh heartbeat or another status is not."""
    far_future = FixedClock(datetime.now(UTC) + timedelta(days=3))
    with open_ledger(ledger_url, clock=far_future, migrate=False) as ledger:
        quiet = seeded_run(ledger, 1)
        ledger.runs.set_status(quiet, "running")
        beating = seeded_run(ledger, 1, start=10)
        ledger.runs.set_status(beating, "running", worker_id="w1")
        seeded_run(ledger, 1, start=20)  # pending, never started: not stalled
        # The worker clock is days ahead, yet nothing is stalled: ages use the database clock.
        assert ledger.runs.stalled(max_age_s=3600) == []
        poll(lambda: {r.id for r in ledger.runs.stalled(max_age_s=1.5)} == {quiet, beating})
        ledger.runs.heartbeat(beating, "w2")
        assert [r.id for r in ledger.runs.stalled(max_age_s=1.5)] == [quiet]
