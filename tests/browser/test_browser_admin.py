"""The admin page in headless Chromium: login, runs, a run's items and log, filters, retry, live refresh.

Each test saves a screenshot of the page it checks under ``artifacts/screenshots/``.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from screens import shot
from webdata import ADMIN_PASSWORD, IMG_MESSAGE, SCRIPT_NAME, Seeded

from sfsync.ledger import Change, Ledger
from sfsync.web import WebServer
from sfsync.web.context import SESSION_COOKIE

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def log_in(page: Page, server: WebServer, path: str = "/") -> None:
    """Log in through the form as the admin, landing on ``path``."""
    page.goto(server.url + path)
    expect(page).to_have_url(f"{server.url}/login?next={quote(path, safe='')}")
    page.get_by_label("User").fill("admin")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_unauthenticated_requests_are_refused(page: Page, server: WebServer, seeded: Seeded) -> None:
    """Without a session the runs page becomes the login form and the JSON endpoint answers 401."""
    page.goto(server.url + f"/runs/{seeded.partial_run}")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert "/login?next=" in page.url
    expect(page.get_by_text(seeded.failed_assets[0])).to_have_count(0)
    response = page.request.get(server.url + f"/runs/{seeded.partial_run}/live.json")
    assert response.status == 401
    shot(page, "01-login")


def test_login_sets_a_secure_strict_cookie_and_shows_the_runs(
    page: Page, context: BrowserContext, server: WebServer, seeded: Seeded
) -> None:
    """After login the runs list shows 25 runs, and the browser holds a Secure, HttpOnly, Strict cookie."""
    log_in(page, server)
    expect(page.get_by_role("heading", name="Runs")).to_be_visible()
    expect(page.locator("#runs-table tbody tr")).to_have_count(25)
    expect(page.get_by_role("link", name=seeded.partial_run)).to_be_visible()
    cookies = {c["name"]: c for c in context.cookies()}
    session = cookies[SESSION_COOKIE]
    assert session["secure"] is True
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Strict"
    assert page.evaluate("document.cookie") == ""  # HttpOnly: scripts cannot read it
    shot(page, "02-runs")


def test_runs_list_filter(page: Page, server: WebServer, seeded: Seeded) -> None:
    """Choosing a status and filtering leaves only the matching run."""
    log_in(page, server)
    page.get_by_label("Status").select_option("partial")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#runs-table tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name=seeded.partial_run)).to_be_visible()
    shot(page, "03-runs-filtered")


def test_run_items_log_and_filters(page: Page, server: WebServer, seeded: Seeded) -> None:
    """A run's page lists its items and log; the state filter and the log level filter narrow them."""
    log_in(page, server, f"/runs/{seeded.partial_run}")
    expect(page.locator("#items tbody tr")).to_have_count(6)
    expect(page.locator("#log-lines tr")).to_have_count(8)
    shot(page, "04-run")
    page.get_by_label("State").select_option("failed")
    page.get_by_role("button", name="Filter items").click()
    expect(page.locator("#items tbody tr")).to_have_count(3)
    page.get_by_label("Level").select_option("error")
    page.get_by_role("button", name="Filter log").click()
    expect(page.locator("#log-lines tr")).to_have_count(3)
    expect(page.locator("#items tbody tr")).to_have_count(3)  # the item filter is kept
    shot(page, "05-run-filtered")


def test_payloads_in_data_stay_text(page: Page, server: WebServer, seeded: Seeded) -> None:
    """Script and onerror payloads show as text, never run, and no CSP block was needed to stop them."""
    log_in(page, server, f"/runs/{seeded.partial_run}")
    expect(page.get_by_text(SCRIPT_NAME)).to_be_visible()
    expect(page.get_by_text(IMG_MESSAGE).first).to_be_visible()
    assert page.locator("img").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("window.__cspViolations") == []
    shot(page, "06-xss-inert")


def test_retry_with_csrf(page: Page, server: WebServer, seeded: Seeded, ledger: Ledger) -> None:
    """A forged token is refused with nothing changed; the real button then retries the failed items."""
    log_in(page, server, f"/runs/{seeded.partial_run}")
    page.evaluate("document.querySelector('form[action$=\"/retry\"] input[name=csrf]').value = 'forged'")
    page.get_by_role("button", name="Retry failed items").click()
    expect(page.get_by_role("heading", name="Request refused")).to_be_visible()
    assert ledger.items.counts(seeded.partial_run)["failed"] == 3
    shot(page, "07-csrf-refused")
    page.goto(server.url + f"/runs/{seeded.partial_run}")
    page.get_by_role("button", name="Retry failed items").click()
    expect(page.get_by_role("status")).to_have_text("3 failed item(s) queued for a retry.")
    assert ledger.items.counts(seeded.partial_run).get("failed", 0) == 0
    expect(page.locator("#run-status")).to_have_text("pending")
    shot(page, "08-retried")


def test_live_refresh_updates_counts_and_log(
    page: Page, server: WebServer, seeded: Seeded, ledger: Ledger
) -> None:
    """On a running run's page, new log lines and state counts appear without a reload (CSP-clean)."""
    log_in(page, server, f"/runs/{seeded.running_run}")
    expect(page.locator("#log-lines tr")).to_have_count(1)
    claimed = ledger.claims.claim(seeded.running_run, ["selected"], "w-browser", 1, 300)
    assert not ledger.claims.record_many([Change(claimed[0].lease, {"state": "done"}, release=True)]).refused
    ledger.events.append("cancellation_done", run_id=seeded.running_run, asset_id=claimed[0].asset_id,
                         fields={"note": "<img src=x onerror=window.__xss=3>"})  # fmt: skip
    expect(page.locator("#log-lines tr")).to_have_count(2)
    expect(page.locator("#log-lines tr").last).to_contain_text("cancellation_done")
    expect(page.locator('#progress tr[data-state="done"] td.n')).to_have_text("1")
    expect(page.locator("#total")).to_have_text("4")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("window.__cspViolations") == []
    shot(page, "09-live")
    ledger.runs.set_status(seeded.running_run, "succeeded")
    expect(page.locator("#run-status")).to_have_text("succeeded")
    expect(page.locator("#live-tag")).to_have_text("finished")


def test_logout_ends_the_session(page: Page, context: BrowserContext, server: WebServer) -> None:
    """Logging out returns to the login form; the old cookie, put back, opens nothing."""
    log_in(page, server)
    old = next(c for c in context.cookies() if c["name"] == SESSION_COOKIE)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    context.add_cookies([old])
    page.goto(server.url + "/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.request.get(server.url + "/static/live.js").status == 401
    shot(page, "10-logged-out")
