"""The org gate: API concurrency slots and the API budget shared through the ledger by all workers."""

from __future__ import annotations

import threading
import time

import pytest

from sfsync.emulator.harness import wait_for
from sfsync.engine.orgslots import OrgGate
from sfsync.errors import BudgetExhaustedError, UnavailableError
from sfsync.ledger.ledger import Ledger
from sfsync.salesforce.budget import ApiBudget
from sfsync.settings import OrgProfile
from tests.dbfixtures import ledger, ledger_url, pg

__all__ = ["ledger", "ledger_url", "pg"]


def gate(book: Ledger, worker: str, *, max_concurrency: int = 2, reserve: float = 0.2) -> OrgGate:
    """A gate of the org ``acme`` as one worker sees it."""
    profile = OrgProfile.model_validate({"max_concurrency": max_concurrency, "api_reserve": reserve})
    return OrgGate(
        ledger=book, org="acme", profile=profile, budget=ApiBudget(reserve), worker_id=worker, lease_s=30.0
    )


def test_workers_together_stay_under_max_concurrency(ledger: Ledger) -> None:
    """Six workers each making calls through their gate never hold more than two slots at once."""
    busy = 0
    peak = 0
    lock = threading.Lock()
    errors: list[BaseException] = []

    def work(name: str) -> None:
        mine = gate(ledger, name)
        try:
            for _ in range(5):
                nonlocal busy, peak
                with mine.slot():
                    with lock:
                        busy += 1
                        peak = max(peak, busy)
                    assert ledger.slots.in_use("acme") <= 2
                    time.sleep(0.01)  # stands for the Salesforce call made while holding the slot
                    with lock:
                        busy -= 1
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert peak == 2
    assert ledger.slots.in_use("acme") == 0


def test_usage_seen_by_one_worker_pauses_the_others(ledger: Ledger) -> None:
    """A worker that saw usage past the reserve reports it; another worker's next call is refused."""
    first, second = gate(ledger, "w1"), gate(ledger, "w2")
    with first.slot():
        first.budget.observe("api-usage=850/1000")
    usage = ledger.slots.usage("acme")
    assert usage is not None
    assert (usage.used, usage.allowance, usage.worker_id) == (850, 1000, "w1")
    with pytest.raises(BudgetExhaustedError, match="reserve"), second.slot():
        pytest.fail("the call was let through")
    assert ledger.slots.in_use("acme") == 0


def test_a_stop_while_every_slot_is_busy_gives_up_without_calling(ledger: Ledger) -> None:
    """Waiting for a slot ends with 'unavailable' (the run pauses) when the worker is told to stop."""
    holder, waiter = gate(ledger, "w1", max_concurrency=1), gate(ledger, "w2", max_concurrency=1)
    with holder.slot():
        waiter.stop.set()
        with pytest.raises(UnavailableError, match="stopped"), waiter.slot():
            pytest.fail("the call was let through")


def test_a_pass_holds_one_slot_over_its_steps_and_gives_it_back(ledger: Ledger) -> None:
    """A pass takes a slot at its first step with work, keeps it for the next ones, frees it after."""
    mine, other = gate(ledger, "w1", max_concurrency=1), gate(ledger, "w2", max_concurrency=1)
    other.stop.set()
    with mine.for_pass() as held:
        assert ledger.slots.in_use("acme") == 0, "no slot until a step has work"
        for _step in range(3):
            held.ensure()
            assert ledger.slots.in_use("acme") == 1
            # The only slot is this pass's: another worker's call waits (here: gives up at once).
            with pytest.raises(UnavailableError, match="stopped"), other.slot():
                pytest.fail("the call was let through")
        mine.budget.observe("api-usage=900/1000")
    assert mine.acquired == 1
    assert ledger.slots.in_use("acme") == 0
    # The usage seen during the pass was shared when it ended.
    usage = ledger.slots.usage("acme")
    assert usage is not None
    assert (usage.used, usage.worker_id) == (900, "w1")


def test_a_pass_that_outlives_its_slot_takes_another(ledger: Ledger) -> None:
    """A pass longer than the slot's lease, whose slot another worker took meanwhile, takes a new one."""
    profile = OrgProfile.model_validate({"max_concurrency": 2})
    slow = OrgGate(
        ledger=ledger, org="acme", profile=profile, budget=ApiBudget(0.2), worker_id="w1", lease_s=0.3
    )
    with slow.for_pass() as held:
        held.ensure()
        assert wait_for(lambda: ledger.slots.in_use("acme") == 0, timeout=10)
        # Both slots are free now: the other worker takes the one this pass had (the lowest).
        taken = ledger.slots.acquire("acme", "w2", 2, 60.0)
        assert taken is not None
        assert taken.slot == 0
        held.ensure()  # half its lease has gone by: the renewal finds it lost and takes slot 1
        assert ledger.slots.in_use("acme") == 2
    assert slow.acquired == 2
    assert ledger.slots.in_use("acme") == 1, "only the other worker's slot is still taken"
