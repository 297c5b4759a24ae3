"""Order activation rules: the shipping address, the activation stamps, and starting assetization.

Before update (Draft → Activated): with ``enforce_shipping_address`` an order without a shipping
street, city, postal code and country is refused with ``FAILED_ACTIVATION``; otherwise
``ActivatedDate``/``ActivatedById``/``StatusCode`` are stamped. After update: when
``assetization_enabled`` and the order has an ``AppUsageAssignment`` (Revenue Lifecycle
Management), an ``AssetizationAsyncJob`` tracker is submitted and the effects are applied after
``assetize_delay_s``; else nothing at all happens (the live silent no-op). An order is assetized at
most once, whatever its status does later. Deleting an activated order fails with
``DELETE_FAILED`` (reset it to Draft first), as on live orgs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from sfsync.emulator.errors import RecordError
from sfsync.emulator.revenue.assetize import assetize
from sfsync.emulator.revenue.controls import controls

if TYPE_CHECKING:
    from sfsync.emulator.org import Org
    from sfsync.emulator.store import Store

log = structlog.get_logger(__name__)

SHIPPING_FIELDS = ("ShippingStreet", "ShippingCity", "ShippingPostalCode", "ShippingCountry")
FAILED_ACTIVATION = "FAILED_ACTIVATION"
DELETE_FAILED = "DELETE_FAILED"
ACTIVATED_DELETE = (
    "unable to modify activated or superseded order: cannot delete order, or add or remove order products"
)
NO_ADDRESS = "Enter the shipping address associated with the account, and try again."


def install_triggers(org: Org) -> None:
    """Register the Order triggers on the org's store."""

    def before(store: Store, old: dict[str, Any], new: dict[str, Any]) -> None:
        if new.get("Status") != "Activated" or old.get("Status") == "Activated":
            return
        if org.config.enforce_shipping_address and any(not new.get(f) for f in SHIPPING_FIELDS):
            raise RecordError(FAILED_ACTIVATION, NO_ADDRESS, [])
        new["ActivatedDate"] = org.clock.now()
        new["ActivatedById"] = org.user_id  # the org has one API user: the integration user
        new["StatusCode"] = "Activated"

    def after(store: Store, old: dict[str, Any], new: dict[str, Any]) -> None:
        if new.get("Status") != "Activated" or old.get("Status") == "Activated":
            return
        order_id = str(new["Id"])
        if not org.config.assetization_enabled:
            return
        if not store.exists(
            "AppUsageAssignment", RecordId=order_id, AppUsageType="RevenueLifecycleManagement"
        ):
            return
        if store.exists("AsyncOperationTracker", ReferenceEntityId=order_id, JobType="AssetizationAsyncJob"):
            log.info("emulator_order_already_assetized", order_id=order_id)
            return
        tracker = store.insert(
            "AsyncOperationTracker",
            {"JobType": "AssetizationAsyncJob", "Status": "Submitted", "ReferenceEntityId": order_id,
             "StartedAt": org.clock.now()},
        )  # fmt: skip
        delay = controls(org).delay(order_id, org.config.assetize_delay_s)
        org.background.call_later(delay, lambda: assetize(org, order_id, tracker))

    def before_delete(store: Store, old: dict[str, Any], new: dict[str, Any]) -> None:
        if old.get("Status") == "Activated":
            raise RecordError(DELETE_FAILED, ACTIVATED_DELETE, [])

    org.store.before_update("Order", before)
    org.store.after_update("Order", after)
    org.store.before_delete("Order", before_delete)
