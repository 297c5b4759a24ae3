"""Typed views of the records sfsync reads (msgspec Structs; unknown fields and ``attributes`` ignored).

Field names are Salesforce's API names, so a model reads a query row as it comes. Datetimes
(``2026-11-23T00:00:00.000+0000``, ``…Z``, ``…+00:00``) become aware UTC datetimes; dates stay
dates. Relationship fields (``AssetAction.AssetId`` on an AssetActionSource) are nested models.
Numbers become ``Decimal`` from their JSON text, exactly. Records are checked when decoded
(``msgspec.json.decode``/``convert``, as :mod:`~sfsync.salesforce.query` does); a model built by
hand is not checked, but its datetimes are made UTC all the same.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import msgspec
from msgspec.structs import force_setattr


def as_utc(value: datetime) -> datetime:
    """An aware UTC datetime (Salesforce sends UTC; a value without a zone is UTC, as there)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SObject(msgspec.Struct, frozen=True):
    """Base of every record model."""

    #: The model's datetime fields; None until its first record is made (msgspec builds the fields
    #: after the class statement, so each model finds its own then).
    _datetime_fields: ClassVar[tuple[str, ...] | None] = ()

    Id: str | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Let each model find its own datetime fields (see ``_datetime_fields``)."""
        super().__init_subclass__(**kwargs)
        cls._datetime_fields = None

    def __post_init__(self) -> None:
        """Make every datetime aware UTC (msgspec keeps a zone-less value naive, an offset as sent)."""
        # msgspec parses ``+0000``/``Z``/``+00:00`` to ``datetime.UTC`` itself (in C); this only looks
        # at each datetime and converts the rare other one. Runs on decoding and on construction.
        names = self._datetime_fields
        if names is None:
            names = type(self)._datetime_fields = _find_datetime_fields(type(self))
        for name in names:
            value = getattr(self, name)
            if value is not None and value.tzinfo is not UTC:
                force_setattr(self, name, as_utc(value))


def _find_datetime_fields(model: type[SObject]) -> tuple[str, ...]:
    """The names of the model's ``datetime`` fields."""
    return tuple(
        field.name for field in msgspec.structs.fields(model) if field.type in (datetime, datetime | None)
    )


class Product(SObject, frozen=True):
    """The product fields read through ``Asset.Product2``."""

    Name: str | None = None
    Family: str | None = None


class Asset(SObject, frozen=True):
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
    LifecycleStartDate: datetime | None = None
    LifecycleEndDate: datetime | None = None
    CurrentLifecycleEndDate: datetime | None = None
    RenewalTerm: Decimal | None = None
    RenewalTermUnit: str | None = None
    DoesAutomaticallyRenew: bool | None = None
    CurrencyIsoCode: str | None = None


class AssetRelationship(SObject, frozen=True):
    """A bundle/add-on link: ``AssetId`` is the parent, ``RelatedAssetId`` the child."""

    AssetId: str | None = None
    RelatedAssetId: str | None = None
    AssetRole: str | None = None
    GroupingKey: str | None = None


class AssetAction(SObject, frozen=True):
    """One change to an asset (Renewals, Cancellations…)."""

    AssetId: str | None = None
    CategoryEnum: str | None = None
    Type: str | None = None
    ActionDate: datetime | None = None
    QuantityChange: Decimal | None = None
    MrrChange: Decimal | None = None
    Amount: Decimal | None = None
    CreatedDate: datetime | None = None


class PricebookEntry(SObject, frozen=True):
    """The price book entry fields read through a relationship."""

    Pricebook2Id: str | None = None
    Product2Id: str | None = None


# Aliases for the fields named like their model class, so each annotation names the class unambiguously.
AssetActionRef = AssetAction
PricebookEntryRef = PricebookEntry


class AssetActionSource(SObject, frozen=True):
    """Links an asset action to the transaction line (order item) that caused it."""

    AssetActionId: str | None = None
    AssetAction: AssetActionRef | None = None
    ReferenceEntityItemId: str | None = None
    PricebookEntryId: str | None = None
    PricebookEntry: PricebookEntryRef | None = None
    TransactionDate: datetime | None = None
    StartDate: datetime | None = None
    EndDate: datetime | None = None
    Quantity: Decimal | None = None
    CreatedDate: datetime | None = None


