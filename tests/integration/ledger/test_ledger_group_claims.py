"""Claiming whole groups of items (one quote or one order) so one worker makes each group's call."""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from ledger_helpers import seeded_run

from sfsync.ledger import Change, Ledger, open_ledger
from sfsync.sfid import make


def quoted_run(ledger: Ledger, groups: int, size: int, ungrouped: int = 0) -> tuple[str, dict[int, str]]:
    """A run whose items share quotes ``size`` by ``size`` (plus some with no quote), all ``quoted``."""
    run_id = seeded_run(ledger, groups * size + ungrouped)
    claimed = ledger.claims.claim(run_id, ["selected"], "setup", 10_000, lease_s=60)
    quote_of = {item.id: make("0Q0", n // size + 1) for n, item in enumerate(claimed[: groups * size])}
    changes = [
        Change(i.lease, {"state": "quoted", "quote_id": quote_of.get(i.id)}, release=True) for i in claimed
    ]
    assert not ledger.claims.record_many(changes).refused
    return run_id, quote_of


def test_group_claims_take_whole_groups_within_the_limit(ledger: Ledger) -> None:
    """A grouped claim returns complete groups, as many as fit in the limit, but at least one."""
    run_id, quote_of = quoted_run(ledger, groups=4, size=3, ungrouped=2)
    first = ledger.claims.claim(run_id, ["quoted"], "a", 5, lease_s=60, group_by="quote_id")
    assert len(first) == 3
    assert len({i.quote_id for i in first}) == 1
    second = ledger.claims.claim(run_id, ["quoted"], "b", 2, lease_s=60, group_by="quote_id")
    assert len(second) == 3
    assert second[0].quote_id != first[0].quote_id
    rest = ledger.claims.claim(run_id, ["quoted"], "c", 100, lease_s=60, group_by="quote_id")
    assert len(rest) == 6
    assert {i.id for i in first + second + rest} == set(quote_of)
    # The items without a quote are never handed out as a group.
    assert ledger.claims.claim(run_id, ["quoted"], "d", 100, lease_s=60, group_by="quote_id") == []
    assert len(ledger.claims.claim(run_id, ["quoted"], "d", 100, lease_s=60)) == 2


def test_group_partly_held_by_another_worker_waits(ledger: Ledger) -> None:
    """If another worker holds any item of a group, the group is not claimed until it is free."""
    run_id, _ = quoted_run(ledger, groups=2, size=2)
    [held] = ledger.claims.claim(run_id, ["quoted"], "other", 1, lease_s=60)
    got = ledger.claims.claim(run_id, ["quoted"], "me", 10, lease_s=60, group_by="quote_id")
    assert len(got) == 2
    assert held.quote_id not in {i.quote_id for i in got}
    assert ledger.claims.claim(run_id, ["quoted"], "me", 10, lease_s=60, group_by="quote_id") == []
    ledger.claims.release([held.lease])
    last = ledger.claims.claim(run_id, ["quoted"], "me", 10, lease_s=60, group_by="quote_id")
    assert {i.quote_id for i in last} == {held.quote_id}
    assert len(last) == 2


def test_concurrent_group_claimers_never_split_a_group(ledger: Ledger, ledger_url: str) -> None:
    """Four workers claiming groups at once: each group goes whole to one worker, each item once."""
    run_id, quote_of = quoted_run(ledger, groups=60, size=3)

    def work(n: int) -> list[tuple[int, str, int]]:
        taken: list[tuple[int, str, int]] = []
        with open_ledger(ledger_url, migrate=False) as own:
            batch_no = 0
            while claimed := own.claims.claim(
                run_id, ["quoted"], f"w{n}", 7, lease_s=60, group_by="quote_id"
            ):
                batch_no += 1
                taken.extend((i.id, f"w{n}", batch_no) for i in claimed)
                done = own.claims.record_many(
                    [Change(i.lease, {"state": "ordered"}, release=True) for i in claimed]
                )
                assert not done.refused
        return taken

    with ThreadPoolExecutor(4) as pool:
        results = [t for r in pool.map(work, range(4)) for t in r]
    assert sorted(i for i, _, _ in results) == sorted(quote_of)
    batches_of_quote: dict[str, set[tuple[str, int]]] = defaultdict(set)
    for item_id, worker, batch_no in results:
        batches_of_quote[quote_of[item_id]].add((worker, batch_no))
    assert all(len(b) == 1 for b in batches_of_quote.values())
    assert ledger.items.counts(run_id) == {"ordered": 180}


def test_unknown_group_column_is_refused(ledger: Ledger) -> None:
    """Only quote and order ids group items."""
    run_id = seeded_run(ledger, 1)
    with pytest.raises(ValueError, match="group"):
        ledger.claims.claim(run_id, ["selected"], "w", 1, lease_s=60, group_by="account_id")
