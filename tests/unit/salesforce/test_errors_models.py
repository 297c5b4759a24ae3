"""Error bodies → typed errors, and records → models."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from sfsync import errors
from sfsync.salesforce.errors import ElementError, error_for, is_error_array, parse_error_items, token_error
from sfsync.salesforce.models import Asset, AssetActionSource, Order, Quote, QuoteLineItem


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
        ("2026-11-23T09:00:00.000+09:00", datetime(2026, 11, 23, tzinfo=UTC)),
        ("2026-11-22T23:59:59.000-0100", datetime(2026, 11, 23, 0, 59, 59, tzinfo=UTC)),
        ("2026-11-23T00:00:00", datetime(2026, 11, 23, tzinfo=UTC)),
    ],
)
def test_datetimes_parse_to_utc(text: str, expected: datetime) -> None:
    """Salesforce datetime forms become aware UTC datetimes, exact to the second, from JSON or dicts."""
    from_json = Quote.model_validate_json(json.dumps({"CreatedDate": text})).CreatedDate
    from_dict = Quote.model_validate({"CreatedDate": text}).CreatedDate
    for value in (from_json, from_dict):
        assert value == expected
        assert isinstance(value, datetime)
        assert value.tzinfo is UTC


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
        "Unknown__c": 1,
    }
    source = AssetActionSource.model_validate(row)
    assert source.AssetAction is not None
    assert source.AssetAction.AssetId == "02i000000000001AAA"
    assert source.AssetAction.CategoryEnum == "Renewals"
    assert not hasattr(source, "attributes")


def test_asset_numbers_and_dates_are_exact() -> None:
    """Money as Decimal, dates as dates, datetimes as UTC."""
    asset = Asset.model_validate(
        {
            "CurrentMrr": 20.83,
            "TotalLifecycleAmount": 249.95,
            "LifecycleEndDate": "2026-08-10T00:00:00.000+0000",
        }
    )
    assert asset.CurrentMrr == Decimal("20.83")
    assert asset.TotalLifecycleAmount == Decimal("249.95")
    assert asset.LifecycleEndDate == datetime(2026, 8, 10, tzinfo=UTC)
    line = QuoteLineItem.model_validate({"StartDate": "2026-11-23", "Quantity": -5})
    assert line.StartDate == date(2026, 11, 23)
    assert line.Quantity == Decimal(-5)
    order = Order.model_validate({"EffectiveDate": "2026-11-23", "ShippingCity": "Tokyo"})
    assert order.EffectiveDate == date(2026, 11, 23)
