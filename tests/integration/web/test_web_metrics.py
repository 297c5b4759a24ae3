"""/metrics exposition, /healthz and /readyz, and the uvicorn server helper over real HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from webdata import METRICS_TOKEN, ORIGIN, Seeded, TestClient, csrf_of, login, web_settings

from sfsync.clock import FixedClock
from sfsync.ledger import Ledger, open_ledger
from sfsync.web import create_app, serve


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_exposition_parses_with_ledger_and_worker_figures(
    client: TestClient, seeded: Seeded, ledger: Ledger
) -> None:
    """With the bearer token, /metrics parses and reports runs, items, API calls, budget and latency."""
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(response.text)
    assert samples[("sfsync_runs", (("job", "nightly-renewals"), ("status", "succeeded")))] == len(
        seeded.old_runs
    )
    assert samples[("sfsync_runs", (("job", "renewal-sweep"), ("status", "partial")))] == 1
    assert samples[("sfsync_runs", (("job", "cancellation-run"), ("status", "running")))] == 1
    assert samples[("sfsync_items", (("state", "failed"),))] == 3
    assert samples[("sfsync_items", (("state", "done"),))] == 3
    assert samples[("sfsync_items", (("state", "selected"),))] == 4
    assert samples[("sfsync_api_calls_total", (("kind", "query"),))] == 12
    assert samples[("sfsync_api_errors_total", (("kind", "action:initiateRenewal"),))] == 1
    assert samples[("sfsync_api_daily_remaining", (("org", "prod"),))] == 14_250
    # Buckets are cumulative in the exposition: 2 under 0.1 s, 5 under 1 s, 6 in all.
    assert samples[("sfsync_step_latency_seconds_bucket", (("le", "0.1"), ("step", "renew")))] == 2
    assert samples[("sfsync_step_latency_seconds_bucket", (("le", "1.0"), ("step", "renew")))] == 5
    assert samples[("sfsync_step_latency_seconds_bucket", (("le", "+Inf"), ("step", "renew")))] == 6
    assert samples[("sfsync_step_latency_seconds_count", (("step", "renew"),))] == 6
    assert samples[("sfsync_step_latency_seconds_sum", (("step", "renew"),))] == 4.5


def test_metrics_follow_the_ledger_and_count_refused_logins(
    client: TestClient, seeded: Seeded, ledger: Ledger
) -> None:
    """Figures are read at scrape time; failed logins are counted by reason."""
    ledger.runs.cancel(seeded.running_run)
    form = client.get("/login")
    client.post(
        "/login",
        data={"user": "admin", "password": "x", "csrf": csrf_of(form.text)},
        headers={"Origin": ORIGIN},
    )
    samples = _samples(client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text)
    assert samples[("sfsync_runs", (("job", "cancellation-run"), ("status", "cancelled")))] == 1
    assert ("sfsync_runs", (("job", "cancellation-run"), ("status", "running"))) not in samples
    assert samples[("sfsync_web_login_failures_total", (("reason", "password"),))] == 1


def test_metrics_without_a_worker_source_has_ledger_figures_only(
    ledger: Ledger, clock: FixedClock, seeded: Seeded
) -> None:
    """Without a metrics source the ledger figures are still exposed (a session is enough to read them)."""
    app = create_app(ledger, web_settings(), clock=clock)
    with TestClient(app, base_url=ORIGIN, follow_redirects=False) as anonymous:
        assert anonymous.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 401
    with TestClient(app, base_url=ORIGIN, follow_redirects=False) as browser:
        login(browser)
        names = {f.name for f in text_string_to_metric_families(browser.get("/metrics").text)}
    assert {"sfsync_runs", "sfsync_items"} <= names
    assert "sfsync_api_calls" not in names


def test_healthz_and_readyz(client: TestClient) -> None:
    """Both answer without a session and reveal nothing but their verdict."""
    assert client.get("/healthz").text == "ok"
    assert client.get("/readyz").json() == {"ready": True}


def test_readyz_fails_when_the_ledger_is_unreadable(tmp_path: Path, clock: FixedClock) -> None:
    """A ledger file that is no database any more makes /readyz answer 503 (and /healthz still 200)."""
    path = tmp_path / "broken.db"
    ledger = open_ledger(f"sqlite:///{path}", clock=clock)
    ledger.close()
    path.write_bytes(b"this is not a SQLite database" * 200)
    ledger = open_ledger(f"sqlite:///{path}", clock=clock, migrate=False)
    try:
        with TestClient(create_app(ledger, web_settings(), clock=clock), base_url=ORIGIN) as client:
            response = client.get("/readyz")
            assert response.status_code == 503
            assert response.json() == {"ready": False}
            assert client.get("/healthz").status_code == 200
    finally:
        ledger.close()


@pytest.mark.timeout(60)
def test_serve_runs_on_a_free_local_port_and_stops(app: Starlette) -> None:
    """serve() binds 127.0.0.1 on a free port, answers real HTTP, and frees the port on stop."""
    server = serve(app)
    try:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.port > 0
        response = httpx.get(server.url + "/healthz", timeout=5)
        assert response.status_code == 200
        assert response.headers["x-content-type-options"] == "nosniff"
        assert httpx.get(server.url + "/", timeout=5).status_code == 303
    finally:
        server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/healthz", timeout=2)
