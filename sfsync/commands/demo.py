"""``sfsync demo``: the training unit's scenario, end to end, on the embedded emulator.

Capricorn Coffee renews Google Workspace with an override term (today → one year from today), then
cancels Retail POS Enterprise three months out; QuickBooks Online is left alone. Both runs go
through the real engine, against a fresh emulated org, and are recorded in the ledger so that
``sfsync runs show`` and the admin page can show them afterwards.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from sfsync import bootstrap
from sfsync.commands.context import EXIT_ITEMS_FAILED, EXIT_OK, Context, ctx_of
from sfsync.commands.report import item_dict, result_line
from sfsync.engine.cancel_input import CancelRow
from sfsync.jobspec import JobSpec
from sfsync.ledger.ledger import Ledger
from sfsync.lifecycle.terms import add_months_to_date
from sfsync.salesforce import soql
from sfsync.salesforce.client import SalesforceClient

RENEWAL = {
    "name": "demo-renewal",
    "kind": "renewal",
    "description": "Capricorn Coffee: renew Google Workspace, override term today → today + 1 year",
    "selection": {"window_days": 30},
    "renewal": {"term": "override", "start": "today", "end": "today+1y", "output": "quote"},
}
CANCELLATION = {
    "name": "demo-cancellation",
    "kind": "cancellation",
    "description": "Capricorn Coffee: cancel Retail POS Enterprise three months out",
    "cancellation": {"date": "today+3m"},
}


def demo(
    typer_ctx: typer.Context,
    keep_org: Annotated[
        Path | None,
        typer.Option("--org-dir", help="Keep the emulated org here (default: a fresh temporary one)."),
    ] = None,
) -> int:
    """Run the Capricorn Coffee scenario end to end on the embedded emulator (no org needed).

    Example: [bold]sfsync demo[/]
    """
    ctx = ctx_of(typer_ctx)
    settings = ctx.settings
    ctx.quiet_logs()
    out = ctx.out
    with tempfile.TemporaryDirectory(prefix="sfsync-demo-") as scratch:
        state = keep_org or Path(scratch)
        with (
            bootstrap.ledger(settings) as book,
            bootstrap.connect(settings, "emulator", emulator_state=state) as conn,
        ):
            engine = bootstrap.engine(settings, conn, book)
            if not ctx.json_output:
                out.print(
                    f"[bold]sfsync demo[/] — emulated org at {conn.profile.login_host}, ledger {settings.ledger.url}"
                )
                out.print("1. Renewal sweep: Google Workspace, override term today → today + 1 year")
            renewal = engine.run_renewals(JobSpec.model_validate(RENEWAL), trigger="demo")
            _show(ctx, book, renewal.run_id)
            if not ctx.json_output:
                out.print("2. Cancellation run: Retail POS Enterprise, three months from today")
            pos = _asset_id(conn.client, "Retail POS Enterprise")
            when = add_months_to_date(datetime.now(UTC).date(), 3)
            rows = [CancelRow(line=2, asset_id=pos, cancellation_date=when, date_from_file=False)]
            cancellation = engine.run_cancellations(
                JobSpec.model_validate(CANCELLATION), rows, trigger="demo"
            )
            _show(ctx, book, cancellation.run_id)
            results = [renewal, cancellation]
            if not ctx.json_output:
                _untouched(ctx, conn.client, "QuickBooks Online")
            if ctx.json_output:
                ctx.emit([{"run_id": r.run_id, "status": r.status, "counts": r.counts,
                           "items": [item_dict(i) for i in book.items.find(r.run_id)]} for r in results])  # fmt: skip
            else:
                for result in results:
                    out.print(result_line(result), markup=False)
                out.print("\nWhere to look next:")
                for result in results:
                    out.print(
                        f"  sfsync runs show {result.run_id}    sfsync runs logs {result.run_id}",
                        markup=False,
                    )
                out.print(
                    "  the admin page: pip install -e '.[web]', set web.enabled, run `sfsync worker` (see README)",
                    markup=False,  # "[web]" is text, not a rich style
                )
    return EXIT_OK if all(r.status == "succeeded" for r in results) else EXIT_ITEMS_FAILED


def _asset_id(client: SalesforceClient, name: str) -> str:
    query = soql.select("Asset", ("Id",), soql.eq("Name", name))
    for row in client.query(query):
        return str(row["Id"])
    msg = f"the emulated org has no asset named {name!r}"
    raise LookupError(msg)


def _untouched(ctx: Context, client: SalesforceClient, name: str) -> None:
    query = soql.select(
        "Asset",
        (
            "Name",
            "CurrentQuantity",
            "CurrentMrr",
            "LifecycleStartDate",
            "LifecycleEndDate",
            "TotalLifecycleAmount",
        ),
        soql.eq("Name", name),
    )
    for row in client.query(query):
        ctx.out.print(
            f"3. {name} left alone: {row['CurrentQuantity']} licences, MRR {row['CurrentMrr']}, "
            f"lifecycle {str(row['LifecycleStartDate'])[:10]} → {str(row['LifecycleEndDate'])[:10]}, "
            f"amount {row['TotalLifecycleAmount']}",
            markup=False,
        )


def _show(ctx: Context, book: Ledger, run_id: str) -> None:
    if ctx.json_output:
        return
    for item in book.items.find(run_id):
        name = item.asset_name or item.asset_id
        if item.state != "verified":
            ctx.out.print(
                f"   {name}: {item.state} — {item.sf_error_code}: {item.sf_error_message}", markup=False
            )
            continue
        action = (item.detail or {}).get("action_id", "?")
        if item.cancellation_date is not None:
            what = (
                f"cancelled from {item.cancellation_date}: quote line −quantity, end quantity 0; "
                f"Cancellations asset action {action}, no new state period"
            )
        else:
            what = f"renewed {item.term_start} → {item.term_end}: Renewals asset action {action}, new state period"
        ctx.out.print(f"   {name}: verified — {what}", markup=False)
        ctx.out.print(f"      quote {item.quote_id} → order {item.order_id} (activated)", markup=False)
