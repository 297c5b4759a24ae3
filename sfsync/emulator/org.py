"""One emulated org: configuration, clock, records, background work, actions, limits and faults.

The Revenue Cloud part plugs in through :class:`ActionHandler` objects in ``Org.actions`` and
store triggers, installed by ``sfsync.emulator.revenue.install(org)``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sfsync.clock import Clock, SystemClock
from sfsync.emulator.background import Background
from sfsync.emulator.config import EmulatorConfig
from sfsync.emulator.faults import FaultEngine
from sfsync.emulator.requestlog import RequestLog
from sfsync.emulator.store import Store


@dataclass(frozen=True)
class ActionContext:
    """What an action handler knows about the call: the org, API version, acting user and time."""

    org: Org
    api_version: float
    user_id: str
    now: datetime


@dataclass
class ActionOutcome:
    """One input's result; ``errors`` items are ``{"statusCode", "message", "fields"}``."""

    output_values: dict[str, Any] | None
    errors: list[dict[str, Any]] = field(default_factory=list)


class ActionHandler(Protocol):
    """A standard invocable action served at ``actions/standard/<name>``."""

    name: str
    min_version: float

    def invoke(self, ctx: ActionContext, inputs: list[dict[str, Any]]) -> list[ActionOutcome]:
        """Process every input (one outcome each, in order)."""
        ...


class ApiUsage:
    """The daily API request counter behind ``Sforce-Limit-Info``."""

    def __init__(self, limit: int, used: int = 0) -> None:
        self.limit = limit
        self.used = used
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Count one request; False (and nothing counted) when the daily limit is reached."""
        with self._lock:
            if self.used >= self.limit:
                return False
            self.used += 1
            return True

    def header(self) -> str:
        """The ``Sforce-Limit-Info`` value."""
        return f"api-usage={self.used}/{self.limit}"


class Org:
    """An emulated Salesforce org (call :func:`build_org` to get one with Revenue Cloud installed)."""

    def __init__(self, config: EmulatorConfig, clock: Clock, *, db_path: str = ":memory:") -> None:
        self.config = config
        self.clock = clock
        self.store = Store(clock, path=db_path)
        self.background = Background(self.store)
        self.actions: dict[str, ActionHandler] = {}
        self.request_log = RequestLog()
        self.faults = FaultEngine(config.faults)
        self.usage = ApiUsage(config.daily_api_limit, config.initial_api_usage)
        existing = self.store.find("Organization")
        if existing:
            self.org_id = str(existing[0]["Id"])
            self.user_id = str(self.store.find("User", Username=config.username)[0]["Id"])
        else:
            self.org_id = self.store.insert("Organization", {"Name": config.org_name})
            self.user_id = self.store.insert(
                "User",
                {"Username": config.username, "LastName": "Integration", "FirstName": "Sfsync",
                 "Name": "Sfsync Integration", "Email": config.username, "Alias": "sfsync",
                 "TimeZoneSidKey": "GMT", "LocaleSidKey": "en_US", "LanguageLocaleKey": "en_US"},
            )  # fmt: skip
        self.store.default_user_id = self.user_id
        self.jwt_private_key_pem: str | None = None
        self.jwt_public_key_pem = config.jwt_public_key_pem or self._generate_jwt_key()

    def _generate_jwt_key(self) -> str:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.jwt_private_key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    @property
    def org_id15(self) -> str:
        """The 15-character org ID that starts every access token."""
        return self.org_id[:15]

    def register_action(self, handler: ActionHandler) -> None:
        """Serve ``handler`` at ``actions/standard/<handler.name>``."""
        self.actions[handler.name] = handler

    def action(self, name: str) -> ActionHandler | None:
        """The action of that name (any case), or None."""
        found = self.actions.get(name)
        if found is not None:
            return found
        lowered = name.lower()
        return next((h for n, h in self.actions.items() if n.lower() == lowered), None)

    def close(self) -> None:
        """Stop background work and close the database."""
        self.background.close()
        self.store.close()


def build_org(
    config: EmulatorConfig | None = None,
    clock: Clock | None = None,
    seed: str | None = None,
    *,
    db_path: str = ":memory:",
) -> Org:
    """An org with Revenue Cloud installed and, optionally, a seed (``capricorn``, ``synthetic:N``)."""
    from sfsync.emulator.revenue import install

    org = Org(config or EmulatorConfig(), clock or SystemClock(), db_path=db_path)
    install(org)
    if seed:
        from sfsync.emulator.seeds import load

        load(org, seed)
    return org
