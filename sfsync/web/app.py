"""The admin site as a Starlette app: ``create_app(ledger, settings, clock=…)``.

Routes (all but the login page, its stylesheet, ``/healthz`` and ``/readyz`` need a session):

- ``GET /`` runs list · ``GET /runs/{id}`` a run · ``GET /runs/{id}/live.json`` live refresh data ·
  ``GET /runs/{id}/items.csv`` export · ``GET /static/live.js``
- ``POST /runs/{id}/retry`` · ``POST /runs/{id}/cancel`` · ``POST /runs/{id}/release`` · ``GET|POST /login`` · ``POST /logout``
- ``GET /metrics``: a session, or ``Authorization: Bearer <metrics_token>`` when a token is given,
  because run and job names are operational data not to hand to anyone who can reach the port.
- ``GET /healthz``: the process answers (no auth, no data) · ``GET /readyz``: the ledger answers.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable

import structlog
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sfsync.clock import Clock
from sfsync.ledger import Ledger
from sfsync.settings import WebSettings
from sfsync.web.actions import Actions
from sfsync.web.auth import LoginThrottle, Session, SessionStore, Users
from sfsync.web.context import STATIC, WebContext, api, page
from sfsync.web.metrics import CONTENT_TYPE, MetricsSource, WebMetrics
from sfsync.web.pages import Pages
from sfsync.web.security import SecurityHeaders

log = structlog.get_logger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]

#: Static files, and whether they may be fetched before login (the login page needs its CSS).
_STATIC_FILES = {
    "app.css": ("text/css; charset=utf-8", True),
    "live.js": ("text/javascript; charset=utf-8", False),
}


def create_app(
    ledger: Ledger,
    settings: WebSettings,
    *,
    clock: Clock,
    metrics_source: MetricsSource | None = None,
    metrics_token: str | None = None,
    throttle: LoginThrottle | None = None,
) -> Starlette:
    """The admin site over ``ledger``.

    ``metrics_source`` is called at each scrape for the worker's figures; ``metrics_token`` lets a
    scraper read ``/metrics`` with ``Authorization: Bearer …`` (else a login session is needed);
    ``throttle`` replaces the default login throttle (5 failures per user, 20 per address, 15 min).
    """
    if settings.secret_key is not None:
        secret_key = settings.secret_key.get_secret_value()
    else:
        # Sessions then last as long as the process, which is what a single worker needs.
        secret_key = secrets.token_urlsafe(32)
        log.info("web_secret_key_generated")
    ctx = WebContext(
        ledger=ledger,
        settings=settings,
        clock=clock,
        users=Users(settings),
        sessions=SessionStore(secret_key, clock),
        throttle=throttle or LoginThrottle(clock),
        metrics=WebMetrics(ledger, metrics_source),
        metrics_token=metrics_token,
        secret_key=secret_key,
    )
    pages, actions = Pages(ctx), Actions(ctx)
    routes = [
        Route("/", page(ctx)(pages.runs)),
        Route("/runs/{run_id}", page(ctx)(pages.run)),
        Route("/runs/{run_id}/live.json", api(ctx)(pages.live)),
        Route("/runs/{run_id}/items.csv", api(ctx)(pages.export)),
        Route("/runs/{run_id}/retry", page(ctx)(actions.retry), methods=["POST"]),
        Route("/runs/{run_id}/cancel", page(ctx)(actions.cancel), methods=["POST"]),
        Route("/runs/{run_id}/release", page(ctx)(actions.release), methods=["POST"]),
        Route("/login", actions.login_page),
        Route("/login", actions.login, methods=["POST"]),
        Route("/logout", page(ctx)(actions.logout), methods=["POST"]),
        Route("/static/{name}", _static(ctx)),
        Route("/metrics", _metrics(ctx)),
        Route("/healthz", _healthz),
        Route("/readyz", _readyz(ledger)),
    ]
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])


def _static(ctx: WebContext) -> Endpoint:
    async def public(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _STATIC_FILES:
            return PlainTextResponse("not found", status_code=404)
        media_type, open_to_all = _STATIC_FILES[name]
        if not open_to_all and ctx.session(request) is None:
            return PlainTextResponse("login required", status_code=401)
        return Response((STATIC / name).read_bytes(), media_type=media_type)

    return public


def _metrics(ctx: WebContext) -> Endpoint:
    async def metrics(request: Request) -> Response:
        if not _metrics_allowed(ctx, request):
            return PlainTextResponse("login or metrics token required", status_code=401)
        return Response(await run_in_threadpool(ctx.metrics.render), media_type=CONTENT_TYPE)

    return metrics


def _metrics_allowed(ctx: WebContext, request: Request) -> bool:
    header = request.headers.get("authorization", "")
    if ctx.metrics_token and header.startswith("Bearer "):
        return hmac.compare_digest(header[7:].encode(), ctx.metrics_token.encode())
    session: Session | None = ctx.session(request)
    return session is not None


async def _healthz(request: Request) -> Response:
    """The process is alive; says nothing else."""
    return PlainTextResponse("ok")


def _readyz(ledger: Ledger) -> Endpoint:
    async def readyz(request: Request) -> Response:
        try:
            await run_in_threadpool(ledger.db_now)
        except Exception as exc:  # any failure to reach the ledger means "not ready"
            log.warning("web_ledger_unreachable", error_type=type(exc).__name__)
            return JSONResponse({"ready": False}, status_code=503)
        return JSONResponse({"ready": True})

    return readyz