class AssetStatePeriod(SObject, frozen=True):
    """A span of an asset's life with constant quantity and MRR."""

    AssetId: str | None = None
    StartDate: datetime | None = None
    EndDate: datetime | None = None
    Quantity: Decimal | None = None
    Mrr: Decimal | None = None
    Amount: Decimal | None = None


class Quote(SObject, frozen=True):
    """A quote, with its pricing state."""

    Name: str | None = None
    Status: str | None = None
    QuoteAccountId: str | None = None
    Pricebook2Id: str | None = None
    CalculationStatus: str | None = None
    ValidationResult: str | None = None
    OriginalActionType: str | None = None
    CreatedDate: datetime | None = None


class QuoteLineItem(SObject, frozen=True):
    """A quote line; ``Quantity`` is the delta."""

    QuoteId: str | None = None
    Product2Id: str | None = None
    PricebookEntryId: str | None = None
    QuoteActionId: str | None = None
    Quantity: Decimal | None = None
    StartQuantity: Decimal | None = None
    EndQuantity: Decimal | None = None
    StartDate: date | None = None
    EndDate: date | None = None


class QuoteAction(SObject, frozen=True):
    """The action (Renew, Cancel…) a quote performs on a source asset."""

    QuoteId: str | None = None
    SourceAssetId: str | None = None
    Type: str | None = None
    CreatedById: str | None = None
    CreatedDate: datetime | None = None


class Order(SObject, frozen=True):
    """An order, with status and shipping address."""

    Status: str | None = None
    AccountId: str | None = None
    QuoteId: str | None = None
    Pricebook2Id: str | None = None
    OrderNumber: str | None = None
    EffectiveDate: date | None = None
    ActivatedDate: datetime | None = None
    OriginalActionType: str | None = None
    ShippingStreet: str | None = None
    ShippingCity: str | None = None
    ShippingState: str | None = None
    ShippingPostalCode: str | None = None
    ShippingCountry: str | None = None
    CreatedById: str | None = None
    CreatedDate: datetime | None = None


class OrderItem(SObject, frozen=True):
    """An order line; ``Quantity`` is the delta."""

    OrderId: str | None = None
    Product2Id: str | None = None
    OrderActionId: str | None = None
    Quantity: Decimal | None = None
    StartQuantity: Decimal | None = None
    EndQuantity: Decimal | None = None
    ServiceDate: date | None = None
    EndDate: date | None = None


class OrderAction(SObject, frozen=True):
    """The action (Renew, Cancel…) an order performs on a source asset."""

    OrderId: str | None = None
    SourceAssetId: str | None = None
    Type: str | None = None
    CreatedById: str | None = None
    CreatedDate: datetime | None = None


class AsyncOperationTracker(SObject, frozen=True):
    """The state of an asynchronous platform job (e.g. AssetizationAsyncJob of an order)."""

    JobType: str | None = None
    Status: str | None = None
    ReferenceEntityId: str | None = None
    FinishedAt: datetime | None = None
    CreatedDate: datetime | None = None


class RevenueTransactionErrorLog(SObject, frozen=True):
    """An error Revenue Cloud logged for an asynchronous part of a transaction."""

    Category: str | None = None
    ErrorCode: str | None = None
    ErrorMessage: str | None = None
    PrimaryRecordId: str | None = None
    RelatedRecordId: str | None = None
    RequestIdentifier: str | None = None
    AsyncOperationTrackerId: str | None = None
    Severity: str | None = None
    CreatedDate: datetime | None = None


class Account(SObject, frozen=True):
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
    return tuple(field for field in model.__struct_fields__ if field not in RELATIONSHIPS)


#: Fields that are nested relationship records, not scalar columns.
RELATIONSHIPS = frozenset({"Product2", "AssetAction", "PricebookEntry"})
