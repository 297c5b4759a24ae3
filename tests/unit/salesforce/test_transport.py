"""The transport: re-auth once, retries, uncertain outcomes, budget, TLS trust, metrics."""

from __future__ import annotations

import pytest
import requests
import responses
import urllib3.exceptions
from structlog.testing import capture_logs

from sfsync import errors
from sfsync.salesforce.transport import build_session

from .conftest import DATA, INSTANCE, LIMIT, TOKEN_URL, SleepRecorder, make_client, profile, token_body

EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
EMPTY = {"totalSize": 0, "done": True, "records": []}
RENEW = f"{DATA}/actions/standard/initiateRenewal"


def refused() -> requests.ConnectionError:
    """What requests raises when the TCP connection is refused (nothing was sent)."""
    inner = urllib3.exceptions.NewConnectionError(
        None, "Failed to establish a new connection: [Errno 111] refused"
    )  # type: ignore[arg-type]
    return requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/q", inner))  # type: ignore[arg-type]


def test_401_reauthenticates_once_and_repeats(rsps: responses.RequestsMock) -> None:
    """An expired session triggers one login and the call is repeated with the new token."""
    rsps.replace(responses.POST, TOKEN_URL, json=token_body("00Dx!first"))
    rsps.add(responses.POST, TOKEN_URL, json=token_body("00Dx!second"))
    rsps.get(f"{DATA}/limits", status=401, json=EXPIRED, headers={"WWW-Authenticate": "Token"})
    rsps.get(f"{DATA}/limits", json={"DailyApiRequests": {"Max": 5000, "Remaining": 4982}}, headers=LIMIT)
    client = make_client()
    reply = client.transport.request("GET", "limits")
    assert reply.status == 200
    data_calls = [call for call in rsps.calls if "/limits" in call.request.url]
    assert [call.request.headers["Authorization"] for call in data_calls] == [
        "Bearer 00Dx!first",
        "Bearer 00Dx!second",
    ]
    assert client.transport.auth.logins == 2


def test_401_twice_raises_auth_error(rsps: responses.RequestsMock) -> None:
    """If the 401 persists after re-authenticating, AuthError with a clear message; no loop."""
    rsps.get(f"{DATA}/limits", status=401, json=EXPIRED)
    with pytest.raises(errors.AuthError, match="again right after re-authenticating"):
        make_client().transport.request("GET", "limits")
    assert len([call for call in rsps.calls if "/limits" in call.request.url]) == 2


def test_503_then_success_retries_with_backoff(rsps: responses.RequestsMock, sleeps: SleepRecorder) -> None:
    """A 503 is retried after a jittered, capped wait."""
    rsps.get(f"{DATA}/query", status=503, body="Service Unavailable")
    rsps.get(f"{DATA}/query", json=EMPTY, headers=LIMIT)
    reply = make_client(sleeps).transport.request("GET", "query", params={"q": "SELECT Id FROM Asset"})
    assert reply.body == EMPTY
    assert len(sleeps.calls) == 1
    assert 0 <= sleeps.calls[0] <= 0.5


def test_503_storm_gives_up_as_unavailable(rsps: responses.RequestsMock, sleeps: SleepRecorder) -> None:
    """After max_retries the call fails as UnavailableError (retryable later)."""
    rsps.get(f"{DATA}/query", status=503, body="")
    with pytest.raises(errors.UnavailableError, match="gave up after 4 tries"):
        make_client(sleeps).transport.request("GET", "query", params={"q": "SELECT Id FROM Asset"})
    assert len(sleeps.calls) == 3
    assert all(wait <= 4.0 for wait in sleeps.calls)


