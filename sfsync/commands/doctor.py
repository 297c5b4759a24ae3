"""``sfsync doctor``: check configuration, the org (reachability, TLS, auth, API version, objects,
actions, budget) and the ledger, printing each check with how to fix what is wrong.

Exit 0 when everything passes, 69 when Salesforce cannot be reached, 2 for any other problem
(settings, job files, credentials, missing objects or actions, the ledger). Every call to the org
goes through the Salesforce client's transport, so doctor sees what the worker would see.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Literal

import typer

from sfsync import bootstrap
from sfsync.commands.context import EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE, Context, ctx_of
from sfsync.errors import AuthError, NotFoundError, SfsyncError, UnavailableError
from sfsync.jobspec import load_jobs
from sfsync.ledger.ledger import open_ledger
from sfsync.ledger.migrate import current_revision, head_revision
from sfsync.salesforce.transport import Transport
from sfsync.settings import Settings

Status = Literal["ok", "warn", "problem"]

#: Objects and the fields the engine reads or writes on them.
OBJECTS: dict[str, tuple[str, ...]] = {
    "Asset": ("AccountId", "LifecycleStartDate", "LifecycleEndDate", "HasLifecycleManagement", "RenewalTerm"),
    "AssetAction": ("AssetId", "ActionDate", "CategoryEnum"),
    "AssetStatePeriod": ("AssetId", "StartDate", "EndDate", "Quantity"),
    "AssetActionSource": ("AssetActionId", "ReferenceEntityItemId"),
    "AssetRelationship": ("AssetId", "RelatedAssetId"),
    "Quote": ("CalculationStatus", "Status", "Pricebook2Id"),
    "QuoteLineItem": ("QuoteId", "QuoteActionId"),
    "QuoteAction": ("QuoteId", "SourceAssetId", "Type"),
    "Order": ("QuoteId", "Status", "ShippingStreet"),
    "OrderItem": ("OrderId", "OrderActionId", "QuoteLineItemId"),
    "OrderAction": ("OrderId", "SourceAssetId", "Type"),
    "AsyncOperationTracker": ("ReferenceEntityId", "Status", "JobType"),
    "RevenueTransactionErrorLog": ("PrimaryRecordId", "ErrorCode", "ErrorMessage"),
}


@dataclass(frozen=True)
class Check:
    """One check's verdict, what it saw, and how to fix a problem."""

    name: str
    status: Status
    detail: str
    fix: str = ""
    unreachable: bool = False


def check_settings(ctx: Context) -> tuple[Settings | None, Check]:
    """Load the settings."""
    try:
        settings = ctx.settings
    except SfsyncError as exc:
        return None, Check("settings", "problem", str(exc), "fix the settings file or SFSYNC_* variables")
    return settings, Check("settings", "ok", f"loaded ({len(settings.orgs)} org profile(s))")


def check_jobs(settings: Settings) -> Check:
    """Every job file is valid and names a known org profile."""
    directory = settings.worker.jobs_dir
    if not directory.is_dir():
        return Check("job files", "warn", f"{directory} does not exist", "create it or set worker.jobs_dir")
    problems, count = [], 0
    for spec in load_jobs(directory):
        count += 1
        if isinstance(spec, SfsyncError):
            problems.append(str(spec))
        elif spec.org is not None and spec.org not in settings.orgs:
            problems.append(f"{spec.source}: org {spec.org!r} is not a profile")
    if problems:
        return Check("job files", "problem", "; ".join(problems), "run `sfsync jobs check` and fix the files")
    return Check("job files", "ok", f"{count} valid in {directory}")


def check_ledger(settings: Settings) -> Check:
    """The ledger answers and is migrated to the packaged head."""
    try:
        book = open_ledger(settings.ledger.url, migrate=False)
    except Exception as exc:  # any driver error means the same to the operator
        return Check("ledger", "problem", f"cannot open: {type(exc).__name__}", "check ledger.url")
    try:
        current, head = current_revision(book.engine), head_revision()
    except Exception as exc:  # the database did not answer
        return Check(
            "ledger", "problem", f"unreachable: {type(exc).__name__}", "check ledger.url and the database"
        )
    finally:
        book.close()
    if current != head:
        return Check(
            "ledger", "problem", f"at revision {current}, package needs {head}", "run `sfsync ledger upgrade`"
        )
    return Check("ledger", "ok", f"{book.dialect} at revision {head}")


def _names(body: object, key: str) -> set[str]:
    rows = body.get(key, []) if isinstance(body, dict) else []
    return {str(row.get("name")) for row in rows if isinstance(row, dict)}


