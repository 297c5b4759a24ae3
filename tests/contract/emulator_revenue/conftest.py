"""Fixtures for the Revenue Cloud emulator tests: an in-process org on the Capricorn seed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from sfsync.clock import FixedClock
from sfsync.emulator.config import EmulatorConfig
from sfsync.emulator.org import ActionContext, ActionOutcome, Org, build_org

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
ADDRESS = {
    "ShippingStreet": "1 Roastery Lane",
    "ShippingCity": "San Francisco",
    "ShippingState": "CA",
    "ShippingPostalCode": "94105",
    "ShippingCountry": "United States",
}


class OrgDriver:
    """Calls actions and reads records of an in-process org (no HTTP)."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.store = org.store

    def call(self, action: str, *inputs: dict[str, Any]) -> list[ActionOutcome]:
        """Invoke an action with the given inputs."""
        ctx = ActionContext(self.org, 66.0, self.org.user_id, self.org.clock.now())
        return self.org.actions[action].invoke(ctx, list(inputs))

    def asset(self, name: str) -> dict[str, Any]:
        """The live asset of that name."""
        (found,) = self.store.find("Asset", Name=name)
        return found

    def settle(self) -> None:
        """Wait (polling, with a deadline) until background pricing/assetization is done."""
        assert self.org.background.wait_idle(10.0)

    def order_from_quote(self, quote_id: str) -> str:
        """Convert a priced quote into an order and return the order ID."""
        self.settle()
        (outcome,) = self.call("createOrderFromQuote", {"quoteRecordId": quote_id})
        assert outcome.errors == []
        assert outcome.output_values is not None
        return str(outcome.output_values["orderId"])

    def activate(self, order_id: str) -> None:
        """Set the shipping address, activate, and wait for assetization."""
        self.store.update("Order", order_id, ADDRESS)
        self.store.update("Order", order_id, {"Status": "Activated"})
        self.settle()


def make_org(**overrides: Any) -> Org:
    """A Capricorn org on a fixed clock with instant pricing and assetization unless overridden."""
    config = EmulatorConfig(pricing_delay_s=0.0, assetize_delay_s=0.0)
    for key, val in overrides.items():
        setattr(config, key, val)
    return build_org(config, FixedClock(NOW), seed="capricorn")


@pytest.fixture
def driver() -> Iterator[OrgDriver]:
    """A fresh Capricorn org."""
    org = make_org()
    try:
        yield OrgDriver(org)
    finally:
        org.close()
