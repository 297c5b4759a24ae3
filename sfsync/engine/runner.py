"""Runs a job: select → steps over batches → verify, recording everything in the ledger.

The loop reads the clock once per pass, takes each step in turn (a claimed batch of items in the
step's input state, one batched call, every outcome recorded), and ends when no item is left open,
when the run is paused (API budget, Salesforce unreachable, a stop signal) or cancelled. Any worker
can drive any run: claims and leases in the ledger keep two workers off the same items, and a
crashed worker's items are reconciled by whoever claims them next.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import structlog

from sfsync.clock import Clock
from sfsync.engine import create, holding, reconcile, selection, wait
from sfsync.engine.batch import EXIT_PAUSED, halt_for
from sfsync.engine.cancel_input import CancelRow
from sfsync.engine.context import RunContext, Tuning
from sfsync.engine.failpoints import failpoint
from sfsync.engine.journal import Journal
from sfsync.engine.orgslots import OrgGate, PassSlot
from sfsync.engine.states import FAILURE, INTENT, OPEN, SUCCESS, State
from sfsync.errors import InputError, LeaseLostError, LedgerError, SalesforceError
from sfsync.jobspec import JobSpec
from sfsync.ledger.ledger import Ledger
from sfsync.ledger.records import Item, Run
from sfsync.salesforce.client import SalesforceClient
from sfsync.salesforce.outcomes import NotSent, from_error
from sfsync.settings import OrgProfile

log = structlog.get_logger(__name__)

EXIT_OK = 0
EXIT_ITEMS_FAILED = 1
#: Seconds of idling between two looks at which other workers hold the run's items.
WAITING_LOOK_S = 10.0


@dataclass(frozen=True)
class Step:
    """One step of the pipeline: its input states, how items are grouped in a claim, its function."""

    name: str
    states: frozenset[State]
    run: Callable[[RunContext, Sequence[Item]], None]
    group_by: str | None = None
    polls: bool = False


STEPS: tuple[Step, ...] = (
    Step("reconcile", INTENT, reconcile.reconcile),
    Step("initiate", frozenset({State.SELECTED}), create.initiate),
    Step("pricing", frozenset({State.QUOTED}), wait.pricing, group_by="quote_id", polls=True),
    Step("order", frozenset({State.PRICED}), create.create_orders, group_by="quote_id"),
    Step("address", frozenset({State.ORDERED}), wait.address, group_by="order_id"),
    Step("activate", frozenset({State.ADDRESSED}), create.activate, group_by="order_id"),
    Step("verify", frozenset({State.ACTIVATED}), wait.verify, polls=True),
)


def _carry_into(index: int) -> frozenset[str]:
    """The states steps after ``STEPS[index]`` take without polling (items can be handed to them)."""
    return frozenset(state.value for step in STEPS[index + 1 :] if not step.polls for state in step.states)


#: For each step, the states its output may be handed on in (see :func:`sfsync.engine.holding.commit`).
CARRY_INTO: tuple[frozenset[str], ...] = tuple(_carry_into(index) for index in range(len(STEPS)))

#: The states the polling steps take: items moved into them wait leased in memory (see
#: :mod:`sfsync.engine.holding`).
WAIT_INTO: frozenset[str] = frozenset(state.value for step in STEPS if step.polls for state in step.states)


@dataclass(frozen=True)
class RunResult:
    """How a run ended for this worker: its status, item counts and the exit code to return."""

    run_id: str
    status: str
    counts: dict[str, int]
    exit_code: int
    message: str = ""


class Engine:
    """Drives runs of one org against one ledger."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        sf: SalesforceClient,
        profile: OrgProfile,
        org_name: str,
        clock: Clock,
        sleep: Callable[[float], None],
        tuning: Tuning,
        stop: threading.Event | None = None,
        on_run_end: Callable[[RunResult], None] | None = None,
    ) -> None:
        self.ledger = ledger
        self.sf = sf
        self.profile = profile
        self.org_name = org_name
        self.clock = clock
        self.sleep = sleep
        self.tuning = tuning
        self.stop = stop or threading.Event()
        #: Called with each result of a run that ended or paused here (alerts); never lets an error out.
        self.on_run_end = on_run_end
        #: Per-org API concurrency and budget shared with every worker on the ledger (issue 7).
        self.gate = OrgGate(
            ledger=ledger,
            org=org_name,
            profile=profile,
            budget=sf.budget,
            worker_id=tuning.worker_id,
            lease_s=tuning.lease_s,
            sleep=sleep,
            stop=self.stop,
            clock=clock,
            usage_ttl_s=tuning.usage_ttl_s,
        )

    # Starting runs -----------------------------------------------------------------------------

    def create_run(
        self,
        job: JobSpec,
        *,
        trigger: str,
        dry_run: bool = False,
        fire_time: object = None,
        extra: dict[str, object] | None = None,
    ) -> Run:
        """Record a new run of ``job`` (the job's settings and today's date are frozen in it)."""
        today = self.clock.now().date()
        parameters = {"job": job.model_dump(mode="json"), "today": today.isoformat(), **(extra or {})}
        return self.ledger.runs.create(
            job.name,
            job.kind,
            trigger,
            self.org_name,
            dry_run=dry_run,
            parameters=parameters,
            fire_time=fire_time,  # type: ignore[arg-type]
            worker_id=self.tuning.worker_id,
        )

    def run_renewals(self, job: JobSpec, *, trigger: str = "manual", dry_run: bool = False) -> RunResult:
        """Create a renewal run, select its assets, and drive it."""
        run = self.create_run(job, trigger=trigger, dry_run=dry_run)
        return self.drive(run.id)

    def run_cancellations(
        self,
        job: JobSpec,
        rows: Sequence[CancelRow],
        *,
        trigger: str = "manual",
        dry_run: bool = False,
        strict: bool = False,
        csv_errors: Sequence[str] = (),
    ) -> RunResult:
        """Create a cancellation run for CSV rows, validate them in Salesforce, and drive it."""
        run = self.create_run(job, trigger=trigger, dry_run=dry_run, extra={"strict": strict})
        ctx = self._context(run)
        for line in csv_errors:
            ctx.journal.event("csv_row_rejected", level="warning", detail=line)
        refused = self._start(ctx, lambda: selection.select_cancellations(ctx, rows))
        return refused or self._drive(ctx)

    def drive(self, run_id: str, *, join: bool = False) -> RunResult:
        """Drive an existing run (new, paused or crashed) until it ends or must pause.

        ``join``: another worker is starting this run; wait for its selection instead of selecting
        again (several workers share one run from the start).
        """
        run = self._selected(run_id) if join else self.ledger.runs.get(run_id)
        if run is None:
            msg = f"no run {run_id!r} in the ledger"
            raise InputError(msg)
        if join and self.stop.is_set() and not run.parameters.get("selection_done"):
            return RunResult(run.id, run.status, run.counts, EXIT_PAUSED, "stopped while waiting to join")
        if not run.active:
            return RunResult(
                run.id,
                run.status,
                run.counts,
                _exit_for(run.status),
                f"run {run.id} already ended {run.status}",
            )
        ctx = self._context(run)
        if run.kind != "renewal" and not run.parameters.get("selection_done"):
            msg = f"run {run.id} stopped before its CSV was validated; start a new cancellation run"
            raise InputError(msg)
        try:
            if run.kind == "renewal":
                refused = self._start(ctx, lambda: selection.select_renewals(ctx))
                if refused is not None:
                    return refused
            return self._drive(ctx)
        except LeaseLostError:
            raise
        except LedgerError as exc:
            # The run cannot even be marked paused: say what state it is in and how to go on.
            msg = (
                f"{exc}; run {run.id} stopped where the ledger last recorded it (its status still "
                f"says running): once the ledger is back, sfsync run --resume {run.id}"
            )
            raise LedgerError(msg) from exc

    def _selected(self, run_id: str) -> Run | None:
        """The run once its creator has selected its items (or it ended), waiting for that.

        If the creator shows no sign of life for two leases, this worker selects itself (the run is
        then like a crashed one being resumed).
        """
        delay = 0.05
        quiet_since = time.monotonic()
        last_beat: object = None
        while True:
            run = self.ledger.runs.get(run_id)
            if run is None or not run.active or run.parameters.get("selection_done") or self.stop.is_set():
                return run
            beat = (run.heartbeat_at, run.started_at, run.status)
            if beat != last_beat:
                last_beat, quiet_since = beat, time.monotonic()
            elif time.monotonic() - quiet_since > max(2 * self.tuning.lease_s, 30.0):
                log.warning("join_creator_silent", run_id=run_id)
                return run
            self.sleep(delay)
            delay = min(delay * 2, 1.0)

    def _context(self, run: Run) -> RunContext:
        job = JobSpec.model_validate(run.parameters["job"])
        today = date.fromisoformat(str(run.parameters["today"]))
        journal = Journal(self.ledger, self.clock, run_id=run.id, job=run.job)
        return RunContext(
            run=run,
            job=job,
            ledger=self.ledger,
            sf=self.sf,
            profile=self.profile,
            clock=self.clock,
            sleep=self.sleep,
            journal=journal,
            tuning=self.tuning,
            today=today,
            wait_into=WAIT_INTO,
        )

    def _start(self, ctx: RunContext, select: Callable[[], selection.Selected]) -> RunResult | None:
        """Select once per run (a resumed run keeps its items); a result when the run ends right here."""
        if ctx.run.parameters.get("selection_done"):
            return None
        self._set_status(ctx.run_id, "running", worker_id=self.tuning.worker_id)
        ctx.journal.event(
            "run_started",
            kind=ctx.job.kind,
            dry_run=ctx.dry_run,
            org=self.org_name,
            today=ctx.today.isoformat(),
        )
        try:
            failpoint("select", "before_send")
            with self.gate.slot():
                found = select()
            failpoint("select", "after_send")
        except selection.SelectionTooLarge as exc:
            ctx.journal.event("run_failed", level="error", reason=str(exc))
            ctx.journal.flush()
            self._set_status(ctx.run_id, "failed", error=str(exc))
            raise
        except SalesforceError as exc:
            ctx.journal.event("selection_interrupted", level="error", reason=str(exc))
            ctx.journal.flush()
            outcome = from_error(exc)
            if isinstance(outcome, NotSent):
                self._set_status(ctx.run_id, "paused", error=str(exc))
            raise
        ctx.journal.event(
            "assets_selected",
            total=found.total,
            selected=found.selected,
            rejected=found.rejected,
            held_elsewhere=len(found.held),
        )
        self.ledger.runs.update_parameters(ctx.run_id, selection_done=True)
        failpoint("select", "after_record")
        ctx.run = self.ledger.runs.get(ctx.run_id) or ctx.run
        if ctx.run.parameters.get("strict") and found.rejected:
            reason = f"--strict: {found.rejected} asset(s) rejected, so none is cancelled; nothing was sent"
            ctx.journal.event("run_refused_strict", level="error", rejected=found.rejected)
            ctx.journal.flush()
            self.ledger.items.skip_open(ctx.run_id, reason)
            self._set_status(ctx.run_id, "failed", error=reason)
            return self._ended(
                RunResult(
                    ctx.run_id, "failed", self.ledger.items.counts(ctx.run_id), EXIT_ITEMS_FAILED, reason
                )
            )
        ctx.journal.flush()
        return None

    def _set_status(
        self, run_id: str, status: str, *, error: str | None = None, worker_id: str | None = None
    ) -> str:
        """Move the run to ``status`` unless another worker already ended it; the status it has now."""
        try:
            return self.ledger.runs.set_status(run_id, status, error=error, worker_id=worker_id).status
        except ValueError:
            # Several workers drive one run: the first to see it end records the end; the rest agree.
            current = self.ledger.runs.get(run_id)
            return current.status if current else status

    # The loop ----------------------------------------------------------------------------------

    def _drive(self, ctx: RunContext) -> RunResult:
        try:
            return self._drive_passes(ctx)
        finally:
            try:
                holding.release_all(ctx)
            except LedgerError:
                # The ledger is gone: the leases run out by themselves; the error that stopped
                # the run (if any) is the one to report.
                log.warning("leases_not_released", run_id=ctx.run_id)

    def _drive_passes(self, ctx: RunContext) -> RunResult:
        if ctx.run.status != "running":
            self._set_status(ctx.run_id, "running", worker_id=self.tuning.worker_id)
            ctx.journal.event("run_resumed")
        idle = 0.0
        while ctx.halt is None:
            if self.stop.is_set():
                ctx.halt = ("stopped by a signal; the run can be resumed", EXIT_PAUSED)
                break
            current = self.ledger.runs.get(ctx.run_id)
            if current is None or current.status == "cancelled":
                ctx.journal.flush()
                return RunResult(
                    ctx.run_id,
                    "cancelled",
                    self.ledger.items.counts(ctx.run_id),
                    EXIT_ITEMS_FAILED,
                    "the run was cancelled",
                )
            progressed = self._pass(ctx)
            ctx.journal.flush()
            self.ledger.runs.heartbeat(ctx.run_id, self.tuning.worker_id)
            counts = self.ledger.items.counts(ctx.run_id)
            if not any(counts.get(state.value, 0) for state in OPEN):
                return self._finish(ctx, counts)
            if progressed:
                idle = 0.0
            else:
                # Only waiting items (pricing, assetization) or items leased by another worker are
                # left: wait a little longer each idle pass, never more than the polling cap.
                self._say_whom_it_waits_for(ctx)
                idle = min(max(idle * 2, 0.05), min(1.0, self.tuning.poll_cap_s))
                # Never sleep through the renewal of the leases of the items waiting here.
                self.sleep(max(min(idle, ctx.renew_by - self.clock.monotonic()), 0.01))
        reason, code = ctx.halt
        ctx.journal.event("run_paused", level="warning", reason=reason, exit_code=code)
        ctx.journal.flush()
        self._set_status(ctx.run_id, "paused", error=reason)
        return self._ended(
            RunResult(ctx.run_id, "paused", self.ledger.items.counts(ctx.run_id), code, reason)
        )

    def _say_whom_it_waits_for(self, ctx: RunContext) -> None:
        """Log, when it changes, which other workers hold items this worker cannot take yet.

        A worker that died mid-call leaves its items leased for up to the longest call (about a
        quarter of an hour by default): without this, a resumed run would idle without a word.
        Looked up at most every ten seconds of idling.
        """
        now = self.clock.monotonic()
        if ctx.waiting_looked is not None and now - ctx.waiting_looked < WAITING_LOOK_S:
            return
        ctx.waiting_looked = now
        others = [h for h in self.ledger.claims.holders(ctx.run_id) if h.worker_id != self.tuning.worker_id]
        names = tuple(h.worker_id for h in others)
        if names and names != ctx.waiting_on:
            ctx.journal.event(
                "waiting_for_leases",
                holders=[h.as_dict() for h in others],
                hint=(
                    "another worker holds these items until its leases end; if it is gone for good, "
                    f"`sfsync runs release {ctx.run_id} --worker ID` hands them over now"
                ),
            )
        ctx.waiting_on = names

    def _pass(self, ctx: RunContext) -> bool:
        progressed = False
        holding.renew(ctx)
        try:
            with self.gate.for_pass() as slot:
                progressed = self._steps(ctx, slot)
        finally:
            # Items handed on to a step this pass did not reach (halt, stop, error) go back.
            left, ctx.carry, ctx.carry_into = ctx.carry, [], frozenset()
            if left:
                # What idempotent steps found for them is dropped with them: done again later.
                for item in left:
                    ctx.pending.pop(item.id, None)
                    ctx.held.discard(item.id)
                self.ledger.claims.release([item.lease for item in left])
        return progressed

    def _steps(self, ctx: RunContext, slot: PassSlot) -> bool:
        """Each step in turn on its batch; whether any step had work."""
        progressed = False
        for index, step in enumerate(STEPS):
            if ctx.halt is not None or self.stop.is_set():
                break
            ctx.carry_into = CARRY_INTO[index]
            items = self._take(ctx, step)
            if not items:
                continue
            try:
                slot.ensure()
                step.run(ctx, items)
            except SalesforceError as exc:
                # A read failed as a whole (the writes report per item): give the batch back.
                self.ledger.claims.release([item.lease for item in items])
                ctx.held.difference_update(item.id for item in items)
                outcome = from_error(exc)
                ctx.journal.event("step_failed", level="error", step=step.name, reason=str(exc))
                if isinstance(outcome, NotSent):
                    halt_for(ctx, [outcome])
                else:
                    raise
            progressed = True
        return progressed

    def _take(self, ctx: RunContext, step: Step) -> list[Item]:
        """The step's batch: items handed on by the previous steps or waiting, topped up by a claim.

        A polling step gets only items whose next check has come; claimed ones not due yet wait.
        """
        wanted = {state.value for state in step.states}
        limit = ctx.job.limits.batch_size
        carried = [item for item in ctx.carry if item.state in wanted]
        if carried:
            ctx.carry = [item for item in ctx.carry if item.state not in wanted]
        if step.polls:
            carried += holding.take_due(ctx, wanted, limit - len(carried), step.group_by)
        room = limit - len(carried)
        if room < 1:
            return carried
        claimed = self.ledger.claims.claim(
            ctx.run_id,
            [s.value for s in step.states],
            self.tuning.worker_id,
            room,
            self.tuning.lease_s,
            group_by=step.group_by,
        )
        if step.polls and claimed:
            claimed, later = holding.split_due(claimed, ctx.clock.now(), step.group_by)
            holding.hold_later(ctx, later)
        return carried + claimed

    def _finish(self, ctx: RunContext, counts: dict[str, int]) -> RunResult:
        good = sum(counts.get(s.value, 0) for s in SUCCESS)
        bad = sum(counts.get(s.value, 0) for s in FAILURE)
        status = "succeeded" if bad == 0 else ("partial" if good else "failed")
        if ctx.dry_run:
            status = "succeeded" if bad == 0 else "partial"
        ctx.journal.event("run_finished", status=status, counts=dict(sorted(counts.items())))
        ctx.journal.flush()
        self._set_status(ctx.run_id, status)
        return self._ended(RunResult(ctx.run_id, status, counts, _exit_for(status)))

    def _ended(self, result: RunResult) -> RunResult:
        """Tell the observer (alerts) how the run ended here; its failure never changes the result."""
        if self.on_run_end is not None:
            try:
                self.on_run_end(result)
            except Exception as exc:  # an observer must not break a run
                log.warning("run_end_observer_failed", run_id=result.run_id, error=type(exc).__name__)
        return result


def _exit_for(status: str) -> int:
    return {"succeeded": EXIT_OK, "paused": EXIT_PAUSED}.get(status, EXIT_ITEMS_FAILED)
