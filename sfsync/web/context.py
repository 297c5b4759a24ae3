"""What every handler shares (ledger, sessions, templates), and the guards that wrap handlers.

``page`` handlers send a browser without a session to the login page; ``api`` handlers answer 401.
Both pass the live :class:`Session` to the handler, so no handler can forget the check.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from importlib.resources import files
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from sfsync.clock import Clock
from sfsync.ledger import Ledger
from sfsync.settings import WebSettings
from sfsync.web.auth import LoginThrottle, Session, SessionStore, Users
from sfsync.web.metrics import WebMetrics

SESSION_COOKIE = "sfsync_session"
LOGIN_COOKIE = "sfsync_login"
STATIC = files("sfsync.web") / "static"

Handler = Callable[[Request, Session], Awaitable[Response] | Response]

#: C0/C1 control characters (CR, LF, ESC…): shown escaped so a name cannot fake a log line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def visible(value: object) -> str:
    """Text with control characters written as ``\\xNN`` (Jinja filter; autoescape still applies)."""
    if value is None:
        return ""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def when(value: datetime | None) -> str:
    """A UTC timestamp as ``YYYY-MM-DD HH:MM:SS`` (Jinja filter)."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else ""


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("sfsync.web", "templates"),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
    )
    env.filters["visible"] = visible
    env.filters["when"] = when
    return env


@dataclass
class WebContext:
    """The app's shared state."""

    ledger: Ledger
    settings: WebSettings
    clock: Clock
    users: Users
    sessions: SessionStore
    throttle: LoginThrottle
    metrics: WebMetrics
    metrics_token: str | None
    secret_key: str

    def __post_init__(self) -> None:
        self.templates = Jinja2Templates(env=_environment())

    def session(self, request: Request) -> Session | None:
        """The request's live session, if any."""
        return self.sessions.lookup(request.cookies.get(SESSION_COOKIE))

    def login_token(self, nonce: str) -> str:
        """The login form's CSRF token for the pre-login cookie ``nonce``."""
        return hmac.new(self.secret_key.encode(), b"login:" + nonce.encode(), hashlib.sha256).hexdigest()

    def render(
        self, request: Request, name: str, session: Session | None, status_code: int = 200, **values: Any
    ) -> Response:
        """Render a template with the session (for the CSRF token and role) in its context."""
        # Flash messages are shown once, on the next page this session sees.
        flashes = list(session.flash) if session is not None else []
        if session is not None:
            session.flash.clear()
        context = {"session": session, "flashes": flashes, **values}
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)


def set_cookie(response: Response, name: str, value: str) -> None:
    """Set a cookie the browser sends only to us, only over a secure context, never to scripts."""
    response.set_cookie(name, value, path="/", secure=True, httponly=True, samesite="strict")


def page(ctx: WebContext) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Guard an HTML page: no session -> 303 to the login page (coming back here afterwards)."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def guarded(request: Request) -> Response:
            session = ctx.session(request)
            if session is None:
                # After login, come back here; a refused POST cannot be replayed, so go to the runs.
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                if request.method != "GET":
                    target = "/"
                return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
            return await _call(handler, request, session)

        return guarded

    return wrap


async def _call(handler: Handler, request: Request, session: Session) -> Response:
    """Await an async handler; run a plain one (synchronous ledger reads) in a worker thread."""
    if inspect.iscoroutinefunction(handler):
        result: object = await handler(request, session)
    else:
        result = await run_in_threadpool(handler, request, session)
    if not isinstance(result, Response):
        msg = f"handler {handler.__name__} returned {type(result).__name__}, not a Response"
        raise TypeError(msg)
    return result


def api(ctx: WebContext) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Guard a JSON/CSV/script endpoint: no session -> 401."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @wraps(handler)
        async def guarded(request: Request) -> Response:
            session = ctx.session(request)
            if session is None:
                if request.url.path.endswith(".json"):
                    return JSONResponse({"error": "login required"}, status_code=401)
                return PlainTextResponse("login required", status_code=401)
            return await _call(handler, request, session)

        return guarded

    return wrap
