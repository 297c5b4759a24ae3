"""The scheduler's fire path against the emulator and a real ledger: tick claiming, alerts, misfires."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from pydantic import SecretStr

from sfsync.alerts import Alerter
from sfsync.clock import FixedClock, SystemClock
from sfsync.emulator.revenue.controls import controls
from sfsync.engine.scheduler import Fired, Scheduler
from sfsync.errors import InputError
from sfsync.jobspec import JobSpec
from sfsync.settings import AlertSettings
from tests.integration.engine.conftest import World, fast_config
from tests.integration.worker.hooks import Webhook

FIRE = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def _job(name: str = "nightly") -> JobSpec:
    return JobSpec.model_validate(
        {"name": name, "kind": "renewal", "schedule": {"cron": "0 3 * * *", "timezone": "UTC"}}
    )


def _scheduler(world: World, worker: str, **kw: object) -> Scheduler:
    engine = world.make_engine(worker=worker)
    return Scheduler(
        ledger=world.ledger,
        jobs=[_job()],
        engine_for=lambda _org: engine,
        clock=kw.pop("clock", SystemClock()),  # type: ignore[arg-type]
        worker_id=worker,
        default_org="emulator",
        **kw,  # type: ignore[arg-type]
    )


def test_two_schedulers_firing_the_same_tick_start_one_run(world_factory: Callable[..., World]) -> None:
    """Two workers (threads) fire the same tick at once: one claims it, one run happens and succeeds."""
    world = world_factory()
    schedulers = [_scheduler(world, "w-a"), _scheduler(world, "w-b")]
    barrier = threading.Barrier(2)
    results: dict[str, Fired | None] = {}

    def fire(s: Scheduler) -> None:
        barrier.wait()
        results[s.worker_id] = s.fire(_job(), FIRE)

    threads = [threading.Thread(target=fire, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winners = [f for f in results.values() if f is not None]
    assert len(results) == 2
    assert len(winners) == 1
    result = winners[0].future.result(timeout=120)
    assert result.status == "succeeded"
    runs = world.ledger.runs.find(job="nightly")
    assert [r.id for r in runs] == [result.run_id]
    assert runs[0].trigger == "schedule"
    tick = world.ledger.ticks.get("nightly", FIRE)
    assert tick is not None
    assert tick.run_id == result.run_id
    assert tick.claimed_by in {"w-a", "w-b"}
    for s in schedulers:
        assert s.stop(5)


def test_failed_assetization_sends_one_alert_with_the_run_link(
    world_factory: Callable[..., World], webhook: Webhook
) -> None:
    """Every assetization fails: the run ends failed and one alert (after a retried 500) links to it."""
    world = world_factory(config=fast_config())
    controls(world.emulator.org).fail_all = True
    alerter = Alerter(
        AlertSettings(webhook_url=SecretStr(webhook.url), retries=2, timeout_s=5),
        "https://sfsync.example.test",
        ledger=world.ledger,
        sleep=time.sleep,
        backoff_s=0.01,
    )
    engine = world.make_engine(worker="w-1", on_run_end=alerter.run_ended)
    scheduler = Scheduler(
        ledger=world.ledger,
        jobs=[_job()],
        engine_for=lambda _org: engine,
        clock=SystemClock(),
        worker_id="w-1",
        default_org="emulator",
    )
    fired = scheduler.fire(_job(), FIRE)
    assert fired is not None
    result = fired.future.result(timeout=120)
    assert result.status in {"failed", "partial"}
    assert result.counts.get("failed", 0) > 0
    assert webhook.hits == 2
    assert len(webhook.bodies) == 1
    text = str(webhook.bodies[0]["text"])
    assert f"https://sfsync.example.test/runs/{result.run_id}" in text
    assert "failed for good" in text
    assert scheduler.stop(5)


def test_catch_up_records_missed_fires_alerts_them_and_runs_the_due_one(
    world_factory: Callable[..., World],
) -> None:
    """Last tick 3 days ago, now 2 min past today's fire: two fires missed (alerted), today's runs."""
    world = world_factory()
    world.ledger.ticks.claim("nightly", FIRE - timedelta(days=3), "old-worker")
    missed: list[tuple[str, datetime]] = []
    scheduler = _scheduler(
        world,
        "w-1",
        clock=FixedClock(FIRE + timedelta(minutes=2)),
        on_missed=lambda j, t: missed.append((j, t)),
    )
    started = scheduler.catch_up()
    assert [f.fire_time for f in started] == [FIRE]
    assert started[0].future.result(timeout=120).status == "succeeded"
    expected = [FIRE - timedelta(days=2), FIRE - timedelta(days=1)]
    assert [t for _j, t in missed] == expected
    recorded = world.ledger.ticks.find(job="nightly", status="missed")
    assert sorted(t.fire_time.astimezone(UTC) for t in recorded) == expected
    # A second worker starting later records nothing twice and does not run today's fire again.
    again: list[tuple[str, datetime]] = []
    other = _scheduler(
        world,
        "w-2",
        clock=FixedClock(FIRE + timedelta(minutes=3)),
        on_missed=lambda j, t: again.append((j, t)),
    )
    assert other.catch_up() == []
    assert again == []
    assert scheduler.stop(5)
    assert other.stop(5)


def test_resume_stalled_drives_a_scheduled_run_left_pending(world_factory: Callable[..., World]) -> None:
    """A scheduled run created by a worker that died before driving it is finished by the next one."""
    world = world_factory()
    orphan = world.make_engine(worker="dead").create_run(_job(), trigger="schedule", fire_time=FIRE)
    scheduler = _scheduler(world, "w-1")
    assert scheduler.resume_stalled(max_age_s=60) == [orphan.id]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = world.ledger.runs.get(orphan.id)
        if run is not None and not run.active:
            break
        time.sleep(0.1)
    run = world.ledger.runs.get(orphan.id)
    assert run is not None
    assert run.status == "succeeded"
    assert scheduler.stop(5)


def test_stop_pauses_the_run_and_reports_work_left(world_factory: Callable[..., World]) -> None:
    """Stopping while a run is driven pauses it (resumable) and stop() reports work was left."""
    world = world_factory(config=fast_config(assetize_delay_s=3.0))
    stop = threading.Event()
    engine = world.make_engine(worker="w-1", stop=stop)
    scheduler = Scheduler(
        ledger=world.ledger,
        jobs=[_job()],
        engine_for=lambda _org: engine,
        clock=SystemClock(),
        worker_id="w-1",
        default_org="emulator",
    )
    fired = scheduler.fire(_job(), FIRE)
    assert fired is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if world.ledger.items.counts(fired.future and world.ledger.runs.find(job="nightly")[0].id).get(
            "activated"
        ):
            break
        time.sleep(0.05)
    stop.set()
    assert scheduler.stop(30) is False
    result = fired.future.result(timeout=1)
    assert result.status == "paused"
    assert scheduler.fire(_job(), FIRE + timedelta(days=1)) is None


def test_start_schedules_each_job_in_its_time_zone(world_factory: Callable[..., World]) -> None:
    """After start(), APScheduler's next fire of a 03:00 Asia/Tokyo job is 18:00 UTC; stop() ends firing."""
    world = world_factory()
    tokyo = JobSpec.model_validate(
        {"name": "tokyo", "kind": "renewal", "schedule": {"cron": "0 3 * * *", "timezone": "Asia/Tokyo"}}
    )
    off = JobSpec.model_validate(
        {"name": "off", "kind": "renewal", "enabled": False, "schedule": {"cron": "* * * * *"}}
    )
    engine = world.make_engine()
    scheduler = Scheduler(
        ledger=world.ledger,
        jobs=[tokyo, off],
        engine_for=lambda _org: engine,
        clock=SystemClock(),
        worker_id="w-1",
        default_org="emulator",
    )
    scheduler.start()
    try:
        nxt = scheduler.next_fires()
        assert set(nxt) == {"tokyo"}
        fire = nxt["tokyo"]
        assert fire is not None
        assert (fire.astimezone(UTC).hour, fire.minute) == (18, 0)
    finally:
        assert scheduler.stop(5)
    assert scheduler.fire(tokyo, FIRE) is None
    assert world.ledger.ticks.get("tokyo", FIRE) is None


