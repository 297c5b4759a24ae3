"""The ``sfsync`` command line: parse input, build objects once, hand them down.

``main(argv) -> int`` is callable in-process (tests) and maps failures to exit codes a scheduler can
act on: 0 all done, 1 some items failed, 2 usage or configuration error, 69 Salesforce unreachable,
75 paused (API budget or a temporary condition: resume later).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from sfsync import __version__
from sfsync import logging as sflog
from sfsync.errors import (
    AuthError,
    BudgetExhaustedError,
    ConfigError,
    InputError,
    RateLimitedError,
    SfsyncError,
    UnavailableError,
)
from sfsync.jobspec import JobSpec, load_jobs
from sfsync.settings import Settings, load_settings, secret_values

EXIT_OK = 0
EXIT_ITEMS_FAILED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 69
EXIT_PAUSED = 75

app = typer.Typer(
    name="sfsync",
    help="Automate renewals and cancellations of Salesforce Revenue Cloud assets, verified and safe to re-run.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
runs_app = typer.Typer(help="Inspect and steer runs: list, show, logs, retry, cancel.", no_args_is_help=True)
jobs_app = typer.Typer(
    help="Job files in jobs/: list them with their next fire times, check them.", no_args_is_help=True
)
emulator_app = typer.Typer(help="The embedded Revenue Cloud emulator.", no_args_is_help=True)
ledger_app = typer.Typer(help="The ledger database: migrations.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
app.add_typer(jobs_app, name="jobs")
app.add_typer(emulator_app, name="emulator")
app.add_typer(ledger_app, name="ledger")


@dataclass
class Context:
    """What the global options decided; settings are loaded on first use, once."""

    config: Path | None
    verbose: bool
    json_output: bool
    _settings: Settings | None = field(default=None)

    @property
    def settings(self) -> Settings:
        """The settings, loaded once at the edge."""
        if self._settings is None:
            self._settings = load_settings(self.config)
            sflog.redactor.add_secrets(secret_values(self._settings))
            sflog.configure(
                level="DEBUG" if self.verbose else self._settings.logging.level,
                fmt=self._settings.logging.format,
            )
        return self._settings


def _ctx(typer_ctx: typer.Context) -> Context:
    obj = typer_ctx.find_root().obj
    if not isinstance(obj, Context):
        msg = "CLI context missing"
        raise TypeError(msg)
    return obj


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


def _not_built(what: str, issue: int) -> int:
    Console(stderr=True).print(f"[yellow]{what}: not built yet[/] (see issue {issue}).")
    return EXIT_USAGE


@app.command()
def demo(typer_ctx: typer.Context) -> int:
    """Run the Capricorn Coffee scenario end to end on the embedded emulator (no org needed).

    Example: [bold]sfsync demo[/]
    """
    return _not_built("sfsync demo", 6)


@app.command()
def run(
    typer_ctx: typer.Context,
    job: Annotated[Path, typer.Argument(help="A job file, e.g. jobs/renewal-sweep.toml.")],
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
    """Run a job file now.

    Example: [bold]sfsync run jobs/renewal-sweep.toml --dry-run[/]
    """
    return _not_built("sfsync run", 5)


@app.command()
def cancel(
    typer_ctx: typer.Context,
    assets: Annotated[
        Path, typer.Option("--assets", help="CSV with header AssetId (optional CancellationDate).")
    ],
    date: Annotated[str, typer.Option("--date", metavar="YYYY-MM-DD", help="Default cancellation date.")],
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
    return _not_built("sfsync cancel", 5)


@app.command()
def worker(typer_ctx: typer.Context) -> int:
    """Run the scheduler: fire every job file on its schedule until SIGTERM."""
    return _not_built("sfsync worker", 6)


@app.command()
def doctor(typer_ctx: typer.Context) -> int:
    """Check configuration, connectivity, auth, API version, permissions and the ledger."""
    return _not_built("sfsync doctor", 6)


@runs_app.command("list")
def runs_list(typer_ctx: typer.Context) -> int:
    """List runs, newest first."""
    return _not_built("sfsync runs list", 6)


@runs_app.command("show")
def runs_show(typer_ctx: typer.Context, run_id: str) -> int:
    """Show a run's summary and items."""
    return _not_built("sfsync runs show", 6)


@runs_app.command("logs")
def runs_logs(typer_ctx: typer.Context, run_id: str) -> int:
    """Show a run's log."""
    return _not_built("sfsync runs logs", 6)


@runs_app.command("retry")
def runs_retry(typer_ctx: typer.Context, run_id: str) -> int:
    """Retry a run's failed items."""
    return _not_built("sfsync runs retry", 6)


@runs_app.command("cancel")
def runs_cancel(typer_ctx: typer.Context, run_id: str) -> int:
    """Cancel a run."""
    return _not_built("sfsync runs cancel", 6)


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


@emulator_app.command("serve")
def emulator_serve(typer_ctx: typer.Context) -> int:
    """Serve the emulator on its own, printing the instance URL and an access token."""
    return _not_built("sfsync emulator serve", 3)


@ledger_app.command("upgrade")
def ledger_upgrade(typer_ctx: typer.Context) -> int:
    """Apply the ledger's database migrations."""
    return _not_built("sfsync ledger upgrade", 5)


def exit_code_for(exc: BaseException) -> int:
    """The exit code a failure maps to."""
    if isinstance(exc, BudgetExhaustedError | RateLimitedError):
        return EXIT_PAUSED
    if isinstance(exc, UnavailableError):
        return EXIT_UNAVAILABLE
    if isinstance(exc, ConfigError | InputError | AuthError):
        return EXIT_USAGE
    return EXIT_ITEMS_FAILED


def _cause_chain(exc: BaseException) -> str:
    parts = [str(exc) or type(exc).__name__]
    seen = {id(exc)}
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen and not exc.__suppress_context__:
        seen.add(id(cause))
        parts.append(str(cause) or type(cause).__name__)
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
