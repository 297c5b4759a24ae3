"""Deferred work of the emulated org (pricing, assetization) on worker threads.

``call_later(delay, fn)`` registers with the store's commit hook, so work scheduled inside a
request's transaction starts only if that transaction commits, and never sees uncommitted state.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

import structlog

from sfsync.emulator.store import Store

log = structlog.get_logger(__name__)


class Background:
    """A timer queue served by one daemon thread; exceptions are logged and kept in ``errors``."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cond = threading.Condition()
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._running = 0
        self._closed = False
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._loop, name="emulator-background", daemon=True)
        self._thread.start()

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> None:
        """Run ``fn()`` on the worker thread ``delay_s`` seconds after the current transaction commits."""
        self._store.on_commit(lambda: self._schedule(delay_s, fn))

    def _schedule(self, delay_s: float, fn: Callable[[], None]) -> None:
        with self._cond:
            if self._closed:
                return
            heapq.heappush(self._queue, (time.monotonic() + max(0.0, delay_s), next(self._seq), fn))
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._queue or self._queue[0][0] > time.monotonic()):
                    timeout = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cond.wait(timeout)
                if self._closed:
                    return
                _, _, fn = heapq.heappop(self._queue)
                self._running += 1
            try:
                fn()
            except Exception as exc:  # the org keeps running, as a real one would
                self.errors.append(exc)
                log.exception("emulator_background_failed", error=str(exc))
            finally:
                with self._cond:
                    self._running -= 1
                    self._cond.notify_all()

    def idle(self) -> bool:
        """Whether nothing is queued or running."""
        with self._cond:
            return not self._queue and self._running == 0

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until idle or the timeout passes; returns whether it became idle."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._running:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
            return True

    def close(self) -> None:
        """Stop the worker; queued work is dropped."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
        self._thread.join(timeout=5)
