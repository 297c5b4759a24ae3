"""Who may use the admin page: argon2id passwords, server-side sessions in a signed cookie, throttling.

The cookie holds only a signed, random session id; everything else (user, role, CSRF token) stays
in :class:`SessionStore` on the server, so logging out deletes the session and a replayed cookie
finds nothing. Failed logins are counted per user name and per client address on the injected
clock; while either is over the limit every attempt is refused, the right password included.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeSerializer

from sfsync.clock import Clock
from sfsync.settings import WebSettings

log = structlog.get_logger(__name__)

Role = Literal["admin", "readonly"]

_HASHER = PasswordHasher()  # argon2id with the library's current recommended cost
#: Verified when the user name is unknown, so a wrong name costs as much time as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


def hash_password(plain: str) -> str:
    """An argon2id hash of ``plain`` for ``admin_password_hash`` (``sfsync web hash-password``)."""
    if not plain:
        msg = "the password must not be empty"
        raise ValueError(msg)
    return _HASHER.hash(plain)


def _verify(hashed: str, plain: str) -> bool:
    try:
        return _HASHER.verify(hashed, plain)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class Users:
    """The configured admin and optional read-only user."""

    def __init__(self, settings: WebSettings) -> None:
        self._accounts: dict[str, tuple[str, Role]] = {}
        if settings.admin_password_hash is not None:
            self._accounts[settings.admin_user] = (settings.admin_password_hash.get_secret_value(), "admin")
        else:
            log.warning("web_admin_password_missing", user=settings.admin_user)
        if settings.readonly_user and settings.readonly_password_hash is not None:
            self._accounts[settings.readonly_user] = (
                settings.readonly_password_hash.get_secret_value(),
                "readonly",
            )

    def check(self, user: str, password: str) -> Role | None:
        """The user's role when the password is right, else None (same cost either way)."""
        hashed, role = self._accounts.get(user, (_DUMMY_HASH, None))
        ok = _verify(hashed, password)
        return role if ok and role is not None else None


@dataclass
class Session:
    """One logged-in browser."""

    sid: str
    user: str
    role: Role
    csrf: str
    created: float
    last_seen: float
    flash: list[str] = field(default_factory=list)

    @property
    def can_write(self) -> bool:
        """Whether this session may retry or cancel runs."""
        return self.role == "admin"

    def csrf_ok(self, token: str | None) -> bool:
        """Whether a submitted CSRF token is this session's (constant-time comparison)."""
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())


class SessionStore:
    """Sessions kept in this process, reached through a signed cookie value."""

    def __init__(self, secret_key: str, clock: Clock, *, idle_s: float = 1800, max_age_s: float = 43200):
        self._signer = URLSafeSerializer(secret_key, salt="sfsync-web-session")
        self._clock = clock
        self._idle_s = idle_s
        self._max_age_s = max_age_s
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, user: str, role: Role, *, replacing: str | None = None) -> tuple[Session, str]:
        """A fresh session (new random id) and its cookie value; the replaced session is dropped."""
        now = self._clock.monotonic()
        session = Session(secrets.token_urlsafe(32), user, role, secrets.token_urlsafe(32), now, now)
        with self._lock:
            if replacing is not None:
                self._sessions.pop(replacing, None)
            # Sessions nobody came back to are dropped here, so the store cannot grow without bound.
            for sid in [s.sid for s in self._sessions.values() if self._expired(s, now)]:
                del self._sessions[sid]
            self._sessions[session.sid] = session
        return session, self._signer.dumps(session.sid)

    def lookup(self, cookie: str | None) -> Session | None:
        """The live session a cookie names, or None (bad signature, logged out or expired)."""
        if not cookie:
            return None
        try:
            sid = self._signer.loads(cookie)
        except BadSignature:
            return None
        if not isinstance(sid, str):
            return None
        now = self._clock.monotonic()
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            if self._expired(session, now):
                del self._sessions[sid]
                return None
            session.last_seen = now
            return session

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.last_seen > self._idle_s or now - session.created > self._max_age_s

    def destroy(self, sid: str) -> None:
        """Forget a session: its cookie is refused from now on."""
        with self._lock:
            self._sessions.pop(sid, None)


class LoginThrottle:
    """Refuse logins after too many recent failures for a user name or from a client address."""

    def __init__(
        self, clock: Clock, *, per_user: int = 5, per_address: int = 20, window_s: float = 900
    ) -> None:
        self._clock = clock
        self._limits = {"user": per_user, "address": per_address}
        self._window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self._window_s:
            times.popleft()
        return times

    def _wait(self, user: str, address: str, now: float) -> float:
        wait = 0.0
        for key in (("user", user), ("address", address)):
            times = self._recent(key, now)
            if len(times) >= self._limits[key[0]]:
                wait = max(wait, self._window_s - (now - times[0]))
        return wait

    def begin(self, user: str, address: str) -> float:
        """Start a login attempt: 0.0 when allowed, else the seconds to wait.

        An allowed attempt counts as a failure until :meth:`succeeded` says otherwise, so parallel
        guesses cannot slip past the limit while the (slow) password check runs.
        """
        now = self._clock.monotonic()
        with self._lock:
            wait = self._wait(user, address, now)
            if wait > 0:
                return wait
            if len(self._failures) > 10_000:
                # Many distinct names or addresses: forget those whose failures have all aged out.
                for key in [k for k in self._failures if not self._recent(k, now)]:
                    del self._failures[key]
            for key in (("user", user), ("address", address)):
                self._recent(key, now).append(now)
        return 0.0

    def succeeded(self, user: str, address: str) -> None:
        """The password was right: clear the user's failures and take back this attempt's count."""
        with self._lock:
            self._failures.pop(("user", user), None)
            times = self._failures.get(("address", address))
            if times:
                times.pop()
