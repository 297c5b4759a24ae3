"""Read-only views: the runs list, a run's page, its live JSON and CSV export. No GET changes state.

The handlers are plain functions: the ledger is synchronous, so the guard runs them in a worker
thread and the event loop stays free for other requests.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from sfsync.engine.export import CsvExporter
from sfsync.ledger import ACTIVE_STATUSES, Event, Item, Run
from sfsync.ledger.records import LEVELS, RUN_STATUSES
from sfsync.web.auth import Session
from sfsync.web.context import WebContext

RUNS_PER_PAGE = 25
ITEMS_PER_PAGE = 100
LOG_LINES = 500
LIVE_LINES = 200
_STATE = re.compile(r"[a-z_]{1,40}")
CSV_COLUMNS = (
    "asset_id", "asset_name", "account_id", "state", "step", "quote_id", "order_id", "term_start",
    "term_end", "cancellation_date", "error_code", "error_message", "attempts", "updated_at",
)  # fmt: skip


class BadFilter(ValueError):
    """A filter value in the query string that makes no sense; shown to the admin as a 400."""


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        msg = f"page must be a whole number from 1, not {raw!r}"
        raise BadFilter(msg)
    return int(raw)


def _choice(request: Request, name: str, allowed: tuple[str, ...] | frozenset[str]) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and value not in allowed:
        msg = f"{name} must be one of {', '.join(sorted(allowed))}, not {value!r}"
        raise BadFilter(msg)
    return value


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"since must be a date like 2026-11-23, not {text!r}"
        raise BadFilter(msg) from None


def duration(run: Run, now: datetime) -> str:
    """How long a run took (or has been running), as ``1h 02m 03s``."""
    if run.started_at is None:
        return ""
    seconds = int(((run.finished_at or now) - run.started_at).total_seconds())
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def event_json(event: Event) -> dict[str, Any]:
    """A log line as the live-refresh script receives it (the script inserts it as text only)."""
    return {
        "id": event.id,
        "at": event.at.strftime("%Y-%m-%d %H:%M:%S"),
        "level": event.level,
        "event": event.event,
        "asset_id": event.asset_id,
        "fields": fields_text(event.fields),
    }


def fields_text(fields: dict[str, Any]) -> str:
    """An event's fields as ``key=value`` pairs."""
    return " ".join(f"{key}={value}" for key, value in fields.items())


