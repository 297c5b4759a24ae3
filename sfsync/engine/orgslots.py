"""Per-org API concurrency and budget shared by every worker on one ledger (issue 7).

Each worker makes its Salesforce calls one at a time, so holding one of the org's
``max_concurrency`` slot rows in the ledger around each pass of steps (and around selection) keeps
all workers together at or under the profile's concurrency. Around the same pass the gate shares the
API usage: before it, the highest usage any worker reported is pushed into this worker's budget, so
the transport's own reserve check refuses the call (the run pauses, exit 75); after it, this
worker's last ``Sforce-Limit-Info`` is reported for the others.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import structlog

from sfsync.clock import Clock, SystemClock
from sfsync.errors import LeaseLostError, UnavailableError
from sfsync.ledger.ledger import Ledger
from sfsync.ledger.records import Slot
from sfsync.salesforce.budget import ApiBudget
from sfsync.settings import OrgProfile

log = structlog.get_logger(__name__)


def _aware(moment: datetime) -> datetime:
    """Ledger times may come back naive (SQLite); they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class OrgGate:
    """Leases an org concurrency slot from the ledger around a unit of Salesforce work."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        org: str,
        profile: OrgProfile,
        budget: ApiBudget,
        worker_id: str,
        lease_s: float,
        sleep: Callable[[float], None] = time.sleep,
        stop: threading.Event | None = None,
        wait_cap_s: float = 0.5,
        clock: Clock | None = None,
        usage_ttl_s: float = 60.0,
    ) -> None:
        self.ledger = ledger
        self.org = org
        self.max_concurrency = profile.max_concurrency
        self.budget = budget
        self.worker_id = worker_id
        self.lease_s = lease_s
        self.sleep = sleep
        self.stop = stop or threading.Event()
        self.wait_cap_s = wait_cap_s
        self.clock = clock or SystemClock()
        self.usage_ttl_s = usage_ttl_s
        #: Slots taken and seconds spent waiting for one (for the bench and tests).
        self.acquired = 0
        self.waited_s = 0.0

    @contextmanager
    def slot(self) -> Iterator[Slot]:
        """Hold one of the org's slots for the block; first refuse if the shared budget is spent.

        Raises :class:`BudgetExhaustedError` (via the budget) when the usage any worker saw has reached
        the reserve, and :class:`UnavailableError` when a stop signal comes while waiting for a slot;
        both are "nothing was sent" to the runner, which pauses the run.
        """
        self.share_usage_in()
        self.budget.check()
        held = self._acquire()
        try:
            yield held
        finally:
            if not self.ledger.slots.release(held):
                # The lease outlived its expiry; another worker may have had the slot meanwhile.
                log.warning("org_slot_lost", org=self.org, slot=held.slot)
            self.share_usage_out()

    @contextmanager
    def for_pass(self) -> Iterator[PassSlot]:
        """A slot for a pass of steps, taken when the first step with work calls ``ensure()``.

        A worker makes its calls one at a time, so holding one slot over its whole pass keeps
        the org's concurrency as holding one per step did, for two ledger writes per pass
        instead of four ledger transactions per step.
        """
        held = PassSlot(self)
        try:
            yield held
        finally:
            held.close()

    def _acquire(self) -> Slot:
        delay = 0.01
        started = time.monotonic()
        while True:
            held = self.ledger.slots.acquire(self.org, self.worker_id, self.max_concurrency, self.lease_s)
            if held is not None:
                self.acquired += 1
                self.waited_s += time.monotonic() - started
                return held
            if self.stop.is_set():
                msg = f"org {self.org}: stopped while waiting for an API concurrency slot"
                raise UnavailableError(msg)
            # All slots are busy with other workers' calls: back off a little, bounded.
            self.sleep(delay)
            delay = min(delay * 2, self.wait_cap_s)

    def share_usage_in(self) -> None:
        """Adopt the usage another worker reported when it is higher than what this worker saw."""
        shared = self.ledger.slots.usage(self.org)
        if shared is None or shared.allowance <= 0:
            return
        # A report older than the TTL is no evidence: the org's counter may have been reset since,
        # and a worker refused by it would never send the call that could tell (a budget pause
        # could then never be resumed on this ledger).
        if (self.clock.now() - _aware(shared.observed_at)).total_seconds() > self.usage_ttl_s:
            return
        mine = self.budget.usage
        if mine is None or shared.used > mine.used:
            self.budget.observe(f"api-usage={shared.used}/{shared.allowance}")

    def share_usage_out(self) -> None:
        """Report this worker's last seen usage when it is news to the others."""
        mine = self.budget.usage
        if mine is None:
            return
        shared = self.ledger.slots.usage(self.org)
        # The latest observation wins once the shared one is stale (after a reset usage goes down).
        stale = shared is not None and (
            (self.clock.now() - _aware(shared.observed_at)).total_seconds() > self.usage_ttl_s
        )
        if shared is None or mine.used > shared.used or stale:
            self.ledger.slots.report_usage(self.org, mine.used, mine.max, self.worker_id)


class PassSlot:
    """One org slot held over a pass (see :meth:`OrgGate.for_pass`)."""

    def __init__(self, gate: OrgGate) -> None:
        self._gate = gate
        self._held: Slot | None = None
        self._renew_at = 0.0

    def ensure(self) -> None:
        """Before a step's calls: take the slot (first checking the shared budget), or keep it alive.

        Raises like :meth:`OrgGate.slot` when the budget is spent or a stop comes while waiting.
        """
        gate = self._gate
        now = time.monotonic()
        if self._held is None:
            gate.share_usage_in()
            gate.budget.check()
            self._held = gate._acquire()
        elif now >= self._renew_at:
            try:
                self._held = gate.ledger.slots.renew(self._held, gate.lease_s)
            except LeaseLostError:
                # A long pass outlived the slot's lease and another worker took it: take one again.
                log.warning("org_slot_lost", org=gate.org, slot=self._held.slot)
                self._held = None
                self.ensure()
                return
        else:
            gate.budget.check()
        self._renew_at = now + gate.lease_s / 2

    def close(self) -> None:
        """Give the slot back (if one was taken) and report this worker's API usage."""
        if self._held is None:
            return
        held, self._held = self._held, None
        if not self._gate.ledger.slots.release(held):
            log.warning("org_slot_lost", org=self._gate.org, slot=held.slot)
        self._gate.share_usage_out()
