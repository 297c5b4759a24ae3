"""Typed views of the records sfsync reads (pydantic v2; unknown fields and ``attributes`` ignored).

Field names are Salesforce's API names, so a model reads a query row as it comes. Datetimes
(``2026-11-23T00:00:00.000+0000``, ``…Z``, ``…+00:00``) become aware UTC datetimes; dates stay
dates. Relationship fields (``AssetAction.AssetId`` on an AssetActionSource) are nested models.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime (Salesforce sends UTC; a value without a zone is UTC, as there)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_date(value: object) -> object:
    """Parse ``YYYY-MM-DD`` (a datetime's date part is refused: dates and datetimes differ)."""
    if isinstance(value, str):
        return date.fromisoformat(value.strip())
    return value


# pydantic parses ``2026-11-23T00:00:00.000+0000`` natively (in Rust); only the zone is ours to fix.
SfDateTime = Annotated[datetime, AfterValidator(as_utc)]
SfDate = Annotated[date, BeforeValidator(parse_date)]


class SObject(BaseModel):
    """Base of every record model."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    Id: str | None = None


class Product(SObject):
    """The product fields read through ``Asset.Product2``."""

    Name: str | None = None
    Family: str | None = None


class Asset(SObject):
    """A lifecycle-managed asset."""

    Name: str | None = None
    AccountId: str | None = None
    Product2Id: str | None = None
    Product2: Product | None = None
    Status: str | None = None
    HasLifecycleManagement: bool | None = None
    CurrentQuantity: Decimal | None = None
    CurrentMrr: Decimal | None = None
    CurrentAmount: Decimal | None = None
    TotalLifecycleAmount: Decimal | None = None
    LifecycleStartDate: SfDateTime | None = None
    LifecycleEndDate: SfDateTime | None = None
    CurrentLifecycleEndDate: SfDateTime | None = None
    RenewalTerm: Decimal | None = None
    RenewalTermUnit: str | None = None
    DoesAutomaticallyRenew: bool | None = None
    CurrencyIsoCode: str | None = None


class AssetRelationship(SObject):
    """A bundle/add-on link: ``AssetId`` is the parent, ``RelatedAssetId`` the child."""

    AssetId: str | None = None
    RelatedAssetId: str | None = None
    AssetRole: str | None = None
    GroupingKey: str | None = None


class AssetAction(SObject):
    """One change to an asset (Renewals, Cancellations…)."""

    AssetId: str | None = None
    CategoryEnum: str | None = None
    Type: str | None = None
    ActionDate: SfDateTime | None = None
    QuantityChange: Decimal | None = None
    MrrChange: Decimal | None = None
    Amount: Decimal | None = None
    CreatedDate: SfDateTime | None = None


class PricebookEntry(SObject):
    """The price book entry fields read through a relationship."""

    Pricebook2Id: str | None = None
    Product2Id: str | None = None


# Aliases: a field named like its model class would otherwise resolve to the field's default.
AssetActionRef = AssetAction
PricebookEntryRef = PricebookEntry


class AssetActionSource(SObject):
    """Links an asset action to the transaction line (order item) that caused it."""

    AssetActionId: str | None = None
    AssetAction: AssetActionRef | None = None
    ReferenceEntityItemId: str | None = None
    PricebookEntryId: str | None = None
    PricebookEntry: PricebookEntryRef | None = None
    TransactionDate: SfDateTime | None = None
    StartDate: SfDateTime | None = None
    EndDate: SfDateTime | None = None
    Quantity: Decimal | None = None
    CreatedDate: SfDateTime | None = None


class AssetStatePeriod(SObject):
    """A span of an asset's life with constant quantity and MRR."""

    AssetId: str | None = None
    StartDate: SfDateTime | None = None
    EndDate: SfDateTime | None = None
    Quantity: Decimal | None = None
    Mrr: Decimal | None = None
    Amount: Decimal | None = None


class Quote(SObject):
    """A quote, with its pricing state."""

    Name: str | None = None
    Status: str | None = None
    QuoteAccountId: str | None = None
    Pricebook2Id: str | None = None
    CalculationStatus: str | None = None
    ValidationResult: str | None = None
    OriginalActionType: str | None = None
    CreatedDate: SfDateTime | None = None


class QuoteLineItem(SObject):
    """A quote line; ``Quantity`` is the delta."""

    QuoteId: str | None = None
    Product2Id: str | None = None
    PricebookEntryId: str | None = None
    QuoteActionId: str | None = None
    Quantity: Decimal | None = None
    StartQuantity: Decimal | None = None
    EndQuantity: Decimal | None = None
    StartDate: SfDate | None = None
    EndDate: SfDate | None = None


class QuoteAction(SObject):
    """The action (Renew, Cancel…) a quote performs on a source asset."""

    QuoteId: str | None = None
    SourceAssetId: str | None = None
    Type: str | None = None
    CreatedById: str | None = None
    CreatedDate: SfDateTime | None = None


class Order(SObject):
    """An order, with status and shipping address."""

    Status: str | None = None
    AccountId: str | None = None
    QuoteId: str | None = None
    Pricebook2Id: str | None = None
    OrderNumber: str | None = None
    EffectiveDate: SfDate | None = None
    ActivatedDate: SfDateTime | None = None
    OriginalActionType: str | None = None
    ShippingStreet: str | None = None
    ShippingCity: str | None = None
    ShippingState: str | None = None
    ShippingPostalCode: str | None = None
    ShippingCountry: str | None = None
    CreatedById: str | None = None
    CreatedDate: SfDateTime | None = None


class OrderItem(SObject):
    """An order line; ``Quantity`` is the delta."""

    OrderId: str | None = None
    Product2Id: str | None = None
    OrderActionId: str | None = None
    Quantity: Decimal | None = None
    StartQuantity: Decimal | None = None
    EndQuantity: Decimal | None = None
    ServiceDate: SfDate | None = None
    EndDate: SfDate | None = None


class OrderAction(SObject):
    """The action (Renew, Cancel…) an order performs on a source asset."""

    OrderId: str | None = None
    SourceAssetId: str | None = None
    Type: str | None = None
    CreatedById: str | None = None
    CreatedDate: SfDateTime | None = None


class AsyncOperationTracker(SObject):
    """The state of an asynchronous platform job (e.g. AssetizationAsyncJob of an order)."""

    JobType: str | None = None
    Status: str | None = None
    ReferenceEntityId: str | None = None
    FinishedAt: SfDateTime | None = None
    CreatedDate: SfDateTime | None = None


class RevenueTransactionErrorLog(SObject):
    """An error Revenue Cloud logged for an asynchronous part of a transaction."""

    Category: str | None = None
    ErrorCode: str | None = None
    ErrorMessage: str | None = None
    PrimaryRecordId: str | None = None
    RelatedRecordId: str | None = None
    RequestIdentifier: str | None = None
    AsyncOperationTrackerId: str | None = None
    Severity: str | None = None
    CreatedDate: SfDateTime | None = None


class Account(SObject):
    """An account and its shipping address."""

    Name: str | None = None
    ShippingStreet: str | None = None
    ShippingCity: str | None = None
    ShippingState: str | None = None
    ShippingPostalCode: str | None = None
    ShippingCountry: str | None = None


#: The shipping address fields copied from an account to an order before activation.
SHIPPING_FIELDS = ("ShippingStreet", "ShippingCity", "ShippingState", "ShippingPostalCode", "ShippingCountry")

#: Quote.CalculationStatus values: pricing finished, failed, or needs a person.
PRICING_DONE = frozenset({"CompletedWithTax", "CompletedWithPricing", "CompletedWithoutPricing"})
PRICING_FAILED = frozenset(
    {
        "PstBaseStepFailed",
        "ConfigurationFailed",
        "GroupRampConfigurationFailed",
        "PriceCalculationFailed",
        "TaxCalculationFailed",
        "SaveFailedOrIncomplete",
        "ReconciliationFailed",
        "OrderRequestFailed",
    }
)
#: Partly saved: not usable as is; a person must look (the engine fails the item with this status).
PRICING_INVESTIGATE = frozenset({"OrderRequestPartiallySaved", "PartialSaveSuccess"})


def fields_of(model: type[SObject]) -> tuple[str, ...]:
    """The scalar (non-relationship) field names of a model, for a SELECT list."""
    return tuple(field for field in model.model_fields if field not in RELATIONSHIPS)


#: Fields that are nested relationship records, not scalar columns.
RELATIONSHIPS = frozenset({"Product2", "AssetAction", "PricebookEntry"})
