"""Fixtures for engine tests: a seeded emulator over HTTPS, a real ledger, and an engine on both."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sfsync.bootstrap import emulator_profile
from sfsync.clock import Clock, SystemClock
from sfsync.emulator.config import EmulatorConfig
from sfsync.emulator.harness import EmulatorHandle, running_emulator
from sfsync.engine.context import Tuning
from sfsync.engine.runner import Engine
from sfsync.jobspec import JobSpec
from sfsync.ledger.ledger import Ledger, open_ledger
from sfsync.salesforce.client import SalesforceClient
from sfsync.settings import OrgProfile


@dataclass
class World:
    """An emulated org, a ledger, and a way to build engines over them."""

    emulator: EmulatorHandle
    ledger: Ledger
    profile: OrgProfile
    make_engine: Callable[..., Engine]


def fast_config(**changes: object) -> EmulatorConfig:
    """An emulator whose asynchronous work finishes quickly."""
    config = EmulatorConfig(pricing_delay_s=0.05, assetize_delay_s=0.05)
    for key, value in changes.items():
        setattr(config, key, value)
    return config


@pytest.fixture
def world_factory(tmp_path: Path) -> Iterator[Callable[..., World]]:
    """Build worlds on demand (seed and emulator config per test); everything closed afterwards."""
    stack: list[Callable[[], None]] = []

    def build(
        seed: str = "capricorn", config: EmulatorConfig | None = None, **profile_changes: object
    ) -> World:
        context = running_emulator(config or fast_config(), seed=seed)
        handle = context.__enter__()
        stack.append(lambda: context.__exit__(None, None, None))
        profile = emulator_profile(
            OrgProfile.model_validate({"max_retries": 3, "backoff_cap_s": 0.2, **profile_changes}), handle
        )
        ledger = open_ledger(f"sqlite:///{tmp_path / f'ledger-{len(stack)}.db'}", clock=SystemClock())
        stack.append(ledger.close)

        def make_engine(
            worker: str = "w1",
            lease_s: float = 30.0,
            verify_timeout_s: float = 20.0,
            clock: Clock | None = None,
            sleep: Callable[[float], None] = time.sleep,
            max_waiting: int = 10_000,
            **kw: object,
        ) -> Engine:
            client = SalesforceClient(profile, sleep=time.sleep)
            stack.append(client.close)
            return Engine(
                ledger=ledger,
                sf=client,
                profile=profile,
                org_name="emulator",
                clock=clock or SystemClock(),
                sleep=sleep,
                tuning=Tuning(
                    worker_id=worker,
                    lease_s=lease_s,
                    verify_timeout_s=verify_timeout_s,
                    pricing_timeout_s=20.0,
                    poll_start_s=0.05,
                    poll_cap_s=0.5,
                    max_waiting=max_waiting,
                ),
                **kw,  # type: ignore[arg-type]
            )

        return World(emulator=handle, ledger=ledger, profile=profile, make_engine=make_engine)

    yield build
    for close in reversed(stack):
        close()


def renewal_job(**renewal: object) -> JobSpec:
    """A renewal sweep of the next 30 days (override term when start/end are given)."""
    body: dict[str, object] = {"name": "renewal-test", "kind": "renewal"}
    if renewal:
        body["renewal"] = renewal
    return JobSpec.model_validate(body)


def cancellation_job(**options: object) -> JobSpec:
    """An on-demand cancellation job."""
    return JobSpec.model_validate({"name": "cancel-test", "kind": "cancellation", "cancellation": options})
