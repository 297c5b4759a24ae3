"""Revenue Cloud batch operations: grouping, per-asset outcomes, orders, shipping, activation, reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses

from sfsync import sfid
from sfsync.salesforce import CancellationRequest, Done, Failed, OrderRef, RenewalRequest, Term, Uncertain
from sfsync.salesforce.initiate import named_assets

from .conftest import DATA, LIMIT, USER_ID, body_of, make_client

A = [sfid.make("02i", n) for n in range(1, 6)]
ACC = [sfid.make("001", n) for n in range(1, 3)]
PB = sfid.make("01s", 1)
Q = [sfid.make("0Q0", n) for n in range(1, 4)]
ORD = [sfid.make("801", n) for n in range(1, 4)]
RENEW = f"{DATA}/actions/standard/initiateRenewal"


def _el(
    action: str, ok: bool, values: dict[str, Any] | None = None, code: str = "", message: str = ""
) -> dict[str, Any]:
    errors = None if ok else [{"statusCode": code, "message": message, "fields": []}]
    return {"actionName": action, "errors": errors, "isSuccess": ok, "outputValues": values, "version": 1}


def _rows(sobject: str, *rows: dict[str, Any]) -> dict[str, Any]:
    records = [{"attributes": {"type": sobject}, **row} for row in rows]
    return {"totalSize": len(records), "done": True, "records": records}


def _soql(call: Any) -> str:
    return parse_qs(urlsplit(call.request.url).query)["q"][0]


def _calls(rsps: responses.RequestsMock, fragment: str) -> list[Any]:
    return [call for call in rsps.calls if fragment in call.request.url]


def test_renewals_group_per_account_and_price_book(rsps: responses.RequestsMock) -> None:
    """One input per (account, price book, term, output); requestIdentifier optional; record_id fallback."""
    rsps.post(
        RENEW,
        json=[
            _el("initiateRenewal", True, {"renewRecordId": Q[0]}),
            _el("initiateRenewal", True, {"record_id": Q[1]}),
        ],
        headers=LIMIT,
    )
    term = Term(datetime(2026, 11, 23, tzinfo=UTC), datetime(2027, 11, 22, 23, 59, 59, tzinfo=UTC))
    items = [
        RenewalRequest(A[0], ACC[0], PB, "Quote", term),
        RenewalRequest(A[1], ACC[0], PB, "Quote", term),
        RenewalRequest(A[2], ACC[1], PB, "Quote"),
    ]
    result = make_client().initiate_renewals(items)
    assert result == {A[0]: Done(Q[0]), A[1]: Done(Q[0]), A[2]: Done(Q[1])}
    assert body_of(_calls(rsps, "initiateRenewal")[0]) == {
        "inputs": [
            {
                "renewOutputType": "Quote",
                "renewStartDate": "2026-11-23T00:00:00.000Z",
                "renewEndDate": "2027-11-22T23:59:59.000Z",
                "renewAssetIds": [A[0], A[1]],
            },
            {"renewOutputType": "Quote", "renewAssetIds": [A[2]]},
        ]
    }


def test_named_assets_fail_and_the_group_is_retried_without_them(rsps: responses.RequestsMock) -> None:
    """`<assetId>: message` fails that asset; the rest of the group is sent again and succeeds."""
    message = f"{A[1]}: This asset already has a future-dated renewal."
    rsps.post(RENEW, status=400, json=[_el("initiateRenewal", False, code="INVALID_INPUT", message=message)])
    rsps.post(
        RENEW,
        json=[_el("initiateRenewal", True, {"renewRecordId": Q[0], "requestIdentifier": "16Pxx0000004OTY"})],
        headers=LIMIT,
    )
    items = [RenewalRequest(a, ACC[0], PB) for a in A[:3]]
    result = make_client().initiate_renewals(items)
    assert result[A[1]] == Failed("INVALID_INPUT", "This asset already has a future-dated renewal.", ())
    assert result[A[0]] == result[A[2]] == Done(Q[0])
    assert body_of(_calls(rsps, "initiateRenewal")[1])["inputs"][0]["renewAssetIds"] == [A[0], A[2]]


def test_unnamed_element_failure_fails_the_group(rsps: responses.RequestsMock) -> None:
    """An element error that names no asset fails every asset of its group."""
    rsps.post(
        RENEW,
        status=400,
        json=[
            _el(
                "initiateRenewal",
                False,
                code="UNKNOWN_EXCEPTION",
                message="An error occurred when executing a flow interview.",
            )
        ],
    )
    result = make_client().initiate_renewals([RenewalRequest(a, ACC[0], PB) for a in A[:2]])
    assert all(isinstance(o, Failed) and o.code == "UNKNOWN_EXCEPTION" for o in result.values())
    assert len(_calls(rsps, "initiateRenewal")) == 1


def test_success_without_record_id_is_uncertain(rsps: responses.RequestsMock) -> None:
    """A success without renewRecordId cannot be recorded as done: reconcile."""
    rsps.post(RENEW, json=[_el("initiateRenewal", True, {"requestIdentifier": "16P"})], headers=LIMIT)
    result = make_client().initiate_renewals([RenewalRequest(A[0], ACC[0], PB)])
    assert isinstance(result[A[0]], Uncertain)


def test_cancellations(rsps: responses.RequestsMock) -> None:
    """initiateCancellation input shape; cancelRecordId is the result."""
    rsps.post(
        f"{DATA}/actions/standard/initiateCancellation",
        json=[_el("initiateCancellation", True, {"cancelRecordId": Q[2]})],
        headers=LIMIT,
    )
    when = datetime(2027, 2, 23, tzinfo=UTC)
    result = make_client().initiate_cancellations([CancellationRequest(A[3], ACC[0], PB, when)])
    assert result == {A[3]: Done(Q[2])}
    assert body_of(_calls(rsps, "initiateCancellation")[0]) == {
        "inputs": [
            {
                "cancelStartDate": "2027-02-23T00:00:00.000Z",
                "cancelOutputType": "Quote",
                "cancelAssetIds": [A[3]],
            }
        ]
    }


def test_orders_from_quotes_with_either_action(rsps: responses.RequestsMock) -> None:
    """createOrderFromQuote (quoteRecordId → orderId) or createOrdersFromQuote (quoteId → orderIds)."""
    rsps.post(f"{DATA}/actions/standard/createOrderFromQuote", status=400, json=[
        _el("createOrderFromQuote", True, {"orderNumber": "00000122", "orderId": ORD[0]}),
        _el("createOrderFromQuote", False, code="REQUIRED_FIELD_MISSING", message="Select an account."),
    ])  # fmt: skip
    rsps.post(
        f"{DATA}/actions/standard/createOrdersFromQuote",
        json=[
            _el("createOrdersFromQuote", True, {"orderIds": [ORD[2]], "requestId": None, "statusUrl": None})
        ],
        headers=LIMIT,
    )
    client = make_client()
    first = client.create_orders_from_quotes(Q[:2])
    assert first == {
        Q[0]: Done(OrderRef(ORD[0], "00000122")),
        Q[1]: Failed("REQUIRED_FIELD_MISSING", "Select an account.", ()),
    }
    assert body_of(_calls(rsps, "createOrderFromQuote")[0]) == {
        "inputs": [{"quoteRecordId": Q[0]}, {"quoteRecordId": Q[1]}]
    }
    second = client.create_orders_from_quotes([Q[2]], "createOrdersFromQuote")
    assert second == {Q[2]: Done(OrderRef(ORD[2]))}
    assert body_of(_calls(rsps, "createOrdersFromQuote")[0]) == {
        "inputs": [{"quoteId": Q[2], "orderCreationMethod": "CreateSingleOrder"}]
    }


def test_fill_shipping_addresses_patches_only_orders_without_one(rsps: responses.RequestsMock) -> None:
    """Orders lacking an address get their account's; others are left alone; no address → failed."""
    rsps.get(f"{DATA}/query", json=_rows("Order",
        {"Id": ORD[0], "AccountId": ACC[0], "ShippingCity": None},
        {"Id": ORD[1], "AccountId": ACC[0], "ShippingCity": "Tokyo", "ShippingCountry": "Japan"},
        {"Id": ORD[2], "AccountId": ACC[1]},
    ), headers=LIMIT)  # fmt: skip
    rsps.get(f"{DATA}/query", json=_rows("Account",
        {"Id": ACC[0], "ShippingStreet": "1-2-3 Jingumae", "ShippingCity": "Shibuya", "ShippingCountry": "Japan"},
        {"Id": ACC[1]},
    ), headers=LIMIT)  # fmt: skip
    rsps.patch(
        f"{DATA}/composite/sobjects", json=[{"id": ORD[0], "success": True, "errors": []}], headers=LIMIT
    )
    result = make_client().fill_shipping_addresses(ORD)
    assert result[ORD[0]] == Done(True)
    assert result[ORD[1]] == Done(False)
    assert isinstance(result[ORD[2]], Failed)
    assert result[ORD[2]].code == "NO_SHIPPING_ADDRESS"
    patch = body_of(_calls(rsps, "composite/sobjects")[0])
    assert patch["records"] == [
        {
            "attributes": {"type": "Order"},
            "id": ORD[0],
            "ShippingStreet": "1-2-3 Jingumae",
            "ShippingCity": "Shibuya",
            "ShippingCountry": "Japan",
        }
    ]


