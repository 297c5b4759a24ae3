"""OAuth for the emulated org: the token endpoint (JWT bearer, client credentials, password),
access tokens, the identity URL and ``userinfo``.

Token errors use Salesforce's body ``{"error", "error_description"}`` with HTTP 400 (Part 2 §1.5).
Access tokens look like ``<15-char org id>!<random>`` and expire ``token_lifetime_s`` after issue
(org clock). Unknown or expired tokens make data calls answer 401 INVALID_SESSION_ID.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

import jwt

from sfsync.emulator.http import Request, Response, json_response

if TYPE_CHECKING:
    from sfsync.emulator.org import Org

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_LOGIN_HOSTS = ("https://login.salesforce.com", "https://test.salesforce.com")


@dataclass
class Session:
    """An issued access token."""

    user_id: str
    expires_at: datetime


class TokenStore:
    """Issued access tokens of one org."""

    def __init__(self, org: Org) -> None:
        self._org = org
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def issue(self, user_id: str | None = None) -> str:
        """A new access token for the user (the integration user by default)."""
        token = f"{self._org.org_id15}!AR{secrets.token_urlsafe(72).replace('-', '.').replace('_', '.')}"
        expires = self._org.clock.now() + timedelta(seconds=self._org.config.token_lifetime_s)
        with self._lock:
            self._sessions[token] = Session(user_id or self._org.user_id, expires)
        return token

    def check(self, token: str | None) -> Session | None:
        """The live session of a token, or None if unknown or expired."""
        if not token:
            return None
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if self._org.clock.now() >= session.expires_at:
                del self._sessions[token]
                return None
            return session

    def revoke(self, token: str) -> None:
        """Forget one token (the session-expiry fault)."""
        with self._lock:
            self._sessions.pop(token, None)

    def revoke_all(self) -> None:
        """Forget every token."""
        with self._lock:
            self._sessions.clear()


def bearer(req: Request) -> str | None:
    """The token of an ``Authorization: Bearer|OAuth <token>`` header."""
    value = req.header("authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() in ("bearer", "oauth") and token.strip() else None


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response(status, {"error": error, "error_description": description})


class OAuth:
    """The token, identity and userinfo endpoints of one org."""

    def __init__(self, org: Org, tokens: TokenStore) -> None:
        self.org = org
        self.tokens = tokens

    def identity_url(self, base_url: str, user_id: str) -> str:
        """``<base>/id/<orgId>/<userId>``."""
        return f"{base_url}/id/{self.org.org_id}/{user_id}"

    def token(self, req: Request, base_url: str) -> Response:
        """``POST /services/oauth2/token``."""
        if req.method != "POST":
            return _oauth_error("invalid_request", "must use HTTP POST")
        form = {
            k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True).items()
        }
        grant = form.get("grant_type", "")
        cfg = self.org.config
        if grant == JWT_GRANT:
            return self._jwt(form.get("assertion", ""), base_url)
        if grant == "client_credentials":
            client_id, secret = form.get("client_id"), form.get("client_secret")
            basic = req.header("authorization") or ""
            if basic.lower().startswith("basic "):
                try:
                    client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    return _oauth_error("invalid_client", "invalid client credentials")
            if client_id != cfg.client_id:
                return _oauth_error("invalid_client_id", "client identifier invalid")
            if not secret or not hmac.compare_digest(secret, cfg.client_secret):
                return _oauth_error("invalid_client", "invalid client credentials")
            return self._success(base_url, self.org.user_id, signed=True)
        if grant == "password":
            if form.get("client_id") != cfg.client_id:
                return _oauth_error("invalid_client_id", "client identifier invalid")
            if not hmac.compare_digest(form.get("client_secret", ""), cfg.client_secret):
                return _oauth_error("invalid_client", "invalid client credentials")
            if form.get("username") != cfg.username or not hmac.compare_digest(
                form.get("password", ""), cfg.password
            ):
                return _oauth_error("invalid_grant", "authentication failure")
            return self._success(base_url, self.org.user_id, signed=True, scope=False)
        return _oauth_error("unsupported_grant_type", "grant type not supported")

    def _jwt(self, assertion: str, base_url: str) -> Response:
        cfg = self.org.config
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return _oauth_error("invalid_grant", "invalid assertion")
        if unverified.get("iss") != cfg.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        audiences = [base_url, base_url + "/", *_LOGIN_HOSTS]
        try:
            claims = jwt.decode(
                assertion,
                self.org.jwt_public_key_pem,
                algorithms=["RS256"],
                audience=audiences,
                # The org clock decides expiry (below), so tests with a fixed clock stay deterministic.
                options={"require": ["exp", "iss", "sub", "aud"], "verify_exp": False},
            )
        except jwt.InvalidAudienceError:
            return _oauth_error("invalid_grant", "audience is invalid")
        except jwt.PyJWTError:
            return _oauth_error("invalid_grant", "invalid assertion")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or exp <= self.org.clock.now().timestamp():
            return _oauth_error("invalid_grant", "expired assertion")
        if claims.get("sub") != cfg.username:
            return _oauth_error("invalid_grant", "user hasn't approved this consumer")
        return self._success(base_url, self.org.user_id, signed=False)

    def _success(self, base_url: str, user_id: str, *, signed: bool, scope: bool = True) -> Response:
        token = self.tokens.issue(user_id)
        body: dict[str, str] = {"access_token": token}
        if scope:
            body["scope"] = "api"
        identity = self.identity_url(base_url, user_id)
        body.update(instance_url=base_url, id=identity, token_type="Bearer")
        if signed:
            issued = str(int(self.org.clock.now().timestamp() * 1000))
            digest = hmac.new(
                self.org.config.client_secret.encode(), (identity + issued).encode(), hashlib.sha256
            )
            body.update(issued_at=issued, signature=base64.b64encode(digest.digest()).decode())
        return json_response(200, body)

    def _user(self, user_id: str) -> dict[str, object]:
        return self.org.store.get("User", user_id) or {}

    def _urls(self, base_url: str, user_id: str) -> dict[str, str]:
        v = self.org.config.latest_version
        org = self.org.org_id
        return {
            "enterprise": f"{base_url}/services/Soap/c/{v}/{org}",
            "metadata": f"{base_url}/services/Soap/m/{v}/{org}",
            "partner": f"{base_url}/services/Soap/u/{v}/{org}",
            "rest": f"{base_url}/services/data/v{v}/",
            "sobjects": f"{base_url}/services/data/v{v}/sobjects/",
            "search": f"{base_url}/services/data/v{v}/search/",
            "query": f"{base_url}/services/data/v{v}/query/",
            "recent": f"{base_url}/services/data/v{v}/recent/",
            "profile": f"{base_url}/{user_id}",
            "custom_domain": base_url,
        }

    def identity(self, base_url: str, session: Session, org_id: str, user_id: str) -> Response:
        """``GET /id/<orgId>/<userId>``."""
        if org_id[:15] != self.org.org_id15 or user_id[:15] != session.user_id[:15]:
            return json_response(403, [{"message": "Bad_Id", "errorCode": "BAD_ID"}])
        user = self._user(session.user_id)
        return json_response(
            200,
            {
                "id": self.identity_url(base_url, session.user_id), "asserted_user": True,
                "user_id": session.user_id, "organization_id": self.org.org_id,
                "username": user.get("Username"), "nick_name": user.get("Alias"),
                "display_name": user.get("Name"), "email": user.get("Email"), "active": True,
                "user_type": "STANDARD", "language": "en_US", "locale": "en_US", "utcOffset": 0,
                "last_modified_date": _iso(user.get("LastModifiedDate")),
                "urls": self._urls(base_url, session.user_id),
            },
        )  # fmt: skip

    def userinfo(self, base_url: str, session: Session) -> Response:
        """``GET /services/oauth2/userinfo``."""
        user = self._user(session.user_id)
        return json_response(
            200,
            {
                "sub": self.identity_url(base_url, session.user_id), "user_id": session.user_id,
                "organization_id": self.org.org_id, "preferred_username": user.get("Username"),
                "nickname": user.get("Alias"), "name": user.get("Name"), "email": user.get("Email"),
                "email_verified": True, "given_name": user.get("FirstName"),
                "family_name": user.get("LastName"), "zoneinfo": "GMT",
                "profile": f"{base_url}/{session.user_id}", "active": True, "user_type": "STANDARD",
                "language": "en_US", "locale": "en_US", "utcOffset": 0,
                "updated_at": _iso(user.get("LastModifiedDate")), "urls": self._urls(base_url, session.user_id),
            },
        )  # fmt: skip


def _iso(value: object) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000+0000") if isinstance(value, datetime) else None
