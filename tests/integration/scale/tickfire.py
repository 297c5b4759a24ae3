"""A worker process that fires one scheduled tick, as ``sfsync worker`` does on each cron fire.

``python -m tests.integration.scale.tickfire JOB_FILE FIRE_TIME GO_FILE``: waits until ``GO_FILE``
exists (so that several processes fire at the same moment), calls ``Scheduler.fire`` and, if this
process won the tick, drives the run to its end. Prints one JSON line: ``{"won": bool, "run_id"}``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from sfsync import bootstrap
from sfsync.clock import SystemClock
from sfsync.engine.scheduler import Scheduler
from sfsync.jobspec import load_job
from sfsync.settings import load_settings


def main(argv: list[str]) -> int:
    """Fire the tick once the go file appears; exit 0 whether this process won or lost it."""
    job_file, fire_text, go_file = argv
    settings = load_settings(Path(os.environ["SFSYNC_CONFIG"]))
    job = load_job(Path(job_file))
    fire_time = datetime.fromisoformat(fire_text)
    book = bootstrap.ledger(settings)
    worker = bootstrap.worker_id()
    with bootstrap.connect(settings, job.org) as conn:
        scheduler = Scheduler(
            ledger=book,
            jobs=[job],
            engine_for=lambda _org: bootstrap.engine(settings, conn, book, worker=worker),
            clock=SystemClock(),
            worker_id=worker,
            default_org=settings.default_org,
        )
        deadline = time.monotonic() + 60
        while not Path(go_file).exists() and time.monotonic() < deadline:
            time.sleep(0.005)  # a start line for the race, not synchronisation of results
        fired = scheduler.fire(job, fire_time)
        run_id = None
        if fired is not None:
            run_id = fired.future.result(timeout=300).run_id
        scheduler.stop(5.0)
    book.close()
    print(json.dumps({"won": fired is not None, "run_id": run_id}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
