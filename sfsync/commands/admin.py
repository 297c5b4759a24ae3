"""``sfsync ledger upgrade`` and ``sfsync emulator serve``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sfsync.commands.context import EXIT_OK, ctx_of

ledger_app = typer.Typer(help="The ledger database: migrations.", no_args_is_help=True)
emulator_app = typer.Typer(help="The embedded Revenue Cloud emulator.", no_args_is_help=True)


@ledger_app.command("upgrade")
def upgrade(typer_ctx: typer.Context) -> int:
    """Apply the ledger's database migrations (runs also migrate automatically).

    Example: [bold]SFSYNC_LEDGER__URL=postgresql+psycopg://sfsync@db/sfsync sfsync ledger upgrade[/]
    """
    from sfsync.ledger.migrate import upgrade as migrate

    ctx = ctx_of(typer_ctx)
    migrate(ctx.settings.ledger.url)
    ctx.out.print("ledger is at the latest schema", markup=False)
    return EXIT_OK


@emulator_app.command("serve")
def serve(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 (0 = a free one).")] = 0,
    seed: Annotated[str | None, typer.Option("--seed", help="capricorn or synthetic:N")] = "capricorn",
    latency_ms: Annotated[int, typer.Option("--latency-ms", help="Latency added to every data request.")] = 0,
    faults: Annotated[
        str | None, typer.Option("--faults", help='Fault rules as JSON: {"rules": [...]}')
    ] = None,
    state_dir: Annotated[Path | None, typer.Option("--state-dir", help="Keep the org's data here.")] = None,
) -> int:
    """Serve the emulator on its own, printing the instance URL, CA file and an access token (JSON).

    Example: [bold]sfsync emulator serve --seed synthetic:1000 --latency-ms 20[/]
    """
    from sfsync.emulator.serve import main

    argv = ["serve", "--port", str(port), "--latency-ms", str(latency_ms)]
    if seed:
        argv += ["--seed", seed]
    if faults:
        argv += ["--faults", faults]
    if state_dir:
        argv += ["--state-dir", str(state_dir)]
    return main(argv)
