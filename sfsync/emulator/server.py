"""The HTTPS server: stdlib ``ThreadingHTTPServer`` with TLS per connection.

Why the standard library and not an ASGI server: fault injection needs raw socket control —
closing a connection without any answer after the write committed, or holding an answer past the
client's timeout — which a framework hides. One thread per connection; TLS handshakes run on that
thread, never on the accept loop.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog

from sfsync.emulator.http import Request, Response

log = structlog.get_logger(__name__)

Handler = Callable[[Request], Response]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: Handler, tls: ssl.SSLContext) -> None:
        self.app = app
        self.tls = tls
        super().__init__(address, _RequestHandler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        try:
            wrapped = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.info("emulator_tls_handshake_failed", error=str(exc))
            return
        try:
            super().finish_request(wrapped, client_address)
        finally:
            # wrap_socket detached the raw socket, so the server's own shutdown_request closes nothing.
            with contextlib.suppress(OSError):
                wrapped.shutdown(socket.SHUT_RDWR)
            wrapped.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.info("emulator_connection_error", client=str(client_address))


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib access log; the request log records every call."""

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request.build(self.command, self.path, dict(self.headers.items()), body)
        resp = self.server.app(req)
        if resp.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if resp.hold_s:
            time.sleep(resp.hold_s)  # the "answer held past the client's timeout" fault
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD" and resp.body:
            self.wfile.write(resp.body)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _serve


class EmulatorServer:
    """Serve ``app`` over HTTPS on 127.0.0.1 (port 0 = a free port)."""

    def __init__(self, app: Handler, tls: ssl.SSLContext, *, port: int = 0, host: str = "127.0.0.1") -> None:
        self._server = _Server((host, port), app, tls)
        self.host = host
        self.port = int(self._server.server_address[1])
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Serve on a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, name="emulator-http", daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        """Serve on the calling thread until :meth:`stop`."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop accepting and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
