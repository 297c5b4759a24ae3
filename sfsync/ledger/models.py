"""The ledger's tables, as typed SQLAlchemy 2 models (the migrations must match these)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sfsync.ledger.types import BigIntPK, JSONDoc, LedgerDate, UTCDateTime

# Named constraints keep migrations identical on every backend.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SFID = String(18)
WORKER = String(200)


class Base(DeclarativeBase):
    """Declarative base carrying the ledger's metadata."""

    metadata = MetaData(naming_convention=NAMING)


class RunRow(Base):
    """One execution of a job."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    job: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    trigger: Mapped[str] = mapped_column(String(20))
    fire_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    org: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20))
    dry_run: Mapped[bool] = mapped_column(Boolean)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONDoc)
    worker_id: Mapped[str | None] = mapped_column(WORKER)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(None, "job", "created_at"),
        Index(None, "status"),
        Index(None, "created_at"),
    )


class ItemRow(Base):
    """One asset in one run."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    asset_id: Mapped[str] = mapped_column(SFID)
    account_id: Mapped[str | None] = mapped_column(SFID)
    asset_name: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(40))
    step: Mapped[str | None] = mapped_column(String(40))
    quote_id: Mapped[str | None] = mapped_column(SFID)
    order_id: Mapped[str | None] = mapped_column(SFID)
    price_book_id: Mapped[str | None] = mapped_column(SFID)
    term_start: Mapped[date | None] = mapped_column(LedgerDate)
    term_end: Mapped[date | None] = mapped_column(LedgerDate)
    cancellation_date: Mapped[date | None] = mapped_column(LedgerDate)
    sf_error_code: Mapped[str | None] = mapped_column(String(100))
    sf_error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    intent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(WORKER)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_token: Mapped[int] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("run_id", "asset_id"),
        Index(None, "run_id", "state"),
        Index(None, "lease_owner"),
    )


class ActiveAssetRow(Base):
    """An asset held by an active run: the primary key makes "one active run per asset" atomic."""

    __tablename__ = "active_assets"

    asset_id: Mapped[str] = mapped_column(SFID, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)


class EventRow(Base):
    """One line of a job's log."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    level: Mapped[str] = mapped_column(String(10))
    event: Mapped[str] = mapped_column(String(100))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(BigInteger)
    asset_id: Mapped[str | None] = mapped_column(SFID)
    fields: Mapped[dict[str, Any]] = mapped_column(JSONDoc)

    __table_args__ = (
        Index(None, "run_id", "id"),
        Index(None, "run_id", "asset_id", "id"),
        Index(None, "run_id", "level", "id"),
    )


class TickRow(Base):
    """A scheduled fire of a job: claimed by exactly one worker, or recorded as missed."""

    __tablename__ = "ticks"

    job: Mapped[str] = mapped_column(String(200), primary_key=True)
    fire_time: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    claimed_by: Mapped[str | None] = mapped_column(WORKER)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OrgSlotRow(Base):
    """One leased unit of an org's API concurrency, shared by all workers."""

    __tablename__ = "org_slots"

    org: Mapped[str] = mapped_column(String(100), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str | None] = mapped_column(WORKER)
    token: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OrgUsageRow(Base):
    """The last API usage any worker saw for an org (from ``Sforce-Limit-Info``)."""

    __tablename__ = "org_usage"

    org: Mapped[str] = mapped_column(String(100), primary_key=True)
    used: Mapped[int] = mapped_column(Integer)
    allowance: Mapped[int] = mapped_column(Integer)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    worker_id: Mapped[str | None] = mapped_column(WORKER)


metadata = Base.metadata
runs = metadata.tables["runs"]
items = metadata.tables["items"]
active_assets = metadata.tables["active_assets"]
events = metadata.tables["events"]
ticks = metadata.tables["ticks"]
org_slots = metadata.tables["org_slots"]
org_usage = metadata.tables["org_usage"]
