"""Versions, resources, limits, describe and single-record CRUD (Part 2 §2.1, §2.3, §2.7)."""

from __future__ import annotations

from sfsync.emulator import schema
from sfsync.emulator.errors import ApiError, RecordError
from sfsync.emulator.rest.common import (
    Call,
    Result,
    input_values,
    object_or_error,
    record_id_or_error,
    with_attributes,
)

_RELEASES = {60: "Spring '24", 61: "Summer '24", 62: "Winter '25", 63: "Spring '25", 64: "Summer '25",
             65: "Winter '26", 66: "Spring '26", 67: "Summer '26", 68: "Winter '27"}  # fmt: skip
_SOAP_TYPES = {"id": "tns:ID", "reference": "tns:ID", "string": "xsd:string", "textarea": "xsd:string",
               "picklist": "xsd:string", "boolean": "xsd:boolean", "int": "xsd:int", "double": "xsd:double",
               "currency": "xsd:double", "percent": "xsd:double", "date": "xsd:date",
               "datetime": "xsd:dateTime"}  # fmt: skip


def versions(known: tuple[str, ...]) -> list[dict[str, str]]:
    """``GET /services/data/`` body."""
    return [
        {"label": _RELEASES.get(int(float(v)), f"v{v}"), "url": f"/services/data/v{v}", "version": v}
        for v in known
    ]


def resources(call: Call) -> Result:
    """``GET /services/data/vXX.X/``."""
    p = call.prefix
    names = ("sobjects", "query", "queryAll", "limits", "composite", "actions")
    return Result(200, {n: f"{p}/{n}" for n in names})


def limits(call: Call) -> Result:
    """``GET …/limits``."""
    usage = call.org.usage
    return Result(
        200,
        {
            "DailyApiRequests": {"Max": usage.limit, "Remaining": max(0, usage.limit - usage.used)},
            "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DataStorageMB": {"Max": 1024, "Remaining": 1024},
        },
    )


def _urls(obj: schema.ObjectDef, prefix: str) -> dict[str, str]:
    base = f"{prefix}/sobjects/{obj.name}"
    return {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}


def _summary(obj: schema.ObjectDef, prefix: str) -> dict[str, object]:
    read_only = obj.name in ("AssetAction", "Organization")
    return {
        "name": obj.name, "label": obj.name, "labelPlural": obj.name + "s", "keyPrefix": obj.key_prefix,
        "custom": False, "createable": not read_only, "updateable": not read_only, "deletable": not read_only,
        "queryable": True, "retrieveable": True, "searchable": True, "layoutable": True,
        "urls": _urls(obj, prefix),
    }  # fmt: skip


def global_describe(call: Call) -> Result:
    """``GET …/sobjects``."""
    objs = [_summary(o, call.prefix) for o in schema.OBJECTS.values()]
    return Result(200, {"encoding": "UTF-8", "maxBatchSize": 200, "sobjects": objs})


def _field(f: schema.FieldDef) -> dict[str, object]:
    return {
        "name": f.name, "label": f.name, "type": f.type, "soapType": _SOAP_TYPES[f.type],
        "referenceTo": list(f.reference_to), "relationshipName": f.relationship_name,
        "createable": f.createable, "updateable": f.updateable, "nillable": f.nillable,
        "defaultedOnCreate": f.default is not None or f.autonumber or f.name in ("Id", "CreatedDate"),
        "autoNumber": f.autonumber, "custom": False, "filterable": True, "sortable": f.type != "textarea",
        "groupable": f.type not in ("double", "currency", "percent", "textarea", "datetime"),
        "idLookup": f.name == "Id", "restrictedPicklist": f.restricted,
        "length": 18 if f.type in ("id", "reference") else 255 if f.type in ("string", "picklist") else 0,
        "picklistValues": [
            {"active": True, "defaultValue": v == f.default, "label": v, "validFor": None, "value": v}
            for v in f.picklist_values
        ],
    }  # fmt: skip


def describe(call: Call, name: str) -> Result:
    """``GET …/sobjects/<Type>/describe``."""
    obj = object_or_error(name)
    call.sobjects.add(obj.name)
    body = _summary(obj, call.prefix)
    body["fields"] = [_field(f) for f in obj.fields.values()]
    body["childRelationships"] = [
        {"childSObject": o.name, "field": f.name, "relationshipName": None, "cascadeDelete": False}
        for o in schema.OBJECTS.values()
        for f in o.fields.values()
        if obj.name in f.reference_to and f.name not in ("CreatedById", "LastModifiedById")
    ]
    return Result(200, body)


def basic_info(call: Call, name: str) -> Result:
    """``GET …/sobjects/<Type>``."""
    obj = object_or_error(name)
    return Result(200, {"objectDescribe": _summary(obj, call.prefix), "recentItems": []})


def create(call: Call, name: str) -> Result:
    """``POST …/sobjects/<Type>`` → 201 ``{id, success, errors}``."""
    obj = object_or_error(name)
    call.sobjects.add(obj.name)
    call.records = 1
    body = call.req.json()
    try:
        values = input_values(obj, body, creating=True)
        with call.org.store.transaction():
            new_id = call.org.store.insert(obj.name, values)
    except RecordError as exc:
        raise exc.as_api_error() from exc
    return Result(
        201,
        {"id": new_id, "success": True, "errors": []},
        {"Location": f"{call.prefix}/sobjects/{obj.name}/{new_id}"},
    )


def retrieve(call: Call, name: str, raw_id: str) -> Result:
    """``GET …/sobjects/<Type>/<id>[?fields=]``."""
    obj = object_or_error(name)
    call.sobjects.add(obj.name)
    record_id = record_id_or_error(obj, raw_id)
    record = call.org.store.get(obj.name, record_id)
    if record is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    full = with_attributes(obj, record, call.prefix)
    wanted = call.req.param("fields")
    if not wanted:
        return Result(200, full)
    out: dict[str, object] = {"attributes": full["attributes"]}
    for raw in wanted.split(","):
        fdef = obj.field(raw.strip())
        if fdef is None:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{raw.strip()}' on entity '{obj.name}'. If you "
                           "are attempting to use a custom field, be sure to append the '__c' after the custom "
                           "field name. Please reference your WSDL or the describe call for the appropriate names.")  # fmt: skip
        out[fdef.name] = full[fdef.name]
    return Result(200, out)


def update(call: Call, name: str, raw_id: str) -> Result:
    """``PATCH …/sobjects/<Type>/<id>`` → 204."""
    obj = object_or_error(name)
    call.sobjects.add(obj.name)
    call.records = 1
    record_id = record_id_or_error(obj, raw_id)
    body = call.req.json()
    store = call.org.store
    if store.get(obj.name, record_id) is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    try:
        values = input_values(obj, body, creating=False)
        with store.transaction():
            store.update(obj.name, record_id, values)
    except RecordError as exc:
        raise exc.as_api_error() from exc
    return Result(204)


def delete(call: Call, name: str, raw_id: str) -> Result:
    """``DELETE …/sobjects/<Type>/<id>`` → 204."""
    obj = object_or_error(name)
    call.sobjects.add(obj.name)
    call.records = 1
    record_id = record_id_or_error(obj, raw_id)
    store = call.org.store
    if store.get(obj.name, record_id) is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    try:
        with store.transaction():
            store.delete(obj.name, record_id)
    except RecordError as exc:
        raise exc.as_api_error() from exc
    return Result(204)
