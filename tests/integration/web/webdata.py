"""A populated ledger for the admin-page tests (integration and browser): real runs, items, events.

Written through the ledger's public API only. Some names and messages carry XSS payloads and
spreadsheet formulas on purpose: every page and export must render them inert.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # starlette 1.x asks for the httpx2 fork, which is not a project dependency; httpx behaves the same.
    warnings.filterwarnings("ignore", "Using `httpx`", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from sfsync.clock import FixedClock
from sfsync.ledger import Change, Ledger, NewItem
from sfsync.settings import WebSettings
from sfsync.sfid import make
from sfsync.web import hash_password

__all__ = [
    "ADMIN_PASSWORD", "CRLF_NAME", "FORMULA_NAME", "IMG_MESSAGE", "METRICS_TOKEN", "ORIGIN", "READER_PASSWORD",
    "SCRIPT_NAME", "START", "Seeded", "TestClient", "csrf_of", "login", "populate", "web_settings",
]  # fmt: skip

ORIGIN = "https://testserver"
METRICS_TOKEN = "metrics-token-for-tests-1234567890"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ADMIN_PASSWORD = "correct horse battery staple"
READER_PASSWORD = "read only reader pw"

SCRIPT_NAME = "<script>window.__xss = 1</script>Capricorn Espresso"
IMG_MESSAGE = '"><img src=x onerror="window.__xss = 2">quote rejected'
FORMULA_NAME = '=HYPERLINK("http://evil.example","click")'
CRLF_NAME = "Latte\r\n2026-11-23 09:00:00 error forged_line\x1b[31m"


@dataclass(frozen=True)
class Seeded:
    """What :func:`populate` created."""

    partial_run: str
    running_run: str
    old_runs: tuple[str, ...]
    failed_assets: tuple[str, ...]
    done_assets: tuple[str, ...]
    running_assets: tuple[str, ...]


_HASHES: dict[str, str] = {}


def web_settings(*, secret_key: str | None = "test-secret-key-0123456789abcdef") -> WebSettings:
    """Settings with an admin and a read-only user (hashes made once per test process)."""
    if not _HASHES:
        _HASHES["admin"] = hash_password(ADMIN_PASSWORD)
        _HASHES["reader"] = hash_password(READER_PASSWORD)
    return WebSettings.model_validate(
        {
            "admin_user": "admin",
            "admin_password_hash": _HASHES["admin"],
            "readonly_user": "reader",
            "readonly_password_hash": _HASHES["reader"],
            "secret_key": secret_key,
        }
    )


def _finish(ledger: Ledger, run_id: str, outcomes: dict[str, dict[str, object]]) -> None:
    """Claim the run's items and record each asset's outcome, as a worker would."""
    claimed = ledger.claims.claim(run_id, ["selected"], "w-test", 1000, 300)
    changes = [Change(i.lease, outcomes[i.asset_id], release=True) for i in claimed if i.asset_id in outcomes]
    result = ledger.claims.record_many(changes)
    assert not result.refused


def populate(ledger: Ledger, clock: FixedClock) -> Seeded:
    """A finished partial renewal run with failures, a running cancellation run, and older runs."""
    old: list[str] = []
    for n in range(30):
        run = ledger.runs.create("nightly-renewals", "renewal", "schedule", "prod")
        ledger.runs.set_status(run.id, "running")
        clock.advance(60)
        ledger.runs.set_status(run.id, "succeeded")
        old.append(run.id)
        clock.advance(3600 + n)

    run = ledger.runs.create("renewal-sweep", "renewal", "manual", "prod")
    done = tuple(make("02i", n) for n in range(1, 4))
    failed = tuple(make("02i", n) for n in range(10, 13))
    names = {done[0]: "Capricorn Drip Plan", done[1]: SCRIPT_NAME, done[2]: CRLF_NAME,
             failed[0]: FORMULA_NAME, failed[1]: "+SUM(A1:A9)", failed[2]: "-1"}  # fmt: skip
    ledger.items.add(
        run.id,
        [NewItem(a, account_id=make("001", i + 1), asset_name=names[a]) for i, a in enumerate(done + failed)],
    )
    ledger.runs.set_status(run.id, "running")
    outcomes: dict[str, dict[str, object]] = {}
    for i, asset in enumerate(done):
        outcomes[asset] = {"state": "done", "quote_id": make("0Q0", i + 1), "order_id": make("801", i + 1)}
    for asset in failed:
        outcomes[asset] = {"state": "failed", "sf_error_code": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                           "sf_error_message": IMG_MESSAGE, "attempts": 3}  # fmt: skip
    _finish(ledger, run.id, outcomes)
    ledger.events.append("run_started", run_id=run.id, fields={"assets": 6})
    for asset in done:
        ledger.events.append("renewal_quote_created", run_id=run.id, asset_id=asset, fields={"quote": "ok"})
    for asset in failed:
        ledger.events.append(
            "renewal_failed", run_id=run.id, level="error", asset_id=asset,
            fields={"code": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": IMG_MESSAGE},
        )  # fmt: skip
    ledger.events.append("debug_detail", run_id=run.id, level="debug", fields={"batch": 1})
    clock.advance(125)
    ledger.runs.set_status(run.id, "partial")

    live = ledger.runs.create("cancellation-run", "cancellation", "manual", "prod")
    running_assets = tuple(make("02i", n) for n in range(100, 104))
    ledger.items.add(live.id, [NewItem(a, asset_name=f"Bean box {a[-4:]}") for a in running_assets])
    ledger.runs.set_status(live.id, "running")
    ledger.events.append("run_started", run_id=live.id, fields={"assets": 4})
    clock.advance(30)
    return Seeded(run.id, live.id, tuple(old), failed, done, running_assets)


CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token in a page's form."""
    found = CSRF_FIELD.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def login(client: TestClient, user: str = "admin", password: str = ADMIN_PASSWORD) -> str:
    """Log in through the form; returns the CSRF token of the session's pages."""
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"user": user, "password": password, "csrf": csrf_of(form.text), "next": "/"},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)
