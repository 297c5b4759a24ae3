"""Running an emulator: in-process for tests (:func:`running_emulator`) or as a process (``serve``).

The handle carries everything a client needs: instance and login URLs, the CA file to trust,
credentials for every OAuth flow (incl. the private key for JWT bearer), a ready access token,
the in-process :class:`Org` and admin helpers.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import jwt

from sfsync.clock import Clock
from sfsync.emulator import tls
from sfsync.emulator.app import EmulatorApp
from sfsync.emulator.config import EmulatorConfig, FaultConfig, FaultRule
from sfsync.emulator.org import Org, build_org
from sfsync.emulator.requestlog import LogEntry
from sfsync.emulator.server import EmulatorServer


@dataclass
class Admin:
    """In-process admin helpers (the same operations as the ``/__emulator__/`` endpoint)."""

    app: EmulatorApp

    def set_faults(self, rules: list[FaultRule] | FaultConfig, *, seed: int = 0) -> None:
        """Replace the fault rules (counters restart)."""
        config = rules if isinstance(rules, FaultConfig) else FaultConfig(seed=seed, rules=list(rules))
        self.app.org.faults.configure(config)

    def clear_faults(self) -> None:
        """No more faults."""
        self.app.org.faults.configure(FaultConfig())

    def requests(self) -> list[LogEntry]:
        """The request log, oldest first."""
        return self.app.org.request_log.entries()

    def reset_counters(self) -> None:
        """API usage back to its initial value; fault counters and the request log cleared."""
        org = self.app.org
        org.usage.used = org.config.initial_api_usage
        org.faults.reset()
        org.request_log.clear()

    def set_usage(self, used: int, limit: int | None = None) -> None:
        """Set the daily API counter (and optionally the limit)."""
        self.app.org.usage.used = used
        if limit is not None:
            self.app.org.usage.limit = limit

    def expire_tokens(self) -> None:
        """Invalidate every access token."""
        self.app.tokens.revoke_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait for background work (pricing, assetization) to finish."""
        return self.app.org.background.wait_idle(timeout)


@dataclass
class EmulatorHandle:
    """A running emulator and how to reach it."""

    base_url: str
    login_url: str
    ca_path: Path
    client_id: str
    client_secret: str
    username: str
    password: str
    private_key_pem: str | None
    admin_token: str
    org: Org
    app: EmulatorApp
    admin: Admin = field(init=False)

    def __post_init__(self) -> None:
        self.admin = Admin(self.app)

    def access_token(self) -> str:
        """A fresh valid access token for the integration user."""
        return self.app.tokens.issue()

    def jwt_assertion(self, *, lifetime_s: float = 180.0, audience: str | None = None) -> str:
        """A signed JWT bearer assertion for the integration user (exp from the org clock)."""
        if self.private_key_pem is None:
            msg = "the emulator was configured with an external public key; sign assertions yourself"
            raise ValueError(msg)
        claims = {
            "iss": self.client_id,
            "sub": self.username,
            "aud": audience or self.login_url,
            "exp": int(self.org.clock.now().timestamp() + lifetime_s),
        }
        return jwt.encode(claims, self.private_key_pem, algorithm="RS256")


class Emulator:
    """Org + TLS + HTTPS server, started and stopped together."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        seed: str | None = None,
        clock: Clock | None = None,
        port: int = 0,
        state_dir: Path | None = None,
    ) -> None:
        self._tmp = None if state_dir else tempfile.TemporaryDirectory(prefix="sfsync-emulator-")
        self.state_dir = state_dir or Path(self._tmp.name)  # type: ignore[union-attr]
        self.state_dir.mkdir(parents=True, exist_ok=True)
        db = str(self.state_dir / "org.sqlite") if state_dir else ":memory:"
        self.org = build_org(config or EmulatorConfig(), clock, seed, db_path=db)
        self.tls = tls.generate(self.state_dir / "tls")
        self.app = EmulatorApp(self.org)
        self.server = EmulatorServer(self.app, self.tls.server_context(), port=port)
        self.app.base_url = f"https://127.0.0.1:{self.server.port}"

    def handle(self) -> EmulatorHandle:
        """How to reach this emulator."""
        cfg = self.org.config
        return EmulatorHandle(
            base_url=self.app.base_url, login_url=self.app.base_url, ca_path=self.tls.ca_path,
            client_id=cfg.client_id, client_secret=cfg.client_secret, username=cfg.username,
            password=cfg.password, private_key_pem=self.org.jwt_private_key_pem,
            admin_token=self.app.admin_token, org=self.org, app=self.app,
        )  # fmt: skip

    def close(self) -> None:
        """Stop serving, stop background work, remove temporary files."""
        self.server.stop()
        self.org.close()
        if self._tmp is not None:
            self._tmp.cleanup()


@contextmanager
def running_emulator(
    config: EmulatorConfig | None = None,
    *,
    seed: str | None = None,
    clock: Clock | None = None,
    port: int = 0,
    state_dir: Path | None = None,
) -> Iterator[EmulatorHandle]:
    """An emulator serving HTTPS on 127.0.0.1 for the duration of the block."""
    emulator = Emulator(config, seed=seed, clock=clock, port=port, state_dir=state_dir)
    emulator.server.start()
    try:
        yield emulator.handle()
    finally:
        emulator.close()


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.02) -> bool:
    """Poll ``predicate()`` until true or the deadline passes (tests poll instead of sleeping blindly)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
