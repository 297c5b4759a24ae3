"""Alerts to a Slack-compatible webhook: failed, partial or paused runs, and missed scheduled fires.

One alert per run end (its summary: items that failed for good, not each retry, which only logs a
warning) and one per missed fire. Delivery is retried with backoff; a failure is logged and never
raised, because an alert must not stop the work it reports on. The webhook URL is a secret: it is
never logged, and errors mention only the HTTP status or the exception type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
import structlog

from sfsync.engine.runner import RunResult
from sfsync.engine.states import FAILURE
from sfsync.ledger.ledger import Ledger
from sfsync.logging import redactor
from sfsync.settings import AlertSettings

log = structlog.get_logger(__name__)

#: Run statuses that call for a person's attention.
ALERT_STATUSES = frozenset({"failed", "partial", "paused"})
_FAILED_STATES = tuple(sorted(state.value for state in FAILURE))
_ICON = {
    "failed": ":x:",
    "partial": ":warning:",
    "paused": ":double_vertical_bar:",
    "missed": ":alarm_clock:",
}


@dataclass(frozen=True)
class Alert:
    """One message: the plain ``text`` fallback and Slack ``blocks``."""

    kind: str
    text: str
    blocks: tuple[dict[str, Any], ...]

    def payload(self) -> dict[str, Any]:
        """The JSON body to POST."""
        return {"text": self.text, "blocks": list(self.blocks)}


def run_link(base_url: str, run_id: str) -> str:
    """The admin page of a run."""
    return f"{base_url.rstrip('/')}/runs/{run_id}"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def run_alert(
    *, run_id: str, job: str, status: str, counts: Mapping[str, int], message: str, base_url: str
) -> Alert | None:
    """The alert for a run that ended ``status``; None when it needs no attention (succeeded)."""
    if status not in ALERT_STATUSES:
        return None
    link = run_link(base_url, run_id)
    failed = sum(counts.get(state, 0) for state in _FAILED_STATES)
    total = sum(counts.values())
    headline = f"{_ICON[status]} sfsync run {run_id} of job {job} {status}"
    summary = f"{failed} of {total} item(s) failed for good" if status != "paused" else "the run is paused"
    if message:
        summary += f": {message}"
    breakdown = ", ".join(f"{state} {n}" for state, n in sorted(counts.items()) if n) or "no items"
    text = f"{headline}. {summary}. {link}"
    blocks = (
        _section(f"*{headline}*\n{summary}"),
        _section(f"Items: {breakdown}"),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Open the run's page>"}]},
    )
    return Alert(status, text, blocks)


def missed_alert(*, job: str, fire_time: datetime, base_url: str) -> Alert:
    """The alert for a scheduled fire that no worker ran in time."""
    when = fire_time.isoformat()
    headline = f"{_ICON['missed']} sfsync missed the scheduled fire of job {job} at {when}"
    hint = "no worker was running, or it was busy past the misfire grace; run it with `sfsync run` if needed"
    link = base_url.rstrip("/") + "/"
    blocks = (
        _section(f"*{headline}*\n{hint}"),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Open the runs list>"}]},
    )
    return Alert("missed", f"{headline}. {hint}.", blocks)


def error_alert(*, subject: str, where: str, reason: str, base_url: str) -> Alert:
    """The alert for a scheduled job or run that failed with an error (not a per-item failure)."""
    headline = f"{_ICON['failed']} sfsync could not {where} {subject}"
    link = base_url.rstrip("/") + "/"
    blocks = (
        _section(f"*{headline}*\n{reason}"),
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{link}|Open the runs list>"}]},
    )
    return Alert("error", f"{headline}: {reason}", blocks)


class Alerter:
    """Sends alerts to the configured webhook; does nothing when none is configured."""

    def __init__(
        self,
        settings: AlertSettings,
        base_url: str,
        *,
        ledger: Ledger | None = None,
        sleep: Callable[[float], None],
        backoff_s: float = 1.0,
        backoff_cap_s: float = 30.0,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = base_url
        self.ledger = ledger
        self.sleep = sleep
        self.backoff_s = backoff_s
        self.backoff_cap_s = backoff_cap_s
        self.session = session or requests.Session()
        self.session.trust_env = False

    @property
    def enabled(self) -> bool:
        """Whether a webhook is configured."""
        return self.settings.webhook_url is not None

    def send(self, alert: Alert) -> bool:
        """POST the alert, retrying with backoff; True when the webhook took it. Never raises."""
        if self.settings.webhook_url is None:
            log.debug("alert_not_sent_no_webhook", kind=alert.kind)
            return False
        url = self.settings.webhook_url.get_secret_value()
        attempts = 1 + self.settings.retries
        for attempt in range(1, attempts + 1):
            try:
                response = self.session.post(url, json=alert.payload(), timeout=self.settings.timeout_s)
                problem = None if response.status_code < 300 else f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                problem = type(exc).__name__
            if problem is None:
                log.info("alert_sent", kind=alert.kind, attempt=attempt)
                return True
            if attempt < attempts:
                wait = min(self.backoff_s * 2 ** (attempt - 1), self.backoff_cap_s)
                log.warning("alert_retry", kind=alert.kind, attempt=attempt, problem=problem, wait_s=wait)
                self.sleep(wait)
            else:
                log.error("alert_failed", kind=alert.kind, attempts=attempts, problem=problem)
        return False

    def run_ended(self, result: RunResult) -> None:
        """Engine observer: alert a failed, partial or paused run once with its summary."""
        run = self.ledger.runs.get(result.run_id) if self.ledger is not None else None
        alert = run_alert(
            run_id=result.run_id,
            job=run.job if run is not None else "?",
            status=result.status,
            counts=result.counts,
            message=result.message,
            base_url=self.base_url,
        )
        if alert is not None:
            self.send(alert)

    def error(self, subject: str, where: str, exc: BaseException) -> None:
        """Scheduler observer: alert a fire or run that failed with an error (secrets redacted)."""
        reason = redactor.redact_text(str(exc) or type(exc).__name__)
        self.send(error_alert(subject=subject, where=where, reason=reason, base_url=self.base_url))

    def missed(self, job: str, fire_time: datetime) -> None:
        """Scheduler observer: alert a missed fire."""
        self.send(missed_alert(job=job, fire_time=fire_time, base_url=self.base_url))
