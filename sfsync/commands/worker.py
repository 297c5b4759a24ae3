"""``sfsync worker``: fire every job file on its schedule until SIGTERM; serve the admin page too.

Settings and job files are read once. Orgs are connected on first use (a worker whose org is down
still starts, serves ``/healthz`` and records missed fires). On SIGTERM or SIGINT the scheduler
stops firing, the engine finishes its current batch and records it, and the process exits 0, or 75
when a run was left paused to be resumed, within ``worker.shutdown_grace_s``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import structlog
import typer

from sfsync import bootstrap
from sfsync.alerts import Alerter
from sfsync.bootstrap import OrgConnection
from sfsync.clock import SystemClock
from sfsync.commands.context import EXIT_OK, EXIT_PAUSED, ctx_of, stop_on_signals
from sfsync.engine.runner import Engine
from sfsync.engine.scheduler import Scheduler
from sfsync.errors import ConfigError, SfsyncError
from sfsync.jobspec import JobSpec, load_jobs
from sfsync.ledger.ledger import Ledger
from sfsync.salesforce.client import SalesforceClient
from sfsync.settings import Settings

log = structlog.get_logger(__name__)


class Orgs:
    """Org connections and engines, made on first use and closed together."""

    def __init__(
        self, settings: Settings, book: Ledger, stack: ExitStack, stop: threading.Event, alerter: Alerter
    ) -> None:
        self.settings, self.book, self.stack, self.stop, self.alerter = settings, book, stack, stop, alerter
        self.worker_id = bootstrap.worker_id()
        self._lock = threading.Lock()
        self._conns: dict[str, OrgConnection] = {}
        self._engines: dict[str, Engine] = {}

    def engine(self, org: str) -> Engine:
        """The engine for an org profile (connecting now if needed)."""
        with self._lock:
            if org not in self._engines:
                conn = self.stack.enter_context(bootstrap.connect(self.settings, org))
                self._conns[org] = conn
                engine = bootstrap.engine(
                    self.settings, conn, self.book, stop=self.stop, worker=self.worker_id
                )
                engine.on_run_end = self.alerter.run_ended
                self._engines[org] = engine
            return self._engines[org]

    def clients(self) -> dict[str, SalesforceClient]:
        """The clients connected so far, by org profile."""
        with self._lock:
            return {name: conn.client for name, conn in self._conns.items()}


def load_job_specs(settings: Settings) -> list[JobSpec]:
    """Every job file, or a ConfigError naming the invalid ones."""
    directory = settings.worker.jobs_dir
    if not directory.is_dir():
        msg = f"jobs directory {directory} does not exist (set worker.jobs_dir)"
        raise ConfigError(msg)
    specs, problems = [], []
    for spec in load_jobs(directory):
        if isinstance(spec, SfsyncError):
            problems.append(str(spec))
        else:
            specs.append(spec)
    if problems:
        msg = "invalid job file(s): " + "; ".join(problems)
        raise ConfigError(msg)
    return specs


@contextmanager
def _web(settings: Settings, book: Ledger, orgs: Orgs) -> Iterator[str | None]:
    if not settings.web.enabled:
        yield None
        return
    try:
        # The web stack is the `web` extra: a plain install runs the worker without the admin page.
        from sfsync.metrics_source import ClientMetricsSource
        from sfsync.web import create_app, serve
    except ImportError as exc:
        msg = f"web.enabled needs the web extra ({exc.name} is missing): pip install 'sfsync[web]'"
        raise ConfigError(msg) from exc

    token = settings.web.metrics_token
    app = create_app(
        book,
        settings.web,
        clock=SystemClock(),
        metrics_source=ClientMetricsSource(orgs.clients),
        metrics_token=token.get_secret_value() if token else None,
    )
    server = serve(app, settings.web.host, settings.web.port)
    try:
        yield server.url
    finally:
        server.stop()


def worker(typer_ctx: typer.Context) -> int:
    """Run the scheduler: fire every job file on its schedule until SIGTERM.

    Exits 0 after a clean stop, or 75 when a run was left paused (another worker, or the next start,
    resumes it).

    Example: [bold]sfsync worker[/]
    """
    ctx = ctx_of(typer_ctx)
    settings = ctx.settings
    specs = load_job_specs(settings)
    clock = SystemClock()
    with bootstrap.ledger(settings) as book, ExitStack() as stack, stop_on_signals() as stop:
        alerter = Alerter(settings.alerts, settings.web.base_url, ledger=book, sleep=time.sleep)
        orgs = Orgs(settings, book, stack, stop, alerter)
        scheduler = Scheduler(
            ledger=book,
            jobs=specs,
            engine_for=orgs.engine,
            clock=clock,
            worker_id=orgs.worker_id,
            default_org=settings.default_org,
            misfire_grace_s=settings.worker.misfire_grace_s,
            on_missed=alerter.missed,
            on_error=alerter.error,
        )
        with _web(settings, book, orgs) as url:
            resumed = scheduler.resume_stalled(max_age_s=settings.ledger.lease_s * 2)
            started = scheduler.catch_up()
            scheduler.start(stalled_check_s=settings.ledger.lease_s)
            log.info(
                "worker_started",
                worker_id=orgs.worker_id,
                jobs=sorted(scheduler.jobs),
                web=url,
                resumed=resumed,
                caught_up=[f.job for f in started],
            )
            while not stop.wait(0.5):
                pass
            log.info("worker_stopping", grace_s=settings.worker.shutdown_grace_s)
            clean = scheduler.stop(settings.worker.shutdown_grace_s)
            if scheduler.busy():
                # A call outlived the grace: leave now; its items' leases expire and the next worker
                # reconciles them (closing the clients under the running thread would be worse).
                log.warning("worker_grace_exceeded", grace_s=settings.worker.shutdown_grace_s)
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(EXIT_PAUSED)
        log.info("worker_stopped", clean=clean)
        return EXIT_OK if clean else EXIT_PAUSED
