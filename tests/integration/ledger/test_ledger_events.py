"""The job log: batched appends, filters by level and asset, and following new events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from ledger_helpers import asset_ids, seeded_run

from sfsync.ledger import Ledger, NewEvent


def test_events_filter_by_level_and_asset_in_order(ledger: Ledger) -> None:
    """A run's events come back in order, filtered by minimum level and by asset."""
    run_id = seeded_run(ledger, 2)
    other = seeded_run(ledger, 1, start=100)
    a, b = asset_ids(2)
    ledger.events.append("run_started", run_id=run_id, fields={"job": "renewal-sweep"})
    ledger.events.append_many(
        [
            NewEvent("renewal_initiated", run_id, "info", asset_id=a, fields={"quote": "0Q0"}),
            NewEvent(
                "item_failed", run_id, "error", asset_id=b, fields={"code": "FIELD_INTEGRITY_EXCEPTION"}
            ),
            NewEvent("retry_scheduled", run_id, "warning", asset_id=a),
            NewEvent("poll", run_id, "debug", asset_id=a),
            NewEvent("run_started", other, "info"),
        ]
    )
    names = [e.event for e in ledger.events.find(run_id)]
    assert names == ["run_started", "renewal_initiated", "item_failed", "retry_scheduled", "poll"]
    assert [e.event for e in ledger.events.find(run_id, min_level="warning")] == [
        "item_failed",
        "retry_scheduled",
    ]
    assert [e.event for e in ledger.events.find(run_id, asset_id=a)] == [
        "renewal_initiated",
        "retry_scheduled",
        "poll",
    ]
    assert [e.event for e in ledger.events.find(run_id, asset_id=a, min_level="info")] == [
        "renewal_initiated",
        "retry_scheduled",
    ]
    failed = ledger.events.find(run_id, min_level="error")[0]
    assert failed.fields == {"code": "FIELD_INTEGRITY_EXCEPTION"}
    assert failed.asset_id == b
    with pytest.raises(ValueError, match="level"):
        ledger.events.find(run_id, min_level="fatal")


def test_follow_returns_only_newer_events(ledger: Ledger) -> None:
    """Reading after the last seen id yields exactly the events appended since."""
    run_id = seeded_run(ledger, 1)
    ledger.events.append_many([NewEvent(f"e{n}", run_id) for n in range(3)])
    seen = ledger.events.find(run_id)
    assert ledger.events.find(run_id, after_id=seen[-1].id) == []
    ledger.events.append("e3", run_id=run_id)
    ledger.events.append("e4", run_id=run_id, level="warning")
    newer = ledger.events.find(run_id, after_id=seen[-1].id)
    assert [e.event for e in newer] == ["e3", "e4"]
    assert [e.event for e in ledger.events.find(run_id, after_id=seen[0].id, limit=2)] == ["e1", "e2"]


def test_event_fields_are_stored_as_json(ledger: Ledger) -> None:
    """Dates and other non-JSON values are stored as text, and the time is timezone-aware."""
    run_id = seeded_run(ledger, 1)
    ledger.events.append(
        "order_created", run_id=run_id, fields={"day": date(2027, 1, 1), "ids": ("a", "b"), "n": 3}
    )
    [event] = ledger.events.find(run_id)
    assert event.fields == {"day": "2027-01-01", "ids": ["a", "b"], "n": 3}
    assert event.at.tzinfo is not None
    assert event.at <= datetime.now(UTC)
