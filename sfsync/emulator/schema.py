"""The emulated org's objects and fields, as ``describe`` reports them (profile; Part 2 §5).

Each object is declared in a compact spec (``name:type[:detail]`` per field) and expanded into
:class:`ObjectDef`/:class:`FieldDef`. Names are matched case-insensitively everywhere, as
Salesforce does ("Leniency"). Every object also gets the system fields ``Id``, ``CreatedDate``,
``CreatedById``, ``LastModifiedDate``, ``LastModifiedById``, ``SystemModstamp`` and ``IsDeleted``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sfsync.sfid import KEY_PREFIXES

#: Field types the emulator knows (a subset of Salesforce's describe types).
FIELD_TYPES = frozenset(
    {"id", "reference", "string", "textarea", "picklist", "boolean", "int", "double", "currency", "percent",
     "date", "datetime"}
)  # fmt: skip
NUMERIC_TYPES = frozenset({"int", "double", "currency", "percent"})
TEXT_TYPES = frozenset({"id", "reference", "string", "textarea", "picklist"})


@dataclass(frozen=True)
class FieldDef:
    """One field: its type, references, and what the API may do with it."""

    name: str
    type: str
    reference_to: tuple[str, ...] = ()
    relationship_name: str | None = None
    createable: bool = True
    updateable: bool = True
    nillable: bool = True
    picklist_values: tuple[str, ...] = ()
    restricted: bool = False
    default: object = None
    autonumber: bool = False


@dataclass(frozen=True)
class ObjectDef:
    """One sObject type: name, key prefix and fields (looked up case-insensitively)."""

    name: str
    key_prefix: str
    fields: dict[str, FieldDef] = field(default_factory=dict)
    _by_lower: dict[str, FieldDef] = field(default_factory=dict, repr=False)
    _by_relationship: dict[str, FieldDef] = field(default_factory=dict, repr=False)

    def field(self, name: str) -> FieldDef | None:
        """The field of that name (any case), or None."""
        return self._by_lower.get(name.lower())

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationship name is ``name`` (any case), or None."""
        return self._by_relationship.get(name.lower())


_SYSTEM = (
    "Id:id:ro",
    "CreatedDate:datetime:ro",
    "CreatedById:reference:User:ro",
    "LastModifiedDate:datetime:ro",
    "LastModifiedById:reference:User:ro",
    "SystemModstamp:datetime:ro",
    "IsDeleted:boolean:ro",
)

_ADDRESS = tuple(
    f"{kind}{part}:{'textarea' if part == 'Street' else 'string'}"
    for kind in ("Billing", "Shipping")
    for part in ("Street", "City", "State", "PostalCode", "Country")
)

_CALC_STATUS = (
    "NotStarted|ContextHydrationInProgress|QueuedForConfiguration|ConfigurationInProgress|QueuedForPricing|"
    "QueuedForPricingAndSaving|PriceCalculationInProgress|TaxCalculationWaiting|QueuedForSaving|Saving|"
    "ReconciliationInProgress|CompletedWithTax|CompletedWithPricing|CompletedWithoutPricing|PstBaseStepFailed|"
    "ConfigurationFailed|GroupRampConfigurationFailed|PriceCalculationFailed|TaxCalculationFailed|"
    "SaveFailedOrIncomplete|ReconciliationFailed|OrderRequestFailed|OrderRequestPartiallySaved|PartialSaveSuccess"
)
_ACTION_TYPES = "Add|Amend|Cancel|Renew|No Change|Transfer|Association"
_SUBTYPES = (
    "StartDateAdjustment|TransferFrom|TransferTo|Rollback|FieldAmendment|SwapIn|SwapOut|UpgradeFrom|UpgradeTo|"
    "DowngradeFrom|DowngradeTo"
)
_CATEGORIES = (
    "Initial Sale|Upsells|Downsells|Cross-Sells|Cancellations|Transfers|Terms And Conditions Changes|Renewals|"
    "Upgrades|Downgrades|Swaps|Other"
)
_TERM_UNITS = "Annual|Months|Quarterly|Semi-Annual"

