"""Streaming queries, invocable actions (partial failures, adaptive batches) and Collections."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import responses

from sfsync import errors, sfid
from sfsync.salesforce import collections, query
from sfsync.salesforce.models import Asset
from sfsync.salesforce.outcomes import Done, Failed, NotSent, Uncertain
from sfsync.salesforce.soql import select

from .conftest import DATA, LIMIT, SleepRecorder, body_of, make_client

ASSETS = [sfid.make("02i", n) for n in range(1, 8)]
RENEW = f"{DATA}/actions/standard/initiateRenewal"
LIMIT_EXCEEDED = [{"errorCode": "LIMIT_EXCEEDED", "message": "Too many inputs: 4 (max 2)"}]


def _asset(n: int) -> dict[str, Any]:
    return {
        "attributes": {"type": "Asset", "url": f"/services/data/v66.0/sobjects/Asset/{ASSETS[n]}"},
        "Id": ASSETS[n],
    }


def _ok(record_id: str) -> dict[str, Any]:
    return {
        "actionName": "initiateRenewal",
        "errors": None,
        "isSuccess": True,
        "outputValues": {"renewRecordId": record_id, "requestIdentifier": "16Pxx0000004OTY"},
        "invocationId": None,
        "outcome": None,
        "sortOrder": -1,
        "version": 1,
    }


def _bad(code: str, message: str) -> dict[str, Any]:
    return {
        "actionName": "initiateRenewal",
        "errors": [{"statusCode": code, "message": message, "fields": []}],
        "isSuccess": False,
        "outputValues": None,
    }


def test_query_streams_pages_lazily(rsps: responses.RequestsMock) -> None:
    """Pages follow nextRecordsUrl; the next page is fetched only when the first is consumed."""
    locator = "/services/data/v66.0/query/01gRO0000016PIAYA2-2"
    rsps.get(
        f"{DATA}/query",
        json={"totalSize": 3, "done": False, "nextRecordsUrl": locator, "records": [_asset(0), _asset(1)]},
        headers=LIMIT,
    )
    rsps.get(
        f"https://acme.my.salesforce.com{locator}",
        json={"totalSize": 3, "done": True, "records": [_asset(2)]},
        headers=LIMIT,
    )
    client = make_client()
    stream = query.models(client.transport, select("Asset", ("Id",)), Asset)
    first = next(stream)
    assert first.Id == ASSETS[0]
    data_calls = [call for call in rsps.calls if "/services/data" in call.request.url]
    assert len(data_calls) == 1
    assert data_calls[0].request.headers["Sforce-Query-Options"] == "batchSize=2000"
    assert [asset.Id for asset in stream] == ASSETS[1:3]
    assert len([call for call in rsps.calls if "/services/data" in call.request.url]) == 2


def test_query_pages_decode_typed_records(rsps: responses.RequestsMock) -> None:
    """model_pages reads each page straight into models: exact Decimals, UTC datetimes, nested records."""
    row = {
        **_asset(0),
        "CurrentMrr": 20.83,
        "LifecycleEndDate": "2026-08-10T00:00:00.000+0000",
        "Product2": {"attributes": {"type": "Product2"}, "Family": "Licenses"},
    }
    rsps.get(f"{DATA}/query", json={"totalSize": 1, "done": True, "records": [row]}, headers=LIMIT)
    client = make_client()
    (page,) = query.model_pages(client.transport, select("Asset", ("Id",)), Asset)
    (asset,) = page
    assert asset.CurrentMrr == Decimal("20.83")
    assert asset.LifecycleEndDate == datetime(2026, 8, 10, tzinfo=UTC)
    assert asset.LifecycleEndDate is not None
    assert asset.LifecycleEndDate.tzinfo is UTC
    assert asset.Product2 is not None
    assert asset.Product2.Family == "Licenses"


def test_unreadable_page_is_rejected_naming_model_and_place(rsps: responses.RequestsMock) -> None:
    """A record sfsync cannot read fails the query with RejectedError naming the model and the field."""
    bad = {**_asset(1), "CurrentQuantity": True}
    rsps.get(f"{DATA}/query", json={"totalSize": 2, "done": True, "records": [_asset(0), bad]}, headers=LIMIT)
    client = make_client()
    with pytest.raises(errors.RejectedError) as caught:
        list(query.models(client.transport, select("Asset", ("Id", "CurrentQuantity")), Asset))
    message = caught.value.message
    assert message.startswith(
        "Salesforce returned a Asset page sfsync cannot read at $.records[1].CurrentQuantity:"
    )
    assert "Expected `decimal | null`, got `bool`" in message
    assert caught.value.endpoint == "query"


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"totalSize": 1, "done": true, "records": [{"Id": "02i', "truncated"),
        (b"<html>maintenance</html>", "JSON is malformed"),
        (b'{"totalSize": 0, "done": true}', "Object missing required field `records`"),
        (b'[{"message": "?", "errorCode": "X"}]', "Expected `object`, got `array`"),
    ],
)
def test_page_that_is_not_a_query_answer_is_rejected(
    rsps: responses.RequestsMock, body: bytes, why: str
) -> None:
    """A 200 answer that is not JSON or not a query page is a RejectedError, not a crash."""
    rsps.get(f"{DATA}/query", body=body, headers=LIMIT)
    client = make_client()
    with pytest.raises(
        errors.RejectedError, match=r"Salesforce returned a Asset page sfsync cannot read"
    ) as caught:
        next(query.models(client.transport, select("Asset", ("Id",)), Asset))
    assert why in caught.value.message


def test_next_page_that_is_unreadable_is_rejected_after_the_first_was_yielded(
    rsps: responses.RequestsMock,
) -> None:
    """Streaming keeps going page by page; a broken later page raises when it is reached."""
    locator = "/services/data/v66.0/query/01gRO0000016PIAYA2-2"
    rsps.get(
        f"{DATA}/query",
        json={"totalSize": 2, "done": False, "nextRecordsUrl": locator, "records": [_asset(0)]},
        headers=LIMIT,
    )
    rsps.get(
        f"https://acme.my.salesforce.com{locator}",
        json={"totalSize": 2, "done": True, "records": [{**_asset(1), "LifecycleEndDate": "2026-13-01"}]},
        headers=LIMIT,
    )
    client = make_client()
    stream = query.models(client.transport, select("Asset", ("Id",)), Asset)
    assert next(stream).Id == ASSETS[0]
    with pytest.raises(errors.RejectedError, match=re.escape("at $.records[0].LifecycleEndDate")):
        next(stream)


def test_action_400_with_full_array_maps_each_element(rsps: responses.RequestsMock) -> None:
    """HTTP 400 with every element: successes stay successes, failures carry code and message."""
    rsps.post(
        RENEW,
        status=400,
        json=[
            _ok("0Q0xx0000004P32CAE"),
            _bad("FIELD_CUSTOM_VALIDATION_EXCEPTION", "no term"),
            _ok("0Q0xx0000004P33CAE"),
        ],
        headers=LIMIT,
    )
    client = make_client()
    outcomes = client.actions.invoke("initiateRenewal", [{"renewAssetIds": [a]} for a in ASSETS[:3]])
    assert outcomes[0] == Done(
        {"renewRecordId": "0Q0xx0000004P32CAE", "requestIdentifier": "16Pxx0000004OTY"}
    )
    assert outcomes[1] == Failed("FIELD_CUSTOM_VALIDATION_EXCEPTION", "no term", ())
    assert isinstance(outcomes[2], Done)


def test_refused_whole_splits_in_halves_and_remembers(rsps: responses.RequestsMock) -> None:
    """A top-level LIMIT_EXCEEDED for 4 inputs → halves of 2 pass; the size 2 is remembered."""
    rsps.post(RENEW, status=400, json=LIMIT_EXCEEDED)
    rsps.post(RENEW, json=[_ok("0Q0xx0000000001AAA"), _ok("0Q0xx0000000002AAA")], headers=LIMIT)
    rsps.post(RENEW, json=[_ok("0Q0xx0000000003AAA"), _ok("0Q0xx0000000004AAA")], headers=LIMIT)
    client = make_client(action_batch_size=4)
    outcomes = client.actions.invoke("initiateRenewal", [{"renewAssetIds": [a]} for a in ASSETS[:4]])
    assert [o.value["renewRecordId"] for o in outcomes if isinstance(o, Done)] == [
        "0Q0xx0000000001AAA", "0Q0xx0000000002AAA", "0Q0xx0000000003AAA", "0Q0xx0000000004AAA",
    ]  # fmt: skip
    sent = [len(body_of(call)["inputs"]) for call in rsps.calls if "initiateRenewal" in call.request.url]
    assert sent == [4, 2, 2]
    assert client.actions.batch_size("initiateRenewal") == 2


def test_refusal_at_size_one_fails_only_that_input(rsps: responses.RequestsMock) -> None:
    """A top-level refusal of a single input fails that input; nothing is lost."""
    rsps.post(RENEW, status=400, json=[{"errorCode": "JSON_PARSER_ERROR", "message": "bad input"}])
    client = make_client(action_batch_size=2)
    outcomes = client.actions.invoke("initiateRenewal", [{"x": 1}, {"x": 2}])
    assert outcomes == [
        Failed("JSON_PARSER_ERROR", "bad input", ()),
        Failed("JSON_PARSER_ERROR", "bad input", ()),
    ]
    assert len([c for c in rsps.calls if "initiateRenewal" in c.request.url]) == 3


def test_locked_elements_are_resent_alone(rsps: responses.RequestsMock, sleeps: SleepRecorder) -> None:
    """An element refused with UNABLE_TO_LOCK_ROW is sent again after a backoff; the rest is kept."""
    rsps.post(
        RENEW,
        json=[_ok("0Q0xx0000000001AAA"), _bad("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access")],
        status=400,
    )
    rsps.post(RENEW, json=[_ok("0Q0xx0000000002AAA")], headers=LIMIT)
    client = make_client(sleeps)
    outcomes = client.actions.invoke("initiateRenewal", [{"n": 1}, {"n": 2}])
    assert [o.value["renewRecordId"] for o in outcomes if isinstance(o, Done)] == [
        "0Q0xx0000000001AAA",
        "0Q0xx0000000002AAA",
    ]
    assert [body_of(c)["inputs"] for c in rsps.calls if "initiateRenewal" in c.request.url] == [
        [{"n": 1}, {"n": 2}],
        [{"n": 2}],
    ]
    assert len(sleeps.calls) == 1


def test_wrong_number_of_elements_is_uncertain(rsps: responses.RequestsMock) -> None:
    """An answer that cannot be mapped to the inputs is treated as lost."""
    rsps.post(RENEW, json=[_ok("0Q0xx0000000001AAA")], headers=LIMIT)
    outcomes = make_client().actions.invoke("initiateRenewal", [{"n": 1}, {"n": 2}])
    assert all(isinstance(o, Uncertain) for o in outcomes)


def test_budget_pause_marks_the_rest_not_sent(rsps: responses.RequestsMock) -> None:
    """After TotalRequests Limit exceeded no further request is made; every item is NotSent."""
    rsps.post(
        RENEW,
        status=403,
        json=[{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
    )
    outcomes = make_client(action_batch_size=1).actions.invoke(
        "initiateRenewal", [{"n": 1}, {"n": 2}, {"n": 3}]
    )
    assert all(isinstance(o, NotSent) and o.cause == "budget" for o in outcomes)
    assert len([c for c in rsps.calls if "initiateRenewal" in c.request.url]) == 1


def test_collections_chunk_and_map_per_record(rsps: responses.RequestsMock) -> None:
    """Records go in chunks of collection_batch_size; per-record results map to inputs."""
    url = f"{DATA}/composite/sobjects"
    orders = [sfid.make("801", n) for n in range(1, 4)]
    rsps.patch(
        url,
        json=[
            {"id": orders[0], "success": True, "errors": []},
            {
                "success": False,
                "errors": [
                    {
                        "statusCode": "FAILED_ACTIVATION",
                        "message": "Enter the shipping address associated with the account, and try again.",
                        "fields": [],
                    }
                ],
            },
        ],
        headers=LIMIT,
    )
    rsps.patch(url, json=[{"id": orders[2], "success": True, "errors": []}], headers=LIMIT)
    client = make_client(collection_batch_size=2)
    writes = [collections.RecordWrite("Order", {"Status": "Activated"}, order) for order in orders]
    outcomes = collections.write(client.transport, "PATCH", writes, creating=True)
    assert outcomes[0] == Done(orders[0])
    assert isinstance(outcomes[1], Failed)
    assert outcomes[1].code == "FAILED_ACTIVATION"
    assert outcomes[2] == Done(orders[2])
    first = body_of(next(c for c in rsps.calls if c.request.url == url))
    assert first == {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Order"}, "id": orders[0], "Status": "Activated"},
            {"attributes": {"type": "Order"}, "id": orders[1], "Status": "Activated"},
        ],
    }


def test_composite_limits_and_results(rsps: responses.RequestsMock) -> None:
    """Composite sends ≤ 25 subrequests and returns subresults in order."""
    rsps.post(
        f"{DATA}/composite",
        json={
            "compositeResponse": [
                {
                    "body": {"id": "001R00000064wdtIAA", "success": True, "errors": []},
                    "httpHeaders": {},
                    "httpStatusCode": 201,
                    "referenceId": "refAccount",
                }
            ]
        },
        headers=LIMIT,
    )
    client = make_client()
    results = collections.composite(
        client.transport,
        [
            collections.SubRequest(
                "POST", "/services/data/v66.0/sobjects/Account", "refAccount", {"Name": "x"}
            )
        ],
    )
    assert results == [
        collections.SubResult("refAccount", 201, {"id": "001R00000064wdtIAA", "success": True, "errors": []})
    ]
    with pytest.raises(ValueError, match="1 to 25"):
        collections.composite(
            client.transport, [collections.SubRequest("GET", "/x", f"r{n}") for n in range(26)]
        )
