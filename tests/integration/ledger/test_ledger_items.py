"""Items: bulk insert, the one-active-run-per-asset guard, listing, and retry reset."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from ledger_helpers import asset_ids, seeded_run

from sfsync.ledger import Ledger, NewItem, open_ledger
from sfsync.sfid import make


def test_bulk_insert_ten_thousand(ledger: Ledger) -> None:
    """10,000 items go in with one call, all in state ``selected``, in insertion order."""
    run = ledger.runs.create("renewal-sweep", "renewal", "manual", "prod")
    assets = asset_ids(10_000)
    started = time.perf_counter()
    result = ledger.items.add(run.id, [NewItem(a, asset_name=f"Asset {n}") for n, a in enumerate(assets)])
    elapsed = time.perf_counter() - started
    assert result.inserted == 10_000
    assert result.held == {}
    assert result.duplicates == ()
    assert ledger.items.counts(run.id) == {"selected": 10_000}
    assert [i.asset_id for i in ledger.items.find(run.id, limit=3)] == assets[:3]
    if ledger.dialect == "sqlite":
        # The brief asks for "well under a second"; the bound leaves room for a loaded CI machine.
        assert elapsed < 2.0, f"bulk insert took {elapsed:.2f} s"


def test_asset_in_at_most_one_active_run(ledger: Ledger) -> None:
    """A second active run is refused the assets the first holds, and told which run holds them."""
    first = seeded_run(ledger, 5)
    second = ledger.runs.create("cancellation-run", "cancellation", "manual", "prod")
    result = ledger.items.add(second.id, [NewItem(a) for a in asset_ids(7, start=4)])
    assert result.inserted == 5
    assert result.held == dict.fromkeys(asset_ids(2, start=4), first)
    assert ledger.items.held_by_other_runs(asset_ids(3, start=1), run_id=second.id) == dict.fromkeys(
        asset_ids(3, start=1), first
    )
    assert ledger.items.counts(second.id) == {"selected": 5}


def test_re_adding_reports_duplicates(ledger: Ledger) -> None:
    """Re-adding assets already in the run, or repeated in the input, adds nothing twice."""
    run_id = seeded_run(ledger, 3)
    again = asset_ids(4)
    result = ledger.items.add(run_id, [NewItem(a) for a in [*again, again[3]]])
    assert result.inserted == 1
    assert result.duplicates == (*sorted(again[:3]), again[3])
    assert ledger.items.counts(run_id) == {"selected": 4}


def test_racing_runs_split_contested_assets(ledger_url: str, ledger: Ledger) -> None:
    """Two runs adding the same assets at once end with each asset in exactly one of them."""
    runs = [ledger.runs.create("renewal-sweep", "renewal", "manual", "prod").id for _ in range(2)]
    assets = asset_ids(2_000)

    def add(run_id: str) -> int:
        with open_ledger(ledger_url, migrate=False) as own:
            return own.items.add(run_id, [NewItem(a) for a in assets]).inserted

    with ThreadPoolExecutor(2) as pool:
        inserted = list(pool.map(add, runs))
    assert sum(inserted) == 2_000
    owners: dict[str, str] = {}
    for run_id in runs:
        for item in ledger.items.find(run_id, limit=5_000):
            assert item.asset_id not in owners
            owners[item.asset_id] = run_id
    assert set(owners) == set(assets)


def test_find_filters_by_state_prefix_and_name(ledger: Ledger) -> None:
    """Items filter by state, asset id prefix and name (wildcards are literal), and paginate."""
    run = ledger.runs.create("renewal-sweep", "renewal", "manual", "prod")
    assets = asset_ids(30)
    names = ["Google Workspace", "Retail POS 100%", "QuickBooks_Online"] * 10
    ledger.items.add(run.id, [NewItem(a, asset_name=n) for a, n in zip(assets, names, strict=True)])
    claimed = ledger.claims.claim(run.id, ["selected"], "w", 4, lease_s=60)
    for item in claimed:
        ledger.claims.record(item.id, item.lease_token, state="failed")
    assert [i.id for i in ledger.items.find(run.id, states=["failed"])] == [i.id for i in claimed]
    assert [i.asset_id for i in ledger.items.find(run.id, asset_prefix=assets[12][:15])] == [assets[12]]
    assert len(ledger.items.find(run.id, name_contains="100%")) == 10
    assert len(ledger.items.find(run.id, name_contains="s_o")) == 10
    assert ledger.items.find(run.id, name_contains="%") == ledger.items.find(run.id, name_contains="POS 100%")
    assert ledger.items.find(run.id, asset_prefix="%") == []
    pages = [ledger.items.find(run.id, limit=8, offset=o) for o in range(0, 30, 8)]
    assert [i.asset_id for p in pages for i in p] == assets
    after = ledger.items.find(run.id, after_id=claimed[-1].id, limit=2)
    assert [i.asset_id for i in after] == assets[4:6]


def test_reset_failed_reopens_the_run_and_keeps_created_ids(ledger: Ledger) -> None:
    """Failed items go back for a retry with their quote ids kept; assets now held elsewhere stay failed."""
    run_id = seeded_run(ledger, 4)
    claimed = ledger.claims.claim(run_id, ["selected"], "w", 4, lease_s=60)
    quote = "0Q0" + claimed[0].asset_id[3:]
    ledger.claims.record(
        claimed[0].id,
        claimed[0].lease_token,
        state="failed",
        quote_id=quote,
        sf_error_code="UNABLE_TO_LOCK_ROW",
    )
    ledger.claims.record(
        claimed[1].id, claimed[1].lease_token, state="failed", sf_error_code="FIELD_INTEGRITY_EXCEPTION"
    )
    ledger.claims.record(claimed[2].id, claimed[2].lease_token, state="done")
    ledger.claims.record(claimed[3].id, claimed[3].lease_token, state="done")
    ledger.runs.set_status(run_id, "partial")
    # Meanwhile another run takes the second failed asset.
    other = ledger.runs.create("cancellation-run", "cancellation", "manual", "prod")
    assert ledger.items.add(other.id, [NewItem(claimed[1].asset_id)]).inserted == 1

    result = ledger.items.reset_failed(run_id)
    assert result.reset == 1
    assert result.held == {claimed[1].asset_id: other.id}
    retried = ledger.items.get(claimed[0].id)
    assert retried is not None
    assert (retried.state, retried.quote_id, retried.sf_error_code, retried.attempts) == (
        "selected",
        quote,
        None,
        0,
    )
    reopened = ledger.runs.get(run_id)
    assert reopened is not None
    assert reopened.status == "pending"
    assert reopened.finished_at is None
    assert ledger.items.held_by_other_runs([claimed[0].asset_id]) == {claimed[0].asset_id: run_id}
    assert ledger.items.counts(run_id) == {"selected": 1, "failed": 1, "done": 2}


def test_every_item_field_round_trips(ledger: Ledger) -> None:
    """Optional fields, dates, JSON details and awkward names survive the bulk insert."""
    run = ledger.runs.create("cancellation-run", "cancellation", "manual", "prod")
    a, b = asset_ids(2)
    full = NewItem(
        a,
        state="validated",
        account_id=make("001", 7),
        asset_name="Retail POS Enterprise 'Ø' \"<script>\"",
        price_book_id=make("01s", 1),
        term_start=date(2026, 11, 23),
        term_end=date(2027, 11, 22),
        cancellation_date=date(2027, 2, 23),
        detail={"quantity": -3, "line": 12, "nested": {"ok": True}},
        sf_error_code="REJECTED",
        sf_error_message="line 3: date after the asset's end",
    )
    assert ledger.items.add(run.id, [full, NewItem(b)]).inserted == 2
    first, second = ledger.items.find(run.id)
    assert (first.asset_id, first.state, first.account_id, first.asset_name) == (
        a,
        "validated",
        full.account_id,
        full.asset_name,
    )
    assert (first.price_book_id, first.term_start, first.term_end) == (
        full.price_book_id,
        full.term_start,
        full.term_end,
    )
    assert first.cancellation_date == full.cancellation_date
    assert first.detail == full.detail
    assert (first.sf_error_code, first.sf_error_message) == (full.sf_error_code, full.sf_error_message)
    assert (first.attempts, first.lease_token, first.lease_owner) == (0, 0, None)
    assert first.created_at.tzinfo is not None
    assert (second.detail, second.term_start, second.asset_name, second.state) == (
        None,
        None,
        None,
        "selected",
    )


def test_errors_and_skipping_before_any_write(ledger: Ledger) -> None:
    """Rejections keep their own code; skipping a refused run marks only the untouched items."""
    run_id = seeded_run(ledger, 4)
    a, b, c, d = asset_ids(4)
    assert ledger.items.set_errors(run_id, {a: ("PAST_DATE", "line 2: date is in the past")}) == 1
    [sent] = ledger.claims.claim(run_id, ["selected"], "w", 1, lease_s=60)
    assert sent.asset_id == a
    [sent] = ledger.claims.claim(run_id, ["selected"], "w", 1, lease_s=60)
    ledger.claims.mark_intent([sent.lease], step="initiate", state="initiating")
    assert ledger.items.skip_open(run_id, "--strict: 1 asset rejected") == 2
    by_asset = {i.asset_id: i for i in ledger.items.find(run_id)}
    assert (by_asset[a].state, by_asset[a].sf_error_code) == ("selected", "PAST_DATE")
    assert by_asset[b].state == "initiating"
    assert {by_asset[c].state, by_asset[d].state} == {"skipped"}
    assert by_asset[c].sf_error_message == "--strict: 1 asset rejected"
    assert ledger.items.skip_open(run_id, "again", states=["initiating"], to_state="cancelled") == 1


def test_update_parameters_merges(ledger: Ledger) -> None:
    """Parameters are merged, not replaced."""
    run = ledger.runs.create("j", "cancellation", "manual", "prod", parameters={"strict": True})
    updated = ledger.runs.update_parameters(run.id, selection_done=True)
    assert updated.parameters == {"strict": True, "selection_done": True}
    assert ledger.runs.get(run.id).parameters == updated.parameters  # type: ignore[union-attr]
