"""Initial schema: runs, items, active assets, events, ticks, org slots and usage.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sfsync.ledger.types import BigIntPK, JSONDoc, UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "org_slots",
        sa.Column("org", sa.String(length=100), nullable=False),
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=True),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("org", "slot", name=op.f("pk_org_slots")),
    )
    op.create_table(
        "org_usage",
        sa.Column("org", sa.String(length=100), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("allowance", sa.Integer(), nullable=False),
        sa.Column("observed_at", UTCDateTime(), nullable=False),
        sa.Column("worker_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("org", name=op.f("pk_org_usage")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("job", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("fire_time", UTCDateTime(), nullable=True),
        sa.Column("org", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("parameters", JSONDoc, nullable=False),
        sa.Column("counts", JSONDoc, nullable=False),
        sa.Column("worker_id", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index(op.f("ix_runs_created_at"), "runs", ["created_at"], unique=False)
    op.create_index(op.f("ix_runs_job_created_at"), "runs", ["job", "created_at"], unique=False)
    op.create_index(op.f("ix_runs_status"), "runs", ["status"], unique=False)
    op.create_table(
        "active_assets",
        sa.Column("asset_id", sa.String(length=18), nullable=False),
        sa.Column("run_id", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_active_assets_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("asset_id", name=op.f("pk_active_assets")),
    )
    op.create_index(op.f("ix_active_assets_run_id"), "active_assets", ["run_id"], unique=False)
    op.create_table(
        "events",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("run_id", sa.String(length=16), nullable=True),
        sa.Column("item_id", sa.BigInteger(), nullable=True),
        sa.Column("asset_id", sa.String(length=18), nullable=True),
        sa.Column("fields", JSONDoc, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_events_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    op.create_index(
        op.f("ix_events_run_id_asset_id_id"), "events", ["run_id", "asset_id", "id"], unique=False
    )
    op.create_index(op.f("ix_events_run_id_id"), "events", ["run_id", "id"], unique=False)
    op.create_index(op.f("ix_events_run_id_level_id"), "events", ["run_id", "level", "id"], unique=False)
    op.create_table(
        "items",
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(length=16), nullable=False),
        sa.Column("asset_id", sa.String(length=18), nullable=False),
        sa.Column("account_id", sa.String(length=18), nullable=True),
        sa.Column("asset_name", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=True),
        sa.Column("quote_id", sa.String(length=18), nullable=True),
        sa.Column("order_id", sa.String(length=18), nullable=True),
        sa.Column("price_book_id", sa.String(length=18), nullable=True),
        sa.Column("term_start", sa.Date(), nullable=True),
        sa.Column("term_end", sa.Date(), nullable=True),
        sa.Column("cancellation_date", sa.Date(), nullable=True),
        sa.Column("sf_error_code", sa.String(length=100), nullable=True),
        sa.Column("sf_error_message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("intent_at", UTCDateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=True),
        sa.Column("lease_token", sa.BigInteger(), nullable=False),
        sa.Column("detail", JSONDoc, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_items_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
        sa.UniqueConstraint("run_id", "asset_id", name=op.f("uq_items_run_id_asset_id")),
    )
    op.create_index(op.f("ix_items_lease_owner"), "items", ["lease_owner"], unique=False)
    op.create_index(op.f("ix_items_run_id_state"), "items", ["run_id", "state"], unique=False)
    op.create_table(
        "ticks",
        sa.Column("job", sa.String(length=200), nullable=False),
        sa.Column("fire_time", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("run_id", sa.String(length=16), nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_ticks_run_id_runs"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("job", "fire_time", name=op.f("pk_ticks")),
    )


def downgrade() -> None:
    """Revert this revision (indexes go with their tables)."""
    for table in ("ticks", "items", "events", "active_assets", "runs", "org_usage", "org_slots"):
        op.drop_table(table)
