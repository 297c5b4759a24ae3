"""Shared fixtures for the Salesforce client's unit tests: a profile, a fresh token cache, `responses`."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import responses

from sfsync.clock import FixedClock
from sfsync.salesforce.auth import TokenCache
from sfsync.salesforce.client import SalesforceClient
from sfsync.settings import OrgProfile

LOGIN = "https://login.example.com"
INSTANCE = "https://acme.my.salesforce.com"
DATA = f"{INSTANCE}/services/data/v66.0"
TOKEN_URL = f"{LOGIN}/services/oauth2/token"
ORG_ID = "00D000000000001AAA"
USER_ID = "005000000000001AAA"
LIMIT = {"Sforce-Limit-Info": "api-usage=18/5000"}


def token_body(access: str = "00D000000000001!AQ.token-1", *, issued_at: bool = True) -> dict[str, str]:
    """A token response as Salesforce sends it (client credentials carry issued_at/signature)."""
    body = {
        "access_token": access,
        "instance_url": INSTANCE,
        "id": f"{LOGIN}/id/{ORG_ID}/{USER_ID}",
        "token_type": "Bearer",
        "scope": "api",
    }
    if issued_at:
        body |= {"issued_at": "1700000000000", "signature": "c2lnbmF0dXJl"}
    return body


class SleepRecorder:
    """Records requested sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def profile(**overrides: Any) -> OrgProfile:
    """A client-credentials profile against the fake hosts above."""
    values: dict[str, Any] = {
        "auth": "client_credentials",
        "login_host": LOGIN,
        "client_id": "consumer-key",
        "client_secret": "consumer-secret",
        "max_retries": 3,
        "backoff_cap_s": 4.0,
    }
    values.update(overrides)
    return OrgProfile(**values)


def make_client(sleep: SleepRecorder | None = None, **overrides: Any) -> SalesforceClient:
    """A client with a fixed clock, a seeded rng, a fresh token cache and a sleep recorder."""
    return SalesforceClient(
        profile(**overrides),
        clock=FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        rng=random.Random(7),
        sleep=sleep or SleepRecorder(),
        token_cache=TokenCache(),
    )


def body_of(call: Any) -> Any:
    """The JSON body of a recorded request."""
    return json.loads(call.request.body)


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    """`responses` with the token endpoint answering; every registered answer must be used."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(TOKEN_URL, json=token_body())
        yield mock


@pytest.fixture
def sleeps() -> SleepRecorder:
    """A fresh sleep recorder."""
    return SleepRecorder()
