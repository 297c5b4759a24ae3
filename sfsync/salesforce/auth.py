"""OAuth 2.0 against the org's token endpoint, done by sfsync itself.

simple-salesforce's own login hard-codes ``*.salesforce.com`` hosts, so sfsync posts to
``<login base>/services/oauth2/token`` itself (JWT bearer, client credentials with HTTP Basic, or
the password grant), or uses a given access token. The token is cached per process in a
:class:`TokenCache`; :meth:`Authenticator.refresh` replaces a token a 401 proved stale (once per
stale token, so concurrent callers trigger one login). ``issued_at`` and ``signature`` are optional
(JWT responses carry neither). Tokens never reach a log line or a ``repr``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

import jwt
import requests
import structlog

from sfsync import errors
from sfsync.clock import Clock
from sfsync.salesforce import retry
from sfsync.salesforce.errors import token_error
from sfsync.salesforce.metrics import Metrics
from sfsync.settings import OrgProfile

log = structlog.get_logger(__name__)

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class Token:
    """An access token and where to use it."""

    access_token: str = field(repr=False)
    instance_url: str
    #: The identity URL ``…/id/<orgId>/<userId>`` (absent for a given access token).
    identity_url: str | None = None


@dataclass(frozen=True)
class Identity:
    """Who sfsync is in the org: the integration user and the org."""

    user_id: str
    org_id: str


def login_base_url(login_host: str) -> str:
    """``login``/``test`` → ``https://login.salesforce.com``…; a host → ``https://host``; URLs as given."""
    host = login_host.strip().rstrip("/")
    if host in {"login", "test"}:
        return f"https://{host}.salesforce.com"
    if host.startswith("https://"):
        return host
    if "://" in host:
        msg = f"login_host {login_host!r} must use https: sfsync never sends tokens in clear"
        raise errors.ConfigError(msg)
    if "." not in host:
        return f"https://{host}.my.salesforce.com"
    return f"https://{host}"


def identity_from_url(identity_url: str) -> Identity | None:
    """Org and user IDs from an identity URL ``https://host/id/<orgId>/<userId>``."""
    parts = [part for part in urlsplit(identity_url).path.split("/") if part]
    if len(parts) >= 3 and parts[-3] == "id":
        return Identity(user_id=parts[-1], org_id=parts[-2])
    return None


