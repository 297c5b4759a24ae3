"""Authentication of the admin page: sessions, cookies, login throttling, the read-only role."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import ASGIApp
from structlog.testing import capture_logs
from webdata import ADMIN_PASSWORD, ORIGIN, READER_PASSWORD, Seeded, TestClient, csrf_of, login, web_settings

from sfsync.clock import FixedClock
from sfsync.ledger import Ledger
from sfsync.settings import WebSettings
from sfsync.web import create_app, hash_password
from sfsync.web.context import SESSION_COOKIE

PAGES = ["/", "/?status=failed", "/runs/{partial}", "/runs/{partial}?state=failed&level=error"]
DATA = ["/runs/{partial}/live.json", "/runs/{partial}/items.csv", "/static/live.js"]
POSTS = ["/runs/{partial}/retry", "/runs/{running}/cancel", "/logout"]


def _fill(path: str, seeded: Seeded) -> str:
    return path.format(partial=seeded.partial_run, running=seeded.running_run)


def _post_login(client: TestClient, user: str, password: str) -> int:
    return _login_response(client, user, password).status_code


def _login_response(client: TestClient, user: str, password: str) -> httpx.Response:
    form = client.get("/login")
    data = {"user": user, "password": password, "csrf": csrf_of(form.text), "next": "/"}
    response: httpx.Response = client.post("/login", data=data, headers={"Origin": ORIGIN})
    return response


def _opens_pages(app: ASGIApp, cookie: str) -> bool:
    """Whether a fresh client holding only this cookie value gets the runs list."""
    with TestClient(app, base_url=ORIGIN, follow_redirects=False) as other:
        other.cookies.set(SESSION_COOKIE, cookie)
        status: int = other.get("/").status_code
        return status == 200


@pytest.mark.parametrize("path", PAGES)
def test_pages_redirect_to_login_without_a_session(client: TestClient, seeded: Seeded, path: str) -> None:
    """Every page sends a browser without a session to the login form, and shows no data."""
    response = client.get(_fill(path, seeded))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert seeded.partial_run not in response.text


@pytest.mark.parametrize("path", DATA)
def test_data_endpoints_answer_401_without_a_session(client: TestClient, seeded: Seeded, path: str) -> None:
    """JSON, CSV and the page script are refused with 401 without a session."""
    response = client.get(_fill(path, seeded))
    assert response.status_code == 401
    assert "02i" not in response.text


@pytest.mark.parametrize("path", POSTS)
def test_posts_without_a_session_change_nothing(
    client: TestClient, seeded: Seeded, ledger: Ledger, path: str
) -> None:
    """A POST without a session is sent to the login page and changes no run."""
    response = client.post(_fill(path, seeded), headers={"Origin": ORIGIN})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2F"  # a POST is not replayed after login
    assert ledger.items.counts(seeded.partial_run)["failed"] == 3
    run = ledger.runs.get(seeded.running_run)
    assert run is not None
    assert run.status == "running"


def test_metrics_needs_a_session_or_the_token(client: TestClient) -> None:
    """/metrics is refused anonymously and with a wrong bearer token."""
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_public_routes_reveal_no_data(client: TestClient, seeded: Seeded) -> None:
    """Only the login page, its stylesheet and the health checks answer without a session."""
    for path in ("/login", "/static/app.css", "/healthz", "/readyz"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert seeded.partial_run not in response.text


def test_login_sets_a_strict_secure_httponly_cookie(client: TestClient) -> None:
    """The session cookie is Secure, HttpOnly and SameSite=Strict, and opens the pages."""
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"user": "admin", "password": ADMIN_PASSWORD, "csrf": csrf_of(form.text), "next": "/"},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 303
    cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE + "="))
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite=strict", "path=/"} <= attributes
    assert client.get("/").status_code == 200


def test_wrong_password_gives_no_session(client: TestClient) -> None:
    """A wrong password is refused with 401 and a clear message, and sets no session cookie."""
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"user": "admin", "password": "nope", "csrf": csrf_of(form.text)},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 401
    assert "Wrong user name or password" in response.text
    assert SESSION_COOKIE not in client.cookies
    assert client.get("/").status_code == 303


def test_login_without_its_csrf_token_is_refused(client: TestClient) -> None:
    """A login POST without the form's token (login CSRF) is refused even with the right password."""
    client.get("/login")
    response = client.post(
        "/login", data={"user": "admin", "password": ADMIN_PASSWORD}, headers={"Origin": ORIGIN}
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_login_from_a_foreign_origin_is_refused(client: TestClient) -> None:
    """A login POST from another site is refused even with the right token and password."""
    form = client.get("/login")
    response = client.post(
        "/login",
        data={"user": "admin", "password": ADMIN_PASSWORD, "csrf": csrf_of(form.text)},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in client.cookies


def test_login_issues_a_new_session_id(client: TestClient) -> None:
    """A cookie planted before login (session fixation) is replaced by a new id and stops working."""
    login(client, "reader", READER_PASSWORD)
    planted = client.cookies[SESSION_COOKIE]
    with TestClient(client.app, base_url=ORIGIN, follow_redirects=False) as victim:
        form = victim.get("/login")
        victim.cookies.set(SESSION_COOKIE, planted)
        response = victim.post(
            "/login",
            data={"user": "admin", "password": ADMIN_PASSWORD, "csrf": csrf_of(form.text)},
            headers={"Origin": ORIGIN},
        )
        assert response.status_code == 303
        fresh = response.cookies[SESSION_COOKIE]
    assert fresh != planted
    assert _opens_pages(client.app, fresh)
    assert not _opens_pages(client.app, planted)


def test_cookie_replayed_after_logout_is_refused(client: TestClient, seeded: Seeded) -> None:
    """After logout the old cookie value is refused by every route: the session died on the server."""
    token = login(client)
    cookie = client.cookies[SESSION_COOKIE]
    assert _opens_pages(client.app, cookie)
    assert client.post("/logout", data={"csrf": token}, headers={"Origin": ORIGIN}).status_code == 303
    assert not _opens_pages(client.app, cookie)
    with TestClient(client.app, base_url=ORIGIN, follow_redirects=False) as attacker:
        attacker.cookies.set(SESSION_COOKIE, cookie)
        assert attacker.get("/").status_code == 303
        assert attacker.get(f"/runs/{seeded.partial_run}/live.json").status_code == 401
        assert attacker.get(f"/runs/{seeded.partial_run}/items.csv").status_code == 401


def test_forged_cookie_is_refused(client: TestClient) -> None:
    """A session cookie that was not signed with our key opens nothing."""
    client.cookies.set(SESSION_COOKIE, "made-up.signature")
    assert client.get("/").status_code == 303


def test_login_redirects_only_to_local_paths(client: TestClient) -> None:
    """``next`` pointing at another site lands on the runs list instead (no open redirect)."""
    form = client.get("/login?next=//evil.example/x")
    response = client.post(
        "/login",
        data={
            "user": "admin",
            "password": ADMIN_PASSWORD,
            "csrf": csrf_of(form.text),
            "next": "//evil.example/x",
        },
        headers={"Origin": ORIGIN},
    )
    assert response.headers["location"] == "/"


def test_failed_logins_are_throttled_per_user(client: TestClient, clock: FixedClock) -> None:
    """After 3 wrong passwords the right one is refused too, until the window has passed."""
    for _ in range(3):
        assert _post_login(client, "admin", "wrong") == 401
    refused = _login_response(client, "admin", ADMIN_PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.text
    assert SESSION_COOKIE not in client.cookies
    clock.advance(601)
    assert _post_login(client, "admin", ADMIN_PASSWORD) == 303


def test_failed_logins_are_throttled_per_address(client: TestClient, clock: FixedClock) -> None:
    """Guessing across many user names from one address is throttled as well."""
    for n in range(5):
        assert _post_login(client, f"user{n}", "wrong") == 401
    assert _post_login(client, "reader", READER_PASSWORD) == 429
    clock.advance(601)
    assert _post_login(client, "reader", READER_PASSWORD) == 303


def test_read_only_user_sees_pages_but_cannot_post(
    client: TestClient, seeded: Seeded, ledger: Ledger
) -> None:
    """The read-only user gets the pages without buttons, and a 403 for retry, cancel and release."""
    token = login(client, "reader", READER_PASSWORD)
    held = ledger.claims.claim(seeded.running_run, ["selected"], "host-gone:1:2", 100, 900.0)
    page = client.get(f"/runs/{seeded.partial_run}")
    assert page.status_code == 200
    assert "Retry failed items" not in page.text
    running_page = client.get(f"/runs/{seeded.running_run}").text
    assert "host-gone:1:2" in running_page
    assert "Release its items" not in running_page
    retry = client.post(f"/runs/{seeded.partial_run}/retry", data={"csrf": token}, headers={"Origin": ORIGIN})
    cancel = client.post(
        f"/runs/{seeded.running_run}/cancel", data={"csrf": token}, headers={"Origin": ORIGIN}
    )
    release = client.post(
        f"/runs/{seeded.running_run}/release",
        data={"csrf": token, "worker_id": "host-gone:1:2", "gone": "yes"},
        headers={"Origin": ORIGIN},
    )
    assert retry.status_code == cancel.status_code == release.status_code == 403
    assert "read-only" in retry.text
    assert ledger.items.counts(seeded.partial_run)["failed"] == 3
    run = ledger.runs.get(seeded.running_run)
    assert run is not None
    assert run.status == "running"
    assert [(h.worker_id, h.items) for h in ledger.claims.holders(seeded.running_run)] == [
        ("host-gone:1:2", len(held))
    ]


def test_idle_session_expires(client: TestClient, clock: FixedClock) -> None:
    """A session unused for more than 30 minutes is gone; one used within the window stays."""
    login(client)
    clock.advance(29 * 60)
    assert client.get("/").status_code == 200
    clock.advance(31 * 60)
    assert client.get("/").status_code == 303


def test_passwords_never_reach_logs_or_pages(client: TestClient) -> None:
    """A canary password, right or wrong, appears in no log event and no page."""
    canary = "CANARY-pw-7f3a9c"
    with capture_logs() as logs:
        wrong = _login_response(client, "admin", canary)
        right = _login_response(client, "admin", ADMIN_PASSWORD)
        page = client.get("/")
    assert wrong.status_code == 401
    assert right.status_code == 303
    assert canary not in wrong.text
    assert ADMIN_PASSWORD not in page.text
    dumped = repr(logs)
    assert canary not in dumped
    assert ADMIN_PASSWORD not in dumped
    assert client.cookies[SESSION_COOKIE] not in dumped
    assert {"web_login_failed", "web_login"} <= {e["event"] for e in logs}


def test_without_a_secret_key_a_random_one_is_used(ledger: Ledger, clock: FixedClock, seeded: Seeded) -> None:
    """With no configured key the app still signs sessions (with a per-process random key)."""
    app = create_app(ledger, web_settings(secret_key=None), clock=clock)
    with TestClient(app, base_url=ORIGIN, follow_redirects=False) as browser:
        login(browser)
        assert browser.get(f"/runs/{seeded.partial_run}").status_code == 200


def test_hash_password_makes_argon2id_hashes() -> None:
    """hash_password gives a salted argon2id hash the settings accept, and refuses an empty password."""
    first, second = hash_password("s3cret!"), hash_password("s3cret!")
    assert first.startswith("$argon2id$")
    assert first != second  # salted
    accepted = WebSettings.model_validate({"admin_password_hash": first}).admin_password_hash
    assert accepted is not None
    assert accepted.get_secret_value() == first
    with pytest.raises(ValueError, match="must not be empty"):
        hash_password("")


def test_non_ascii_tokens_are_refused_cleanly(client: TestClient, seeded: Seeded, ledger: Ledger) -> None:
    """A token with non-ASCII characters is a plain refusal (403), not a server error."""
    client.get("/login")
    response = client.post(
        "/login",
        data={"user": "admin", "password": ADMIN_PASSWORD, "csrf": "tökén"},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 403
    login(client)
    retry = client.post(
        f"/runs/{seeded.partial_run}/retry", data={"csrf": "tökén"}, headers={"Origin": ORIGIN}
    )
    assert retry.status_code == 403
    assert ledger.items.counts(seeded.partial_run)["failed"] == 3


def test_successful_logins_do_not_use_up_the_address_budget(client: TestClient) -> None:
    """Only failures count against an address: a right password in between changes nothing."""
    for n in range(4):
        assert _post_login(client, f"user{n}", "wrong") == 401
    with TestClient(client.app, base_url=ORIGIN, follow_redirects=False) as colleague:
        assert _post_login(colleague, "reader", READER_PASSWORD) == 303
    assert _post_login(client, "user4", "wrong") == 401
    assert _post_login(client, "user5", "wrong") == 429
