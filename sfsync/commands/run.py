"""``sfsync run`` and ``sfsync cancel``: run a job now, in the foreground."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated

import typer

from sfsync import bootstrap
from sfsync.commands import progress
from sfsync.commands.context import Context, ctx_of, stop_on_signals
from sfsync.commands.report import item_dict, items_table, result_line
from sfsync.engine.cancel_input import describe_errors, read_cancellations
from sfsync.engine.runner import Engine, RunResult
from sfsync.errors import InputError
from sfsync.jobspec import JobSpec, load_job
from sfsync.ledger.ledger import Ledger
from sfsync.lifecycle.terms import resolve


def run(
    typer_ctx: typer.Context,
    job: Annotated[Path | None, typer.Argument(help="A job file, e.g. jobs/renewal-sweep.toml.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Select and validate only; no write call.")
    ] = False,
    resume: Annotated[
        str | None, typer.Option("--resume", metavar="RUN_ID", help="Continue a paused or crashed run.")
    ] = None,
    org: Annotated[
        str | None, typer.Option("--org", metavar="PROFILE", help="Org profile from the settings.")
    ] = None,
    join: Annotated[
        str | None,
        typer.Option(
            "--join", metavar="RUN_ID", help="Work on a run another worker is starting (shared ledger)."
        ),
    ] = None,
) -> int:
    """Run a job file now (or resume a run, or join one other workers drive).

    Examples:
      [bold]sfsync run jobs/renewal-sweep.toml --dry-run[/]
      [bold]sfsync run --resume r-5k2m9x0qaz[/]
      [bold]sfsync run --join r-5k2m9x0qaz[/]   (on more machines, same PostgreSQL ledger)
    """
    ctx = ctx_of(typer_ctx)
    settings = ctx.settings
    with bootstrap.ledger(settings) as book:
        if resume is not None and join is not None:
            msg = "give --resume or --join, not both"
            raise InputError(msg)
        existing = resume or join
        if existing is not None:
            previous = book.runs.get(existing)
            if previous is None:
                msg = f"no run {existing!r} in the ledger {settings.ledger.url}"
                raise InputError(msg)
            with bootstrap.connect(settings, org or previous.org) as conn, stop_on_signals() as stop:
                engine = bootstrap.engine(settings, conn, book, stop=stop)
                with _progress(ctx, book, engine, existing):
                    result = engine.drive(existing, join=join is not None)
                return _finish(ctx, book, result)
        if job is None:
            msg = "give a job file, or --resume RUN_ID"
            raise InputError(msg)
        spec = load_job(job)
        with bootstrap.connect(settings, org or spec.org) as conn, stop_on_signals() as stop:
            engine = bootstrap.engine(settings, conn, book, stop=stop)
            path = spec.csv_path
            if spec.kind != "renewal" and path is None:
                msg = f"{job}: a cancellation job needs [cancellation] csv (or use `sfsync cancel`)"
                raise InputError(msg)
            with _progress(ctx, book, engine):
                if spec.kind == "renewal" or path is None:
                    result = engine.run_renewals(spec, dry_run=dry_run)
                else:
                    result = _cancel(engine, spec, path, spec.cancellation_options.date, dry_run,
                                     spec.cancellation_options.strict)  # fmt: skip
            return _finish(ctx, book, result)


def cancel(
    typer_ctx: typer.Context,
    assets: Annotated[
        Path, typer.Option("--assets", help="CSV with header AssetId (optional CancellationDate).")
    ],
    when: Annotated[str, typer.Option("--date", metavar="YYYY-MM-DD", help="Default cancellation date.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate only; no write call.")] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Reject the whole file if any row is invalid.")
    ] = False,
    org: Annotated[
        str | None, typer.Option("--org", metavar="PROFILE", help="Org profile from the settings.")
    ] = None,
) -> int:
    """Cancel the assets listed in a CSV file (an on-demand cancellation run).

    Example: [bold]sfsync cancel --assets pos.csv --date 2027-02-23[/]
    """
    ctx = ctx_of(typer_ctx)
    settings = ctx.settings
    spec = JobSpec.model_validate(
        {"name": "cancel", "kind": "cancellation", "org": org,
         "cancellation": {"date": when, "strict": strict, "csv": str(assets)}}
    )  # fmt: skip
    with (
        bootstrap.ledger(settings) as book,
        bootstrap.connect(settings, org) as conn,
        stop_on_signals() as stop,
    ):
        engine = bootstrap.engine(settings, conn, book, stop=stop)
        result = _cancel(engine, spec, assets, when, dry_run, strict)
        return _finish(ctx, book, result)


def _cancel(engine: Engine, spec: JobSpec, path: Path, when: str, dry_run: bool, strict: bool) -> RunResult:
    today = engine.clock.now().date()
    default: date = resolve(when, today)
    if not path.is_file():
        msg = f"{path}: no such file"
        raise InputError(msg)
    parsed = read_cancellations(path, today=today, default_date=default, strict=strict)
    if parsed.errors:
        typer.echo(describe_errors(parsed.errors, strict=strict), err=True)
        if strict:
            msg = f"{path}: {len(parsed.errors)} row(s) rejected; nothing was sent (--strict)"
            raise InputError(msg)
    if not parsed.rows:
        msg = f"{path}: no valid rows; nothing to cancel"
        raise InputError(msg)
    errors = [str(error) for error in parsed.errors]
    return engine.run_cancellations(spec, parsed.rows, dry_run=dry_run, strict=strict, csv_errors=errors)


def _progress(
    ctx: Context, book: Ledger, engine: Engine, run_id: str | None = None
) -> AbstractContextManager[None]:
    """Live per-step progress on a terminal (log lines otherwise) while the engine works."""
    if ctx.json_output:
        return nullcontext()
    if ctx.out.is_terminal:
        # Log lines would tear the live table; warnings still show (and everything with -v).
        ctx.quiet_logs()
    since = engine.clock.now() - timedelta(seconds=1)
    return progress.watch(
        book,
        console=ctx.out,
        api_calls=engine.sf.metrics.total_calls,
        run_id=(lambda: run_id)
        if run_id
        else (lambda: progress.find_run(book, engine.tuning.worker_id, since)),
    )


def _finish(ctx: Context, book: Ledger, result: RunResult) -> int:
    items = book.items.find(result.run_id, limit=10_000)
    if ctx.json_output:
        ctx.emit({"run_id": result.run_id, "status": result.status, "counts": result.counts,
                  "message": result.message, "items": [item_dict(i) for i in items]})  # fmt: skip
    else:
        items_table(ctx.out, items[:200])
        if len(items) > 200:
            ctx.out.print(f"… {len(items) - 200} more: sfsync runs show {result.run_id}")
        ctx.out.print(result_line(result), markup=False)
        ctx.out.print(
            f"details: sfsync runs show {result.run_id}   log: sfsync runs logs {result.run_id}", markup=False
        )
    return result.exit_code
