"""Test and admin knobs of the emulated Revenue Cloud that are not org settings.

``controls(org)`` returns the org's knobs: make the assetization of chosen orders (or of all) fail
with an error-log row, or finish late; make the pricing of quotes for chosen assets fail. They are kept per org here, beside the org's own config,
because a real org has no such switches: they stand for the failures and delays seen live.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sfsync.emulator.org import Org


@dataclass
class RevenueControls:
    """Injected assetization outcomes; every field may be changed while the org runs."""

    #: Orders (18-character IDs) whose assetization fails.
    fail_orders: set[str] = field(default_factory=set)
    #: Every assetization fails.
    fail_all: bool = False
    failure_code: str = "INSUFFICIENT_ACCESS"
    failure_message: str = "User doesn't have Create Access to asset."
    #: Seconds added to ``assetize_delay_s`` for chosen orders ("late" assetization).
    late_orders: dict[str, float] = field(default_factory=dict)
    #: Seconds added to ``assetize_delay_s`` for every order.
    extra_delay_s: float = 0.0
    #: Assets whose quotes/orders fail pricing (PriceCalculationFailed + an error-log row).
    fail_pricing_assets: set[str] = field(default_factory=set)

    def fails(self, order_id: str) -> bool:
        """Whether the assetization of this order is to fail."""
        return self.fail_all or order_id in self.fail_orders

    def delay(self, order_id: str, base_s: float) -> float:
        """Seconds between activation and assetization for this order."""
        return base_s + self.extra_delay_s + self.late_orders.get(order_id, 0.0)


_CONTROLS: weakref.WeakKeyDictionary[Org, RevenueControls] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def controls(org: Org) -> RevenueControls:
    """The org's Revenue Cloud knobs (created on first use)."""
    with _LOCK:
        found = _CONTROLS.get(org)
        if found is None:
            found = _CONTROLS[org] = RevenueControls()
        return found


def as_json(org: Org) -> dict[str, object]:
    """The knobs as JSON (for an admin endpoint ``GET /__emulator__/revenue``)."""
    knobs = controls(org)
    return {
        "fail_orders": sorted(knobs.fail_orders),
        "fail_all": knobs.fail_all,
        "failure_code": knobs.failure_code,
        "failure_message": knobs.failure_message,
        "late_orders": dict(knobs.late_orders),
        "extra_delay_s": knobs.extra_delay_s,
        "fail_pricing_assets": sorted(knobs.fail_pricing_assets),
    }


def update_from_json(org: Org, body: dict[str, object]) -> dict[str, object]:
    """Change knobs from JSON (``PATCH /__emulator__/revenue``); ValueError on a bad key or type."""
    knobs = controls(org)
    for key, raw in body.items():
        if key in ("fail_orders", "fail_pricing_assets") and isinstance(raw, list):
            setattr(knobs, key, {str(x) for x in raw})
        elif key == "late_orders" and isinstance(raw, dict):
            knobs.late_orders = {str(k): float(v) for k, v in raw.items()}
        elif key == "fail_all" and isinstance(raw, bool):
            knobs.fail_all = raw
        elif key in ("failure_code", "failure_message") and isinstance(raw, str):
            setattr(knobs, key, raw)
        elif key == "extra_delay_s" and isinstance(raw, int | float) and not isinstance(raw, bool):
            knobs.extra_delay_s = float(raw)
        else:
            msg = f"{key!r} is not a revenue control, or has the wrong type"
            raise ValueError(msg)
    return as_json(org)
