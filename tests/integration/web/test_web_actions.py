"""Retry, cancel and release from the admin page: done with a valid token from our origin, refused otherwise."""

from __future__ import annotations

from typing import Any

import pytest
from webdata import ORIGIN, Seeded, TestClient, csrf_of, login

from sfsync.ledger import Ledger


def _state(ledger: Ledger, seeded: Seeded) -> dict[str, Any]:
    """Everything a state-changing request could touch, for before/after comparisons."""
    runs = ledger.runs.find(limit=1000)
    return {
        "runs": [(r.id, r.status, r.counts, r.error, r.finished_at) for r in runs],
        "items": [
            (i.asset_id, i.state, i.sf_error_code, i.attempts, i.updated_at)
            for run in (seeded.partial_run, seeded.running_run)
            for i in ledger.items.find(run, limit=1000)
        ],
        "events": [len(ledger.events.find(r.id)) for r in runs],
        "leases": [ledger.claims.holders(r.id) for r in runs],
    }


GONE = "host-gone:4242:1"


def _held_by_gone_worker(ledger: Ledger, seeded: Seeded) -> int:
    """The running run's items, leased by a worker that is no more."""
    return len(ledger.claims.claim(seeded.running_run, ["selected"], GONE, 100, 900.0))


def test_release_with_token_and_tick_hands_the_items_over(
    admin: TestClient, seeded: Seeded, ledger: Ledger
) -> None:
    """An admin who ticks that the worker is gone releases its leases; the run's log says who did."""
    count = _held_by_gone_worker(ledger, seeded)
    page = admin.get(f"/runs/{seeded.running_run}").text
    assert f'name="worker_id" value="{GONE}"' in page
    response = admin.post(
        f"/runs/{seeded.running_run}/release",
        data={"csrf": csrf_of(page), "worker_id": GONE, "gone": "yes"},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 303
    assert ledger.claims.holders(seeded.running_run) == []
    [event] = [e for e in ledger.events.find(seeded.running_run) if e.event == "leases_released"]
    assert event.fields == {"worker_id": GONE, "items": count, "by": "admin on the admin page"}
    assert f"{count} item(s) of worker {GONE} released" in admin.get(response.headers["location"]).text


def test_release_without_the_tick_changes_nothing(admin: TestClient, seeded: Seeded, ledger: Ledger) -> None:
    """Without "its process is gone" ticked the release is refused with why; an unknown worker is a no-op."""
    _held_by_gone_worker(ledger, seeded)
    token = csrf_of(admin.get("/").text)
    before = _state(ledger, seeded)
    url = f"/runs/{seeded.running_run}/release"
    unticked = admin.post(url, data={"csrf": token, "worker_id": GONE}, headers={"Origin": ORIGIN})
    assert unticked.status_code == 400
    assert "process is gone" in unticked.text
    unknown = admin.post(
        url, data={"csrf": token, "worker_id": "host-typo:1:2", "gone": "yes"}, headers={"Origin": ORIGIN}
    )
    assert unknown.status_code == 303
    assert _state(ledger, seeded) == before


def test_retry_with_token_resets_failed_items(admin: TestClient, seeded: Seeded, ledger: Ledger) -> None:
    """A valid retry puts the 3 failed items back to selected, reopens the run and says so."""
    token = csrf_of(admin.get("/").text)
    response = admin.post(
        f"/runs/{seeded.partial_run}/retry", data={"csrf": token}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/runs/{seeded.partial_run}"
    counts = ledger.items.counts(seeded.partial_run)
    assert counts.get("failed", 0) == 0
    assert counts["selected"] == 3
    run = ledger.runs.get(seeded.partial_run)
    assert run is not None
    assert run.status == "pending"
    page = admin.get(response.headers["location"])
    assert "3 failed item(s) queued for a retry." in page.text
    assert "queued for a retry" not in admin.get(response.headers["location"]).text  # shown once


def test_cancel_with_token_cancels_the_running_run(admin: TestClient, seeded: Seeded, ledger: Ledger) -> None:
    """A valid cancel ends the running run with the operator's name as the reason."""
    token = csrf_of(admin.get("/").text)
    response = admin.post(
        f"/runs/{seeded.running_run}/cancel", data={"csrf": token}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 303
    run = ledger.runs.get(seeded.running_run)
    assert run is not None
    assert run.status == "cancelled"
    assert run.error == "cancelled by admin on the admin page"


def test_a_referer_from_our_origin_is_accepted(admin: TestClient, seeded: Seeded, ledger: Ledger) -> None:
    """Without an Origin header, a same-origin Referer is enough (older browsers)."""
    token = csrf_of(admin.get("/").text)
    response = admin.post(
        f"/runs/{seeded.running_run}/cancel",
        data={"csrf": token},
        headers={"Referer": f"{ORIGIN}/runs/{seeded.running_run}"},
    )
    assert response.status_code == 303
    run = ledger.runs.get(seeded.running_run)
    assert run is not None
    assert run.status == "cancelled"


BAD_REQUESTS = {
    "missing token": ({}, {"Origin": ORIGIN}),
    "wrong token": ({"csrf": "forged-token"}, {"Origin": ORIGIN}),
    "empty token": ({"csrf": ""}, {"Origin": ORIGIN}),
    "foreign origin": ({"csrf": "<valid>"}, {"Origin": "https://evil.example"}),
    "foreign referer": ({"csrf": "<valid>"}, {"Referer": "https://evil.example/page"}),
    "null origin": ({"csrf": "<valid>"}, {"Origin": "null"}),
    "no origin or referer": ({"csrf": "<valid>"}, {}),
    "other port": ({"csrf": "<valid>"}, {"Origin": "https://testserver:8443"}),
}


@pytest.mark.parametrize("action", ["retry", "cancel", "release"])
@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_bad_csrf_or_origin_changes_nothing(
    admin: TestClient, seeded: Seeded, ledger: Ledger, action: str, case: str
) -> None:
    """Missing/invalid tokens and foreign origins get a 403 with a reason, and the ledger is unchanged."""
    _held_by_gone_worker(ledger, seeded)
    token = csrf_of(admin.get("/").text)
    data, headers = BAD_REQUESTS[case]
    data = {k: token if v == "<valid>" else v for k, v in data.items()}
    data.update({"worker_id": GONE, "gone": "yes"} if action == "release" else {})
    run_id = seeded.partial_run if action == "retry" else seeded.running_run
    before = _state(ledger, seeded)
    response = admin.post(f"/runs/{run_id}/{action}", data=data, headers=headers)
    assert response.status_code == 403
    assert "Request refused" in response.text
    assert _state(ledger, seeded) == before


def test_token_of_another_session_is_refused(client: TestClient, seeded: Seeded, ledger: Ledger) -> None:
    """CSRF tokens are bound to their session: the admin's token does not work in the reader's."""
    admin_token = login(client)
    with TestClient(client.app, base_url=ORIGIN, follow_redirects=False) as other:
        login(other)
        before = _state(ledger, seeded)
        response = other.post(
            f"/runs/{seeded.partial_run}/retry", data={"csrf": admin_token}, headers={"Origin": ORIGIN}
        )
        assert response.status_code == 403
        assert _state(ledger, seeded) == before


def test_logout_needs_the_token(admin: TestClient) -> None:
    """Logging out is a POST with the token too: a cross-site logout is refused."""

    assert admin.post("/logout", headers={"Origin": ORIGIN}).status_code == 403
    assert admin.get("/").status_code == 200


def test_no_get_changes_state(admin: TestClient, seeded: Seeded, ledger: Ledger) -> None:
    """GETting every route, action URLs included, leaves the ledger exactly as it was."""
    before = _state(ledger, seeded)
    paths = [
        "/", "/?status=failed&job=renewal-sweep&since=2026-11-01&page=2", f"/runs/{seeded.partial_run}",
        f"/runs/{seeded.partial_run}?state=failed&q=02i&level=error&asset={seeded.failed_assets[0]}",
        f"/runs/{seeded.running_run}/live.json?after=0", f"/runs/{seeded.partial_run}/items.csv",
        "/metrics", "/healthz", "/readyz", "/login", "/static/live.js",
    ]  # fmt: skip
    for path in paths:
        assert admin.get(path).status_code in {200, 303}, path
    for action in ("retry", "cancel", "release"):
        for run_id in (seeded.partial_run, seeded.running_run):
            assert admin.get(f"/runs/{run_id}/{action}").status_code == 405
    assert admin.get("/logout").status_code == 405
    assert _state(ledger, seeded) == before
