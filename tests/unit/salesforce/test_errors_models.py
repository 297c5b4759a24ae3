"""Error bodies → typed errors, and records → models."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from sfsync import errors
from sfsync.salesforce.errors import ElementError, error_for, is_error_array, parse_error_items, token_error
from sfsync.salesforce.models import (
    Asset,
    AssetActionSource,
    Order,
    Product,
    Quote,
    QuoteLineItem,
    SObject,
    fields_of,
)


def test_top_level_array_and_element_errors_parse_alike() -> None:
    """errorCode (top level) and statusCode (elements) both give the code; fields kept."""
    top = [{"message": "No such column 'Foo' on entity 'Asset'.", "errorCode": "INVALID_FIELD"}]
    element = [
        {
            "statusCode": "REQUIRED_FIELD_MISSING",
            "message": "Select an account.",
            "fields": ["QuoteAccountId"],
        }
    ]
    assert parse_error_items(top) == [
        ElementError("INVALID_FIELD", "No such column 'Foo' on entity 'Asset'.")
    ]
    assert parse_error_items(element) == [
        ElementError("REQUIRED_FIELD_MISSING", "Select an account.", ("QuoteAccountId",))
    ]
    assert is_error_array(top)
    assert not is_error_array([{"actionName": "x", "isSuccess": False, "errors": element}])


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "MALFORMED_QUERY", errors.RejectedError),
        (400, "INVALID_FIELD", errors.RejectedError),
        (404, "NOT_FOUND", errors.NotFoundError),
        (400, "ENTITY_IS_DELETED", errors.NotFoundError),
        (401, "INVALID_SESSION_ID", errors.AuthError),
        (403, "INSUFFICIENT_ACCESS", errors.RejectedError),
        (501, "UNKNOWN", errors.UnavailableError),
    ],
)
def test_error_classes(status: int, code: str, kind: type[errors.SalesforceError]) -> None:
    """Each status/code pair maps to its class with all context attached."""
    exc = error_for(
        status,
        [ElementError(code, "why", ("F",))],
        endpoint="/services/data/v66.0/query",
        request_id="req-1",
        record_ids=["02i"],
    )
    assert type(exc) is kind
    assert exc.status == status
    assert exc.error_codes == (code,)
    assert exc.fields == ("F",)
    assert exc.record_ids == ("02i",)
    assert "req-1" in exc.message
    assert f"HTTP {status}" in str(exc)


def test_token_errors() -> None:
    """OAuth error bodies become AuthError naming Salesforce's error and description."""
    exc = token_error(
        400, {"error": "invalid_grant", "error_description": "authentication failure"}, endpoint="t"
    )
    assert exc.error_codes == ("invalid_grant",)
    assert "invalid_grant: authentication failure" in exc.message
    assert "no OAuth error body" in token_error(502, "<html>", endpoint="t").message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T00:00:00.000+0000", datetime(2026, 11, 23, tzinfo=UTC)),
        ("2026-11-23T00:00:00Z", datetime(2026, 11, 23, tzinfo=UTC)),
        ("2026-11-23T00:00:00+00:00", datetime(2026, 11, 23, tzinfo=UTC)),
        ("2026-11-23T09:00:00.000+09:00", datetime(2026, 11, 23, tzinfo=UTC)),
        ("2026-11-22T23:59:59.000-0100", datetime(2026, 11, 23, 0, 59, 59, tzinfo=UTC)),
        ("2026-11-23T00:00:00", datetime(2026, 11, 23, tzinfo=UTC)),
        ("2026-11-23T00:00:00.000", datetime(2026, 11, 23, tzinfo=UTC)),
    ],
)
def test_datetimes_parse_to_utc(text: str, expected: datetime) -> None:
    """Salesforce datetime forms become aware UTC datetimes, exact to the second, from JSON or dicts."""
    from_json = msgspec.json.decode(json.dumps({"CreatedDate": text}), type=Quote).CreatedDate
    from_dict = msgspec.convert({"CreatedDate": text}, Quote).CreatedDate
    for value in (from_json, from_dict):
        assert value == expected
        assert isinstance(value, datetime)
        assert value.tzinfo is UTC


