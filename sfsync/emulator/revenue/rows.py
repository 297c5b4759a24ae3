"""Row builders for seeding an org: accounts, catalog, initial sales with their lifecycle records.

Rows are plain dicts keyed by placeholder IDs (``~n``), accumulated per object and inserted with
``Store.insert_many`` in dependency order (which is what makes ``synthetic:100000`` fast); the
store mints the real IDs and the placeholders in later rows are replaced by them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sfsync.emulator import schema
from sfsync.emulator.revenue.periods import Period, annual_amount, mrr, rollup, term_end

if TYPE_CHECKING:
    from sfsync.emulator.store import Store

#: Fields holding the key of another seed row, per object (lookups and ID-valued text fields).
_EXTRA_KEYS = {"AppUsageAssignment": ("RecordId",), "AssetRelationship": ("GroupingKey",)}

#: Insert order: every lookup points to an object inserted before it.
ORDER = (
    "User",
    "Product2",
    "Pricebook2",
    "PricebookEntry",
    "Account",
    "Order",
    "OrderAction",
    "OrderItem",
    "Asset",
    "AssetStatePeriod",
    "AssetAction",
    "AssetActionSource",
    "AssetRelationship",
    "AppUsageAssignment",
)

Row = dict[str, Any]


@dataclass(frozen=True)
class Entry:
    """A price book entry: its id, product, price book and annual unit price."""

    id: str
    product_id: str
    pricebook_id: str
    unit_price: float


@dataclass(frozen=True)
class Sale:
    """One asset sold in an initial order: length of its first term and its renewal term."""

    name: str
    entry: Entry
    quantity: float
    start: datetime
    length_months: int
    term: float = 12
    unit: str = "Months"


class RowBuilder:
    """Accumulates seed rows per object with minted IDs."""

    def __init__(self, *, owner_id: str, now: datetime) -> None:
        self.rows: dict[str, list[Row]] = {name: [] for name in ORDER}
        self._serial = 0
        self._order_number = 0
        self._owner_id = owner_id
        self._now = now

    def add(self, sobject: str, **fields: Any) -> str:
        """Add one row; returns its new ID."""
        self._serial += 1
        record_id = f"~{self._serial}"
        fields["Id"] = record_id
        self.rows[sobject].append(fields)
        return record_id

    def user(self, name: str, username: str) -> str:
        """A sales rep user."""
        first, _, last = name.partition(" ")
        return self.add(
            "User",
            Name=name,
            FirstName=first,
            LastName=last,
            Username=username,
            Email=username,
            IsActive=True,
        )

    def pricebook(self, name: str, *, standard: bool = False) -> str:
        """An active price book."""
        return self.add("Pricebook2", Name=name, IsStandard=standard, IsActive=True)

    def product(self, name: str, code: str) -> str:
        """An active product."""
        return self.add("Product2", Name=name, ProductCode=code, IsActive=True)

    def entry(self, pricebook_id: str, product_id: str, unit_price: float) -> Entry:
        """A price book entry with an annual unit price."""
        entry_id = self.add(
            "PricebookEntry",
            Pricebook2Id=pricebook_id,
            Product2Id=product_id,
            UnitPrice=unit_price,
            IsActive=True,
        )
        return Entry(entry_id, product_id, pricebook_id, unit_price)

    def account(
        self,
        name: str,
        *,
        owner_id: str | None = None,
        description: str | None = None,
        street: str | None = None,
        city: str | None = None,
        state: str | None = None,
        postal_code: str | None = None,
        country: str | None = None,
    ) -> str:
        """An account with the same shipping and billing address."""
        address = {
            "Street": street,
            "City": city,
            "State": state,
            "PostalCode": postal_code,
            "Country": country,
        }
        fields = {f"{kind}{key}": value for kind in ("Shipping", "Billing") for key, value in address.items()}
        return self.add(
            "Account", Name=name, OwnerId=owner_id or self._owner_id, Description=description, **fields
        )

    def initial_order(
        self,
        account_id: str,
        pricebook_id: str,
        sales: list[Sale],
        *,
        activated_at: datetime,
        lean: bool = False,
    ) -> dict[str, str]:
        """An activated, assetized order selling ``sales``; returns the asset ID per sale name.

        ``lean`` writes the lifecycle records only (no order, items or AppUsageAssignment; the
        AssetActionSource keeps its price book entry): what large synthetic sets can afford.
        """
        order_id = None
        if not lean:
            self._order_number += 1
            order_id = self.add(
                "Order",
                AccountId=account_id,
                Pricebook2Id=pricebook_id,
                EffectiveDate=activated_at.date(),
                Status="Activated",
                StatusCode="Activated",
                ActivatedDate=activated_at,
                ActivatedById=self._owner_id,
                OrderNumber=f"{self._order_number:08d}",
                OriginalActionType="Add",
            )
            self.add("AppUsageAssignment", RecordId=order_id, AppUsageType="RevenueLifecycleManagement")
        return {sale.name: self._sell(account_id, order_id, sale, activated_at) for sale in sales}

    def _sell(self, account_id: str, order_id: str | None, sale: Sale, activated_at: datetime) -> str:
        end = term_end(sale.start, sale.length_months)
        annual = annual_amount(sale.quantity, sale.entry.unit_price)
        amount = round(annual * sale.length_months / 12, 2)
        period = Period(sale.start, end, sale.quantity, mrr(annual))
        item_id = None
        if order_id is not None:
            action_id = self.add("OrderAction", OrderId=order_id, Type="Add")
            item_id = self.add(
                "OrderItem",
                OrderId=order_id,
                Product2Id=sale.entry.product_id,
                PricebookEntryId=sale.entry.id,
                OrderActionId=action_id,
                Quantity=sale.quantity,
                StartQuantity=0.0,
                EndQuantity=sale.quantity,
                UnitPrice=sale.entry.unit_price,
                ListPrice=sale.entry.unit_price,
                TotalPrice=amount,
                ServiceDate=sale.start.date(),
                EndDate=end.date(),
                ServiceDateTime=sale.start,
                EndDateTime=end,
            )
        roll = rollup([period], self._now)
        asset_id = self.add(
            "Asset",
            Name=sale.name,
            AccountId=account_id,
            Product2Id=sale.entry.product_id,
            HasLifecycleManagement=True,
            Status="Installed",
            LifecycleStartDate=period.start,
            LifecycleEndDate=period.end,
            CurrentLifecycleEndDate=roll.current_end,
            CurrentQuantity=roll.current_quantity,
            CurrentMrr=roll.current_mrr,
            TotalLifecycleAmount=amount,
            RenewalTerm=float(sale.term),
            RenewalTermUnit=sale.unit,
            DoesAutomaticallyRenew=True,
        )
        self.add(
            "AssetStatePeriod",
            AssetId=asset_id,
            StartDate=period.start,
            EndDate=period.end,
            Quantity=period.quantity,
            Mrr=period.mrr,
            Amount=0.0,
        )
        asset_action_id = self.add(
            "AssetAction",
            AssetId=asset_id,
            CategoryEnum="Initial Sale",
            Type="Generate",
            ActionDate=activated_at,
            QuantityChange=sale.quantity,
            MrrChange=period.mrr,
            Amount=amount,
        )
        self.add(
            "AssetActionSource",
            AssetActionId=asset_action_id,
            ReferenceEntityItemId=item_id,
            PricebookEntryId=sale.entry.id,
            TransactionDate=activated_at,
            StartDate=period.start,
            EndDate=period.end,
            Quantity=sale.quantity,
            ProductAmount=amount,
            UnitPrice=sale.entry.unit_price,
        )
        return asset_id

    def bundle(self, root_id: str, children: list[str]) -> None:
        """Children belong to the root's bundle (AssetRelationship, role Bundle)."""
        for child in children:
            self.add(
                "AssetRelationship",
                AssetId=root_id,
                RelatedAssetId=child,
                AssetRole="Bundle",
                GroupingKey=root_id,
            )

    def insert_into(self, store: Store) -> dict[str, int]:
        """Insert every row in dependency order; returns the count per object."""
        real: dict[str, str] = {}
        counts: dict[str, int] = {}
        for name in ORDER:
            rows = self.rows[name]
            if not rows:
                continue
            refs = [f.name for f in schema.OBJECTS[name].fields.values() if f.type == "reference"]
            refs += _EXTRA_KEYS.get(name, ())
            keys = []
            for row in rows:
                keys.append(row.pop("Id"))
                for ref in refs:
                    value = row.get(ref)
                    if value is not None:
                        row[ref] = real.get(value, value)
            real.update(zip(keys, store.insert_many(name, rows), strict=True))
            counts[name] = len(rows)
        return counts
