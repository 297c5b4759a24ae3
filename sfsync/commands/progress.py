"""Progress of ``sfsync run`` while the engine works: a live table on a terminal, log lines otherwise.

A thread polls the ledger's item counts (and the client's call counter) while the engine runs in
the foreground; it never touches the engine. On a terminal it draws, per step, the items past it
and still before or in it, plus failed items and API calls used; elsewhere it logs
``run_progress`` every few seconds, so a scheduler's log shows the same story.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import structlog
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from sfsync.engine.states import FAILURE, SUCCESS
from sfsync.ledger.ledger import Ledger

log = structlog.get_logger(__name__)

#: Pipeline steps and the open states of items waiting in (or sent by) each, in order.
STEP_STATES: tuple[tuple[str, frozenset[str]], ...] = (
    ("initiate", frozenset({"selected", "initiating"})),
    ("pricing", frozenset({"quoted"})),
    ("order", frozenset({"priced", "ordering"})),
    ("address", frozenset({"ordered"})),
    ("activate", frozenset({"addressed", "activating"})),
    ("verify", frozenset({"activated"})),
)
_SUCCESS = frozenset(s.value for s in SUCCESS)
_FAILURE = frozenset(s.value for s in FAILURE)


@dataclass(frozen=True)
class StepLine:
    """One step: items past it (done), and items in it or before it (remaining)."""

    step: str
    done: int
    waiting: int
    remaining: int


@dataclass(frozen=True)
class View:
    """What the display shows at one instant."""

    steps: tuple[StepLine, ...]
    succeeded: int
    failed: int
    open: int
    api_calls: int


def summarize(counts: Mapping[str, int], api_calls: int) -> View:
    """Turn per-state item counts into per-step progress (pure; unit-tested)."""
    succeeded = sum(n for s, n in counts.items() if s in _SUCCESS)
    failed = sum(n for s, n in counts.items() if s in _FAILURE)
    per_step = [sum(counts.get(s, 0) for s in states) for _name, states in STEP_STATES]
    lines = []
    for index, (name, _states) in enumerate(STEP_STATES):
        later = sum(per_step[index + 1 :])
        lines.append(StepLine(name, succeeded + later, per_step[index], sum(per_step[: index + 1])))
    return View(tuple(lines), succeeded, failed, sum(per_step), api_calls)


def render(view: View, title: str) -> Group:
    """The live table of a view, with the totals on one line below it."""
    table = Table(title=title, title_justify="left")
    for header in ("step", "done", "in step", "remaining"):
        table.add_column(header, justify="left" if header == "step" else "right")
    for line in view.steps:
        table.add_row(line.step, str(line.done), str(line.waiting), str(line.remaining))
    totals = (
        f"succeeded {view.succeeded} · failed {view.failed} · open {view.open} · API calls {view.api_calls}"
    )
    return Group(table, Text(totals, no_wrap=True))


def find_run(book: Ledger, worker_id: str, since: datetime) -> str | None:
    """The newest run this worker created since ``since`` (the run ``sfsync run`` just started)."""
    for run in book.runs.find(since=since, limit=20):
        if run.worker_id in {worker_id, None}:
            return run.id
    return None


@contextmanager
def watch(
    book: Ledger,
    *,
    console: Console,
    api_calls: Callable[[], int],
    run_id: Callable[[], str | None],
    interval_s: float = 0.5,
    log_every_s: float = 5.0,
) -> Iterator[None]:
    """Show progress while the block runs: a live table on a terminal, ``run_progress`` logs otherwise."""
    done = threading.Event()
    tty = console.is_terminal
    known: list[str] = []

    def current() -> tuple[str | None, View | None]:
        if not known:
            found = run_id()
            if found is None:
                return None, None
            known.append(found)
        return known[0], summarize(book.items.counts(known[0]), api_calls())

    def poll_tty(live: Live) -> None:
        while not done.wait(interval_s):
            found, view = current()
            if view is not None:
                live.update(render(view, f"run {found}"))

    def poll_log() -> None:
        while not done.wait(log_every_s):
            found, view = current()
            if view is not None:
                log.info("run_progress", run_id=found, succeeded=view.succeeded, failed=view.failed,
                         open=view.open, api_calls=view.api_calls,
                         steps={line.step: line.waiting for line in view.steps})  # fmt: skip

    if tty:
        with Live(console=console, refresh_per_second=4, transient=False) as live:
            thread = threading.Thread(target=poll_tty, args=(live,), name="sfsync-progress", daemon=True)
            thread.start()
            try:
                yield
            finally:
                done.set()
                thread.join(5)
                found, view = current()
                if view is not None:
                    # The last frame shows the counts the run ended with, not the last poll's.
                    live.update(render(view, f"run {found}"))
        return
    thread = threading.Thread(target=poll_log, name="sfsync-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(5)
