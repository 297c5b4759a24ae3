"""Shared pieces of the engine fault tests: a synthetic sweep job, expected assets, one sweep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sfsync.emulator.config import EmulatorConfig, FaultRule
from sfsync.emulator.harness import EmulatorHandle
from sfsync.engine.runner import Engine, RunResult
from sfsync.jobspec import JobSpec
from tests.integration.engine.conftest import World, fast_config
from tests.integration.engine.faultstats import Figures, Snapshot, figures

#: Synthetic org of the fault tests; a 180-day window takes about half its assets, none of them
#: starting in the future (those have CurrentQuantity 0, which verification misjudges: see report).
ASSETS = 100
WINDOW = 180
SEED = f"synthetic:{ASSETS}:seed=7"
WRITE_PATHS = ("/actions/", "/composite/sobjects")


def sweep_job(window_days: int = WINDOW, batch_size: int = 200, **renewal: object) -> JobSpec:
    """A renewal sweep of the synthetic org (automatic term unless told otherwise)."""
    body: dict[str, object] = {
        "name": "fault-sweep",
        "kind": "renewal",
        "selection": {"window_days": window_days},
        "limits": {"batch_size": batch_size},
    }
    if renewal:
        body["renewal"] = renewal
    return JobSpec.model_validate(body)


def expected_assets(world: World, window_days: int = WINDOW) -> set[str]:
    """The assets a sweep must take, read from the store (lifecycle-managed, ending in the window)."""
    return in_window(world.emulator, window_days)


def in_window(emulator: EmulatorHandle, window_days: int = WINDOW) -> set[str]:
    """Lifecycle-managed assets of the emulator's store whose end falls in the next ``window_days``."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    end = today + timedelta(days=window_days + 1)
    return {
        str(a["Id"])
        for a in emulator.org.store.find("Asset", HasLifecycleManagement=True)
        if a.get("LifecycleEndDate") is not None and today <= a["LifecycleEndDate"] < end
    }


def config(*rules: FaultRule, seed: int = 11, **changes: object) -> EmulatorConfig:
    """A fast emulator config with fault rules.

    Synthetic accounts carry only a city and a country, so activation's shipping-address rule is off.
    """
    base = fast_config(**{"enforce_shipping_address": False, **changes})
    base.faults.rules = list(rules)
    base.faults.seed = seed
    return base


@dataclass
class Outcome:
    """A sweep's result, its figures and its expected assets."""

    result: RunResult
    figures: Figures
    expected: set[str]


def run_sweep(world: World, engine: Engine, title: str, job: JobSpec | None = None) -> Outcome:
    """Run a sweep from scratch and account for it from the emulator's side (printed)."""
    job = job or sweep_job()
    expected = expected_assets(world, job.selection.window_days)
    before = Snapshot.take(world.emulator)
    world.emulator.admin.reset_counters()
    result = engine.run_renewals(job)
    figs = figures(world.emulator, world.ledger, [result.run_id], expected, before)
    figs.report(f"{title}: {result.status} exit={result.exit_code} {result.message}")
    return Outcome(result, figs, expected)


def account(world: World, run_id: str, expected: set[str], before: Snapshot, title: str) -> Figures:
    """Figures of a run after it ended (or was resumed), printed."""
    figs = figures(world.emulator, world.ledger, [run_id], expected, before)
    figs.report(title)
    return figs


def writes(world: World) -> int:
    """Write calls in the request log (actions and collection PATCHes)."""
    return sum(
        1
        for e in world.emulator.admin.requests()
        if e.method in {"POST", "PATCH"} and any(p in e.path for p in WRITE_PATHS)
    )
