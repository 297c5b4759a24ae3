"""Per-step progress from item counts, and its rendering (pure parts of ``sfsync run``'s display)."""

from __future__ import annotations

from io import StringIO

from rich.console import Console

from sfsync.commands.progress import render, summarize


def test_summarize_counts_items_per_step() -> None:
    """Items in each state land in their step; done counts items past a step, remaining up to it."""
    counts = {
        "selected": 2,
        "quoted": 3,
        "ordered": 1,
        "activated": 4,
        "verified": 5,
        "failed": 2,
        "rejected": 1,
    }
    view = summarize(counts, api_calls=17)
    steps = {line.step: line for line in view.steps}
    assert steps["initiate"].waiting == 2
    assert steps["pricing"].waiting == 3
    assert steps["address"].waiting == 1
    assert steps["verify"].waiting == 4
    assert steps["initiate"].done == 5 + 3 + 1 + 4
    assert steps["verify"].done == 5
    assert steps["verify"].remaining == 10
    assert (view.succeeded, view.failed, view.open, view.api_calls) == (5, 3, 10, 17)


def test_finished_run_has_nothing_remaining() -> None:
    """When every item is final, no step has anything left."""
    view = summarize({"verified": 4, "mismatch": 1}, api_calls=3)
    assert all(line.remaining == 0 and line.done == 4 for line in view.steps)
    assert view.failed == 1


def test_render_shows_every_step_and_the_totals() -> None:
    """The table names each step and the caption carries failed items and API calls."""
    out = StringIO()
    Console(file=out, width=100, force_terminal=False).print(render(summarize({"quoted": 2}, 9), "run r-x"))
    text = out.getvalue()
    for step in ("initiate", "pricing", "order", "address", "activate", "verify"):
        assert step in text
    assert "API calls 9" in text
    assert "run r-x" in text
