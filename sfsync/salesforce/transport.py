"""Every HTTP call to the org goes through :meth:`Transport.request`: auth, budget, retries, metrics.

Why not simple-salesforce for the calls: its ``_call_salesforce`` re-logs in up to three times on
its own, raises its own exception types from the status alone, sends no timeout unless told and
hides ``Sforce-Limit-Info`` behind ``sf.api_usage``; routing the traffic through it would put a
second retry layer under ours (RELIABILITY.md: "at one layer only") and need translation of every
exception. The REST surface sfsync uses is six small resources (query, sobjects, composite, actions,
oauth2), so one ``request`` method on a shared ``requests.Session`` is simpler and lets the retry
policy, the budget and the metrics see every call. simple-salesforce stays a dependency of the
project for ad-hoc tooling, not of this data path.

TLS: ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` silently override ``Session.verify`` when
``trust_env`` is on, so the session turns it off and sets ``verify`` to the profile's CA bundle
(proxies, if ever needed, must then come from settings, not the environment).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal
from urllib.parse import quote_plus

import orjson
import requests
import structlog
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from sfsync import __version__, errors
from sfsync.clock import Clock
from sfsync.salesforce import retry
from sfsync.salesforce.auth import Authenticator, Token, TokenCache
from sfsync.salesforce.budget import ApiBudget
from sfsync.salesforce.errors import error_for, is_error_array, parse_error_items
from sfsync.salesforce.metrics import Metrics, endpoint_kind
from sfsync.settings import OrgProfile

log = structlog.get_logger(__name__)

Method = Literal["GET", "POST", "PATCH", "DELETE"]
#: Decides whether a non-2xx answer is a result for the caller (e.g. an action's 400 with elements).
Accept = Callable[[int, object], bool]
#: A concurrency refusal waits longer than a transient error before the next try.
_BACK_OFF_BASE_S = 2.0


@dataclass(frozen=True)
class Reply:
    """A Salesforce answer the caller takes as a result: its raw bytes, parsed as JSON on first use.

    Query pages are parsed straight from ``content`` into typed records (see ``query.py``), so
    their JSON is never decoded into dicts first.
    """

    status: int
    content: bytes
    request_id: str | None = None

    @cached_property
    def body(self) -> object:
        """The JSON document (None when empty; the text's start when not JSON)."""
        return parse_body(self.content)


def build_session(profile: OrgProfile) -> requests.Session:
    """A pooled session whose TLS trust the environment cannot override."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(profile.ca_bundle) if profile.ca_bundle is not None else True
    session.headers["User-Agent"] = f"sfsync/{__version__}"
    session.headers["Accept"] = "application/json"
    adapter = HTTPAdapter(
        pool_connections=4, pool_maxsize=max(10, profile.max_concurrency * 2), max_retries=0
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


#: Characters left as they are in a query string: all are legal there (RFC 3986 sub-delimiters and
#: ``:@/?``). SOQL is mostly letters, spaces, quotes, commas and parentheses, so with spaces as ``+``
#: a query needs no ``%`` escapes, and requests and urllib3 take their fast path instead of
#: re-encoding a 15 kB ``IN (…)`` list byte by byte in Python, twice per call.
_QUERY_SAFE = "!$'()*,;=:@/?"


def query_string(params: Mapping[str, str]) -> str:
    """``k=v&…`` with spaces as ``+`` and only the characters a query cannot hold escaped."""
    return "&".join(
        f"{quote_plus(key, safe=_QUERY_SAFE)}={quote_plus(value, safe=_QUERY_SAFE)}"
        for key, value in params.items()
    )


def _sent(exc: requests.RequestException) -> bool:
    """Whether the request may have reached Salesforce before ``exc`` happened."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, urllib3.exceptions.MaxRetryError):
            reason = reason.reason
        return not isinstance(
            reason, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError
        )
    return True


class Transport:
    """Authenticated, budgeted, retried and measured access to one org's REST API."""

    def __init__(
        self,
        profile: OrgProfile,
        *,
        clock: Clock,
        rng: random.Random,
        sleep: Callable[[float], None],
        session: requests.Session | None = None,
        token_cache: TokenCache | None = None,
        metrics: Metrics | None = None,
        budget: ApiBudget | None = None,
    ) -> None:
        self.profile = profile
        self.session = session if session is not None else build_session(profile)
        self.clock, self.rng, self.sleep = clock, rng, sleep
        self.metrics = metrics if metrics is not None else Metrics()
        self.budget = budget if budget is not None else ApiBudget(profile.api_reserve)
        self.auth = Authenticator(
            profile, self.session, clock, rng=rng, sleep=sleep, cache=token_cache, metrics=self.metrics
        )

    @property
    def data_prefix(self) -> str:
        """``/services/data/vNN.N``."""
        return f"/services/data/v{self.profile.api_version}"

    def token(self) -> Token:
        """The current token (logging in if needed)."""
        return self.auth.token()

    def request(
        self,
        method: Method,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: object = None,
        headers: Mapping[str, str] | None = None,
        creating: bool = False,
        accept: Accept | None = None,
    ) -> Reply:
        """Send one call; ``path`` is relative to the instance (``/services/data/…``) or the data prefix.

        ``creating`` marks a call that may create or change records: its lost answer raises
        UncertainOutcomeError instead of being resent.
        """
        if not path.startswith("/"):
            path = f"{self.data_prefix}/{path}"
        kind = endpoint_kind(method, path)
        attempt, reauthed = 0, False
        while True:
            self.budget.check(path)
            token = self.auth.token()
            result = self._attempt(method, path, kind, token, params, json, headers, creating, accept)
            if isinstance(result, Reply):
                return result
            if result.decision is retry.Decision.REAUTH:
                if reauthed:
                    msg = (
                        "Salesforce refused the session again right after re-authenticating; "
                        "check the integration user's access and the connected app"
                    )
                    raise errors.AuthError(msg, status=result.status, error_codes=result.codes, endpoint=path)
                log.info("salesforce_session_expired", endpoint=kind)
                self.auth.refresh(token)
                reauthed = True
                continue
            self._raise_unless_retryable(result, path, kind)
            attempt += 1
            if attempt > self.profile.max_retries:
                limited = result.decision is retry.Decision.BACK_OFF
                kind_of_error = errors.RateLimitedError if limited else errors.UnavailableError
                msg = f"{result.message}; gave up after {attempt} tries"
                raise kind_of_error(msg, status=result.status, error_codes=result.codes, endpoint=path)
            base = _BACK_OFF_BASE_S if result.decision is retry.Decision.BACK_OFF else 0.5
            wait = retry.delay(attempt, self.rng, base=base, cap=self.profile.backoff_cap_s)
            log.info(
                "salesforce_retry",
                endpoint=kind,
                status=result.status,
                attempt=attempt,
                wait_s=round(wait, 3),
            )
            self.sleep(wait)

    def _attempt(
        self,
        method: Method,
        path: str,
        kind: str,
        token: Token,
        params: Mapping[str, str] | None,
        json: object,
        headers: Mapping[str, str] | None,
        creating: bool,
        accept: Accept | None,
    ) -> Reply | _Failure:
        """One HTTP exchange: the reply the caller takes, or the failure and what to do about it."""
        started = self.clock.monotonic()
        try:
            response = self.session.request(
                method,
                token.instance_url + path + (f"?{query_string(params)}" if params else ""),
                # Bodies of 200 action inputs or records: serialised by orjson, not the standard library.
                data=None if json is None else orjson.dumps(json),
                headers={
                    "Authorization": f"Bearer {token.access_token}",
                    **({} if json is None else {"Content-Type": "application/json"}),
                    **(headers or {}),
                },
                timeout=(self.profile.connect_timeout_s, self.profile.read_timeout_s),
            )
        except requests.exceptions.SSLError as exc:
            self.metrics.record(kind, self.clock.monotonic() - started, ok=False)
            msg = f"TLS verification of {token.instance_url} failed (check the profile's ca_bundle): {type(exc).__name__}"
            raise errors.UnavailableError(msg, endpoint=path) from None
        except requests.RequestException as exc:
            self.metrics.record(kind, self.clock.monotonic() - started, ok=False)
            sent = _sent(exc)
            what = "answer lost after sending" if sent else "could not connect"
            decision = retry.classify(None, (), "", sent=sent, creating=creating)
            return _Failure(decision, None, [], f"{method} {kind}: {what} ({type(exc).__name__})")
        elapsed = self.clock.monotonic() - started
        self.budget.observe(response.headers.get("Sforce-Limit-Info"))
        status, content = response.status_code, response.content
        request_id = response.headers.get("Sforce-Request-Id") or response.headers.get("X-Request-Id")
        if 200 <= status < 300:
            self.metrics.record(kind, elapsed, ok=True)
            return Reply(status, content, request_id)
        body = parse_body(content)
        if accept is not None and accept(status, body):
            self.metrics.record(kind, elapsed, ok=False)
            return Reply(status, content, request_id)
        self.metrics.record(kind, elapsed, ok=False)
        items = parse_error_items(body) if is_error_array(body) else []
        codes = [item.code for item in items]
        message = "; ".join(item.message for item in items) or f"HTTP {status} from {kind}"
        decision = retry.classify(status, codes, message, sent=True, creating=creating)
        if decision is retry.Decision.FAIL:
            raise error_for(status, items, endpoint=path, request_id=request_id, fallback=message)
        return _Failure(decision, status, codes, message)

    def _raise_unless_retryable(self, failure: _Failure, path: str, kind: str) -> None:
        """Raise for a pause or a lost answer; return for a retry or back-off."""
        if failure.decision is retry.Decision.PAUSE:
            self.budget.mark_exhausted(f"Salesforce refused the call: {failure.message}")
            raise errors.BudgetExhaustedError(
                failure.message, status=failure.status, error_codes=failure.codes, endpoint=path
            )
        if failure.decision is retry.Decision.RECONCILE:
            log.warning(
                "salesforce_outcome_uncertain", endpoint=kind, status=failure.status, reason=failure.message
            )
            raise errors.UncertainOutcomeError(
                failure.message, status=failure.status, error_codes=failure.codes, endpoint=path
            )


@dataclass(frozen=True)
class _Failure:
    """A failed exchange and the policy's decision about it."""

    decision: retry.Decision
    status: int | None
    codes: list[str]
    message: str


def parse_body(content: bytes) -> object:
    """An answer's JSON (None when empty; the first 500 characters of text that is not JSON)."""
    if not content:
        return None
    try:
        body: object = orjson.loads(content)
    except ValueError:
        return content[:2000].decode("utf-8", "replace")[:500]
    return body