def test_scheduled_cancellation_job_reads_its_csv_and_links_the_tick(
    world_factory: Callable[..., World], tmp_path: Path
) -> None:
    """A cancellation job with a CSV fires like a renewal: its run succeeds and the tick points at it."""
    world = world_factory()
    [pos] = world.emulator.org.store.find("Asset", Name="Retail POS Enterprise")
    csv = tmp_path / "cancel.csv"
    csv.write_text(f"AssetId\n{pos['Id']}\n", encoding="utf-8")
    job = JobSpec.model_validate(
        {"name": "monthly-cancel", "kind": "cancellation", "schedule": {"cron": "0 3 1 * *"},
         "cancellation": {"date": "today+3m", "csv": str(csv)}}
    )  # fmt: skip
    scheduler = Scheduler(
        ledger=world.ledger,
        jobs=[job],
        engine_for=lambda _org: world.make_engine(),
        clock=SystemClock(),
        worker_id="w-1",
        default_org="emulator",
    )
    fired = scheduler.fire(job, FIRE)
    assert fired is not None
    result = fired.future.result(timeout=120)
    assert result.status == "succeeded"
    tick = world.ledger.ticks.get("monthly-cancel", FIRE)
    assert tick is not None
    assert tick.run_id == result.run_id
    assert scheduler.stop(5)


