"""The emulator's request pipeline: routing, auth, limits, faults and the request log.

Order for a data request: version (404) → token (401) → daily limit (403) → faults → handler.
Every data answer after the token check carries ``Sforce-Limit-Info``; ``/services/data/`` needs
no token and carries none.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable

import structlog

from sfsync.emulator import admin
from sfsync.emulator.auth import OAuth, TokenStore, bearer
from sfsync.emulator.config import FaultRule
from sfsync.emulator.errors import ApiError, not_found
from sfsync.emulator.faults import RequestInfo
from sfsync.emulator.http import Request, Response, error_response, json_response
from sfsync.emulator.org import Org
from sfsync.emulator.rest import actions, collections, composite, query, sobjects
from sfsync.emulator.rest.common import Call, Result, parse_version

log = structlog.get_logger(__name__)

_INVALID_SESSION = ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid")
_WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def _method_not_allowed(method: str, allowed: str) -> ApiError:
    return ApiError(405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {allowed}")


class EmulatorApp:
    """Turns :class:`Request` into :class:`Response` for one org."""

    def __init__(self, org: Org, base_url: str = "https://127.0.0.1", admin_token: str | None = None) -> None:
        self.org = org
        self.base_url = base_url
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.tokens = TokenStore(org)
        self.oauth = OAuth(org, self.tokens)
        self.cursors = query.QueryCursors(org.config.query_locator_ttl_s)

    # -- entry ------------------------------------------------------------------------------
    def __call__(self, req: Request) -> Response:
        """Answer one HTTP request (and log it)."""
        started = time.monotonic()
        commits = self.org.store.commits_on_this_thread()
        info: dict[str, object] = {"action": None, "records": 0, "fault": None, "api_version": None}
        try:
            resp = self._dispatch(req, info)
        except Exception as exc:  # a bug in a handler must answer like Salesforce, not kill the thread
            log.exception("emulator_unhandled_error", path=req.path, error=str(exc))
            resp = error_response(ApiError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred."))
        if not req.path.startswith("/__emulator__"):
            self.org.request_log.add(
                method=req.method, path=req.path, action=info["action"], status=None if resp.drop else resp.status,
                duration_ms=round((time.monotonic() - started) * 1000, 3),
                committed=self.org.store.commits_on_this_thread() > commits, records=info["records"],
                fault=info["fault"], api_version=info["api_version"],
            )  # fmt: skip
        return resp

    def _dispatch(self, req: Request, info: dict[str, object]) -> Response:
        path = req.path
        if path.startswith("/services/oauth2/token"):
            return self.oauth.token(req, self.base_url)
        if path.startswith("/__emulator__/"):
            return admin.handle(self, req)
        if path.rstrip("/") == "/services/data":
            if req.method != "GET":
                return error_response(_method_not_allowed(req.method, "GET,HEAD"))
            return json_response(200, sobjects.versions(self.org.config.api_versions))
        if path.rstrip("/") == "/services/oauth2/userinfo" or path.startswith("/id/"):
            session = self.tokens.check(bearer(req))
            if session is None:
                return error_response(_INVALID_SESSION, {"WWW-Authenticate": "Token"})
            if path.startswith("/id/"):
                parts = path.strip("/").split("/")
                if len(parts) != 3:
                    return error_response(not_found())
                return self.oauth.identity(self.base_url, session, parts[1], parts[2])
            return self.oauth.userinfo(self.base_url, session)
        if path.startswith("/services/data/"):
            return self._data(req, info)
        return error_response(not_found())

    # -- data requests ----------------------------------------------------------------------
    def _data(self, req: Request, info: dict[str, object]) -> Response:
        segments = req.path.split("/")
        version = parse_version(segments[3], self.org.config.api_versions) if len(segments) > 3 else None
        if version is None:
            return error_response(not_found())
        info["api_version"] = version
        token = bearer(req)
        session = self.tokens.check(token)
        if session is None or token is None:
            return error_response(_INVALID_SESSION, {"WWW-Authenticate": "Token"})
        rest = "/" + "/".join(s for s in segments[4:] if s)
        call = Call(self.org, req, self.base_url, version, session.user_id)
        call.action = _action_name(rest)
        call.sobjects = _peek_sobjects(req, rest)
        info["action"] = call.action
        usage = self.org.usage
        if not usage.take():
            err = ApiError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
            return error_response(err, {"Sforce-Limit-Info": usage.header()})
        fired = self.org.faults.decide(
            RequestInfo(req.method, req.path, call.action, frozenset(call.sobjects))
        )
        latency = self.org.config.latency_ms + sum(r.latency_ms for r in fired if r.kind == "latency")
        if latency:
            time.sleep(latency / 1000)  # injected latency is wall-clock by definition
        early = self._early_fault(fired, call, rest, token, info)
        if early is not None:
            early.headers.setdefault("Sforce-Limit-Info", usage.header())
            return early
        try:
            result = self.route(call, rest)
            resp = self._to_response(result)
        except ApiError as exc:
            resp = error_response(exc)
        info["action"] = call.action
        info["records"] = call.records
        resp.headers["Sforce-Limit-Info"] = usage.header()
        late = next((r for r in fired if r.kind in ("lose_answer", "hold_answer")), None)
        if late is not None:
            info["fault"] = late.kind
            if late.kind == "lose_answer":
                return Response(0, drop=True)
            resp.hold_s = late.hold_s
        return resp

    def _early_fault(
        self, fired: list[FaultRule], call: Call, rest: str, token: str, info: dict[str, object]
    ) -> Response | None:
        for rule in fired:
            kind = rule.kind
            if kind in ("latency", "lose_answer", "hold_answer"):
                continue
            info["fault"] = kind
            if kind == "drop_before":
                return Response(0, drop=True)
            if kind == "session_expiry":
                self.tokens.revoke(token)
                return error_response(_INVALID_SESSION, {"WWW-Authenticate": "Token"})
            if kind == "concurrency":
                msg = "ConcurrentRequests (Concurrent API Requests) Limit exceeded."
                return error_response(ApiError(403, "REQUEST_LIMIT_EXCEEDED", msg))
            if kind == "http_500":
                return error_response(ApiError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred."))
            if kind == "http_503":
                return error_response(ApiError(503, "SERVER_UNAVAILABLE", "Service temporarily unavailable."))
            if kind == "lock_row":
                return self._lock_row(call, rest)
        return None

    def _lock_row(self, call: Call, rest: str) -> Response:
        try:
            if rest.rstrip("/") == "/composite/sobjects" and call.req.method != "GET":
                result = collections.lock_row_results(call)
                if result is not None:
                    return self._to_response(result)
            if call.action and call.req.method == "POST":
                return self._to_response(actions.lock_row_result(call, call.action))
        except ApiError as exc:
            return error_response(exc)
        record = rest.rstrip("/").split("/")[-1] if rest.startswith("/sobjects/") else ""
        msg = f"unable to obtain exclusive access to this record or 1 records: {record}"
        return error_response(ApiError(400, "UNABLE_TO_LOCK_ROW", msg))

    @staticmethod
    def _to_response(result: Result) -> Response:
        if result.data is None and result.status == 204:
            return Response(204, b"", dict(result.headers))
        return json_response(result.status, result.data, result.headers)

    # -- routing ----------------------------------------------------------------------------
    def route_call(self, call: Call) -> Result:
        """Route a composite subrequest (its URL is in ``call.req.path``)."""
        segments = call.req.path.split("/")
        version = parse_version(segments[3], self.org.config.api_versions) if len(segments) > 3 else None
        if version is None or segments[:3] != ["", "services", "data"]:
            raise not_found()
        call.version = version
        return self.route(call, "/" + "/".join(s for s in segments[4:] if s))

    def route(self, call: Call, rest: str) -> Result:
        """Run the handler for ``rest`` (the path after ``/services/data/vXX.X``)."""
        method = call.req.method
        parts = [p for p in rest.split("/") if p]
        head = parts[0].lower() if parts else ""

        def only(allowed: str) -> None:
            if method not in allowed.split(","):
                raise _method_not_allowed(method, allowed)

        if not parts:
            only("GET")
            return sobjects.resources(call)
        if head == "limits" and len(parts) == 1:
            only("GET")
            return sobjects.limits(call)
        if head in ("query", "queryall"):
            only("GET")
            if len(parts) == 1:
                return query.query(call, self.cursors, include_deleted=head == "queryall")
            if len(parts) == 2:
                return query.more(call, self.cursors, parts[1])
        if head == "sobjects":
            return self._sobjects(call, parts[1:], only)
        if head == "composite":
            if len(parts) == 1:
                only("POST")
                return composite.composite(call, self.route_call)
            if parts[1].lower() == "sobjects":
                if len(parts) == 2:
                    only("POST,PATCH,DELETE")
                    handler = {
                        "POST": collections.create,
                        "PATCH": collections.update,
                        "DELETE": collections.delete,
                    }
                    return handler[method](call)
                if len(parts) == 3:
                    only("GET")
                    return collections.retrieve(call, parts[2])
        if head == "actions" and len(parts) >= 2 and parts[1].lower() == "standard":
            if len(parts) == 2:
                only("GET")
                return actions.list_actions(call)
            if len(parts) == 3:
                only("GET,POST")
                if method == "GET":
                    return actions.describe_action(call, parts[2])
                return actions.invoke(call, parts[2])
        raise not_found()

    def _sobjects(self, call: Call, parts: list[str], check: Callable[[str], None]) -> Result:
        method = call.req.method
        if not parts:
            check("GET")
            return sobjects.global_describe(call)
        if len(parts) == 1:
            check("GET,POST")
            return (
                sobjects.create(call, parts[0]) if method == "POST" else sobjects.basic_info(call, parts[0])
            )
        if len(parts) == 2 and parts[1].lower() == "describe":
            check("GET")
            return sobjects.describe(call, parts[0])
        if len(parts) == 2:
            check("GET,PATCH,DELETE")
            handler = {"GET": sobjects.retrieve, "PATCH": sobjects.update, "DELETE": sobjects.delete}[method]
            return handler(call, parts[0], parts[1])
        raise not_found()


def _action_name(rest: str) -> str | None:
    m = re.match(r"^/actions/standard/([^/]+)/?$", rest, re.IGNORECASE)
    return m.group(1) if m else None


def _peek_sobjects(req: Request, rest: str) -> set[str]:
    """Object names a request touches, for fault targeting (cheap; never raises)."""
    m = re.match(r"^/(?:sobjects|composite/sobjects)/([^/]+)", rest, re.IGNORECASE)
    found: set[str] = {m.group(1)} if m else set()
    if rest.lower().startswith("/composite/sobjects") and req.body:
        try:
            body = json.loads(req.body)
        except (ValueError, UnicodeDecodeError):
            return found
        for record in body.get("records", []) if isinstance(body, dict) else []:
            attrs = record.get("attributes") if isinstance(record, dict) else None
            if isinstance(attrs, dict) and isinstance(attrs.get("type"), str):
                found.add(attrs["type"])
    return found
