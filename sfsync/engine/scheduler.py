"""The worker's scheduler: APScheduler fires each scheduled job; the ledger decides who runs a tick.

Every fire first claims ``(job, fire time)`` in the ledger, so of several workers sharing one ledger
exactly one starts the run. Fires nobody ran in time (APScheduler misfires, or fires that fell while
no worker was up) are recorded as missed and alerted. Runs execute in one thread per org (so a
worker drives one run per org at a time; further runs queue), and the decisions about which past
fires are due or missed are pure functions with the clock passed in.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import structlog
from apscheduler.events import EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from sfsync.clock import Clock
from sfsync.engine.cancel_input import read_cancellations
from sfsync.engine.runner import Engine, RunResult
from sfsync.errors import InputError, SfsyncError
from sfsync.jobspec import JobSpec
from sfsync.ledger.ledger import Ledger
from sfsync.lifecycle.terms import resolve

log = structlog.get_logger(__name__)

#: At most this many missed fires are recorded per job on start (a cron every minute over a long
#: outage would otherwise write thousands of rows).
MAX_MISSED = 100


@dataclass(frozen=True)
class PastFires:
    """What to do with a job's fires between its last tick and now."""

    #: The latest fire still within the misfire grace: run it now (older ones are coalesced away).
    due: datetime | None
    #: Fires older than the grace (or coalesced): record as missed.
    missed: tuple[datetime, ...]


def trigger_of(job: JobSpec) -> CronTrigger:
    """The cron trigger of a scheduled job, in the job's time zone."""
    if job.schedule is None:
        msg = f"job {job.name} has no schedule"
        raise ValueError(msg)
    return CronTrigger.from_crontab(job.schedule.cron, timezone=ZoneInfo(job.schedule.timezone))


def fires_between(
    trigger: CronTrigger, after: datetime, until: datetime, limit: int = MAX_MISSED
) -> list[datetime]:
    """Fire times ``t`` with ``after < t <= until`` (at most ``limit``, the latest kept)."""
    fires: list[datetime] = []
    previous: datetime | None = None
    now = after + timedelta(microseconds=1)
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        if fire is None or fire > until:
            break
        fires.append(fire)
        previous, now = fire, fire + timedelta(microseconds=1)
        if len(fires) > limit:
            fires.pop(0)
    return fires


def past_fires(trigger: CronTrigger, last_tick: datetime | None, now: datetime, grace_s: float) -> PastFires:
    """Classify the fires since ``last_tick``: the latest one within ``grace_s`` is due, the rest missed.

    With no tick yet the job never ran on this ledger, so nothing counts as missed.
    """
    if last_tick is None:
        return PastFires(None, ())
    fires = fires_between(trigger, last_tick, now)
    cutoff = now - timedelta(seconds=grace_s)
    within = [f for f in fires if f >= cutoff]
    due = within[-1] if within else None
    return PastFires(due, tuple(f for f in fires if f != due))


@dataclass(frozen=True)
class Fired:
    """A tick this worker won: the run it started and the future of its result."""

    job: str
    fire_time: datetime
    future: Future[RunResult]


