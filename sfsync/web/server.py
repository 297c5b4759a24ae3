"""Serve an ASGI app with uvicorn in a background thread: ``with serve(app) as server: server.url``.

The socket is bound before the thread starts, so port 0 gives a free port that is known at once;
``stop()`` asks uvicorn to finish open requests and waits for the thread.
"""

from __future__ import annotations

import socket
import threading
import time

import structlog
import uvicorn
from starlette.types import ASGIApp

log = structlog.get_logger(__name__)


class WebServer:
    """A uvicorn server running in a daemon thread."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        # log_config=None: uvicorn must not reconfigure the process's logging (structlog owns it).
        config = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=5
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"sfsync-web-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:41234``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def _run(self) -> None:
        self._server.run(sockets=[self._sock])

    def start(self, timeout_s: float = 10.0) -> WebServer:
        """Start serving and wait until uvicorn accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                msg = f"the web server on {self.url} did not start within {timeout_s:g}s"
                raise RuntimeError(msg)
            self._thread.join(0.02)
        log.info("web_server_started", url=self.url)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask uvicorn to shut down and wait for it."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        self._sock.close()
        log.info("web_server_stopped", url=self.url)

    def __enter__(self) -> WebServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def serve(app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> WebServer:
    """Start ``app`` on ``host:port`` (0: a free port) in a background thread; returns the server."""
    return WebServer(app, host, port).start()
