"""Logging in to the emulator over HTTPS with each OAuth flow, and TLS trust."""

from __future__ import annotations

import os
from typing import Any

import pytest
from sf_emulator_helpers import client_for

from sfsync import errors
from sfsync.salesforce.soql import select


def test_client_credentials_and_identity(emulator: Any) -> None:
    """Client credentials log in; identity() names the org's integration user and org."""
    client = client_for(emulator)
    identity = client.identity()
    assert identity.user_id == emulator.org.user_id
    assert identity.org_id == emulator.org.org_id


def test_password_flow(emulator: Any) -> None:
    """The password grant logs in and reads."""
    client = client_for(emulator, auth="password", username=emulator.username, password=emulator.password)
    assert list(client.query(select("Organization", ("Id",)))) != []


def test_jwt_bearer_flow(emulator: Any) -> None:
    """A JWT bearer assertion signed with the org's registered key logs in."""
    client = client_for(
        emulator,
        auth="jwt",
        username=emulator.username,
        private_key=emulator.private_key_pem,
        client_secret=None,
    )
    assert client.identity().user_id == emulator.org.user_id


def test_wrong_secret_is_auth_error(emulator: Any) -> None:
    """A refused login is an AuthError with Salesforce's error code, and no secret in it."""
    client = client_for(emulator, client_secret="wrong-secret-value")
    with pytest.raises(errors.AuthError) as caught:
        client.identity()
    assert caught.value.error_codes
    assert "wrong-secret-value" not in str(caught.value)


def test_profile_ca_wins_over_requests_ca_bundle(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """With REQUESTS_CA_BUNDLE pointing at the system store, the emulator's CA is still used."""
    monkeypatch.setenv(
        "REQUESTS_CA_BUNDLE", os.environ.get("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    )
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    assert client_for(emulator).identity().org_id == emulator.org.org_id


def test_without_the_ca_tls_fails_clearly(emulator: Any) -> None:
    """TLS verification is always on: without the emulator's CA the login is refused."""
    with pytest.raises(errors.UnavailableError):
        client_for(emulator, ca_bundle=None, max_retries=0).identity()
