"""The ``sfsync`` command line: parse input, build objects once, hand them down.

``main(argv) -> int`` is callable in-process (tests) and maps failures to exit codes a scheduler can
act on: 0 all done, 1 some items failed, 2 usage or configuration error, 69 Salesforce unreachable,
75 paused (API budget or a temporary condition: resume later).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sfsync import __version__
from sfsync import logging as sflog
from sfsync.commands import admin, runs
from sfsync.commands import demo as demo_command
from sfsync.commands import doctor as doctor_command
from sfsync.commands import run as run_command
from sfsync.commands import web as web_command
from sfsync.commands import worker as worker_command
from sfsync.commands.context import (
    EXIT_ITEMS_FAILED,
    EXIT_OK,
    EXIT_PAUSED,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    Context,
)
from sfsync.commands.context import ctx_of as _ctx
from sfsync.errors import (
    AuthError,
    BudgetExhaustedError,
    ConfigError,
    InputError,
    LedgerError,
    RateLimitedError,
    SfsyncError,
    UnavailableError,
)
from sfsync.jobspec import JobSpec, load_jobs

app = typer.Typer(
    name="sfsync",
    help="Automate renewals and cancellations of Salesforce Revenue Cloud assets, verified and safe to re-run.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
jobs_app = typer.Typer(
    help="Job files in jobs/: list them with their next fire times, check them.", no_args_is_help=True
)
app.add_typer(runs.app, name="runs")
app.add_typer(jobs_app, name="jobs")
app.add_typer(admin.emulator_app, name="emulator")
app.add_typer(admin.ledger_app, name="ledger")
app.command()(demo_command.demo)
app.command()(run_command.run)
app.command()(run_command.cancel)


@app.callback()
def _root(
    typer_ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", "-c", envvar="SFSYNC_CONFIG", help="Settings file.", show_default="config/sfsync.toml"
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs and full tracebacks.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Machine-readable output for scripts.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=lambda v: _version(v)
        ),
    ] = False,
) -> None:
    typer_ctx.obj = Context(config=config, verbose=verbose, json_output=json_output)


def _version(requested: bool) -> None:
    if requested:
        typer.echo(f"sfsync {__version__}")
        raise typer.Exit(EXIT_OK)


app.command()(worker_command.worker)
app.command()(doctor_command.doctor)
app.add_typer(web_command.app, name="web")


@jobs_app.command("list")
def jobs_list(typer_ctx: typer.Context) -> int:
    """List the job files with their kind, schedule and next fire time.

    Example: [bold]sfsync jobs list --json[/]
    """
    ctx = _ctx(typer_ctx)
    specs = list(load_jobs(ctx.settings.worker.jobs_dir))
    now = datetime.now(UTC)
    rows: list[dict[str, object]] = []
    for spec in specs:
        if isinstance(spec, SfsyncError):
            rows.append({"job": "?", "error": str(spec)})
            continue
        rows.append(
            {
                "job": spec.name,
                "kind": spec.kind,
                "enabled": spec.enabled,
                "schedule": f"{spec.schedule.cron} ({spec.schedule.timezone})" if spec.schedule else None,
                "next_fire": _next_fire(spec, now),
                "file": str(spec.source),
            }
        )
    if ctx.json_output:
        typer.echo(json.dumps(rows, indent=2))
    else:
        console = Console()
        for row in rows:
            if "error" in row:
                console.print(f"[red]invalid[/] {row['error']}")
            else:
                console.print(
                    f"{row['job']:<24} {row['kind']:<13} {'on ' if row['enabled'] else 'off'} "
                    f"{row['schedule'] or 'on demand':<28} next: {row['next_fire'] or '-'}"
                )
    return EXIT_USAGE if any("error" in row for row in rows) else EXIT_OK


def _next_fire(spec: JobSpec, now: datetime) -> str | None:
    if spec.schedule is None or not spec.enabled:
        return None
    from zoneinfo import ZoneInfo

    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(spec.schedule.cron, timezone=ZoneInfo(spec.schedule.timezone))
    fire = trigger.get_next_fire_time(None, now)
    return fire.isoformat() if fire else None


@jobs_app.command("check")
def jobs_check(typer_ctx: typer.Context) -> int:
    """Validate every job file; exit 2 if any is invalid.

    Example: [bold]sfsync jobs check[/]
    """
    ctx = _ctx(typer_ctx)
    directory = ctx.settings.worker.jobs_dir
    if not directory.is_dir():
        msg = f"jobs directory {directory} does not exist (set worker.jobs_dir)"
        raise ConfigError(msg)
    bad = 0
    count = 0
    for spec in load_jobs(directory):
        count += 1
        if isinstance(spec, SfsyncError):
            bad += 1
            typer.echo(f"invalid: {spec}", err=True)
        else:
            typer.echo(f"ok: {spec.source} ({spec.kind})")
    if count == 0:
        typer.echo(f"no job files in {directory}", err=True)
        return EXIT_USAGE
    return EXIT_USAGE if bad else EXIT_OK


def exit_code_for(exc: BaseException) -> int:
    """The exit code a failure maps to."""
    if isinstance(exc, BudgetExhaustedError | RateLimitedError):
        return EXIT_PAUSED
    if isinstance(exc, UnavailableError | LedgerError):
        # The ledger gone (locked, restarted) stops a run before any call it could not record; the
        # run is left as it was and resumes like one stopped by a Salesforce outage.
        return EXIT_UNAVAILABLE
    if isinstance(exc, ConfigError | InputError | AuthError):
        return EXIT_USAGE
    return EXIT_ITEMS_FAILED


def _cause_chain(exc: BaseException) -> str:
    """The error and, when it was raised while handling another without ``from``, that one too.

    An explicit ``raise … from cause`` is a wrapper that wrote its own message: its cause is for
    ``--verbose``'s traceback, not the one-line error.
    """
    parts = [str(exc) or type(exc).__name__]
    seen = {id(exc)}
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen and not exc.__suppress_context__:
        seen.add(id(cause))
        text = str(cause) or type(cause).__name__
        if not any(text in part for part in parts):  # a wrapper that quotes its cause says it once
            parts.append(text)
        cause = cause.__cause__ or cause.__context__
    return sflog.redactor.redact_text(": ".join(parts))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI with these arguments; return the exit code."""
    command = typer.main.get_command(app)
    args = sys.argv[1:] if argv is None else argv
    verbose = "-v" in args or "--verbose" in args
    try:
        result = command.main(args=args, prog_name="sfsync", standalone_mode=False)
    except typer.Exit as exc:
        return int(getattr(exc, "exit_code", EXIT_OK))
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 130
    except typer.TyperException as exc:
        # Usage errors (unknown command or option, bad value): click's own message, exit 2.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        return EXIT_USAGE
    except SfsyncError as exc:
        if verbose:
            import traceback

            typer.echo(sflog.redactor.redact_text(traceback.format_exc()), err=True)
        typer.echo(f"error: {_cause_chain(exc)}", err=True)
        return exit_code_for(exc)
    return result if isinstance(result, int) else EXIT_OK


def entrypoint() -> None:
    """Console-script entry point."""
    sys.exit(main())