def test_activation_when_reconciling_never_reactivates(rsps: responses.RequestsMock) -> None:
    """With reconcile, Status is read first; an Activated order is done without a PATCH."""
    rsps.get(
        f"{DATA}/query",
        json=_rows("Order", {"Id": ORD[0], "Status": "Activated"}, {"Id": ORD[1], "Status": "Draft"}),
        headers=LIMIT,
    )
    rsps.patch(
        f"{DATA}/composite/sobjects", json=[{"id": ORD[1], "success": True, "errors": []}], headers=LIMIT
    )
    result = make_client().activate_orders(ORD[:2], reconcile=True)
    assert result == {ORD[0]: Done(ORD[0]), ORD[1]: Done(ORD[1])}
    assert [r["id"] for r in body_of(_calls(rsps, "composite/sobjects")[0])["records"]] == [ORD[1]]


def test_selection_drops_bundle_children(rsps: responses.RequestsMock) -> None:
    """Assets that are RelatedAssetId of a Bundle relationship are not yielded."""
    rsps.get(
        f"{DATA}/query",
        json=_rows(
            "Asset",
            *(
                {"Id": a, "AccountId": ACC[0], "LifecycleEndDate": "2026-12-01T00:00:00.000+0000"}
                for a in A[:3]
            ),
        ),
        headers=LIMIT,
    )
    rsps.get(
        f"{DATA}/query",
        json=_rows("AssetRelationship", {"AssetId": A[0], "RelatedAssetId": A[1]}),
        headers=LIMIT,
    )
    client = make_client()
    found = list(
        client.select_renewal_candidates(
            datetime(2026, 11, 23, tzinfo=UTC),
            datetime(2027, 1, 1, tzinfo=UTC),
            account_ids=[ACC[0]],
            only_auto_renew=True,
        )
    )
    assert [asset.Id for asset in found] == [A[0], A[2]]
    queries = [_soql(call) for call in _calls(rsps, "/query")]
    assert queries[0].startswith("SELECT Id, Name, AccountId, Product2Id, CurrentQuantity")
    assert (
        "HasLifecycleManagement = true AND LifecycleEndDate >= 2026-11-23T00:00:00Z AND LifecycleEndDate <= 2027-01-01T00:00:00Z"
        in queries[0]
    )
    assert f"DoesAutomaticallyRenew = true AND AccountId IN ('{ACC[0]}')" in queries[0]
    assert (
        queries[1]
        == f"SELECT AssetId, RelatedAssetId FROM AssetRelationship WHERE (AssetRole = 'Bundle' AND RelatedAssetId IN ('{A[0]}', '{A[1]}', '{A[2]}'))"
    )


