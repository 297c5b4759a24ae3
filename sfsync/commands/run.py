"""``sfsync run`` and ``sfsync cancel``: run a job now, in the foreground."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from sfsync import bootstrap
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
) -> int:
    """Run a job file now (or resume a run).

    Examples:
      [bold]sfsync run jobs/renewal-sweep.toml --dry-run[/]
      [bold]sfsync run --resume r-5k2m9x0qaz[/]
    """
    ctx = ctx_of(typer_ctx)
    settings = ctx.settings
    with bootstrap.ledger(settings) as book:
        if resume is not None:
            previous = book.runs.get(resume)
            if previous is None:
                msg = f"no run {resume!r} in the ledger {settings.ledger.url}"
                raise InputError(msg)
            with bootstrap.connect(settings, org or previous.org) as conn, stop_on_signals() as stop:
                result = bootstrap.engine(settings, conn, book, stop=stop).drive(resume)
                return _finish(ctx, book, result)
        if job is None:
            msg = "give a job file, or --resume RUN_ID"
            raise InputError(msg)
        spec = load_job(job)
        with bootstrap.connect(settings, org or spec.org) as conn, stop_on_signals() as stop:
            engine = bootstrap.engine(settings, conn, book, stop=stop)
            if spec.kind == "renewal":
                result = engine.run_renewals(spec, dry_run=dry_run)
            else:
                path = spec.csv_path
                if path is None:
                    msg = f"{job}: a cancellation job needs [cancellation] csv (or use `sfsync cancel`)"
                    raise InputError(msg)
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