def org_checks(transport: Transport, action: str) -> Iterator[Check]:
    """Auth, API version, objects and fields, actions, budget and assetization set-up of one org."""
    profile = transport.profile
    token = transport.token()
    yield Check("connectivity, TLS and auth", "ok", f"token for {token.instance_url}")
    versions = transport.request("GET", "/services/data/").body
    served = (
        {str(v.get("version")) for v in versions if isinstance(v, dict)}
        if isinstance(versions, list)
        else set()
    )
    if profile.api_version in served:
        yield Check("API version", "ok", f"v{profile.api_version} served")
    else:
        newest = max(served, key=float, default="none")
        yield Check(
            "API version",
            "problem",
            f"v{profile.api_version} not served (newest {newest})",
            "set api_version",
        )
    for sobject, fields in OBJECTS.items():
        try:
            body = transport.request("GET", f"sobjects/{sobject}/describe").body
        except NotFoundError:
            yield Check(
                f"object {sobject}",
                "problem",
                "not visible",
                "grant the integration user access (permission set)",
            )
            continue
        missing = sorted(set(fields) - _names(body, "fields"))
        if missing:
            yield Check(
                f"object {sobject}",
                "problem",
                f"fields not visible: {', '.join(missing)}",
                "grant field access",
            )
        else:
            yield Check(f"object {sobject}", "ok", f"{len(fields)} needed field(s) visible")
    listed = _names(transport.request("GET", "actions/standard").body, "actions")
    needed = ["initiateRenewal", "initiateCancellation", action]
    absent = [name for name in needed if name not in listed]
    if absent:
        fix = "enable Revenue Cloud, or set order_from_quote_action to the action the org has"
        yield Check("invocable actions", "problem", f"not listed: {', '.join(absent)}", fix)
    else:
        yield Check("invocable actions", "ok", ", ".join(needed))
    limits = transport.request("GET", "limits").body
    daily = limits.get("DailyApiRequests", {}) if isinstance(limits, dict) else {}
    remaining, allowed = int(daily.get("Remaining", 0)), int(daily.get("Max", 0))
    if allowed and remaining <= profile.api_reserve * allowed:
        fix = f"wait for the daily reset or lower api_reserve ({profile.api_reserve:.0%})"
        yield Check("API budget", "problem", f"{remaining} of {allowed} calls left", fix)
    else:
        yield Check("API budget", "ok", f"{remaining} of {allowed} daily calls left")
    try:
        transport.request("GET", "sobjects/AppUsageAssignment/describe")
        yield Check("assetization set-up", "ok", "AppUsageAssignment visible")
    except NotFoundError:
        fix = "assign the integration user access to AppUsageAssignment, or orders will not assetize"
        yield Check("assetization set-up", "warn", "AppUsageAssignment not visible", fix)


def run_org_checks(settings: Settings, org: str | None) -> list[Check]:
    """Connect to the org profile and run its checks, turning failures into problems."""
    found: list[Check] = []
    try:
        with bootstrap.connect(settings, org) as conn:
            for check in org_checks(conn.client.transport, conn.profile.order_from_quote_action):
                found.append(check)
    except UnavailableError as exc:
        found.append(
            Check("connectivity", "problem", str(exc), "check login_host, the network and ca_bundle", True)
        )
    except AuthError as exc:
        found.append(Check("auth", "problem", str(exc), "check client_id, the secret or key, and the user"))
    except SfsyncError as exc:
        found.append(Check("org", "problem", str(exc), "see the message"))
    return found


def _print(checks: list[Check], emit: Callable[[str], None]) -> None:
    mark = {"ok": "ok     ", "warn": "warning", "problem": "PROBLEM"}
    for check in checks:
        line = f"{mark[check.status]}  {check.name}: {check.detail}"
        emit(line + (f"\n         fix: {check.fix}" if check.fix and check.status != "ok" else ""))


def doctor(
    typer_ctx: typer.Context,
    org: Annotated[str | None, typer.Option("--org", metavar="PROFILE", help="Org profile to check.")] = None,
) -> int:
    """Check configuration, connectivity, auth, API version, objects, actions, budget and the ledger.

    Exit 0 when all pass, 69 when Salesforce is unreachable, 2 for other problems.

    Example: [bold]sfsync doctor --org production[/]
    """
    ctx = ctx_of(typer_ctx)
    settings, first = check_settings(ctx)
    checks = [first]
    if settings is not None:
        checks += [check_jobs(settings), check_ledger(settings), *run_org_checks(settings, org)]
    if ctx.json_output:
        ctx.emit([{"check": c.name, "status": c.status, "detail": c.detail, "fix": c.fix} for c in checks])
    else:
        _print(checks, lambda line: typer.echo(line))
    if any(c.unreachable for c in checks):
        return EXIT_UNAVAILABLE
    return EXIT_USAGE if any(c.status == "problem" for c in checks) else EXIT_OK