def test_every_datetime_field_is_utc_nested_ones_too() -> None:
    """Zone-less and offset values become UTC in every datetime field, in nested records as well."""
    row = {
        "TransactionDate": "2026-11-23T00:00:00",
        "StartDate": "2026-11-23T01:00:00+01:00",
        "EndDate": "2027-11-22T23:59:59.000+0000",
        "CreatedDate": "2026-11-22T19:00:00.000-0500",
        "AssetAction": {"ActionDate": "2026-11-23T09:00:00+0900", "CreatedDate": "2026-11-23T00:00:00Z"},
    }
    source = msgspec.json.decode(json.dumps(row), type=AssetActionSource)
    assert source.AssetAction is not None
    moments = [
        source.TransactionDate,
        source.StartDate,
        source.CreatedDate,
        source.AssetAction.ActionDate,
        source.AssetAction.CreatedDate,
    ]
    assert moments == [datetime(2026, 11, 23, tzinfo=UTC)] * 5
    assert source.EndDate == datetime(2027, 11, 22, 23, 59, 59, tzinfo=UTC)
    assert all(moment is not None and moment.tzinfo is UTC for moment in [*moments, source.EndDate])


def test_models_built_by_hand_get_utc_datetimes_and_stay_frozen() -> None:
    """A model built in code gets UTC datetimes too; records cannot be changed once made."""
    asset = Asset(Id="02i000000000001AAA", LifecycleEndDate=datetime(2026, 8, 10))  # noqa: DTZ001
    assert asset.LifecycleEndDate == datetime(2026, 8, 10, tzinfo=UTC)
    assert asset.LifecycleEndDate is not None
    assert asset.LifecycleEndDate.tzinfo is UTC
    assert asset == Asset(Id="02i000000000001AAA", LifecycleEndDate=datetime(2026, 8, 10, tzinfo=UTC))
    with pytest.raises(AttributeError):
        asset.Id = "02i000000000002AAA"  # type: ignore[misc]


def test_a_model_derived_elsewhere_gets_its_own_datetimes_made_utc() -> None:
    """Each model finds its own datetime fields, including a subclass of a model and its new fields."""

    class TimedAsset(Asset, frozen=True):
        Extra: datetime | None = None
        When: date | None = None

    row = b"""{"Extra": "2026-11-23T09:00:00+09:00", "LifecycleEndDate": "2026-11-23T00:00:00",
               "When": "2026-11-23"}"""
    asset = msgspec.json.decode(row, type=TimedAsset)
    assert asset.Extra == asset.LifecycleEndDate == datetime(2026, 11, 23, tzinfo=UTC)
    assert asset.Extra is not None
    assert asset.Extra.tzinfo is UTC
    assert asset.When == date(2026, 11, 23)


def test_models_ignore_extras_and_nest_relationships() -> None:
    """`attributes` and unknown fields are dropped; relationship fields become nested models."""
    row = {
        "attributes": {
            "type": "AssetActionSource",
            "url": "/services/data/v66.0/sobjects/AssetActionSource/4nM",
        },
        "Id": "4nM000000000001AAA",
        "ReferenceEntityItemId": "802000000000001AAA",
        "AssetAction": {
            "attributes": {"type": "AssetAction"},
            "AssetId": "02i000000000001AAA",
            "CategoryEnum": "Renewals",
        },
        "PricebookEntry": {"attributes": {"type": "PricebookEntry"}, "Pricebook2Id": "01s000000000001AAA"},
        "Unknown__c": 1,
    }
    for source in (
        msgspec.json.decode(json.dumps(row), type=AssetActionSource),
        msgspec.convert(row, AssetActionSource),
    ):
        assert source.AssetAction is not None
        assert source.AssetAction.AssetId == "02i000000000001AAA"
        assert source.AssetAction.CategoryEnum == "Renewals"
        assert source.PricebookEntry is not None
        assert source.PricebookEntry.Pricebook2Id == "01s000000000001AAA"
        assert not hasattr(source, "attributes")
    asset = msgspec.json.decode(b'{"Product2": {"Name": "Widget", "Family": "Licenses"}}', type=Asset)
    assert asset.Product2 == Product(Name="Widget", Family="Licenses")


