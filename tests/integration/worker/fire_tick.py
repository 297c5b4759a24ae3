"""A worker process for the multi-process tick test: wait for the go file, fire one tick, print JSON.

Usage: ``python fire_tick.py LEDGER_URL WORKER_ID FIRE_ISO GO_FILE``; the emulator to reach comes
from ``FIRE_TICK_LOGIN_URL``, ``FIRE_TICK_CLIENT_ID``, ``FIRE_TICK_SECRET`` and ``FIRE_TICK_CA``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from pydantic import SecretStr

from sfsync.clock import SystemClock
from sfsync.engine.context import Tuning
from sfsync.engine.runner import Engine
from sfsync.engine.scheduler import Scheduler
from sfsync.jobspec import JobSpec
from sfsync.ledger.ledger import open_ledger
from sfsync.salesforce.client import SalesforceClient
from sfsync.settings import OrgProfile


def main() -> int:
    """Fire the tick once and report whether this process won it and how its run ended."""
    url, worker, fire_iso, go = sys.argv[1:5]
    profile = OrgProfile(
        auth="client_credentials",
        login_host=os.environ["FIRE_TICK_LOGIN_URL"],
        client_id=os.environ["FIRE_TICK_CLIENT_ID"],
        client_secret=SecretStr(os.environ["FIRE_TICK_SECRET"]),
        ca_bundle=Path(os.environ["FIRE_TICK_CA"]),
        max_retries=3,
        backoff_cap_s=0.2,
    )
    job = JobSpec.model_validate(
        {"name": "nightly", "kind": "renewal", "schedule": {"cron": "0 3 * * *", "timezone": "UTC"}}
    )
    with open_ledger(url, clock=SystemClock(), migrate=False) as book, SalesforceClient(profile) as client:
        tuning = Tuning(
            worker_id=worker,
            lease_s=30,
            verify_timeout_s=20,
            pricing_timeout_s=20,
            poll_start_s=0.05,
            poll_cap_s=0.5,
        )
        engine = Engine(
            ledger=book,
            sf=client,
            profile=profile,
            org_name="emulator",
            clock=SystemClock(),
            sleep=time.sleep,
            tuning=tuning,
        )
        scheduler = Scheduler(
            ledger=book,
            jobs=[job],
            engine_for=lambda _org: engine,
            clock=SystemClock(),
            worker_id=worker,
            default_org="emulator",
        )
        print("ready", flush=True)
        deadline = time.monotonic() + 30
        while not Path(go).exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        fired = scheduler.fire(job, datetime.fromisoformat(fire_iso))
        report: dict[str, object] = {"worker": worker, "won": fired is not None}
        if fired is not None:
            result = fired.future.result(timeout=120)
            report.update(run_id=result.run_id, status=result.status)
        scheduler.stop(5)
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
