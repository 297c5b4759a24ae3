"""The engine recognises the platform guards the org really answers with (emulator's wording).

After a lost answer, a resent initiate that meets a guard ("already has a future-dated renewal")
means the first call did it: the item is looked up again instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable

from sfsync.engine.create import already_done
from sfsync.salesforce.initiate import RenewalRequest
from sfsync.salesforce.outcomes import Failed
from tests.integration.engine.conftest import World, renewal_job
from tests.integration.engine.faultstats import all_items


def test_second_renewal_guard_is_recognised(world_factory: Callable[..., World]) -> None:
    """Renewing a just-renewed asset again answers a guard that ``already_done`` recognises."""
    world = world_factory()
    engine = world.make_engine()
    result = engine.run_renewals(renewal_job())
    assert result.status == "succeeded"
    [item] = all_items(world.ledger, result.run_id)
    again = engine.sf.initiate_renewals(
        [
            RenewalRequest(
                asset_id=item.asset_id,
                account_id=item.account_id or "",
                price_book_id=item.price_book_id or "",
                output="Quote",
                term=None,
            )
        ]
    )
    outcome = again[item.asset_id]
    print("guard:", outcome)
    assert isinstance(outcome, Failed)
    assert already_done(outcome.code, outcome.message)


def test_real_input_errors_are_not_guards(world_factory: Callable[..., World]) -> None:
    """An asset that is not lifecycle-managed fails with INVALID_INPUT that is *not* a guard."""
    world = world_factory()
    engine = world.make_engine()
    [asset] = world.emulator.org.store.find("Asset", Name="QuickBooks Online")
    world.emulator.org.store.update("Asset", str(asset["Id"]), {"HasLifecycleManagement": False})
    books = engine.sf.asset_price_books([str(asset["Id"])])
    request = RenewalRequest(
        asset_id=str(asset["Id"]),
        account_id=str(asset["AccountId"]),
        price_book_id=books[str(asset["Id"])],
        output="Quote",
        term=None,
    )
    outcome = engine.sf.initiate_renewals([request])[str(asset["Id"])]
    assert isinstance(outcome, Failed)
    assert outcome.code == "INVALID_INPUT"
    assert not already_done(outcome.code, outcome.message)
