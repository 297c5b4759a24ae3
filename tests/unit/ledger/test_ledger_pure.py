"""Pure parts of the ledger: ids, URL handling, the UTC column type, records and chunking."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from sfsync.ledger import Lease, OrgUsage, Run
from sfsync.ledger.claims import WRITABLE
from sfsync.ledger.db import chunks, make_engine, normalise_url, sqlite_path
from sfsync.ledger.migrate import head_revision
from sfsync.ledger.runs import new_run_id
from sfsync.ledger.types import UTCDateTime

SQLITE = sqlite.dialect()
POSTGRES = postgresql.dialect()  # type: ignore[no-untyped-call]  # psycopg2 dialect __init__ is untyped


def test_run_ids_are_short_readable_and_distinct() -> None:
    """Run ids are ``r-`` plus ten lowercase base32 characters, and do not repeat."""
    ids = {new_run_id() for _ in range(2_000)}
    assert len(ids) == 2_000
    assert all(re.fullmatch(r"r-[a-z2-7]{10}", i) for i in ids)


def test_postgres_urls_use_psycopg3() -> None:
    """Bare postgresql:// URLs are pointed at psycopg 3; others are left alone."""
    assert normalise_url("postgresql://u:p%40ss@db:5432/sf") == "postgresql+psycopg://u:p%40ss@db:5432/sf"
    assert normalise_url("postgresql+psycopg://db/sf") == "postgresql+psycopg://db/sf"
    assert normalise_url("sqlite:///var/sfsync.db") == "sqlite:///var/sfsync.db"


def test_sqlite_path_of_urls() -> None:
    """The SQLite file is found in relative and absolute URLs; memory and PostgreSQL have none."""
    assert str(sqlite_path("sqlite:///var/sfsync.db")) == "var/sfsync.db"
    assert str(sqlite_path("sqlite:////tmp/x/l.db")) == "/tmp/x/l.db"
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("postgresql+psycopg://db/sf") is None


def test_unsupported_ledgers_are_refused() -> None:
    """An in-memory SQLite or an unknown backend is a clear configuration mistake."""
    with pytest.raises(ValueError, match="in-memory"):
        make_engine("sqlite://")
    with pytest.raises(ValueError, match="unsupported"):
        make_engine("mysql://db/sf")


def test_utc_datetime_binds_utc_and_refuses_naive() -> None:
    """Aware times are stored as UTC (naive on SQLite); naive ones are a bug and refused."""
    column = UTCDateTime()
    paris = datetime(2026, 11, 23, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    naive_noon = datetime(2026, 11, 23, 12, 0, tzinfo=UTC).replace(tzinfo=None)
    assert column.process_bind_param(paris, SQLITE) == naive_noon
    assert column.process_bind_param(paris, POSTGRES) == datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert column.process_bind_param(None, SQLITE) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        column.process_bind_param(naive_noon, SQLITE)


def test_utc_datetime_reads_back_aware_utc() -> None:
    """Whatever the backend returns, the ledger hands out aware UTC datetimes."""
    column = UTCDateTime()
    six = datetime(2026, 1, 1, 6, tzinfo=UTC)
    assert column.process_result_value(six.replace(tzinfo=None), SQLITE) == six
    tokyo = datetime(2026, 1, 1, 15, tzinfo=timezone(timedelta(hours=9)))
    read = column.process_result_value(tokyo, POSTGRES)
    assert read is not None
    assert read.utcoffset() == timedelta(0)
    assert read.hour == 6


def test_records_build_from_rows_and_expose_leases() -> None:
    """Records ignore extra row keys; usage fractions guard against a zero allowance."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    row: dict[str, object] = {
        "id": "r-abc",
        "job": "j",
        "kind": "renewal",
        "trigger": "manual",
        "fire_time": None,
        "org": "prod",
        "status": "paused",
        "dry_run": False,
        "parameters": {},
        "counts": {},
        "worker_id": None,
        "error": None,
        "created_at": now,
        "started_at": None,
        "finished_at": None,
        "heartbeat_at": None,
        "extra_column": 1,
    }
    assert Run.from_row(row).active
    assert OrgUsage("prod", 90, 100, now, None).fraction == pytest.approx(0.9)
    assert OrgUsage("prod", 5, 0, now, None).fraction == 1.0
    assert Lease(3, 7) == Lease(3, 7)


def test_lease_columns_are_not_writable() -> None:
    """Fenced writes cannot change the lease itself or the identity of an item."""
    assert {"lease_owner", "lease_expires_at", "lease_token", "id", "run_id", "asset_id"}.isdisjoint(WRITABLE)
    assert {"state", "quote_id", "order_id", "sf_error_code", "sf_error_message"} <= WRITABLE


def test_chunks_cover_everything_in_order() -> None:
    """Chunking keeps order and bounds each slice."""
    parts = list(chunks(list(range(2_001)), 900))
    assert [len(p) for p in parts] == [900, 900, 201]
    assert [x for p in parts for x in p] == list(range(2_001))
    assert list(chunks([], 10)) == []


def test_packaged_migrations_have_a_head() -> None:
    """The migrations shipped in the package resolve to one head revision."""
    assert head_revision() == "0001"
