"""``sfsync runs``: list, show, logs, retry, cancel, release — the job log from the ledger."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from sfsync import bootstrap
from sfsync.commands.context import EXIT_ITEMS_FAILED, EXIT_OK, ctx_of
from sfsync.commands.report import events_lines, item_dict, items_table, run_dict, runs_table
from sfsync.errors import InputError
from sfsync.ledger.ledger import Ledger
from sfsync.ledger.records import RUN_STATUSES, Holder, Run

app = typer.Typer(
    help="Inspect and steer runs: list, show, logs, retry, cancel, release.", no_args_is_help=True
)


def _run(book: Ledger, run_id: str) -> Run:
    run = book.runs.get(run_id)
    if run is None:
        msg = f"no run {run_id!r} in the ledger (see `sfsync runs list`)"
        raise InputError(msg)
    return run


def _since(text: str | None) -> datetime | None:
    if text is None:
        return None
    if text.endswith(("h", "d")) and text[:-1].isdigit():
        amount = int(text[:-1])
        return datetime.now(UTC) - (timedelta(hours=amount) if text.endswith("h") else timedelta(days=amount))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        msg = f"--since {text!r}: use YYYY-MM-DD, an ISO datetime, or Nh / Nd (e.g. 24h, 7d)"
        raise InputError(msg) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("list")
def list_runs(
    typer_ctx: typer.Context,
    job: Annotated[str | None, typer.Option("--job", help="Only runs of this job.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only runs in this status.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="YYYY-MM-DD, ISO datetime, or 24h / 7d.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
) -> int:
    """List runs, newest first.

    Example: [bold]sfsync runs list --status failed --since 7d[/]
    """
    ctx = ctx_of(typer_ctx)
    if status is not None and status not in RUN_STATUSES:
        msg = f"--status {status!r}: use one of {', '.join(sorted(RUN_STATUSES))}"
        raise InputError(msg)
    with bootstrap.ledger(ctx.settings) as book:
        runs = book.runs.find(
            job=job, statuses=[status] if status else None, since=_since(since), limit=limit
        )
    if ctx.json_output:
        ctx.emit([run_dict(run) for run in runs])
    else:
        runs_table(ctx.out, runs)
    return EXIT_OK


@app.command("show")
def show(
    typer_ctx: typer.Context,
    run_id: str,
    state: Annotated[str | None, typer.Option("--state", help="Only items in this state.")] = None,
    asset: Annotated[str | None, typer.Option("--asset", help="Only items whose asset ID starts so.")] = None,
) -> int:
    """Show a run's summary and items.

    Example: [bold]sfsync runs show r-5k2m9x0qaz --state failed[/]
    """
    ctx = ctx_of(typer_ctx)
    with bootstrap.ledger(ctx.settings) as book:
        run = _run(book, run_id)
        items = book.items.find(run_id, states=[state] if state else None, asset_prefix=asset, limit=10_000)
        counts = book.items.counts(run_id)
        holders = book.claims.holders(run_id)
    if ctx.json_output:
        ctx.emit(
            {
                **run_dict(run),
                "counts": counts,
                "leases": [h.as_dict() for h in holders],
                "items": [item_dict(i) for i in items],
            }
        )
        return EXIT_OK
    ctx.out.print(
        f"run {run.id}  job {run.job} ({run.kind})  status {run.status}  org {run.org}", markup=False
    )
    ctx.out.print(
        "items: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"), markup=False
    )
    if run.error:
        ctx.out.print(f"note: {run.error}", markup=False)
    for holder in holders:
        ctx.out.print(f"leased: {_holder_line(holder)}", markup=False)
    items_table(ctx.out, items)
    return EXIT_OK


def _holder_line(holder: Holder) -> str:
    return f"{holder.items} item(s) by worker {holder.worker_id} until {holder.until:%Y-%m-%d %H:%M:%S} UTC"


@app.command("logs")
def logs(
    typer_ctx: typer.Context,
    run_id: str,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events until the run ends.")
    ] = False,
    level: Annotated[
        str | None, typer.Option("--level", help="Minimum level: debug, info, warning, error.")
    ] = None,
    asset: Annotated[str | None, typer.Option("--asset", help="Only events of this asset.")] = None,
) -> int:
    """Show a run's log.

    Example: [bold]sfsync runs logs r-5k2m9x0qaz --level warning --follow[/]
    """
    ctx = ctx_of(typer_ctx)
    with bootstrap.ledger(ctx.settings) as book:
        _run(book, run_id)
        after: int | None = None
        while True:
            events = book.events.find(run_id, min_level=level, asset_id=asset, after_id=after, limit=5_000)
            if ctx.json_output:
                for event in events:
                    ctx.emit({"id": event.id, "at": event.at, "level": event.level, "event": event.event,
                              "asset_id": event.asset_id, **event.fields})  # fmt: skip
            else:
                events_lines(ctx.out, events)
            if events:
                after = events[-1].id
            if not follow:
                return EXIT_OK
            run = _run(book, run_id)
            if not run.active and not events:
                return EXIT_OK
            time.sleep(1.0)


@app.command("retry")
def retry(typer_ctx: typer.Context, run_id: str) -> int:
    """Put a run's failed items back to work (run it again with `sfsync run --resume`).

    Example: [bold]sfsync runs retry r-5k2m9x0qaz && sfsync run --resume r-5k2m9x0qaz[/]
    """
    ctx = ctx_of(typer_ctx)
    with bootstrap.ledger(ctx.settings) as book:
        _run(book, run_id)
        result = book.items.reset_failed(run_id, states=("failed", "timed_out", "mismatch"))
    if ctx.json_output:
        ctx.emit({"run_id": run_id, "reset": result.reset, "held_by_other_runs": result.held})
    else:
        ctx.out.print(
            f"{result.reset} item(s) reset; resume with: sfsync run --resume {run_id}", markup=False
        )
        if result.held:
            ctx.out.print(
                f"{len(result.held)} item(s) left failed: another active run holds their asset", markup=False
            )
    return EXIT_OK


@app.command("cancel")
def cancel(typer_ctx: typer.Context, run_id: str) -> int:
    """Cancel a run: no further step is taken for its items.

    Example: [bold]sfsync runs cancel r-5k2m9x0qaz[/]
    """
    ctx = ctx_of(typer_ctx)
    with bootstrap.ledger(ctx.settings) as book:
        _run(book, run_id)
        done = book.runs.cancel(run_id)
    ctx.out.print(f"run {run_id} {'cancelled' if done else 'had already ended'}", markup=False)
    return EXIT_OK if done else EXIT_ITEMS_FAILED


@app.command("release")
def release(
    typer_ctx: typer.Context,
    run_id: str,
    worker: Annotated[
        str, typer.Option("--worker", help="The gone worker's ID, as `sfsync runs show` lists it.")
    ],
    yes: Annotated[bool, typer.Option("--yes", help="The worker is gone: do not ask.")] = False,
) -> int:
    """Hand a gone worker's items over now: end the leases it holds on the run's items.

    A worker that died mid-call holds its items up to the longest call (~15 min by default).

    Release them only when that worker's process is gone: a live one's calls could be made twice.

    Example: [bold]sfsync runs release r-5k2m9x0qaz --worker host1:4242:51234567 --yes[/]
    """
    ctx = ctx_of(typer_ctx)
    with bootstrap.ledger(ctx.settings) as book:
        _run(book, run_id)
        holders = book.claims.holders(run_id)
        mine = next((h for h in holders if h.worker_id == worker), None)
        if mine is None:
            held = "; ".join(_holder_line(h) for h in holders) or "no worker holds any"
            msg = f"worker {worker!r} holds no lease on run {run_id} (leases now: {held})"
            raise InputError(msg)
        if not yes:
            if not sys.stdin.isatty():
                msg = "releasing leases needs --yes when there is no terminal to confirm on"
                raise InputError(msg)
            typer.confirm(f"Release {_holder_line(mine)}? Only if that worker's process is gone.", abort=True)
        released = book.release_worker(run_id, worker, by="sfsync runs release")
    if ctx.json_output:
        ctx.emit({"run_id": run_id, "worker_id": worker, "released": released})
    else:
        ctx.out.print(
            f"{released} item(s) released; a worker driving the run takes them over now "
            f"(or: sfsync run --resume {run_id})",
            markup=False,
        )
    return EXIT_OK