# Spec grammar per field: ``Name:type[:detail][:flag...]``. ``detail`` is the reference targets
# (``A|B``) or picklist values; flags: ``ro`` (read-only), ``ins`` (createable, not updateable),
# ``req`` (not nillable), ``restricted`` (restricted picklist), ``auto`` (auto-number),
# ``default=X`` (value on insert when absent).
_SPECS: dict[str, tuple[str, ...]] = {
    "Organization": ("Name:string:req", "OrganizationType:string:ro", "IsSandbox:boolean:ro",
                     "InstanceName:string:ro", "DefaultLocaleSidKey:string:ro", "TimeZoneSidKey:string:ro"),
    "User": ("Username:string:req", "Name:string", "FirstName:string", "LastName:string:req",
             "Email:string:req", "IsActive:boolean:default=true", "Alias:string", "TimeZoneSidKey:string",
             "LocaleSidKey:string", "LanguageLocaleKey:string", "ProfileId:string"),
    "Account": ("Name:string:req", "AccountNumber:string", "Type:picklist", "Industry:picklist",
                "Phone:string", "Website:string", "Description:textarea", "ParentId:reference:Account",
                "OwnerId:reference:User", "CurrencyIsoCode:picklist", *_ADDRESS),
    "Product2": ("Name:string:req", "ProductCode:string", "Family:picklist", "Description:textarea",
                 "IsActive:boolean:default=true", "StockKeepingUnit:string", "Type:picklist",
                 "ConfigureDuringSale:picklist"),
    "Pricebook2": ("Name:string:req", "IsActive:boolean:default=true", "IsStandard:boolean:ro",
                   "Description:textarea"),
    "PricebookEntry": ("Name:string:ro", "Pricebook2Id:reference:Pricebook2:req:ins",
                       "Product2Id:reference:Product2:req:ins", "UnitPrice:currency:req",
                       "IsActive:boolean:default=true", "UseStandardPrice:boolean", "ProductCode:string:ro",
                       "ProductSellingModelId:string", "CurrencyIsoCode:picklist"),
    "Asset": ("Name:string:req", "AccountId:reference:Account", "ContactId:string",
              "Product2Id:reference:Product2", "ParentId:reference:Asset", "RootAssetId:reference:Asset:ro",
              "AssetLevel:int:ro", "OwnerId:reference:User",
              "Status:picklist:Purchased|Shipped|Installed|Registered|Obsolete", "CurrencyIsoCode:picklist",
              "Quantity:double", "Price:currency", "SerialNumber:string", "Description:textarea",
              "HasLifecycleManagement:boolean", "LifecycleStartDate:datetime", "LifecycleEndDate:datetime",
              "CurrentLifecycleEndDate:datetime", "CurrentQuantity:double", "CurrentMrr:currency",
              "CurrentAmount:currency", "TotalLifecycleAmount:currency", "RenewalTerm:double",
              f"RenewalTermUnit:picklist:{_TERM_UNITS}",
              "RenewalPricingType:picklist:LastNegotiatedPrice|ListPrice",
              "PricingSource:picklist:LastTransaction|PriceBookListPrice",
              "QuantityIncreasePricingType:picklist", "DoesAutomaticallyRenew:boolean",
              "UnitPriceUplift:percent", "PurchaseDate:date", "InstallDate:date", "UsageEndDate:date"),
    "AssetRelationship": ("AssetRelationshipNumber:string:ro:auto", "AssetId:reference:Asset:req",
                          "RelatedAssetId:reference:Asset:req", "AssetRole:picklist:Bundle|Add-on|Set",
                          "GroupingKey:string", "RelationshipType:picklist", "FromDate:datetime",
                          "ToDate:datetime", "ProductRelationshipTypeId:string"),
    "AssetStatePeriod": ("AssetStatePeriodNumber:string:ro:auto", "AssetId:reference:Asset:req",
                         "StartDate:datetime:req", "EndDate:datetime", "Quantity:double:req",
                         "Mrr:currency:req", "Amount:currency:req", "BillingFrequency:picklist",
                         "UnitPrice:currency", "UnitPriceUplift:percent", "Discount:percent",
                         "DiscountAmount:currency", "RampIdentifier:string", "SegmentIdentifier:string",
                         "SegmentName:string", "SegmentType:picklist:Yearly|Custom|FreeTrial|Prorated",
                         "LegalEntityId:string"),
    "AssetAction": ("AssetActionNumber:string:ro:auto", "AssetId:reference:Asset:req",
                    "ActionDate:datetime", f"CategoryEnum:picklist:{_CATEGORIES}:req:restricted",
                    "Type:picklist:Generate|Change|Cancel|Convert", f"Subtype:picklist:{_SUBTYPES}",
                    "QuantityChange:double", "MrrChange:currency", "Amount:currency", "CanRollBack:boolean",
                    "RolledbackAssetActionId:reference:AssetAction", "ProductAmountChange:currency",
                    "AdjustmentAmountChange:currency", "SubtotalChange:currency",
                    "EstimatedTaxChange:currency", "ActualTaxChange:currency", "TotalQuantity:double",
                    "TotalMrr:currency", "TotalAmount:currency", "TotalInitialSaleAmount:currency",
                    "TotalRenewalsAmount:currency", "TotalCancellationsAmount:currency",
                    "TotalUpsellsAmount:currency", "TotalDownsellsAmount:currency",
                    "TotalCrossSellsAmount:currency", "TotalTransfersAmount:currency",
                    "TotalTermsAndConditionsAmount:currency", "TotalOtherAmount:currency",
                    "AssetStatePeriodHistory:textarea"),
    "AssetActionSource": ("AssetActionSourceNumber:string:ro:auto",
                          "AssetActionId:reference:AssetAction:req",
                          "ReferenceEntityItemId:reference:OrderItem|OrderItemDetail|WorkOrderLineItem",
                          "TransactionDate:datetime", "StartDate:datetime", "EndDate:datetime",
                          "Quantity:double", "ProductAmount:currency", "AdjustmentAmount:currency",
                          "Subtotal:currency", "ListPrice:currency", "UnitPrice:currency",
                          "NetUnitPrice:currency", "TotalLineAmount:currency", "TotalPrice:currency",
                          "Discount:percent", "DiscountAmount:currency", "EstimatedTax:currency",
                          "ActualTax:currency", "ObligatedAmount:currency",
                          "PricebookEntryId:reference:PricebookEntry", "ProductSellingModelId:string",
                          "PricingTermCount:double",
                          "PeriodBoundary:picklist:AlignToCalendar|Anniversary|DayOfPeriod|LastDayOfPeriod",
                          "BillingReference:string", "ExternalReference:string",
                          "ExternalReferenceDataSource:string", "OriginalLineNumber:int"),
    "Quote": ("Name:string:req", "QuoteNumber:string:ro:auto", "QuoteAccountId:reference:Account",
              "OpportunityId:string", "Pricebook2Id:reference:Pricebook2", "ContractId:string",
              "Status:picklist:Draft|Needs Review|In Review|Approved|Rejected|Presented|Accepted|Denied"
              ":default=Draft",
              f"CalculationStatus:picklist:{_CALC_STATUS}",
              f"OriginalActionType:picklist:{_ACTION_TYPES}",
              "ValidationResult:picklist:TransactionIncomplete|MissingContributor", "StartDate:date",
              "ExpirationDate:date", "TotalPrice:currency:ro", "Subtotal:currency:ro",
              "GrandTotal:currency:ro", "Description:textarea", *_ADDRESS),
    "QuoteAction": ("Name:string:ro:auto", "QuoteId:reference:Quote:req", "SourceAssetId:reference:Asset",
                    f"Type:picklist:{_ACTION_TYPES}", f"Subtype:picklist:{_SUBTYPES}"),
    "QuoteLineItem": ("LineNumber:string:ro:auto", "QuoteId:reference:Quote:req:ins",
                      "Product2Id:reference:Product2", "PricebookEntryId:reference:PricebookEntry:req:ins",
                      "QuoteActionId:reference:QuoteAction", "Quantity:double:req", "StartQuantity:double",
                      "EndQuantity:double:ro", "StartDate:date", "EndDate:date", "SubscriptionTerm:double",
                      f"SubscriptionTermUnit:picklist:{_TERM_UNITS}", "PricingTermUnit:picklist",
                      "SellingModelType:picklist:OneTime|TermDefined|Evergreen", "BillingFrequency:picklist",
                      "PeriodBoundary:picklist", "DoesAutomaticallyRenew:boolean", "UnitPrice:currency",
                      "ListPrice:currency", "NetUnitPrice:currency", "TotalPrice:currency",
                      "Discount:percent", "ValidationResult:picklist", "Description:textarea"),
    "Order": ("Name:string", "OrderNumber:string:ro:auto", "AccountId:reference:Account",
              "QuoteId:reference:Quote", "ContractId:string", "Pricebook2Id:reference:Pricebook2",
              "Status:picklist:Draft|Activated:req:restricted:default=Draft",
              "StatusCode:picklist:Draft|Activated|Canceled|Expired|Superseded:ro", "EffectiveDate:date:req",
              "EndDate:date", "ActivatedDate:datetime:ro", "ActivatedById:reference:User:ro",
              f"OriginalActionType:picklist:{_ACTION_TYPES}", "OriginalOrderId:reference:Order",
              "RelatedOrderId:reference:Order", f"CalculationStatus:picklist:{_CALC_STATUS}",
              "ValidationResult:picklist:TransactionIncomplete|MissingContributor",
              "OrchestrationSbmsStatus:picklist:Submitted|Decomposed|Rejected|Completed|AssetizationFailed"
              "|Superseded", "TotalAmount:currency:ro", "Type:picklist", "Description:textarea",
              "OwnerId:reference:User", *_ADDRESS),
    "OrderAction": ("Name:string:ro:auto", "OrderId:reference:Order:req", "SourceAssetId:reference:Asset",
                    "Type:picklist:Add|Amend|Cancel|No Change|Renew|Transfer", f"Subtype:picklist:{_SUBTYPES}"),
    "OrderItem": ("OrderItemNumber:string:ro:auto", "OrderId:reference:Order:req:ins",
                  "Product2Id:reference:Product2", "PricebookEntryId:reference:PricebookEntry:req:ins",
                  "OrderActionId:reference:OrderAction", "QuoteLineItemId:reference:QuoteLineItem",
                  "Quantity:double:req", "StartQuantity:double", "EndQuantity:double:ro",
                  "ServiceDate:date", "EndDate:date", "ServiceDateTime:datetime", "EndDateTime:datetime",
                  "SubscriptionTerm:double", "UnitPrice:currency:req", "ListPrice:currency",
                  "NetUnitPrice:currency", "NetTotalPrice:currency", "TotalLineAmount:currency",
                  "TotalPrice:currency", "DoesAutomaticallyRenew:boolean", "CustomProductName:string",
                  "BillingFrequency2:picklist", "Status:picklist", "ValidationResult:picklist",
                  "Description:textarea"),
    "AsyncOperationTracker": ("Name:string:ro:auto", "JobType:picklist", "Status:picklist:"
                              "Submitted|InProgress|Completed|Failure|PartialSuccess",
                              "ReferenceEntityId:string", "FinishedAt:datetime", "StartedAt:datetime",
                              "CorrelationIdentifier:string", "StatusMessage:textarea",
                              "Progress:double"),
    "RevenueTransactionErrorLog": ("Name:string:ro:auto", "Category:picklist", "ErrorCode:string",
                                   "ErrorMessage:textarea", "PrimaryRecordId:string",
                                   "RelatedRecordId:string", "RequestIdentifier:string",
                                   "AsyncOperationTrackerId:reference:AsyncOperationTracker",
                                   "Severity:picklist:Error|Warning|Info"),
    "AppUsageAssignment": ("RecordId:string:req", "AppUsageType:picklist:req"),
}  # fmt: skip


