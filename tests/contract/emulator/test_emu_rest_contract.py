"""REST contract: the documented requests and answers of Part 2 §2, over real HTTPS."""

from __future__ import annotations

import re

import requests
from emu_http import Api

from sfsync.emulator.harness import EmulatorHandle


def _account(api: Api, name: str = "Capricorn Coffee") -> str:
    resp = api.post("sobjects/Account", json={"Name": name})
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


def test_versions_need_no_auth_and_carry_no_limit_header(emu: EmulatorHandle) -> None:
    """GET /services/data/ lists 60.0–68.0 without a token and without Sforce-Limit-Info."""
    resp = requests.get(emu.base_url + "/services/data/", verify=str(emu.ca_path), timeout=10)
    assert resp.status_code == 200
    versions = [v["version"] for v in resp.json()]
    assert versions == [f"{n}.0" for n in range(60, 69)]
    assert resp.json()[0]["url"] == "/services/data/v60.0"
    assert "Sforce-Limit-Info" not in resp.headers


def test_bad_versions_are_not_found(api: Api) -> None:
    """Malformed or out-of-range versions answer 404 NOT_FOUND."""
    for version in ("v38", "v59.0", "v69.0", "66.0", "vlatest"):
        resp = api.get(f"/services/data/{version}/limits")
        assert resp.status_code == 404, version
        assert resp.json() == [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


def test_resources_limits_and_limit_header(api: Api) -> None:
    """Every data answer carries api-usage=N/M, counting one per request; limits agree."""
    first = api.get("")
    assert first.status_code == 200
    assert set(first.json()) >= {"sobjects", "query", "composite", "actions", "limits"}
    used = int(re.match(r"api-usage=(\d+)/5000000$", first.headers["Sforce-Limit-Info"]).group(1))  # type: ignore[union-attr]
    limits = api.get("limits/")
    assert limits.headers["Sforce-Limit-Info"] == f"api-usage={used + 1}/5000000"
    assert limits.json()["DailyApiRequests"] == {"Max": 5000000, "Remaining": 5000000 - used - 1}


def test_past_the_daily_limit_is_403(api: Api, emu: EmulatorHandle) -> None:
    """Once the allowance is used up, calls answer 403 REQUEST_LIMIT_EXCEEDED TotalRequests."""
    emu.admin.set_usage(99, limit=100)
    assert api.get("limits").status_code == 200
    resp = api.get("limits")
    assert resp.status_code == 403
    assert resp.json() == [
        {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
    ]
    assert resp.headers["Sforce-Limit-Info"] == "api-usage=100/100"


def test_invalid_session_shape(emu: EmulatorHandle) -> None:
    """Unknown tokens get 401 INVALID_SESSION_ID with WWW-Authenticate: Token."""
    resp = requests.get(
        emu.base_url + "/services/data/v66.0/limits",
        headers={"Authorization": "Bearer 00D000000000001!nope"},
        verify=str(emu.ca_path),
        timeout=10,
    )
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"] == "Token"
    assert resp.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def test_token_expires_with_the_org_clock(api: Api, emu: EmulatorHandle, clock: object) -> None:
    """A token stops working after token_lifetime_s on the org clock."""
    assert api.get("limits").status_code == 200
    clock.advance(emu.org.config.token_lifetime_s + 1)  # type: ignore[attr-defined]
    assert api.get("limits").status_code == 401


def test_crud_status_codes_and_bodies(api: Api) -> None:
    """Create 201 {id, success, errors}; GET 200 with attributes; PATCH and DELETE 204; then 404."""
    created = api.post("sobjects/Account/", json={"Name": "Capricorn Coffee", "ShippingCity": "Seattle"})
    assert created.status_code == 201
    body = created.json()
    assert body["success"] is True
    assert body["errors"] == []
    account = body["id"]
    assert re.fullmatch(r"001[A-Za-z0-9]{15}", account)
    got = api.get(f"sobjects/account/{account[:15]}")
    assert got.status_code == 200
    assert got.json()["attributes"] == {
        "type": "Account",
        "url": f"/services/data/v66.0/sobjects/Account/{account}",
    }
    assert got.json()["Name"] == "Capricorn Coffee"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000", got.json()["CreatedDate"])
    fields = api.get(f"sobjects/Account/{account}", params={"fields": "name,ShippingCity"})
    assert set(fields.json()) == {"attributes", "Name", "ShippingCity"}
    patched = api.patch(f"sobjects/Account/{account}", json={"shippingcity": "Portland"})
    assert (patched.status_code, patched.content) == (204, b"")
    assert api.get(f"sobjects/Account/{account}").json()["ShippingCity"] == "Portland"
    deleted = api.delete(f"sobjects/Account/{account}")
    assert deleted.status_code == 204
    assert api.get(f"sobjects/Account/{account}").status_code == 404


def test_create_errors(api: Api) -> None:
    """Id in the body, unknown field, unknown type, bad JSON and missing required fields."""
    with_id = api.post("sobjects/Account", json={"Id": "001000000000001AAA", "Name": "x"})
    assert with_id.status_code == 400
    assert with_id.json() == [
        {"message": "The Id field should not be specified in the sobject data.", "errorCode": "INVALID_FIELD"}
    ]
    bogus = api.post("sobjects/Account", json={"Name": "x", "Bogus": 1})
    assert (bogus.status_code, bogus.json()[0]["errorCode"]) == (400, "INVALID_FIELD")
    unknown = api.post("sobjects/Widget__c", json={"Name": "x"})
    assert unknown.status_code == 400
    assert unknown.json()[0]["errorCode"] == "INVALID_TYPE"
    assert unknown.json()[0]["message"].startswith("sObject type 'Widget__c' is not supported.")
    bad_json = api.post("sobjects/Account", data=b"{not json", headers={"Content-Type": "application/json"})
    assert (bad_json.status_code, bad_json.json()[0]["errorCode"]) == (400, "JSON_PARSER_ERROR")
    missing = api.post("sobjects/Account", json={"Phone": "1"})
    assert (missing.status_code, missing.json()[0]["errorCode"]) == (400, "REQUIRED_FIELD_MISSING")


def test_bad_ids_and_wrong_methods(api: Api) -> None:
    """A malformed or foreign ID is 404; an unsupported method is 405."""
    assert api.get("sobjects/Account/not-an-id").status_code == 404
    assert api.get("sobjects/Account/02i8d0000000001AAA").status_code == 404
    resp = api.request("PUT", "sobjects/Account")
    assert resp.status_code == 405
    assert resp.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


def test_describe(api: Api) -> None:
    """Global and per-object describe list keyPrefix, field types and permissions."""
    glob = api.get("sobjects").json()
    names = {o["name"]: o for o in glob["sobjects"]}
    assert names["AssetRelationship"]["keyPrefix"] == "12V"
    desc = api.get("sobjects/asset/describe").json()
    assert desc["name"] == "Asset"
    fields = {f["name"]: f for f in desc["fields"]}
    assert fields["LifecycleEndDate"]["type"] == "datetime"
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["AccountId"]["relationshipName"] == "Account"
    assert fields["Id"]["createable"] is False
    assert [v["value"] for v in fields["RenewalTermUnit"]["picklistValues"]] == [
        "Annual",
        "Months",
        "Quarterly",
        "Semi-Annual",
    ]


def test_query_paging_with_batch_size(api: Api, emu: EmulatorHandle) -> None:
    """nextRecordsUrl pages through a snapshot; batchSize is clamped to 200..2000."""
    emu.org.store.insert_many("Account", [{"Name": f"A{i:04d}"} for i in range(450)])
    first = api.get("query/", params={"q": "SELECT Id, Name FROM Account ORDER BY Name"},
                    headers={"Sforce-Query-Options": "batchSize=100"})  # fmt: skip
    body = first.json()
    assert (body["totalSize"], body["done"], len(body["records"])) == (450, False, 200)
    assert re.fullmatch(r"/services/data/v66\.0/query/[0-9A-Za-z]+-200", body["nextRecordsUrl"])
    assert body["records"][0]["attributes"]["type"] == "Account"
    names = [r["Name"] for r in body["records"]]
    url = body["nextRecordsUrl"]
    emu.org.store.insert("Account", {"Name": "A0000-late"})  # the snapshot must not shift
    while url:
        page = api.get(url).json()
        names += [r["Name"] for r in page["records"]]
        url = page.get("nextRecordsUrl")
        assert page["done"] is (url is None)
    assert names == [f"A{i:04d}" for i in range(450)]
    assert api.get("query/nonsense-200").json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_query_relationships_count_and_query_all(api: Api) -> None:
    """Parent fields are nested objects; COUNT() gives totalSize; queryAll shows deleted rows."""
    account = _account(api)
    asset = api.post("sobjects/Asset", json={"Name": "Google Workspace", "AccountId": account}).json()["id"]
    rows = api.get("query", params={"q": "SELECT Name, Account.Name FROM Asset"}).json()["records"]
    assert rows[0]["Account"]["Name"] == "Capricorn Coffee"
    assert rows[0]["Account"]["attributes"]["type"] == "Account"
    count = api.get(
        "query", params={"q": "SELECT COUNT() FROM Asset WHERE Account.Name LIKE 'capri%'"}
    ).json()
    assert count == {"totalSize": 1, "done": True, "records": []}
    api.delete(f"sobjects/Asset/{asset}")
    assert api.get("query", params={"q": "SELECT Id FROM Asset"}).json()["totalSize"] == 0
    all_rows = api.get("queryAll", params={"q": "SELECT Id, IsDeleted FROM Asset"}).json()
    assert all_rows["records"][0]["IsDeleted"] is True


def test_query_errors(api: Api) -> None:
    """Unknown field → INVALID_FIELD with caret text; bad syntax → MALFORMED_QUERY; unknown type → INVALID_TYPE."""
    field = api.get("query", params={"q": "SELECT Id, Foo FROM Asset"})
    assert field.status_code == 400
    message = field.json()[0]["message"]
    assert field.json()[0]["errorCode"] == "INVALID_FIELD"
    assert (
        "ERROR at Row:1:Column:12\nNo such column 'Foo' on entity 'Asset'. If you are attempting to use a custom field, be sure to append the '__c'"
        in message
    )
    syntax = api.get("query", params={"q": "SELECT Id FROM Asset WHERE"})
    assert (syntax.status_code, syntax.json()[0]["errorCode"]) == (400, "MALFORMED_QUERY")
    kind = api.get("query", params={"q": "SELECT Id FROM Widget"})
    assert kind.json()[0]["errorCode"] == "INVALID_TYPE"


def test_collections_partial_failure_and_all_or_none(api: Api) -> None:
    """Collections answer 200 with per-record results; allOrNone rolls back with ALL_OR_NONE_OPERATION_ROLLED_BACK."""
    mixed = api.post("composite/sobjects", json={"records": [
        {"attributes": {"type": "Account"}, "Name": "ok"},
        {"attributes": {"type": "Account"}, "Phone": "no name"},
    ]})  # fmt: skip
    assert mixed.status_code == 200
    ok, bad = mixed.json()
    assert ok["success"] is True
    assert bad == {"success": False, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING",
                                                  "message": "Required fields are missing: [Name]", "fields": ["Name"]}]}  # fmt: skip
    rolled = api.post("composite/sobjects", json={"allOrNone": True, "records": [
        {"attributes": {"type": "Account"}, "Name": "rolled back"},
        {"attributes": {"type": "Account"}, "Phone": "no name"},
    ]})  # fmt: skip
    first, second = rolled.json()
    assert first["success"] is False
    assert first["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert second["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    names = [r["Name"] for r in api.get("query", params={"q": "SELECT Name FROM Account"}).json()["records"]]
    assert names == ["ok"]


def test_collections_update_delete_retrieve_and_limit(api: Api) -> None:
    """PATCH by id, GET ?ids&fields (null for missing), DELETE ?ids, and at most 200 records."""
    a, b = _account(api, "a"), _account(api, "b")
    patched = api.patch("composite/sobjects", json={"records": [
        {"attributes": {"type": "Account"}, "id": a, "ShippingCity": "Tokyo"},
        {"attributes": {"type": "Account"}, "id": "001bad", "ShippingCity": "x"},
    ]}).json()  # fmt: skip
    assert patched[0] == {"id": a, "success": True, "errors": []}
    assert patched[1]["errors"][0]["statusCode"] == "MALFORMED_ID"
    missing = "0018d00000000ZZ"
    got = api.get(
        "composite/sobjects/Account", params={"ids": f"{a},{missing}", "fields": "Name,ShippingCity"}
    ).json()
    assert got[0]["ShippingCity"] == "Tokyo"
    assert got[1] is None
    removed = api.delete("composite/sobjects", params={"ids": f"{a},{b}", "allOrNone": "true"}).json()
    assert [r["success"] for r in removed] == [True, True]
    too_many = api.post(
        "composite/sobjects",
        json={"records": [{"attributes": {"type": "Account"}, "Name": str(i)} for i in range(201)]},
    )
    assert (too_many.status_code, too_many.json()[0]["errorCode"]) == (400, "EXCEEDED_ID_LIMIT")


def test_composite_references_and_all_or_none(api: Api) -> None:
    """@{ref.id} feeds later subrequests; with allOrNone a failure halts and rolls back the rest."""
    resp = api.post("composite", json={"compositeRequest": [
        {"method": "POST", "url": "/services/data/v66.0/sobjects/Account", "referenceId": "acc", "body": {"Name": "C"}},
        {"method": "POST", "url": "/services/data/v66.0/sobjects/Asset", "referenceId": "asset",
         "body": {"Name": "A", "AccountId": "@{acc.id}"}},
        {"method": "GET", "url": "/services/data/v66.0/query?q=SELECT+Id,Account.Name+FROM+Asset", "referenceId": "q"},
    ]})  # fmt: skip
    assert resp.status_code == 200
    answers = resp.json()["compositeResponse"]
    assert [a["httpStatusCode"] for a in answers] == [201, 201, 200]
    assert answers[2]["body"]["records"][0]["Account"]["Name"] == "C"
    halted = api.post("composite", json={"allOrNone": True, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v66.0/sobjects/Account", "referenceId": "ok", "body": {"Name": "D"}},
        {"method": "POST", "url": "/services/data/v66.0/sobjects/Account", "referenceId": "bad", "body": {"Phone": "1"}},
        {"method": "GET", "url": "/services/data/v66.0/sobjects/Account/@{ok.id}", "referenceId": "after"},
    ]}).json()["compositeResponse"]  # fmt: skip
    assert [a["httpStatusCode"] for a in halted] == [400, 400, 400]
    assert halted[0]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert halted[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert halted[2]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    count = api.get("query", params={"q": "SELECT COUNT() FROM Account WHERE Name = 'D'"}).json()["totalSize"]
    assert count == 0
    too_many = api.post("composite", json={"compositeRequest": [
        {"method": "GET", "url": "/services/data/v66.0/limits", "referenceId": f"r{i}"} for i in range(26)]})  # fmt: skip
    assert (too_many.status_code, too_many.json()[0]["errorCode"]) == (400, "LIMIT_EXCEEDED")
