"""Seed data sets of the emulated org: the Capricorn Coffee scenario and N synthetic assets.

``load(org, spec)`` with ``spec`` ``"capricorn"`` or ``"synthetic:N"`` (optionally
``"synthetic:N:seed=K"``). Both are built relative to the org clock's *today* (UTC), so the
scenario works whatever the date:

- **capricorn** — account Capricorn Coffee (shipping address; owner Chris Thomas of the seller
  InfintraBytes) with Google Workspace (its term ends 19 days from today), Retail POS Enterprise
  (quantity 1, a two-year term that began six months ago, so a cancellation three months out is
  inside it), QuickBooks Online (5 licences × 49.99 = 249.95 a year, MRR 20.83; the unit's term
  2025-08-10 → 2026-08-10 is **shifted by whole years** to the year-long term with the same month
  and day that contains today) and a bundle (Roastery Operations Suite with its child Inventory Sync
  Module through an ``AssetRelationship`` of role ``Bundle``). Every asset has the Initial Sale
  ``AssetAction``, an ``AssetActionSource`` pointing to its line of an activated initial order and
  its price book entry, and one state period.
- **synthetic:N** — N lifecycle-managed assets over N/5 accounts, 40 products and four price books;
  end dates spread over the next 365 days with 15 % in the next 30; deterministic from the seed.
"""

from __future__ import annotations

import random
import re
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from sfsync.emulator.revenue.periods import add_months
from sfsync.emulator.revenue.rows import RowBuilder, Sale

if TYPE_CHECKING:
    from sfsync.emulator.org import Org

log = structlog.get_logger(__name__)

#: Synthetic sets larger than this skip the initial orders (see build_synthetic).
LEAN_ABOVE = 5000

_SPEC = re.compile(r"^(?:capricorn|synthetic:(?P<n>\d+)(?::seed=(?P<seed>-?\d+))?)$")


def load(org: Org, spec: str) -> dict[str, int]:
    """Load a seed set into the org's store; returns the rows inserted per object (none if seeded)."""
    match = _SPEC.match(spec.strip())
    if match is None:
        msg = f"unknown seed {spec!r}: use 'capricorn' or 'synthetic:N[:seed=K]'"
        raise ValueError(msg)
    if org.store.count("Asset"):
        # a persistent org (state directory) keeps its data across restarts: seed only once
        log.info("emulator_seed_skipped", spec=spec, reason="the org already has assets")
        return {}
    started = time.perf_counter()  # for the log line only
    today = org.clock.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    builder = RowBuilder(owner_id=org.user_id, now=org.clock.now())
    if match.group("n") is None:
        build_capricorn(builder, today)
    else:
        build_synthetic(builder, today, int(match.group("n")), int(match.group("seed") or 0))
    counts = builder.insert_into(org.store)
    log.info(
        "emulator_seed_loaded",
        spec=spec,
        assets=counts.get("Asset", 0),
        seconds=round(time.perf_counter() - started, 2),
    )
    return counts


def quickbooks_start(today: datetime) -> datetime:
    """The unit's QuickBooks term start (2025-08-10) moved by whole years to the term holding today."""
    start = datetime(2025, 8, 10, tzinfo=UTC)
    years = today.year - start.year
    shifted = start.replace(year=start.year + years)
    return shifted if shifted <= today else shifted.replace(year=shifted.year - 1)


def build_capricorn(rows: RowBuilder, today: datetime) -> None:
    """The training unit's account and assets, relative to ``today`` (midnight UTC)."""
    rep = rows.user("Chris Thomas", "chris.thomas@infintrabytes.example")
    book = rows.pricebook("Standard Price Book", standard=True)
    account = rows.account(
        "Capricorn Coffee",
        owner_id=rep,
        description="Customer of InfintraBytes; account owner Chris Thomas.",
        street="1 Roastery Lane",
        city="San Francisco",
        state="CA",
        postal_code="94105",
        country="United States",
    )
    catalog = {
        "Google Workspace": 72.0,
        "Retail POS Enterprise": 2400.0,
        "QuickBooks Online": 49.99,
        "Roastery Operations Suite": 1200.0,
        "Inventory Sync Module": 300.0,
    }
    entries = {
        name: rows.entry(book, rows.product(name, f"RC-{i:03d}"), price)
        for i, (name, price) in enumerate(catalog.items(), 1)
    }
    two_months_ago = add_months(today, -2)
    sales = [
        Sale(
            "Google Workspace",
            entries["Google Workspace"],
            25,
            add_months(today, -12) + timedelta(days=20),
            12,
        ),
        Sale(
            "Retail POS Enterprise",
            entries["Retail POS Enterprise"],
            1,
            add_months(today, -6),
            24,
            1,
            "Annual",
        ),
        Sale("QuickBooks Online", entries["QuickBooks Online"], 5, quickbooks_start(today), 12, 1, "Annual"),
        Sale("Roastery Operations Suite", entries["Roastery Operations Suite"], 1, two_months_ago, 12),
        Sale("Inventory Sync Module", entries["Inventory Sync Module"], 3, two_months_ago, 12),
    ]
    first = min(sale.start for sale in sales)
    assets = rows.initial_order(account, book, sales, activated_at=first)
    rows.bundle(assets["Roastery Operations Suite"], [assets["Inventory Sync Module"]])


def build_synthetic(rows: RowBuilder, today: datetime, count: int, seed: int) -> None:
    """``count`` assets with a realistic end-date spread, deterministic from ``seed``.

    Up to ``LEAN_ABOVE`` assets each comes from an activated initial order like the scenario's; above
    it only the lifecycle records are written (the store's per-row cost dominates at 100,000).
    """
    lean = count > LEAN_ABOVE
    rng = random.Random(seed)
    books = [rows.pricebook("Standard Price Book", standard=True)] + [
        rows.pricebook(f"{region} Price Book") for region in ("EMEA", "APAC", "Partner")
    ]
    products = [rows.product(f"Subscription Product {i:02d}", f"SYN-{i:03d}") for i in range(1, 41)]
    prices = [round(rng.uniform(5, 500), 2) for _ in products]
    entries = [
        [rows.entry(book, product, price) for product, price in zip(products, prices, strict=True)]
        for book in books
    ]
    accounts = max(1, count // 5)
    done = 0
    for index in range(accounts):
        size = count - done if index == accounts - 1 else min(count - done, rng.randint(1, 9))
        if size <= 0:
            break
        book_index = 0 if rng.random() < 0.6 else rng.randrange(1, len(books))
        # A complete address: orders made from quotes copy it before activation (FAILED_ACTIVATION otherwise).
        account = rows.account(
            f"Synthetic Account {index + 1:06d}",
            street=f"{index + 1} Main Street",
            city="Springfield",
            state="IL",
            postal_code=f"627{index % 100:02d}",
            country="United States",
        )
        sales = []
        for _ in range(size):
            days = rng.randint(0, 29) if rng.random() < 0.15 else rng.randint(30, 364)
            product = rng.randrange(len(products))
            term_months = rng.choice((12, 12, 12, 24, 6))
            end_exclusive = today + timedelta(days=days + 1)
            start = add_months(end_exclusive, -term_months)
            name = f"Subscription Product {product + 1:02d}"
            sales.append(Sale(name, entries[book_index][product], rng.randint(1, 50), start, term_months))
        rows.initial_order(
            account, books[book_index], sales, activated_at=min(s.start for s in sales), lean=lean
        )
        done += size
