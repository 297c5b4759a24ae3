"""Admin-page fixtures: a real SQLite ledger populated through its API, the app, a test client."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import structlog
from starlette.applications import Starlette
from webdata import METRICS_TOKEN, ORIGIN, START, Seeded, TestClient, login, populate, web_settings

from sfsync.clock import FixedClock
from sfsync.ledger import Ledger, open_ledger
from sfsync.web import Histogram, WorkerMetrics, create_app
from sfsync.web.auth import LoginThrottle


@pytest.fixture(autouse=True)
def _default_logging() -> None:
    """Log through structlog's defaults: an earlier test may have left it writing to a closed stream."""
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seeded, datetime]:
    """One SQLite ledger populated once per session (file, what it holds, its clock's end time)."""
    path = tmp_path_factory.mktemp("web") / "template.db"
    clock = FixedClock(START)
    structlog.reset_defaults()  # see _default_logging
    with open_ledger(f"sqlite:///{path}", clock=clock) as ledger:
        seeded = populate(ledger, clock)
    return path, seeded, clock.now()


@pytest.fixture
def clock(template: tuple[Path, Seeded, datetime]) -> FixedClock:
    """The injected clock shared by the ledger, the app and the login throttle."""
    return FixedClock(template[2])


@pytest.fixture
def seeded(template: tuple[Path, Seeded, datetime]) -> Seeded:
    """What the populated ledger holds."""
    return template[1]


@pytest.fixture
def ledger(tmp_path: Path, clock: FixedClock, template: tuple[Path, Seeded, datetime]) -> Iterator[Ledger]:
    """A private copy of the populated SQLite ledger file."""
    path = tmp_path / "ledger.db"
    shutil.copyfile(template[0], path)
    opened = open_ledger(f"sqlite:///{path}", clock=clock, migrate=False)
    yield opened
    opened.close()


@pytest.fixture
def worker_metrics() -> WorkerMetrics:
    """What a worker reports to /metrics."""
    return WorkerMetrics(
        api_calls={"query": 12, "action:initiateRenewal": 3},
        api_errors={"action:initiateRenewal": 1},
        api_remaining={"prod": 14_250},
        step_latency={"renew": Histogram(bounds=(0.1, 1.0), counts=(2, 3, 1), total_seconds=4.5)},
    )


@pytest.fixture
def app(ledger: Ledger, clock: FixedClock, seeded: Seeded, worker_metrics: WorkerMetrics) -> Starlette:
    """The admin app over the populated ledger."""
    return create_app(
        ledger, web_settings(), clock=clock, metrics_source=lambda: worker_metrics,
        metrics_token=METRICS_TOKEN, throttle=LoginThrottle(clock, per_user=3, per_address=5, window_s=600),
    )  # fmt: skip


@pytest.fixture
def client(app: Starlette) -> Iterator[TestClient]:
    """A browser-like client on https (the session cookie is Secure), not following redirects."""
    with TestClient(app, base_url=ORIGIN, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    """The client, logged in as the admin."""
    login(client)
    return client