def test_price_books_latest_first(rsps: responses.RequestsMock) -> None:
    """The latest AssetActionSource's PricebookEntry.Pricebook2Id wins per asset."""
    rsps.get(f"{DATA}/query", json=_rows("AssetActionSource",
        {"Id": "4nM1", "AssetAction": {"AssetId": A[0]}, "PricebookEntry": {"Pricebook2Id": PB}},
        {"Id": "4nM0", "AssetAction": {"AssetId": A[0]}, "PricebookEntry": {"Pricebook2Id": sfid.make("01s", 9)}},
    ), headers=LIMIT)  # fmt: skip
    assert make_client().asset_price_books([A[0]]) == {A[0]: PB}
    soql = _soql(_calls(rsps, "/query")[0])
    assert f"AssetActionId IN (SELECT Id FROM AssetAction WHERE AssetId IN ('{A[0]}'))" in soql
    assert soql.endswith("ORDER BY TransactionDate DESC, Id DESC")


def test_reconciliation_query_uses_identity_and_skew(rsps: responses.RequestsMock) -> None:
    """QuoteActions by SourceAssetId, Type, CreatedById (from the token's id URL) and CreatedDate − skew."""
    rsps.get(
        f"{DATA}/query",
        json=_rows(
            "QuoteAction",
            {
                "Id": sfid.make("7oc", 1),
                "QuoteId": Q[0],
                "SourceAssetId": A[0],
                "Type": "Renew",
                "CreatedById": USER_ID,
                "CreatedDate": "2026-11-23T08:56:00.000+0000",
            },
        ),
        headers=LIMIT,
    )
    found = make_client(reconcile_skew_s=300).find_quote_actions(
        [A[0]], "Renew", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    )
    assert [row.QuoteId for row in found] == [Q[0]]
    soql = _soql(_calls(rsps, "/query")[0])
    assert f"CreatedById = '{USER_ID}'" in soql
    assert "CreatedDate >= 2026-11-23T08:55:00Z" in soql
    assert "Type = 'Renew'" in soql


