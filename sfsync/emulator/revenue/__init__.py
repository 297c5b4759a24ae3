"""Revenue Cloud behaviour of the emulator: actions, activation rules and assetization.

``install(org)`` registers the invocable actions (initiateRenewal, initiateCancellation,
initiateAmendment, createOrderFromQuote, createOrdersFromQuote) and the Order triggers that
enforce activation rules and start asynchronous assetization. See README.md for the assumptions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sfsync.emulator.org import Org


def install(org: Org) -> None:
    """Register every Revenue Cloud action and trigger on ``org``."""
    from sfsync.emulator.revenue.activation import install_triggers
    from sfsync.emulator.revenue.convert import CreateOrderFromQuote, CreateOrdersFromQuote
    from sfsync.emulator.revenue.initiate import initiate_actions

    for action in initiate_actions():
        org.register_action(action)
    org.register_action(CreateOrderFromQuote())
    org.register_action(CreateOrdersFromQuote())
    install_triggers(org)