def _parse_field(spec: str) -> FieldDef:
    parts = spec.split(":")
    name, ftype, rest = parts[0], parts[1], parts[2:]
    if ftype not in FIELD_TYPES:
        msg = f"unknown field type {ftype!r} in {spec!r}"
        raise ValueError(msg)
    flags = {"ro", "ins", "req", "restricted", "auto"}
    detail: tuple[str, ...] = ()
    if rest and rest[0] not in flags and not rest[0].startswith("default="):
        detail = tuple(rest[0].split("|"))
        rest = rest[1:]
    default: object = None
    for flag in rest:
        if flag.startswith("default="):
            raw = flag.removeprefix("default=")
            default = raw == "true" if ftype == "boolean" else raw
    if ftype == "boolean" and default is None:
        default = False
    ref = detail if ftype == "reference" else ()
    rel = None
    if ref:
        rel = name[:-2] if name.endswith("Id") else name
    return FieldDef(
        name=name,
        type=ftype,
        reference_to=ref,
        relationship_name=rel,
        createable="ro" not in rest,
        updateable="ro" not in rest and "ins" not in rest,
        nillable="req" not in rest and ftype != "boolean",
        picklist_values=detail if ftype == "picklist" else (),
        restricted="restricted" in rest,
        default=default,
        autonumber="auto" in rest,
    )


def _build(name: str, specs: tuple[str, ...]) -> ObjectDef:
    fields = {f.name: f for f in (_parse_field(s) for s in (*_SYSTEM, *specs))}
    obj = ObjectDef(name=name, key_prefix=KEY_PREFIXES[name], fields=fields)
    obj._by_lower.update({n.lower(): f for n, f in fields.items()})
    obj._by_relationship.update(
        {f.relationship_name.lower(): f for f in fields.values() if f.relationship_name is not None}
    )
    return obj


#: Every object the emulator serves, by canonical name.
OBJECTS: dict[str, ObjectDef] = {name: _build(name, specs) for name, specs in _SPECS.items()}
_OBJECTS_LOWER = {name.lower(): obj for name, obj in OBJECTS.items()}
_BY_PREFIX = {obj.key_prefix: obj for obj in OBJECTS.values()}


def lookup(name: str) -> ObjectDef | None:
    """The object of that name (any case), or None."""
    return _OBJECTS_LOWER.get(name.lower())


def object_for_id(record_id: str) -> ObjectDef | None:
    """The object whose key prefix starts the ID, or None."""
    return _BY_PREFIX.get(record_id[:3])
