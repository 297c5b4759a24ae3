"""The POST handlers: log in, log out, retry failed items, cancel a run, release a gone worker.

Every POST must pass the same-origin check (Origin, else Referer) and carry a CSRF token: the
session's synchronizer token, or before login an HMAC of a random pre-login cookie. A refused
request changes nothing and says why.
"""

from __future__ import annotations

import secrets

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from sfsync.web.auth import Session
from sfsync.web.context import LOGIN_COOKIE, SESSION_COOKIE, WebContext, set_cookie
from sfsync.web.security import same_origin

log = structlog.get_logger(__name__)


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (another site, a scheme) becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


class Actions:
    """Login, logout and the run actions over one :class:`WebContext`."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx

    def _extra_origins(self) -> list[str]:
        return [self.ctx.settings.base_url]

    def _login_form(
        self, request: Request, *, status_code: int = 200, error: str | None = None, user: str = ""
    ) -> Response:
        nonce = secrets.token_urlsafe(24)
        response = self.ctx.render(
            request, "login.html", None, status_code=status_code, error=error, user=user,
            csrf=self.ctx.login_token(nonce), next=safe_next(request.query_params.get("next")),
        )  # fmt: skip
        set_cookie(response, LOGIN_COOKIE, nonce)
        return response

    async def login_page(self, request: Request) -> Response:
        """The login form (a fresh pre-login CSRF nonce each time)."""
        if self.ctx.session(request) is not None:
            return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        return self._login_form(request)

    async def login(self, request: Request) -> Response:
        """Check the password (throttled); on success start a brand-new session."""
        form = await request.form()
        user = str(form.get("user", ""))[:200]
        password = str(form.get("password", ""))
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        token = str(form.get("csrf", ""))
        # Bytes, not str: compare_digest refuses non-ASCII text, and the form is attacker-controlled.
        expected = self.ctx.login_token(nonce).encode()
        token_ok = bool(nonce) and secrets.compare_digest(token.encode(), expected)
        if not token_ok or not same_origin(request, self._extra_origins()):
            self.ctx.metrics.login_failures.labels("csrf").inc()
            log.warning("web_login_refused", reason="csrf")
            return self._login_form(request, status_code=403, error="The form expired. Please try again.")
        address = request.client.host if request.client else "unknown"
        wait = self.ctx.throttle.begin(user, address)
        if wait > 0:
            self.ctx.metrics.login_failures.labels("throttled").inc()
            log.warning("web_login_throttled", address=address, retry_after_s=round(wait))
            minutes = max(1, round(wait / 60))
            message = f"Too many failed logins. Try again in about {minutes} minute(s)."
            return self._login_form(request, status_code=429, error=message, user=user)
        # argon2 is deliberately slow: verify off the event loop.
        role = await run_in_threadpool(self.ctx.users.check, user, password)
        if role is None:
            self.ctx.metrics.login_failures.labels("password").inc()
            log.warning("web_login_failed", address=address)
            return self._login_form(request, status_code=401, error="Wrong user name or password.", user=user)
        self.ctx.throttle.succeeded(user, address)
        old = self.ctx.session(request)
        _session, cookie = self.ctx.sessions.create(user, role, replacing=old.sid if old else None)
        log.info("web_login", user=user, role=role)
        response = RedirectResponse(safe_next(str(form.get("next", "/"))), status_code=303)
        set_cookie(response, SESSION_COOKIE, cookie)
        response.delete_cookie(LOGIN_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
        return response

    async def _refusal(self, request: Request, session: Session, *, admin_only: bool) -> Response | None:
        """Why this POST must change nothing, as a 403 page; None when it may go ahead."""
        form = await request.form()
        csrf = form.get("csrf")
        reason: str | None = None
        if not same_origin(request, self._extra_origins()):
            reason = "This request did not come from the admin page (Origin check failed)."
        elif not session.csrf_ok(csrf if isinstance(csrf, str) else None):
            reason = "The form's security token is missing or wrong. Reload the page and try again."
        elif admin_only and not session.can_write:
            reason = "Your account is read-only: it can look, but not retry, cancel or release."
        if reason is None:
            return None
        log.warning("web_post_refused", path=request.url.path, user=session.user)
        return self.ctx.render(request, "error.html", session, status_code=403, message=reason)

    async def _run_refusal(self, request: Request, session: Session) -> Response | None:
        """Why an admin's POST on a run must change nothing (403, or 404: no such run); else None."""
        refusal = await self._refusal(request, session, admin_only=True)
        if refusal is not None:
            return refusal
        if await run_in_threadpool(self.ctx.ledger.runs.get, request.path_params["run_id"]) is None:
            return self.ctx.render(request, "error.html", session, status_code=404, message="No such run.")
        return None

    async def logout(self, request: Request, session: Session) -> Response:
        """End the session on the server: the cookie is worthless from now on."""
        refusal = await self._refusal(request, session, admin_only=False)
        if refusal is not None:
            return refusal
        self.ctx.sessions.destroy(session.sid)
        log.info("web_logout", user=session.user)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
        return response

    async def retry(self, request: Request, session: Session) -> Response:
        """Put the run's failed items back in the queue (the run reopens if it had ended)."""
        refusal = await self._run_refusal(request, session)
        if refusal is not None:
            return refusal
        run_id = request.path_params["run_id"]
        result = await run_in_threadpool(self.ctx.ledger.items.reset_failed, run_id)
        log.info("web_retry_failed_items", run_id=run_id, reset=result.reset, user=session.user)
        message = f"{result.reset} failed item(s) queued for a retry."
        if result.held:
            message += f" {len(result.held)} stayed failed: another active run holds their assets."
        session.flash.append(message)
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    async def cancel(self, request: Request, session: Session) -> Response:
        """Cancel an active run (a finished run is left as it is)."""
        refusal = await self._run_refusal(request, session)
        if refusal is not None:
            return refusal
        run_id = request.path_params["run_id"]
        reason = f"cancelled by {session.user} on the admin page"
        done = await run_in_threadpool(self.ctx.ledger.runs.cancel, run_id, reason=reason)
        log.info("web_cancel_run", run_id=run_id, cancelled=done, user=session.user)
        session.flash.append("Run cancelled." if done else "The run had already finished; nothing changed.")
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    async def release(self, request: Request, session: Session) -> Response:
        """End the leases a gone worker holds on the run's items, once the admin ticks that it is gone."""
        refusal = await self._run_refusal(request, session)
        if refusal is not None:
            return refusal
        run_id = request.path_params["run_id"]
        form = await request.form()
        worker = form.get("worker_id")
        if not isinstance(worker, str) or not worker:
            return self.ctx.render(
                request, "error.html", session, status_code=400, message="No worker named."
            )
        if form.get("gone") != "yes":
            message = (
                "Tick that the worker's process is gone first: a live worker's calls could be made twice."
            )
            return self.ctx.render(request, "error.html", session, status_code=400, message=message)
        holders = await run_in_threadpool(self.ctx.ledger.claims.holders, run_id)
        if worker not in {holder.worker_id for holder in holders}:
            session.flash.append(f"Worker {worker} holds no item of this run any more; nothing changed.")
            return RedirectResponse(f"/runs/{run_id}", status_code=303)
        by = f"{session.user} on the admin page"
        released = await run_in_threadpool(self.ctx.ledger.release_worker, run_id, worker, by=by)
        log.info("web_release_worker", run_id=run_id, worker_id=worker, released=released, user=session.user)
        session.flash.append(
            f"{released} item(s) of worker {worker} released: a worker on the run takes them now."
        )
        return RedirectResponse(f"/runs/{run_id}", status_code=303)
