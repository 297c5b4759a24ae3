"""The admin web page, ``/metrics`` and health checks (Starlette + Jinja2, served by uvicorn).

``create_app(ledger, settings, clock=…)`` builds the app; ``serve(app, host, port)`` runs it in a
thread; ``hash_password(plain)`` makes the argon2id hash the settings expect.
"""

from __future__ import annotations

from sfsync.web.app import create_app
from sfsync.web.auth import hash_password
from sfsync.web.metrics import Histogram, MetricsSource, WorkerMetrics
from sfsync.web.server import WebServer, serve

__all__ = ["Histogram", "MetricsSource", "WebServer", "WorkerMetrics", "create_app", "hash_password", "serve"]