def test_asset_numbers_and_dates_are_exact() -> None:
    """Money as Decimal, dates as dates, datetimes as UTC."""
    text = b"""{
        "CurrentMrr": 20.83,
        "TotalLifecycleAmount": 249.95,
        "CurrentQuantity": 0.1000,
        "RenewalTerm": 12,
        "CurrentAmount": 12345678901234567890.123456789,
        "LifecycleEndDate": "2026-08-10T00:00:00.000+0000"
    }"""
    asset = msgspec.json.decode(text, type=Asset)
    assert asset.CurrentMrr == Decimal("20.83")
    assert asset.TotalLifecycleAmount == Decimal("249.95")
    # The JSON number's own text, not a float's: precision and trailing zeros kept.
    assert str(asset.CurrentQuantity) == "0.1000"
    assert str(asset.CurrentAmount) == "12345678901234567890.123456789"
    assert asset.RenewalTerm == Decimal(12)
    assert asset.LifecycleEndDate == datetime(2026, 8, 10, tzinfo=UTC)
    # From an already decoded dict a float's shortest text is used, as before: 20.83, not 20.8299999…
    assert msgspec.convert({"CurrentMrr": 20.83}, Asset).CurrentMrr == Decimal("20.83")
    line = msgspec.json.decode(b'{"StartDate": "2026-11-23", "Quantity": -5}', type=QuoteLineItem)
    assert line.StartDate == date(2026, 11, 23)
    assert type(line.StartDate) is date
    assert line.Quantity == Decimal(-5)
    order = msgspec.json.decode(b'{"EffectiveDate": "2026-11-23", "ShippingCity": "Tokyo"}', type=Order)
    assert order.EffectiveDate == date(2026, 11, 23)


@pytest.mark.parametrize(
    ("model", "row", "where"),
    [
        (QuoteLineItem, {"StartDate": "2026-11-23T00:00:00.000+0000"}, "$.StartDate"),
        (Order, {"EffectiveDate": "2026-11-23T00:00:00Z"}, "$.EffectiveDate"),
        (Quote, {"CreatedDate": "2026-11-23"}, "$.CreatedDate"),
        (Asset, {"CurrentQuantity": True}, "$.CurrentQuantity"),
        (Asset, {"CurrentMrr": "twenty"}, "$.CurrentMrr"),
        (Asset, {"HasLifecycleManagement": "yes"}, "$.HasLifecycleManagement"),
        (AssetActionSource, {"AssetAction": {"ActionDate": "soon"}}, "$.AssetAction.ActionDate"),
    ],
)
def test_values_of_the_wrong_kind_are_refused(model: type[SObject], row: dict[str, Any], where: str) -> None:
    """A datetime where a date belongs (and the reverse), text for a number… are refused, naming the field."""
    with pytest.raises(msgspec.ValidationError, match=re.escape(where)):
        msgspec.json.decode(json.dumps(row), type=model)


def test_fields_of_lists_scalar_columns_in_declaration_order() -> None:
    """fields_of gives a SELECT list: Id first, relationship records left out."""
    fields = fields_of(Asset)
    assert fields[:3] == ("Id", "Name", "AccountId")
    assert "Product2" not in fields
    assert "Product2Id" in fields
    assert "LifecycleEndDate" in fields
    assert "AssetAction" not in fields_of(AssetActionSource)
    assert "PricebookEntry" not in fields_of(AssetActionSource)