def test_scheduled_cancellation_without_csv_is_reported(world_factory: Callable[..., World]) -> None:
    """A scheduled cancellation job whose CSV is missing is reported through on_error, no run made."""
    world = world_factory()
    job = JobSpec.model_validate(
        {"name": "bad-cancel", "kind": "cancellation", "schedule": {"cron": "0 3 1 * *"},
         "cancellation": {"date": "today", "csv": "/nonexistent/x.csv"}}
    )  # fmt: skip
    errors: list[str] = []
    scheduler = Scheduler(
        ledger=world.ledger,
        jobs=[job],
        engine_for=lambda _org: world.make_engine(),
        clock=SystemClock(),
        worker_id="w-1",
        default_org="emulator",
        on_error=lambda subject, _where, exc: errors.append(f"{subject}: {exc}"),
    )
    fired = scheduler.fire(job, FIRE)
    assert fired is not None
    with pytest.raises(InputError, match="needs an existing"):
        fired.future.result(timeout=30)
    assert len(errors) == 1
    assert "x.csv" in errors[0]
    assert world.ledger.runs.find(job="bad-cancel") == []
    assert scheduler.stop(5)  # nothing resumable was left behind


def test_take_over_drives_a_run_whose_worker_stopped_heartbeating(
    world_factory: Callable[..., World],
) -> None:
    """A run left `running` by a dead worker is taken over by the periodic check and finished."""
    world = world_factory()
    orphan = world.make_engine(worker="dead").create_run(_job(), trigger="manual")
    world.ledger.runs.set_status(orphan.id, "running", worker_id="dead")
    scheduler = _scheduler(world, "w-1")
    deadline = time.monotonic() + 10
    taken: list[str] = []
    while not taken and time.monotonic() < deadline:
        # max_age 0: any heartbeat older than the database's now counts as stalled.
        taken = scheduler.resume_stalled(0, waiting=False)
    assert taken == [orphan.id]
    assert scheduler.resume_stalled(0, waiting=False) == []  # already queued here: not twice
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (run := world.ledger.runs.get(orphan.id)) and run.active:
        time.sleep(0.1)
    run = world.ledger.runs.get(orphan.id)
    assert run is not None
    assert run.status == "succeeded"
    assert run.worker_id == "w-1"
    assert scheduler.stop(5)


def test_resume_takes_back_the_leases_of_this_workers_stopped_drive(
    world_factory: Callable[..., World],
) -> None:
    """Items this worker still leases from a drive that stopped (ledger gone mid-call) are taken back.

    Without that, the resumed run would wait for those leases: an intent's lasts a quarter hour.
    """
    world = world_factory()
    stopped = threading.Event()
    stopped.set()
    paused = world.make_engine(worker="w-1", stop=stopped).run_renewals(_job())
    assert paused.status == "paused"
    held = world.ledger.claims.claim(paused.run_id, ["selected"], "w-1", 1000, 930.0)
    assert held
    scheduler = _scheduler(world, "w-1")
    result = scheduler.resume(paused.run_id, "emulator").result(timeout=120)
    assert result.status == "succeeded", result.message
    assert result.counts == {"verified": len(held)}
    [taken] = [e for e in world.ledger.events.find(paused.run_id) if e.event == "leases_taken_back"]
    assert taken.fields == {"worker_id": "w-1", "items": len(held)}
    assert scheduler.stop(5)


def test_apscheduler_missed_event_is_recorded_and_alerted_once(world_factory: Callable[..., World]) -> None:
    """APScheduler's EVENT_JOB_MISSED records the tick as missed and alerts; a repeat changes nothing."""
    world = world_factory()
    missed: list[tuple[str, datetime]] = []
    scheduler = _scheduler(world, "w-1", on_missed=lambda j, t: missed.append((j, t)))
    event = JobExecutionEvent(EVENT_JOB_MISSED, "nightly", "default", FIRE)
    scheduler.on_missed_event(event)
    scheduler.on_missed_event(event)
    assert missed == [("nightly", FIRE)]
    tick = world.ledger.ticks.get("nightly", FIRE)
    assert tick is not None
    assert tick.status == "missed"
    assert scheduler.fire(_job(), FIRE) is None


def test_periodic_check_drives_a_run_reopened_for_retry(world_factory: Callable[..., World]) -> None:
    """A finished run whose failed items were reset (the admin page's retry) is driven by a running worker."""
    world = world_factory(config=fast_config(enforce_shipping_address=True))
    store = world.emulator.org.store
    for account in store.find("Account"):
        store.update("Account", str(account["Id"]), {"ShippingStreet": None, "ShippingPostalCode": None})
    first = world.make_engine(worker="cli").run_renewals(_job())
    assert first.status == "failed"
    for account in store.find("Account"):
        store.update(
            "Account",
            str(account["Id"]),
            {"ShippingStreet": "1 Roastery Lane", "ShippingPostalCode": "94105"},
        )
    for order in store.find("Order"):
        store.update(
            "Order", str(order["Id"]), {"ShippingStreet": "1 Roastery Lane", "ShippingPostalCode": "94105"}
        )
    assert world.ledger.items.reset_failed(first.run_id).reset == 1
    scheduler = _scheduler(world, "w-1")
    assert scheduler.resume_stalled(3600, waiting=False) == [first.run_id]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and (run := world.ledger.runs.get(first.run_id)) and run.active:
        time.sleep(0.1)
    run = world.ledger.runs.get(first.run_id)
    assert run is not None
    assert run.status == "succeeded"
    assert scheduler.stop(5)
