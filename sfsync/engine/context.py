"""What every step of a run needs, built once per run by the runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sfsync.clock import Clock
from sfsync.engine.journal import Journal
from sfsync.jobspec import JobSpec
from sfsync.ledger.ledger import Ledger
from sfsync.ledger.records import Item, Run
from sfsync.salesforce.client import SalesforceClient
from sfsync.settings import OrgProfile


@dataclass(frozen=True)
class Tuning:
    """Engine knobs from the settings (deadlines, leases, polling)."""

    worker_id: str
    lease_s: float = 60.0
    claim_batch: int = 200
    pricing_timeout_s: float = 300.0
    verify_timeout_s: float = 600.0
    poll_start_s: float = 0.25
    poll_factor: float = 2.0
    poll_cap_s: float = 15.0
    #: Reconciliations of one item before it fails for good (each one may resend once).
    max_reconciles: int = 3
    #: Seconds another worker's reported API usage is trusted; older, it no longer blocks calls.
    usage_ttl_s: float = 60.0
    #: Items a worker keeps leased in memory while they wait for Salesforce (more wait in the ledger).
    max_waiting: int = 10_000


@dataclass
class RunContext:
    """One run being driven by one worker."""

    run: Run
    job: JobSpec
    ledger: Ledger
    sf: SalesforceClient
    profile: OrgProfile
    clock: Clock
    sleep: Callable[[float], None]
    journal: Journal
    tuning: Tuning
    today: date
    #: Set when the run must stop: the reason and the exit code the CLI should return.
    halt: tuple[str, int] | None = field(default=None)
    #: States a later step of the current pass takes without polling: items a step moves into one
    #: of them stay leased and are handed on (see :func:`sfsync.engine.batch.commit`).
    carry_into: frozenset[str] = field(default=frozenset())
    #: Items handed on within the current pass, still leased by this worker.
    carry: list[Item] = field(default_factory=list)
    #: States the polling steps take (pricing, verification): items moved into one of them stay
    #: leased and wait in :attr:`waiting`.
    wait_into: frozenset[str] = field(default=frozenset())
    #: Items this worker keeps leased across passes while Salesforce finishes its asynchronous
    #: part: each poll then needs no claim, no read of the item and no write of its next check.
    waiting: list[Item] = field(default_factory=list)
    #: IDs of the items in :attr:`waiting` (or taken from it this pass) whose lease
    #: :attr:`renew_by` covers.
    held: set[int] = field(default_factory=set)
    #: Monotonic time by which the leases of :attr:`waiting` must be renewed (half a lease after
    #: the oldest was last extended).
    renew_by: float = field(default=float("inf"))
    #: What idempotent steps found out about items and did not write yet, by item ID: the next
    #: write of the item (the next step's intent) carries it.
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: The other workers whose leases this worker last said it waits for, and when it looked.
    waiting_on: tuple[str, ...] = field(default=())
    waiting_looked: float | None = field(default=None)

    @property
    def run_id(self) -> str:
        """The run's ID."""
        return self.run.id

    @property
    def dry_run(self) -> bool:
        """Whether no write call may be made."""
        return self.run.dry_run
