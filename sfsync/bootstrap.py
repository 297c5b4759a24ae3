"""Build the running parts once, at the edge: the org connection (a real org or the embedded
emulator), the ledger and the engine.

The ``emulator`` auth mode starts the embedded Revenue Cloud emulator in-process on a free local
port; its data lives under ``var/emulator`` (seeded with the Capricorn Coffee scenario on first
use), so consecutive commands see the same org, like a sandbox.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from sfsync.clock import Clock, SystemClock
from sfsync.engine.context import Tuning
from sfsync.engine.runner import Engine
from sfsync.ledger.ledger import Ledger, open_ledger
from sfsync.logging import redactor
from sfsync.salesforce.client import SalesforceClient
from sfsync.settings import OrgProfile, Settings

#: Where the embedded emulator keeps its org between commands.
EMULATOR_STATE = Path("var/emulator")


@dataclass
class OrgConnection:
    """An org profile made concrete: the effective profile and its client."""

    name: str
    profile: OrgProfile
    client: SalesforceClient
    #: The embedded emulator's handle when the profile is ``auth = "emulator"``.
    emulator: object | None = None


def worker_id() -> str:
    """This process's identity in leases and ticks: host, pid and a start stamp."""
    return f"{socket.gethostname()}:{os.getpid()}:{int(time.time() * 1000) % 10**8}"


@contextmanager
def connect(
    settings: Settings,
    org: str | None = None,
    *,
    clock: Clock | None = None,
    emulator_state: Path | None = EMULATOR_STATE,
    emulator_seed: str = "capricorn",
) -> Iterator[OrgConnection]:
    """Connect to the named org profile, starting the embedded emulator for ``auth = "emulator"``."""
    name = org or settings.default_org
    profile = settings.org(name)
    with ExitStack() as stack:
        emulator = None
        if profile.auth == "emulator":
            from sfsync.emulator.harness import running_emulator

            emulator = stack.enter_context(
                running_emulator(seed=emulator_seed, clock=clock, state_dir=emulator_state)
            )
            profile = emulator_profile(profile, emulator)
        redactor.add_secrets(
            s.get_secret_value() for s in (profile.client_secret, profile.password, profile.access_token) if s
        )
        client = SalesforceClient(profile, clock=clock or SystemClock())
        stack.callback(client.close)
        yield OrgConnection(name=name, profile=profile, client=client, emulator=emulator)


def emulator_profile(base: OrgProfile, handle: object) -> OrgProfile:
    """The client-credentials profile that reaches a running emulator (trusting its own CA)."""
    from sfsync.emulator.harness import EmulatorHandle

    if not isinstance(handle, EmulatorHandle):
        msg = "not an emulator handle"
        raise TypeError(msg)
    return OrgProfile.model_validate(
        {
            **base.model_dump(exclude={"auth", "login_host", "client_id", "client_secret", "ca_bundle"}),
            "auth": "client_credentials",
            "login_host": handle.login_url,
            "client_id": handle.client_id,
            "client_secret": SecretStr(handle.client_secret),
            "ca_bundle": handle.ca_path,
        }
    )


def tuning(settings: Settings, worker: str | None = None) -> Tuning:
    """Engine knobs from the settings."""
    return Tuning(
        worker_id=worker or worker_id(),
        lease_s=settings.ledger.lease_s,
        claim_batch=settings.ledger.claim_batch,
        pricing_timeout_s=settings.worker.pricing_timeout_s,
        verify_timeout_s=settings.worker.verify_timeout_s,
    )


def ledger(settings: Settings, clock: Clock | None = None) -> Ledger:
    """The ledger of the settings, migrated."""
    return open_ledger(
        settings.ledger.url, clock=clock or SystemClock(), busy_timeout_s=settings.ledger.busy_timeout_s
    )


def engine(
    settings: Settings,
    conn: OrgConnection,
    book: Ledger,
    *,
    clock: Clock | None = None,
    stop: threading.Event | None = None,
    worker: str | None = None,
) -> Engine:
    """An engine for one org connection; run ends are alerted when a webhook is configured."""
    from sfsync.alerts import Alerter

    alerter = Alerter(settings.alerts, settings.web.base_url, ledger=book, sleep=time.sleep)
    return Engine(
        ledger=book,
        sf=conn.client,
        profile=conn.profile,
        org_name=conn.name,
        clock=clock or SystemClock(),
        sleep=time.sleep,
        tuning=tuning(settings, worker),
        stop=stop,
        on_run_end=alerter.run_ended if alerter.enabled else None,
    )