def test_read_timeout_on_a_creating_post_is_uncertain_and_not_resent(rsps: responses.RequestsMock) -> None:
    """A POST that may have created records is never resent blindly."""
    rsps.post(RENEW, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(errors.UncertainOutcomeError):
        make_client().transport.request(
            "POST", "actions/standard/initiateRenewal", json={"inputs": []}, creating=True
        )
    assert len([call for call in rsps.calls if "initiateRenewal" in call.request.url]) == 1


def test_500_on_a_creating_call_is_uncertain(rsps: responses.RequestsMock) -> None:
    """A 500 on a creating call may hide a commit: reconcile."""
    rsps.post(
        RENEW,
        status=500,
        json=[{"message": "An unexpected error occurred", "errorCode": "UNKNOWN_EXCEPTION"}],
    )
    with pytest.raises(errors.UncertainOutcomeError):
        make_client().transport.request(
            "POST", "actions/standard/initiateRenewal", json={"inputs": []}, creating=True
        )
    assert len([call for call in rsps.calls if "initiateRenewal" in call.request.url]) == 1


def test_read_timeout_on_a_read_is_retried(rsps: responses.RequestsMock) -> None:
    """A lost answer of a query is simply asked again."""
    rsps.get(f"{DATA}/query", body=requests.ReadTimeout("read timed out"))
    rsps.get(f"{DATA}/query", json=EMPTY, headers=LIMIT)
    assert make_client().transport.request("GET", "query", params={"q": "x"}).body == EMPTY


def test_connection_refused_is_retried_even_when_creating(rsps: responses.RequestsMock) -> None:
    """Refused before sending: nothing reached Salesforce, so even a creating call is retried."""
    rsps.post(RENEW, body=refused())
    rsps.post(
        RENEW, json=[{"actionName": "initiateRenewal", "isSuccess": True, "outputValues": {}}], headers=LIMIT
    )
    reply = make_client().transport.request(
        "POST", "actions/standard/initiateRenewal", json={"inputs": [{}]}, creating=True
    )
    assert reply.status == 200


def test_lock_error_is_retried(rsps: responses.RequestsMock) -> None:
    """UNABLE_TO_LOCK_ROW rolled back the transaction: retry."""
    lock = [
        {
            "message": "unable to obtain exclusive access to this record or 1 records: 801x",
            "errorCode": "UNABLE_TO_LOCK_ROW",
            "fields": [],
        }
    ]
    rsps.patch(f"{DATA}/composite/sobjects", status=400, json=lock)
    rsps.patch(f"{DATA}/composite/sobjects", json=[], headers=LIMIT)
    assert (
        make_client().transport.request("PATCH", "composite/sobjects", json={}, creating=True).status == 200
    )


def test_total_requests_limit_pauses_with_no_further_call(rsps: responses.RequestsMock) -> None:
    """TotalRequests Limit exceeded → BudgetExhaustedError, and the next call is refused locally."""
    rsps.get(
        f"{DATA}/query",
        status=403,
        json=[{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
    )
    client = make_client()
    with pytest.raises(errors.BudgetExhaustedError, match="TotalRequests"):
        client.transport.request("GET", "query", params={"q": "x"})
    with pytest.raises(errors.BudgetExhaustedError):
        client.transport.request("GET", "query", params={"q": "x"})
    assert len([call for call in rsps.calls if "/query" in call.request.url]) == 1


def test_concurrency_limit_backs_off_then_rate_limited(
    rsps: responses.RequestsMock, sleeps: SleepRecorder
) -> None:
    """ConcurrentRequests → back off and retry; RateLimitedError once retries are used up."""
    body = [
        {
            "message": "ConcurrentRequests (Concurrent API Requests) Limit exceeded.",
            "errorCode": "REQUEST_LIMIT_EXCEEDED",
        }
    ]
    rsps.get(f"{DATA}/query", status=403, json=body)
    with pytest.raises(errors.RateLimitedError):
        make_client(sleeps).transport.request("GET", "query", params={"q": "x"})
    assert len(sleeps.calls) == 3
    assert max(sleeps.calls) > 0.5  # backs off longer than a transient retry's first ceiling


def test_reserve_refuses_before_sending(rsps: responses.RequestsMock) -> None:
    """Once usage reaches (1 - reserve) * max, the next call is not sent."""
    rsps.get(f"{DATA}/query", json=EMPTY, headers={"Sforce-Limit-Info": "api-usage=800/1000"})
    client = make_client(api_reserve=0.2)
    client.transport.request("GET", "query", params={"q": "x"})
    with pytest.raises(errors.BudgetExhaustedError, match="reserve reached"):
        client.transport.request("GET", "query", params={"q": "x"})
    assert len([call for call in rsps.calls if "/query" in call.request.url]) == 1


def test_permanent_error_is_mapped_not_retried(rsps: responses.RequestsMock, sleeps: SleepRecorder) -> None:
    """MALFORMED_QUERY fails at once with code, status and endpoint."""
    rsps.get(
        f"{DATA}/query",
        status=400,
        json=[{"message": "unexpected token: FORM", "errorCode": "MALFORMED_QUERY"}],
    )
    with pytest.raises(errors.RejectedError) as caught:
        make_client(sleeps).transport.request("GET", "query", params={"q": "SELECT Id FORM Asset"})
    assert caught.value.error_codes == ("MALFORMED_QUERY",)
    assert caught.value.status == 400
    assert caught.value.endpoint == "/services/data/v66.0/query"
    assert sleeps.calls == []


def test_metrics_and_headers(rsps: responses.RequestsMock) -> None:
    """Every call is counted per kind; User-Agent names sfsync; the usage header is read."""
    rsps.get(f"{DATA}/query", json=EMPTY, headers={"Sforce-Limit-Info": "api-usage=42/5000"})
    client = make_client()
    client.transport.request("GET", "query", params={"q": "x"})
    assert client.metrics.snapshot()["query"].count == 1
    call = next(call for call in rsps.calls if "/query" in call.request.url)
    assert call.request.headers["User-Agent"].startswith("sfsync/")
    usage = client.budget.usage
    assert usage is not None
    assert usage.used == 42


def test_ca_bundle_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    """REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE cannot replace the profile's CA bundle."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    session = build_session(profile(ca_bundle="/tmp/emulator-ca.pem"))
    settings = session.merge_environment_settings(f"{INSTANCE}/services/data", {}, None, None, None)
    assert settings["verify"] == "/tmp/emulator-ca.pem"
    assert settings["proxies"] == {}


def test_connection_reset_after_sending_is_uncertain_for_a_create(rsps: responses.RequestsMock) -> None:
    """A connection aborted after the request went out may hide a commit: uncertain, not resent."""
    aborted = requests.ConnectionError(
        urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    )
    rsps.post(RENEW, body=aborted)
    with pytest.raises(errors.UncertainOutcomeError, match="answer lost after sending"):
        make_client().transport.request(
            "POST", "actions/standard/initiateRenewal", json={"inputs": []}, creating=True
        )
    assert len([call for call in rsps.calls if "initiateRenewal" in call.request.url]) == 1


def test_log_events_are_named_and_carry_no_token(rsps: responses.RequestsMock) -> None:
    """Re-auth and retries log stable event names; no access token or secret appears in any event."""
    rsps.replace(responses.POST, TOKEN_URL, json=token_body("00Dx!canary-token-1"))
    rsps.add(responses.POST, TOKEN_URL, json=token_body("00Dx!canary-token-2"))
    rsps.get(f"{DATA}/query", status=401, json=EXPIRED)
    rsps.get(f"{DATA}/query", status=503, body="")
    rsps.get(f"{DATA}/query", json=EMPTY, headers=LIMIT)
    with capture_logs() as logs:
        make_client().transport.request("GET", "query", params={"q": "x"})
    names = [entry["event"] for entry in logs]
    assert names == ["salesforce_login", "salesforce_session_expired", "salesforce_login", "salesforce_retry"]
    assert "canary-token" not in repr(logs)
    assert "consumer-secret" not in repr(logs)
