"""Logging in: the OAuth flows, token responses with and without issued_at, token errors."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sfsync import errors
from sfsync.salesforce.auth import identity_from_url, login_base_url
from sfsync.salesforce.soql import select

from .conftest import DATA, INSTANCE, LIMIT, LOGIN, ORG_ID, TOKEN_URL, USER_ID, make_client, token_body


@pytest.fixture
def mock() -> responses.RequestsMock:
    """`responses` without a default token answer."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def _form(call: responses.Call) -> dict[str, str]:
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else str(body)
    return {key: values[0] for key, values in parse_qs(text).items()}


def test_login_hosts() -> None:
    """login/test, My Domain hosts and full https URLs; http is refused."""
    assert login_base_url("login") == "https://login.salesforce.com"
    assert login_base_url("test") == "https://test.salesforce.com"
    assert login_base_url("acme.my.salesforce.com") == "https://acme.my.salesforce.com"
    assert login_base_url("https://127.0.0.1:8443/") == "https://127.0.0.1:8443"
    with pytest.raises(errors.ConfigError, match="https"):
        login_base_url("http://127.0.0.1:8080")


def test_client_credentials_use_basic_auth_and_need_no_issued_at(mock: responses.RequestsMock) -> None:
    """Basic auth header with key:secret; a JWT-style answer without issued_at is fine."""
    mock.post(TOKEN_URL, json=token_body(issued_at=False))
    token = make_client().transport.token()
    assert token.instance_url == INSTANCE
    call = mock.calls[0]
    expected = base64.b64encode(b"consumer-key:consumer-secret").decode()
    assert call.request.headers["Authorization"] == f"Basic {expected}"
    assert _form(call) == {"grant_type": "client_credentials"}
    assert "token-1" not in repr(token)


def test_password_grant_posts_the_form(mock: responses.RequestsMock) -> None:
    """The password flow sends client id/secret, username and password in the body."""
    mock.post(TOKEN_URL, json=token_body())
    client = make_client(auth="password", username="int@acme.example", password="pw+token")
    client.transport.token()
    assert _form(mock.calls[0]) == {
        "grant_type": "password",
        "client_id": "consumer-key",
        "client_secret": "consumer-secret",
        "username": "int@acme.example",
        "password": "pw+token",
    }


def test_jwt_bearer_assertion_claims(mock: responses.RequestsMock) -> None:
    """RS256 assertion with iss, sub, aud = login base URL and exp = now + 3 minutes."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    mock.post(TOKEN_URL, json=token_body(issued_at=False))
    client = make_client(auth="jwt", username="int@acme.example", private_key=pem, client_secret=None)
    client.transport.token()
    form = _form(mock.calls[0])
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        form["assertion"],
        key.public_key(),
        algorithms=["RS256"],
        audience=LOGIN,
        options={"verify_exp": False},
    )
    assert claims["iss"] == "consumer-key"
    assert claims["sub"] == "int@acme.example"
    assert claims["exp"] == 1795424400 + 180  # 2026-11-23T09:00:00Z + 3 min


def test_token_error_becomes_auth_error(mock: responses.RequestsMock) -> None:
    """{"error","error_description"} → AuthError with the code and description."""
    mock.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_client", "error_description": "invalid client credentials"},
    )
    with pytest.raises(errors.AuthError, match="invalid_client: invalid client credentials") as caught:
        make_client().transport.token()
    assert "consumer-secret" not in str(caught.value)


def test_given_access_token_needs_no_login(mock: responses.RequestsMock) -> None:
    """auth = access_token uses the token as is and cannot renew it."""
    mock.get(f"{DATA}/query", json={"totalSize": 0, "done": True, "records": []}, headers=LIMIT)
    mock.get(
        f"{INSTANCE}/services/data/v66.0/limits",
        status=401,
        json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
    )
    client = make_client(auth="access_token", access_token="00Dx!given", instance_url=INSTANCE)
    assert list(client.query(select("Asset", ("Id",)))) == []
    assert mock.calls[0].request.headers["Authorization"] == "Bearer 00Dx!given"
    with pytest.raises(errors.AuthError, match="cannot be renewed"):
        client.transport.request("GET", "limits")


def test_identity_comes_from_the_id_url() -> None:
    """The identity URL carries the org and user IDs."""
    found = identity_from_url(f"{LOGIN}/id/{ORG_ID}/{USER_ID}")
    assert found is not None
    assert (found.org_id, found.user_id) == (ORG_ID, USER_ID)
    assert identity_from_url("https://x/services/oauth2/userinfo") is None


def test_identity_falls_back_to_userinfo(mock: responses.RequestsMock) -> None:
    """With a given access token (no id URL) the identity comes from /services/oauth2/userinfo."""
    mock.get(
        f"{INSTANCE}/services/oauth2/userinfo",
        json={"user_id": USER_ID, "organization_id": ORG_ID},
        headers=LIMIT,
    )
    client = make_client(auth="access_token", access_token="00Dx!given", instance_url=INSTANCE)
    identity = client.identity()
    assert (identity.user_id, identity.org_id) == (USER_ID, ORG_ID)
    assert client.identity() is identity


def test_logins_are_counted_in_metrics(mock: responses.RequestsMock) -> None:
    """Token requests appear in the metrics as oauth2:token."""
    mock.post(TOKEN_URL, json=token_body())
    client = make_client()
    client.transport.token()
    client.transport.token()
    assert client.metrics.snapshot()["oauth2:token"].count == 1
