"""Helpers for the client-against-emulator tests (a plain module: this test directory is no package)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sfsync.salesforce.auth import TokenCache
from sfsync.salesforce.client import SalesforceClient
from sfsync.settings import OrgProfile

T = TypeVar("T")

#: Clients made by the current test; the conftest closes them (unclosed TLS sockets would warn).
OPEN_CLIENTS: list[SalesforceClient] = []


def client_for(handle: Any, **overrides: Any) -> SalesforceClient:
    """A client for the emulator: client credentials, its CA, quick backoff, a fresh token cache."""
    values: dict[str, Any] = {
        "auth": "client_credentials",
        "login_host": handle.login_url,
        "client_id": handle.client_id,
        "client_secret": handle.client_secret,
        "ca_bundle": handle.ca_path,
        "max_retries": 6,
        "backoff_cap_s": 0.05,
        "read_timeout_s": 5.0,
    }
    values.update(overrides)
    client = SalesforceClient(OrgProfile(**values), rng=random.Random(3), token_cache=TokenCache())
    OPEN_CLIENTS.append(client)
    return client


def wait_for(probe: Callable[[], T | None], *, timeout_s: float = 15.0, what: str = "condition") -> T:
    """Poll ``probe`` with a short backoff until it returns a value, or fail after the deadline."""
    deadline = time.monotonic() + timeout_s
    pause = 0.05
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(pause)  # polling a condition with a deadline, not synchronising by sleep
        pause = min(pause * 2, 0.5)