class Pages:
    """The GET handlers over one :class:`WebContext`."""

    def __init__(self, ctx: WebContext) -> None:
        self.ctx = ctx

    def runs(self, request: Request, session: Session) -> Response:
        """The runs list, newest first, filtered by job, status and creation date."""
        try:
            number = _page_number(request)
            status = _choice(request, "status", frozenset(RUN_STATUSES))
            since_text = request.query_params.get("since") or None
            since = _date(since_text)
        except ValueError as exc:
            return self.ctx.render(request, "error.html", session, status_code=400, message=str(exc))
        job = request.query_params.get("job") or None
        found = self.ctx.ledger.runs.find(
            job=job,
            statuses=[status] if status else None,
            since=datetime.combine(since, datetime.min.time(), UTC) if since else None,
            limit=RUNS_PER_PAGE + 1,
            offset=(number - 1) * RUNS_PER_PAGE,
        )
        now = self.ctx.clock.now()
        # A running run's stored counts lag behind its items; show the live ones.
        rows = [
            (run, duration(run, now), self.ctx.ledger.items.counts(run.id) if run.active else run.counts)
            for run in found[:RUNS_PER_PAGE]
        ]
        filters = {"job": job or "", "status": status or "", "since": since_text or ""}
        return self.ctx.render(
            request, "runs.html", session, rows=rows, filters=filters, statuses=sorted(RUN_STATUSES),
            page=number, has_next=len(found) > RUNS_PER_PAGE,
        )  # fmt: skip

    def run(self, request: Request, session: Session) -> Response:
        """A run: summary, progress per state, items (filter and search) and its log."""
        run = self.ctx.ledger.runs.get(request.path_params["run_id"])
        if run is None:
            return self.ctx.render(request, "error.html", session, status_code=404, message="No such run.")
        counts = self.ctx.ledger.items.counts(run.id)
        holders = self.ctx.ledger.claims.holders(run.id) if run.status in ACTIVE_STATUSES else []
        try:
            number = _page_number(request)
            state = request.query_params.get("state") or None
            if state is not None and not _STATE.fullmatch(state):
                msg = f"state must be an item state such as failed, not {state!r}"
                raise BadFilter(msg)
            level = _choice(request, "level", LEVELS)
        except ValueError as exc:
            return self.ctx.render(request, "error.html", session, status_code=400, message=str(exc))
        search = (request.query_params.get("q") or "").strip()
        log_asset = (request.query_params.get("asset") or "").strip() or None
        found = self.ctx.ledger.items.find(
            run.id, states=[state] if state else None, asset_prefix=search or None,
            limit=ITEMS_PER_PAGE + 1, offset=(number - 1) * ITEMS_PER_PAGE,
        )  # fmt: skip
        events = self.ctx.ledger.events.find(run.id, min_level=level, asset_id=log_asset, limit=LOG_LINES)
        filters = {"state": state or "", "q": search, "level": level or "", "asset": log_asset or ""}
        return self.ctx.render(
            request, "run.html", session, run=run, counts=counts, total=sum(counts.values()), holders=holders,
            duration=duration(run, self.ctx.clock.now()), items=found[:ITEMS_PER_PAGE],
            has_next=len(found) > ITEMS_PER_PAGE, page=number, events=events,
            log_truncated=len(events) >= LOG_LINES, last_event_id=events[-1].id if events else 0,
            filters=filters, levels=LEVELS, live=run.status in ACTIVE_STATUSES, fields_text=fields_text,
        )  # fmt: skip

    def live(self, request: Request, session: Session) -> Response:
        """A running run's status, counts and log lines after ``after`` (polled by live.js)."""
        run = self.ctx.ledger.runs.get(request.path_params["run_id"])
        if run is None:
            return JSONResponse({"error": "no such run"}, status_code=404)
        after = request.query_params.get("after", "0")
        level = request.query_params.get("level") or None
        if not after.isdigit() or (level is not None and level not in LEVELS):
            return JSONResponse(
                {"error": "after must be a whole number, level one of " + ", ".join(LEVELS)}, 400
            )
        asset = request.query_params.get("asset") or None
        events = self.ctx.ledger.events.find(
            run.id, min_level=level, asset_id=asset, after_id=int(after), limit=LIVE_LINES
        )
        counts = self.ctx.ledger.items.counts(run.id)
        return JSONResponse(
            {
                "status": run.status,
                "active": run.status in ACTIVE_STATUSES,
                "counts": counts,
                "total": sum(counts.values()),
                "duration": duration(run, self.ctx.clock.now()),
                "events": [event_json(e) for e in events],
            }
        )

    def export(self, request: Request, session: Session) -> Response:
        """A run's items as CSV, streamed; text cells cannot run as spreadsheet formulas."""
        run = self.ctx.ledger.runs.get(request.path_params["run_id"])
        if run is None:
            return Response("no such run", status_code=404, media_type="text/plain")
        return StreamingResponse(
            self._csv_chunks(run.id),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{run.id}-items.csv"'},
        )

    def _csv_chunks(self, run_id: str) -> Iterator[str]:
        buffer = io.StringIO()
        exporter = CsvExporter(buffer, CSV_COLUMNS, excel_bom=True)
        after: int | None = None
        while True:
            batch = self.ctx.ledger.items.find(run_id, after_id=after, limit=500)
            for item in batch:
                exporter.write(_csv_row(item))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(batch) < 500:
                return
            after = batch[-1].id


def _csv_row(item: Item) -> tuple[object, ...]:
    return (
        item.asset_id, item.asset_name, item.account_id, item.state, item.step, item.quote_id,
        item.order_id, item.term_start, item.term_end, item.cancellation_date, item.sf_error_code,
        item.sf_error_message, item.attempts, item.updated_at,
    )  # fmt: skip
