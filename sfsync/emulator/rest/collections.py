"""sObject Collections ``/composite/sobjects`` (Part 2 §2.4): ≤ 200 records, per-record results.

A well-formed request answers 200 whatever the records did; each failed record carries
``errors: [{statusCode, message, fields}]``. With ``allOrNone`` one failure rolls everything back and
the other records report ``ALL_OR_NONE_OPERATION_ROLLED_BACK``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import NoReturn

from sfsync import sfid
from sfsync.emulator import schema
from sfsync.emulator.errors import ApiError, RecordError
from sfsync.emulator.rest.common import Call, Result, input_values, object_or_error, with_attributes

_ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
    "fields": [],
}


def _rollback() -> NoReturn:
    raise _Rollback


class _Rollback(Exception):
    """Raised inside the outer transaction to undo an allOrNone batch."""


def _limit(call: Call, count: int) -> None:
    if count > call.org.config.max_collection_records:
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {call.org.config.max_collection_records} records "
            "into this call",
        )


def _body(call: Call) -> tuple[bool, list[object]]:
    body = call.req.json()
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise ApiError(400, "JSON_PARSER_ERROR", "The request body must be an object with a 'records' list")
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise ApiError(400, "JSON_PARSER_ERROR", "allOrNone must be a boolean")
    return all_or_none, list(body["records"])


def _record_type(record: object) -> schema.ObjectDef:
    attrs = record.get("attributes") if isinstance(record, dict) else None
    name = attrs.get("type") if isinstance(attrs, dict) else None
    if not isinstance(name, str):
        msg = "INVALID_TYPE"
        raise RecordError(msg, "Must specify a type in the attributes of each record")
    obj = schema.lookup(name)
    if obj is None:
        msg = "INVALID_TYPE"
        raise RecordError(msg, f"sObject type '{name}' is not supported.")
    return obj


def _run(
    call: Call,
    items: list[object],
    all_or_none: bool,
    op: Callable[[object], str | None],
    ids: list[str | None],
) -> Result:
    store = call.org.store
    results: list[dict[str, object]] = []
    failed = False
    outer: AbstractContextManager[None] = store.transaction() if all_or_none else nullcontext()
    try:
        with outer:
            for i, item in enumerate(items):
                try:
                    with store.transaction():
                        new_id = op(item)
                    results.append({"id": new_id or ids[i], "success": True, "errors": []})
                except RecordError as exc:
                    failed = True
                    result: dict[str, object] = {"success": False, "errors": [exc.item()]}
                    if ids[i]:
                        result = {"id": ids[i], **result}
                    results.append(result)
            if all_or_none and failed:
                _rollback()
    except _Rollback:
        results = [
            r
            if not r["success"]
            else {**({"id": r["id"]} if ids[i] else {}), "success": False, "errors": [_ROLLED_BACK]}
            for i, r in enumerate(results)
        ]
    return Result(200, results)


def create(call: Call) -> Result:
    """``POST /composite/sobjects``."""
    all_or_none, records = _body(call)
    _limit(call, len(records))
    call.records = len(records)

    def op(record: object) -> str:
        obj = _record_type(record)
        call.sobjects.add(obj.name)
        assert isinstance(record, dict)
        if any(k.lower() == "id" for k in record):
            msg = "INVALID_FIELD"
            raise RecordError(msg, "cannot specify Id in an insert call", ["Id"])
        return call.org.store.insert(obj.name, input_values(obj, record, creating=True))

    for r in records:
        if isinstance(r, dict) and isinstance(r.get("attributes"), dict):
            call.sobjects.add(str(r["attributes"].get("type")))
    return _run(call, records, all_or_none, op, [None] * len(records))


def _id_of(record: object) -> str | None:
    if not isinstance(record, dict):
        return None
    value = next((v for k, v in record.items() if k.lower() == "id"), None)
    return value if isinstance(value, str) else None


def update(call: Call) -> Result:
    """``PATCH /composite/sobjects`` (each record needs ``id``)."""
    all_or_none, records = _body(call)
    _limit(call, len(records))
    call.records = len(records)
    for r in records:
        if isinstance(r, dict) and isinstance(r.get("attributes"), dict):
            call.sobjects.add(str(r["attributes"].get("type")))

    def op(record: object) -> None:
        obj = _record_type(record)
        raw = _id_of(record)
        if not raw:
            msg = "MISSING_ARGUMENT"
            raise RecordError(msg, "Id not specified in an update call", ["Id"])
        full = _checked_id(raw, obj)
        assert isinstance(record, dict)  # _record_type accepted it
        values = input_values(obj, {k: v for k, v in record.items() if k.lower() != "id"}, creating=False)
        call.org.store.update(obj.name, full, values)

    return _run(call, records, all_or_none, op, [_id_of(r) for r in records])


def _checked_id(raw: str, obj: schema.ObjectDef | None) -> str:
    try:
        full = sfid.to18(raw)
    except sfid.InvalidIdError as exc:
        msg = "MALFORMED_ID"
        raise RecordError(msg, f"malformed id {raw}") from exc
    if obj is not None and full[:3] != obj.key_prefix:
        msg = "MALFORMED_ID"
        raise RecordError(msg, f"malformed id {raw}")
    return full


def delete(call: Call) -> Result:
    """``DELETE /composite/sobjects?ids=…&allOrNone=…``."""
    raw_ids = [i for i in (call.req.param("ids") or "").split(",") if i]
    if not raw_ids:
        raise ApiError(400, "MISSING_ARGUMENT", "The ids parameter is required")
    _limit(call, len(raw_ids))
    call.records = len(raw_ids)
    all_or_none = (call.req.param("allOrNone") or "false").lower() == "true"

    def op(item: object) -> str:
        full = _checked_id(str(item), None)
        obj = schema.object_for_id(full)
        if obj is None:
            msg = "INVALID_CROSS_REFERENCE_KEY"
            raise RecordError(msg, f"invalid cross reference id: {item}")
        call.sobjects.add(obj.name)
        call.org.store.delete(obj.name, full)
        return full

    return _run(call, list(raw_ids), all_or_none, op, list(raw_ids))


def retrieve(call: Call, name: str) -> Result:
    """``GET /composite/sobjects/<Type>?ids=…&fields=…`` → records (null where not found)."""
    obj = object_or_error(name)
    call.sobjects.add(obj.name)
    raw_ids = [i for i in (call.req.param("ids") or "").split(",") if i]
    fields = [f.strip() for f in (call.req.param("fields") or "").split(",") if f.strip()]
    if not raw_ids or not fields:
        raise ApiError(400, "MISSING_ARGUMENT", "The ids and fields parameters are required")
    _limit(call, len(raw_ids))
    call.records = len(raw_ids)
    canonical = []
    for name_ in fields:
        fdef = obj.field(name_)
        if fdef is None:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{name_}' on entity '{obj.name}'.")
        canonical.append(fdef.name)
    out: list[object] = []
    for raw in raw_ids:
        try:
            full = _checked_id(raw, obj)
        except RecordError as exc:
            raise ApiError(400, "MALFORMED_ID", exc.message) from exc
        record = call.org.store.get(obj.name, full)
        if record is None:
            out.append(None)
            continue
        full_record = with_attributes(obj, record, call.prefix)
        out.append({"attributes": full_record["attributes"], **{f: full_record[f] for f in canonical}})
    return Result(200, out)


def lock_row_results(call: Call) -> Result | None:
    """The UNABLE_TO_LOCK_ROW fault on a collections write: every record fails, nothing is written."""
    if call.req.method == "DELETE":
        ids = [i for i in (call.req.param("ids") or "").split(",") if i]
    else:
        try:
            _, records = _body(call)
        except ApiError:
            return None
        ids = [_id_of(r) or "" for r in records]
    return Result(
        200,
        [
            {
                **({"id": i} if i else {}),
                "success": False,
                "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW",
                            "message": f"unable to obtain exclusive access to this record or 1 records: {i}",
                            "fields": []}],
            }
            for i in ids
        ],
    )  # fmt: skip