class Scheduler:
    """Fires jobs on their schedules, claiming each tick in the ledger; drives runs in per-org threads."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        jobs: Sequence[JobSpec],
        engine_for: Callable[[str], Engine],
        clock: Clock,
        worker_id: str,
        default_org: str,
        misfire_grace_s: float = 300.0,
        on_missed: Callable[[str, datetime], None] | None = None,
        on_error: Callable[[str, str, BaseException], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.jobs = {job.name: job for job in jobs if job.enabled and job.schedule is not None}
        self.engine_for = engine_for
        self.clock = clock
        self.worker_id = worker_id
        self.default_org = default_org
        self.misfire_grace_s = misfire_grace_s
        self.on_missed = on_missed
        self.on_error = on_error
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._executors: dict[str, ThreadPoolExecutor] = {}
        self._futures: list[Future[RunResult]] = []
        self._driving: dict[str, Future[RunResult]] = {}
        self._aps = BackgroundScheduler(timezone="UTC")

    # Firing -------------------------------------------------------------------------------------

    def org_of(self, job: JobSpec) -> str:
        """The org profile a job runs against."""
        return job.org or self.default_org

    def fire(self, job: JobSpec, fire_time: datetime) -> Fired | None:
        """Claim the tick and, if this worker won it, start the run; None when another worker has it."""
        if self.stopping.is_set():
            return None
        if not self.ledger.ticks.claim(job.name, fire_time, self.worker_id):
            return None
        org = self.org_of(job)
        engine = self.engine_for(org)
        if job.kind == "cancellation":
            # The cancellation run is created while its CSV is validated, in the org's thread.
            future = self._submit(
                org, f"{job.name}@{fire_time.isoformat()}", lambda: self._cancel(engine, job, fire_time)
            )
            return Fired(job.name, fire_time, future)
        run = engine.create_run(job, trigger="schedule", fire_time=fire_time)
        self.ledger.ticks.attach_run(job.name, fire_time, run.id)
        log.info("scheduled_run_started", job=job.name, run_id=run.id, fire_time=fire_time.isoformat())
        future = self._submit(org, run.id, lambda: engine.drive(run.id))
        return Fired(job.name, fire_time, future)

    def _cancel(self, engine: Engine, job: JobSpec, fire_time: datetime) -> RunResult:
        """A scheduled cancellation job: read its CSV, then create and drive the run."""
        options, path = job.cancellation_options, job.csv_path
        if path is None or not path.is_file():
            msg = f"job {job.name}: scheduled cancellation needs an existing [cancellation] csv (got {path})"
            raise InputError(msg)
        today = engine.clock.now().date()
        parsed = read_cancellations(
            path, today=today, default_date=resolve(options.date, today), strict=options.strict
        )
        if not parsed.rows or (options.strict and parsed.errors):
            msg = (
                f"job {job.name}: {path} has {len(parsed.errors)} invalid row(s) and {len(parsed.rows)} valid"
            )
            raise InputError(msg)
        errors = [str(error) for error in parsed.errors]
        result = engine.run_cancellations(
            job, parsed.rows, trigger="schedule", strict=options.strict, csv_errors=errors
        )
        self.ledger.ticks.attach_run(job.name, fire_time, result.run_id)
        return result

    def resume(self, run_id: str, org: str) -> Future[RunResult]:
        """Queue an existing run (paused, or left running by a dead worker) to be driven here."""
        log.info("run_resume_queued", run_id=run_id, org=org)
        engine = self.engine_for(org)

        def work() -> RunResult:
            self._take_back_leases(run_id, engine.tuning.worker_id)
            return engine.drive(run_id)

        return self._submit(org, run_id, work)

    def _take_back_leases(self, run_id: str, worker_id: str) -> None:
        """End this worker's own leases on the run before driving it again.

        They are left from an earlier drive here that stopped (the ledger went away mid-run, an
        error). An org's runs are driven one at a time on its thread, so nothing of that drive is
        in flight now; waiting for those leases (up to the longest call) would only idle the run.
        """
        taken = self.ledger.claims.expire(worker_id, run_id)
        if taken:
            self.ledger.events.append(
                "leases_taken_back", run_id=run_id, fields={"worker_id": worker_id, "items": taken}
            )

    def _submit(self, org: str, key: str, work: Callable[[], RunResult]) -> Future[RunResult]:
        with self._lock:
            executor = self._executors.get(org)
            if executor is None:
                executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sfsync-run-{org}")
                self._executors[org] = executor
            future = executor.submit(self._guarded, key, work)
            self._futures.append(future)
            self._driving[key] = future
        return future

    def _guarded(self, key: str, work: Callable[[], RunResult]) -> RunResult:
        try:
            return work()
        except BaseException as exc:
            self._report(key, "drive", exc)
            raise

    def driving(self, run_id: str) -> bool:
        """Whether this worker has the run queued or is driving it."""
        with self._lock:
            future = self._driving.get(run_id)
        return future is not None and not future.done()

    def _report(self, subject: str, where: str, exc: BaseException) -> None:
        log.error("scheduler_error", subject=subject, where=where, error=str(exc) or type(exc).__name__)
        if self.on_error is not None:
            self.on_error(subject, where, exc)

    def missed(self, job: str, fire_time: datetime) -> bool:
        """Record a missed fire (once across all workers) and alert it; True if this call recorded it."""
        recorded = self.ledger.ticks.record_missed(job, fire_time)
        if recorded and self.on_missed is not None:
            self.on_missed(job, fire_time)
        return recorded

    # Start and stop -----------------------------------------------------------------------------

    def catch_up(self) -> list[Fired]:
        """On start: record fires missed while no worker was up, and fire those still within grace."""
        now = self.clock.now()
        started: list[Fired] = []
        for job in self.jobs.values():
            last = self.ledger.ticks.find(job=job.name, limit=1)
            plan = past_fires(trigger_of(job), last[0].fire_time if last else None, now, self.misfire_grace_s)
            for fire_time in plan.missed:
                self.missed(job.name, fire_time)
            if plan.due is not None:
                fired = self.fire(job, plan.due)
                if fired is not None:
                    started.append(fired)
        return started

    def resume_stalled(self, max_age_s: float, *, waiting: bool = True) -> list[str]:
        """Queue runs left running by a dead worker and, with ``waiting``, scheduled runs left pending
        or paused (on start only: a run paused for the API budget would otherwise loop and re-alert).
        """
        runs = self.ledger.runs.stalled(max_age_s)
        pending = self.ledger.runs.find(
            statuses={"paused", "pending"} if waiting else {"pending"}, limit=1_000
        )
        # A finished run reopened for a retry (the admin page's button, `sfsync runs retry`) is pending
        # again with a start time: whoever checks next drives it, whatever started it first.
        runs += [r for r in pending if r.status == "pending" and r.started_at is not None]
        if waiting:
            runs += [r for r in pending if r.trigger == "schedule"]
        seen: set[str] = set()
        for run in runs:
            if run.id in seen or self.driving(run.id):
                continue
            try:
                self.resume(run.id, run.org)
            except SfsyncError as exc:  # e.g. the run's org profile is not in these settings
                self._report(run.id, "resume", exc)
                continue
            seen.add(run.id)
        return sorted(seen)

    def start(self, stalled_check_s: float | None = None) -> None:
        """Start firing every scheduled job on its cron (and, given ``stalled_check_s``, take over
        runs whose worker stopped heartbeating, checked that often)."""
        self._aps.add_listener(self.on_missed_event, EVENT_JOB_MISSED)
        if stalled_check_s is not None:
            self._aps.add_job(
                self._take_over,
                "interval",
                seconds=stalled_check_s,
                args=[stalled_check_s * 2],
                id="__stalled__",
            )
        for job in self.jobs.values():
            self._aps.add_job(
                self._fire_scheduled,
                trigger=trigger_of(job),
                args=[job.name],
                id=job.name,
                misfire_grace_time=int(self.misfire_grace_s),
                coalesce=True,
                max_instances=1,
            )
        self._aps.start()
        log.info("scheduler_started", jobs=sorted(self.jobs), worker_id=self.worker_id)

    def _take_over(self, max_age_s: float) -> None:
        try:
            self.resume_stalled(max_age_s, waiting=False)
        except Exception as exc:  # the ledger may be briefly unreachable; the next check retries
            self._report("stalled runs", "take_over", exc)

    def _fire_scheduled(self, name: str) -> None:
        # APScheduler passes no fire time to the callable; the job's last scheduled time is it.
        try:
            self.fire(self.jobs[name], self._scheduled_time(name))
        except Exception as exc:  # a failed fire must not kill the scheduler thread
            self._report(name, "fire", exc)

    def _scheduled_time(self, name: str) -> datetime:
        """The fire time being run now: the latest cron time not after the clock."""
        now = self.clock.now()
        fires = fires_between(
            trigger_of(self.jobs[name]), now - timedelta(seconds=self.misfire_grace_s), now, 1
        )
        return fires[-1] if fires else now

    def on_missed_event(self, event: JobExecutionEvent) -> None:
        """APScheduler listener: a fire it could not run within the grace is recorded and alerted."""
        if event.job_id in self.jobs:  # not the internal stalled-runs check
            self.missed(str(event.job_id), event.scheduled_run_time)

    def next_fires(self) -> dict[str, datetime | None]:
        """Each job's next fire time (after :meth:`start`)."""
        return {job.id: job.next_run_time for job in self._aps.get_jobs() if job.id in self.jobs}

    def stop(self, grace_s: float) -> bool:
        """Stop firing and wait up to ``grace_s`` for runs in progress; True if every run ended."""
        self.stopping.set()
        if self._aps.running:
            self._aps.shutdown(wait=False)
        with self._lock:
            futures = list(self._futures)
            executors = list(self._executors.values())
        for executor in executors:
            # Queued runs that have not started stay as they are in the ledger (resumable).
            executor.shutdown(wait=False, cancel_futures=True)
        deadline = self.clock.monotonic() + grace_s
        for future in futures:
            remaining = deadline - self.clock.monotonic()
            if remaining <= 0:
                break
            # A run's failure was already reported by _guarded; here only its end matters.
            with contextlib.suppress(Exception):
                future.result(timeout=remaining)
        return all(f.done() for f in futures) and not self.left_work(futures)

    def busy(self) -> bool:
        """Whether a run is still being driven in this process."""
        with self._lock:
            return any(f.running() for f in self._futures)

    @staticmethod
    def left_work(futures: Sequence[Future[RunResult]]) -> bool:
        """Whether any of the runs stopped unfinished (paused, cancelled before start, or still going)."""
        for future in futures:
            if future.cancelled() or not future.done():
                return True
            if future.exception() is None and future.result().status == "paused":
                return True
        return False
