"""Which scheduled fires are due and which were missed: pure functions, clock passed in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sfsync.engine.scheduler import MAX_MISSED, fires_between, past_fires, trigger_of
from sfsync.jobspec import JobSpec


def _job(cron: str, tz: str = "UTC") -> JobSpec:
    return JobSpec.model_validate(
        {"name": "sweep", "kind": "renewal", "schedule": {"cron": cron, "timezone": tz}}
    )


def test_fires_between_is_exclusive_of_start_and_inclusive_of_end() -> None:
    """Hourly fires between 01:00 and 04:00 are 02:00, 03:00 and 04:00."""
    trigger = trigger_of(_job("0 * * * *"))
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    fires = fires_between(trigger, start, start + timedelta(hours=3))
    assert [f.astimezone(UTC).hour for f in fires] == [2, 3, 4]


def test_fires_follow_the_job_time_zone() -> None:
    """A 03:00 Asia/Tokyo cron fires at 18:00 UTC the day before."""
    trigger = trigger_of(_job("0 3 * * *", "Asia/Tokyo"))
    start = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    fires = fires_between(trigger, start, start + timedelta(days=1))
    assert [f.astimezone(UTC) for f in fires] == [datetime(2026, 11, 23, 18, 0, tzinfo=UTC)]


def test_fires_between_keeps_only_the_latest_when_capped() -> None:
    """A long outage of an every-minute cron yields at most MAX_MISSED fires, the latest ones."""
    trigger = trigger_of(_job("* * * * *"))
    start = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
    end = start + timedelta(hours=10)
    fires = fires_between(trigger, start, end)
    assert len(fires) == MAX_MISSED
    assert fires[-1] == end


def test_no_previous_tick_means_nothing_missed() -> None:
    """A job that never ran on this ledger has no missed fires and nothing due."""
    plan = past_fires(trigger_of(_job("0 * * * *")), None, datetime(2026, 11, 23, 5, tzinfo=UTC), 300)
    assert plan.due is None
    assert plan.missed == ()


def test_fire_within_grace_is_due_and_older_ones_missed() -> None:
    """Last tick 01:00, now 04:03, grace 5 min: 04:00 is due, 02:00 and 03:00 were missed."""
    last = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    now = datetime(2026, 11, 23, 4, 3, tzinfo=UTC)
    plan = past_fires(trigger_of(_job("0 * * * *")), last, now, 300)
    assert plan.due == datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    assert [f.hour for f in plan.missed] == [2, 3]


def test_fire_past_grace_is_missed_not_due() -> None:
    """Now 04:30 with a 5-minute grace: the 04:00 fire is too late to run and is missed too."""
    last = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    now = datetime(2026, 11, 23, 4, 30, tzinfo=UTC)
    plan = past_fires(trigger_of(_job("0 * * * *")), last, now, 300)
    assert plan.due is None
    assert plan.missed == (datetime(2026, 11, 23, 4, 0, tzinfo=UTC),)


def test_only_the_latest_fire_within_grace_runs() -> None:
    """Several fires inside the grace coalesce: the latest runs, the earlier ones count as missed."""
    last = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    now = datetime(2026, 11, 23, 4, 3, 30, tzinfo=UTC)
    plan = past_fires(trigger_of(_job("* * * * *")), last, now, 300)
    assert plan.due == datetime(2026, 11, 23, 4, 3, tzinfo=UTC)
    assert [f.minute for f in plan.missed] == [1, 2]


def test_unscheduled_job_has_no_trigger() -> None:
    """Asking for the trigger of an on-demand job is an error, not a silent never-firing trigger."""
    with pytest.raises(ValueError, match="no schedule"):
        trigger_of(JobSpec.model_validate({"name": "once", "kind": "renewal"}))
