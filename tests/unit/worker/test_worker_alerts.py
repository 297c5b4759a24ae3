"""Alert payloads (Slack-compatible) and their delivery: retried, never fatal, URL never logged."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import responses
import structlog
from pydantic import SecretStr

from sfsync.alerts import Alerter, missed_alert, run_alert
from sfsync.settings import AlertSettings

HOOK = "https://hooks.example.test/services/T000/B000/secret-token"


def _alerter(retries: int = 2) -> tuple[Alerter, list[float]]:
    waits: list[float] = []
    settings = AlertSettings(webhook_url=SecretStr(HOOK), retries=retries, timeout_s=2)
    return Alerter(settings, "https://sfsync.example.test/", sleep=waits.append, backoff_s=0.5), waits


def test_partial_run_alert_summarises_failed_items_and_links_the_run() -> None:
    """A partial run's alert counts the items that failed for good and links to its page."""
    alert = run_alert(
        run_id="r-abc",
        job="renewal-sweep",
        status="partial",
        counts={"verified": 7, "failed": 2, "mismatch": 1},
        message="",
        base_url="https://sfsync.example.test/",
    )
    assert alert is not None
    body = alert.payload()
    assert "3 of 10 item(s) failed for good" in body["text"]
    assert "https://sfsync.example.test/runs/r-abc" in body["text"]
    assert body["blocks"][0]["type"] == "section"
    assert "<https://sfsync.example.test/runs/r-abc|" in json.dumps(body["blocks"])


def test_succeeded_run_sends_no_alert() -> None:
    """A clean run needs nobody's attention."""
    assert (
        run_alert(run_id="r-1", job="j", status="succeeded", counts={"verified": 3}, message="", base_url="x")
        is None
    )


def test_paused_run_alert_carries_the_reason() -> None:
    """A paused run says why it paused."""
    alert = run_alert(
        run_id="r-2",
        job="j",
        status="paused",
        counts={"selected": 4},
        message="API budget reserve reached",
        base_url="http://h",
    )
    assert alert is not None
    assert "paused" in alert.text
    assert "API budget reserve reached" in alert.text


def test_missed_fire_alert_names_job_and_time() -> None:
    """A missed fire names the job and its fire time."""
    alert = missed_alert(
        job="renewal-sweep", fire_time=datetime(2026, 11, 23, 3, tzinfo=UTC), base_url="http://h"
    )
    assert "renewal-sweep" in alert.text
    assert "2026-11-23T03:00:00+00:00" in alert.text
    assert alert.payload()["blocks"]


@responses.activate
def test_delivery_retries_with_backoff_then_succeeds() -> None:
    """Two 500s then a 200: three POSTs, growing waits, and success."""
    responses.post(HOOK, status=500)
    responses.post(HOOK, status=500)
    responses.post(HOOK, status=200)
    alerter, waits = _alerter(retries=2)
    assert alerter.send(
        missed_alert(job="j", fire_time=datetime(2026, 1, 1, tzinfo=UTC), base_url="http://h")
    )
    assert len(responses.calls) == 3
    assert waits == [0.5, 1.0]
    assert json.loads(responses.calls[0].request.body or b"{}")["text"].startswith(":alarm_clock:")


@responses.activate
def test_delivery_failure_is_logged_not_raised_and_hides_the_url() -> None:
    """A webhook that keeps failing returns False, logs alert_failed, and never logs its URL."""
    responses.post(HOOK, status=503)
    alerter, _waits = _alerter(retries=1)
    with structlog.testing.capture_logs() as logs:
        sent = alerter.send(
            missed_alert(job="j", fire_time=datetime(2026, 1, 1, tzinfo=UTC), base_url="http://h")
        )
    assert sent is False
    assert [e["event"] for e in logs] == ["alert_retry", "alert_failed"]
    assert "secret-token" not in json.dumps(logs, default=str)


def test_no_webhook_configured_sends_nothing() -> None:
    """Without a webhook the alerter is disabled and send returns False."""
    alerter = Alerter(AlertSettings(), "http://h", sleep=lambda _s: None)
    assert not alerter.enabled
    assert (
        alerter.send(missed_alert(job="j", fire_time=datetime(2026, 1, 1, tzinfo=UTC), base_url="http://h"))
        is False
    )


@responses.activate
def test_error_alert_redacts_known_secrets() -> None:
    """An error alert carries the reason with registered secrets redacted."""
    from sfsync.logging import redactor

    redactor.add_secrets(["hunter2-secret-value"])
    responses.post(HOOK, status=200)
    alerter, _waits = _alerter()
    alerter.error("nightly", "fire", RuntimeError("login failed for hunter2-secret-value"))
    body = json.loads(responses.calls[0].request.body or b"{}")
    assert "could not fire nightly" in body["text"]
    assert "hunter2-secret-value" not in json.dumps(body)
