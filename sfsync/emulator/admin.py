"""The admin endpoint under ``/__emulator__/`` (header ``X-Emulator-Admin: <admin token>``).

- ``GET /__emulator__/requests[?since=N]`` — the request log; ``DELETE`` clears it.
- ``GET /__emulator__/faults`` — rules with counters; ``PUT`` replaces them (``{"seed", "rules"}``).
- ``GET|PUT /__emulator__/usage`` — ``{"used", "limit"}`` of the daily API counter.
- ``POST /__emulator__/reset`` — usage back to the initial value, fault counters and log cleared.
- ``POST /__emulator__/expire-tokens`` — every access token becomes invalid.
- ``GET|PATCH /__emulator__/config`` — read or change scalar switches (e.g. ``enforce_shipping_address``).
- ``POST /__emulator__/wait-idle`` — wait (``{"timeout": s}``) until background work is done.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
from typing import TYPE_CHECKING

from sfsync.emulator.faults import config_from_json
from sfsync.emulator.http import Request, Response, json_response

if TYPE_CHECKING:
    from sfsync.emulator.app import EmulatorApp

_SCALARS = (bool, int, float, str)


def _error(status: int, message: str) -> Response:
    return json_response(status, {"error": message})


def handle(app: EmulatorApp, req: Request) -> Response:
    """Serve one admin request."""
    given = req.header("x-emulator-admin") or ""
    if not hmac.compare_digest(given, app.admin_token):
        return _error(401, "admin token missing or wrong (header X-Emulator-Admin)")
    org = app.org
    what = req.path.removeprefix("/__emulator__/").strip("/")
    try:
        body = json.loads(req.body) if req.body else {}
    except ValueError:
        return _error(400, "body is not JSON")
    if what == "requests":
        if req.method == "DELETE":
            org.request_log.clear()
            return json_response(200, {"cleared": True})
        since = int(req.param("since") or 0) if (req.param("since") or "0").isdigit() else 0
        return json_response(200, [e.as_dict() for e in org.request_log.entries() if e.seq > since])
    if what == "faults":
        if req.method == "PUT":
            try:
                org.faults.configure(config_from_json(body))
            except (ValueError, TypeError) as exc:
                return _error(400, str(exc))
        return json_response(200, org.faults.counters())
    if what == "usage":
        if req.method == "PUT" and isinstance(body, dict):
            org.usage.used = int(body.get("used", org.usage.used))
            org.usage.limit = int(body.get("limit", org.usage.limit))
        return json_response(200, {"used": org.usage.used, "limit": org.usage.limit})
    if what == "reset" and req.method == "POST":
        org.usage.used = org.config.initial_api_usage
        org.faults.reset()
        org.request_log.clear()
        return json_response(200, {"reset": True})
    if what == "expire-tokens" and req.method == "POST":
        app.tokens.revoke_all()
        return json_response(200, {"expired": True})
    if what == "config":
        return _config(app, req, body)
    if what == "wait-idle" and req.method == "POST":
        timeout = float(body.get("timeout", 10)) if isinstance(body, dict) else 10.0
        return json_response(200, {"idle": org.background.wait_idle(timeout)})
    return _error(404, f"no admin resource {what!r}")


def _config(app: EmulatorApp, req: Request, body: object) -> Response:
    cfg = app.org.config
    if req.method == "PATCH":
        if not isinstance(body, dict):
            return _error(400, "body must be an object")
        for key, value in body.items():
            current = getattr(cfg, key, None)
            if not isinstance(current, _SCALARS) or type(value) is not type(current):
                return _error(400, f"{key!r} is not a scalar switch of that type")
            setattr(cfg, key, value)
    return json_response(
        200,
        {
            f.name: getattr(cfg, f.name)
            for f in dataclasses.fields(cfg)
            if isinstance(getattr(cfg, f.name), _SCALARS)
        },
    )
