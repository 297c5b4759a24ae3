"""What the global options decided, shared by every command; settings load once, on first use."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import typer
from rich.console import Console

from sfsync import logging as sflog
from sfsync.settings import Settings, load_settings, secret_values

EXIT_OK = 0
EXIT_ITEMS_FAILED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 69
EXIT_PAUSED = 75


@dataclass
class Context:
    """The global options; settings are loaded on first use, once."""

    config: Path | None
    verbose: bool
    json_output: bool
    _settings: Settings | None = field(default=None)

    @property
    def settings(self) -> Settings:
        """The settings, loaded once at the edge (and logging configured from them)."""
        if self._settings is None:
            self._settings = load_settings(self.config)
            sflog.redactor.add_secrets(secret_values(self._settings))
            sflog.configure(
                level="DEBUG" if self.verbose else self._settings.logging.level,
                fmt=self._settings.logging.format,
            )
        return self._settings

    @property
    def out(self) -> Console:
        """Console for results (stdout); colours only on a terminal, long IDs never wrapped."""
        return Console(highlight=False, soft_wrap=True)

    def quiet_logs(self) -> None:
        """Commands that print their own story (the demo) log only warnings unless -v was given."""
        settings = self.settings
        if not self.verbose:
            sflog.configure(level="WARNING", fmt=settings.logging.format)

    def emit(self, data: Any) -> None:
        """Print machine-readable output."""
        typer.echo(json.dumps(data, indent=2, default=str))


def ctx_of(typer_ctx: typer.Context) -> Context:
    """The Context of the root command."""
    obj = typer_ctx.find_root().obj
    if not isinstance(obj, Context):
        msg = "CLI context missing"
        raise TypeError(msg)
    return obj


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM/SIGINT, so the engine finishes its batch and leaves the run resumable."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            # A second signal: the operator insists.
            raise KeyboardInterrupt
        print(
            f"\nsignal {signum}: finishing the current batch, then stopping (run stays resumable)",
            file=sys.stderr,
        )
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
