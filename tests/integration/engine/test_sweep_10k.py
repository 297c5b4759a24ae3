"""A sweep of about 10,000 assets on the synthetic org: every one renewed once and verified.

No timing assertion: this proves batching and accounting at scale (calls grow as N / batch size).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.engine.conftest import World
from tests.integration.engine.faultkit import config, run_sweep, sweep_job

#: synthetic:19000 with a 180-day window selects about 10,000 assets.
SEED = "synthetic:19000:seed=1"


@pytest.mark.slow
@pytest.mark.heavy
@pytest.mark.timeout(1200)
def test_ten_thousand_asset_sweep(world_factory: Callable[..., World]) -> None:
    """~10,000 assets: all verified, none lost or doubled, calls ≈ N / batch size per step."""
    world = world_factory(SEED, config())
    job = sweep_job(batch_size=2000)
    job = job.model_copy(update={"limits": job.limits.model_copy(update={"max_assets": 20_000})})
    engine = world.make_engine(lease_s=300.0, verify_timeout_s=300.0)
    out = run_sweep(world, engine, "10k sweep", job)
    n = len(out.expected)
    assert 9_000 <= n <= 11_500
    assert out.result.counts == {"verified": n}
    assert out.figures.total("lost") == 0
    assert out.figures.total("duplicated") == 0
    for step, figs in out.figures.steps.items():
        assert figs.ok == n, step
    # Batched: creating calls per step are about N / 200, not N.
    for action in ("initiateRenewal", "createOrderFromQuote"):
        assert out.figures.calls[action] <= 2 * (n // 200 + 10), action
    assert out.figures.calls["PATCH composite/sobjects"] <= 2 * 2 * (n // 200 + 10)