class TokenCache:
    """Tokens shared by every client of this process, keyed by login URL, flow, client and user."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, ...], Token] = {}

    def get(self, key: tuple[str, ...]) -> Token | None:
        """The cached token, if any."""
        with self._lock:
            return self._tokens.get(key)

    def put(self, key: tuple[str, ...], token: Token) -> None:
        """Remember a token."""
        with self._lock:
            self._tokens[key] = token


#: The process-wide cache used unless a caller passes its own (tests do).
PROCESS_TOKENS = TokenCache()


class Authenticator:
    """Obtains, caches and refreshes the access token for one org profile."""

    def __init__(
        self,
        profile: OrgProfile,
        session: requests.Session,
        clock: Clock,
        *,
        rng: random.Random,
        sleep: Callable[[float], None],
        cache: TokenCache | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self._profile = profile
        self._metrics = metrics
        self._session = session
        self._clock = clock
        self._rng = rng
        self._sleep = sleep
        self._cache = cache if cache is not None else PROCESS_TOKENS
        self._login_lock = threading.Lock()
        self.base_url = login_base_url(profile.login_host)
        self.token_url = f"{self.base_url}/services/oauth2/token"
        self._key = (self.base_url, profile.auth, profile.client_id or "", profile.username or "")
        self.logins = 0

    @property
    def can_refresh(self) -> bool:
        """Whether a stale token can be replaced (not with a given access token)."""
        return self._profile.auth != "access_token"

    def token(self) -> Token:
        """The cached token, logging in first if there is none."""
        cached = self._cache.get(self._key)
        if cached is not None:
            return cached
        with self._login_lock:
            cached = self._cache.get(self._key)
            if cached is None:
                cached = self._login()
                self._cache.put(self._key, cached)
            return cached

    def refresh(self, stale: Token) -> Token:
        """A new token replacing ``stale`` (unless another caller already replaced it)."""
        if not self.can_refresh:
            msg = "the given access token is expired or invalid and cannot be renewed; supply a new one"
            raise errors.AuthError(
                msg,
                status=401,
                error_codes=["INVALID_SESSION_ID"],
            )
        with self._login_lock:
            current = self._cache.get(self._key)
            if current is not None and current.access_token != stale.access_token:
                return current
            fresh = self._login()
            self._cache.put(self._key, fresh)
            return fresh

    def _login(self) -> Token:
        profile = self._profile
        if profile.auth == "access_token":
            assert profile.access_token is not None
            assert profile.instance_url is not None
            return Token(profile.access_token.get_secret_value(), profile.instance_url.rstrip("/"))
        data, auth = self._grant()
        for attempt in range(1, profile.max_retries + 2):
            sent = False
            started = self._clock.monotonic()
            try:
                response = self._session.post(
                    self.token_url,
                    data=data,
                    auth=auth,
                    timeout=(profile.connect_timeout_s, profile.read_timeout_s),
                )
                sent = True
            except requests.ConnectionError as exc:
                reason = f"cannot reach the token endpoint {self.token_url}: {type(exc).__name__}"
                status: int | None = None
            except requests.Timeout:
                reason, status = f"the token endpoint {self.token_url} timed out", None
                sent = True
            else:
                status = response.status_code
                if self._metrics is not None:
                    self._metrics.record("oauth2:token", self._clock.monotonic() - started, ok=status == 200)
                if status == 200:
                    return self._parse(response)
                if status < 500:
                    raise token_error(status, _json(response), endpoint=self.token_url)
                reason = f"the token endpoint answered HTTP {status}"
            decision = retry.classify(status, (), "", sent=sent, creating=False)
            if decision is not retry.Decision.RETRY or attempt > profile.max_retries:
                break
            self._sleep(retry.delay(attempt, self._rng, cap=profile.backoff_cap_s))
        raise errors.UnavailableError(reason, status=status, endpoint=self.token_url)

    def _grant(self) -> tuple[dict[str, str], tuple[str, str] | None]:
        profile = self._profile
        client_id = profile.client_id or ""
        if profile.auth == "jwt":
            return {"grant_type": JWT_GRANT, "assertion": self._assertion()}, None
        secret = profile.client_secret.get_secret_value() if profile.client_secret else ""
        if profile.auth == "password":
            password = profile.password.get_secret_value() if profile.password else ""
            return {
                "grant_type": "password",
                "client_id": client_id,
                "client_secret": secret,
                "username": profile.username or "",
                "password": password,
            }, None
        if profile.client_id is None or profile.client_secret is None:
            msg = (
                f"auth = {profile.auth!r} needs client_id and client_secret (the emulator profile is "
                "resolved to client credentials at the edge)"
            )
            raise errors.ConfigError(msg)
        return {"grant_type": "client_credentials"}, (client_id, secret)

    def _assertion(self) -> str:
        profile = self._profile
        if profile.private_key is not None:
            key = profile.private_key.get_secret_value()
        elif profile.private_key_file is not None:
            try:
                key = profile.private_key_file.read_text(encoding="utf-8")
            except OSError as exc:
                msg = f"cannot read private_key_file {profile.private_key_file}: {exc}"
                raise errors.ConfigError(msg) from exc
        else:  # pragma: no cover - the settings validator forbids it
            msg = "auth = 'jwt' needs private_key or private_key_file"
            raise errors.ConfigError(msg)
        claims = {
            "iss": profile.client_id,
            "sub": profile.username,
            "aud": self.base_url,
            "exp": int((self._clock.now() + timedelta(minutes=3)).timestamp()),
        }
        try:
            return jwt.encode(claims, key, algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as exc:
            msg = f"the JWT private key is unusable: {type(exc).__name__}"
            raise errors.ConfigError(msg) from None

    def _parse(self, response: requests.Response) -> Token:
        body = _json(response)
        if not isinstance(body, Mapping):
            msg = "the token endpoint answered 200 without a JSON object"
            raise errors.AuthError(msg, status=200)
        access, instance = body.get("access_token"), body.get("instance_url")
        if not isinstance(access, str) or not isinstance(instance, str):
            msg = "the token response lacks access_token or instance_url"
            raise errors.AuthError(msg, status=200, endpoint=self.token_url)
        identity = body.get("id")
        self.logins += 1
        log.info("salesforce_login", flow=self._profile.auth, instance_url=instance)
        return Token(access, instance.rstrip("/"), identity if isinstance(identity, str) else None)


def _json(response: requests.Response) -> object:
    try:
        body: object = response.json()
    except ValueError:
        return None
    return body