def test_trackers_and_actions_by_order(rsps: responses.RequestsMock) -> None:
    """Trackers and AssetActionSources come back grouped by order."""
    rsps.get(
        f"{DATA}/query",
        json=_rows(
            "AsyncOperationTracker",
            {
                "Id": sfid.make("16P", 1),
                "JobType": "AssetizationAsyncJob",
                "Status": "Completed",
                "ReferenceEntityId": ORD[0],
            },
        ),
        headers=LIMIT,
    )
    rsps.get(
        f"{DATA}/query",
        json=_rows("OrderItem", {"Id": sfid.make("802", 1), "OrderId": ORD[0]}),
        headers=LIMIT,
    )
    rsps.get(
        f"{DATA}/query",
        json=_rows(
            "AssetActionSource",
            {
                "Id": sfid.make("4nM", 1),
                "ReferenceEntityItemId": sfid.make("802", 1),
                "AssetAction": {"AssetId": A[0], "CategoryEnum": "Renewals"},
            },
        ),
        headers=LIMIT,
    )
    client = make_client()
    trackers = client.read_trackers(ORD[:2])
    assert [t.Status for t in trackers[ORD[0]]] == ["Completed"]
    assert trackers[ORD[1]] == []
    actions = client.read_asset_actions_for_orders([ORD[0]])
    assert actions[ORD[0]][0].AssetAction is not None
    assert actions[ORD[0]][0].AssetAction.CategoryEnum == "Renewals"
    assert "ReferenceEntityItemId IN (SELECT Id FROM OrderItem WHERE OrderId IN" in _soql(
        _calls(rsps, "/query")[2]
    )


def test_named_assets_accepts_15_character_ids() -> None:
    """The `<id>[,<id>]: message` form names assets by 15- or 18-character IDs; others are ignored."""
    named, text = named_assets(f"{A[0][:15]}, {A[2]}: Renewal term is missing.", [A[0], A[1], A[2]])
    assert named == {A[0], A[2]}
    assert text == "Renewal term is missing."
    assert named_assets("Select an account.", [A[0]]) == (set(), "Select an account.")
    assert named_assets(f"{A[4]}: not in this group", [A[0]]) == (set(), f"{A[4]}: not in this group")
