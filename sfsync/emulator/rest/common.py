"""What every REST handler gets (:class:`Call`) and returns (:class:`Result`), plus shared helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sfsync import sfid
from sfsync.emulator import schema
from sfsync.emulator.codec import BadValue, to_wire
from sfsync.emulator.errors import ApiError, RecordError, invalid_type
from sfsync.emulator.http import Request

if TYPE_CHECKING:
    from sfsync.emulator.org import Org

_VERSION_RE = re.compile(r"^v(\d{2})\.(\d)$")
#: Values that go out as they are (``to_wire`` returns them unchanged); checked first, being most.
_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})


@dataclass
class Call:
    """One REST call (or composite subrequest) in progress."""

    org: Org
    req: Request
    base_url: str
    version: str
    user_id: str
    action: str | None = None
    records: int = 0
    sobjects: set[str] = field(default_factory=set)

    @property
    def api_version(self) -> float:
        """The version as a number, e.g. 66.0."""
        return float(self.version)

    @property
    def prefix(self) -> str:
        """``/services/data/vXX.X``."""
        return f"/services/data/v{self.version}"


@dataclass
class Result:
    """A handler's answer before serialisation (``data`` None means an empty body)."""

    status: int
    data: object = None
    headers: dict[str, str] = field(default_factory=dict)


def parse_version(segment: str, known: tuple[str, ...]) -> str | None:
    """``v66.0`` → ``66.0`` if served; None for a malformed or unknown version."""
    m = _VERSION_RE.match(segment)
    if not m:
        return None
    version = f"{m.group(1)}.{m.group(2)}"
    return version if version in known else None


def object_or_error(name: str) -> schema.ObjectDef:
    """The object of that name (any case), or INVALID_TYPE."""
    found = schema.lookup(name)
    if found is None:
        raise invalid_type(name)
    return found


def record_id_or_error(obj: schema.ObjectDef, raw: str) -> str:
    """An 18-character ID of ``obj``; 404 NOT_FOUND for a malformed or foreign one (as Salesforce)."""
    try:
        full = sfid.to18(raw)
    except sfid.InvalidIdError as exc:
        raise ApiError(
            404, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: " + raw
        ) from exc
    if full[:3] != obj.key_prefix:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return full


def wire_record(record: dict[str, object], prefix: str) -> dict[str, object]:
    """A store/query record as JSON: wire datetimes, attribute URLs under the version prefix."""
    out: dict[str, object] = {}
    for key, value in record.items():
        if type(value) in _PLAIN_TYPES:
            out[key] = value
        elif key == "attributes" and isinstance(value, dict):
            attrs = dict(value)
            url = attrs.get("url")
            if isinstance(url, str) and url.startswith("/sobjects/"):
                attrs["url"] = prefix + url
            out[key] = attrs
        elif isinstance(value, dict):
            out[key] = wire_record(value, prefix)
        else:
            out[key] = to_wire(value)
    return out


def with_attributes(obj: schema.ObjectDef, record: dict[str, object], prefix: str) -> dict[str, object]:
    """A full store record with Salesforce's ``attributes`` first."""
    attrs = {"type": obj.name, "url": f"{prefix}/sobjects/{obj.name}/{record['Id']}"}
    return {"attributes": attrs, **{k: to_wire(v) for k, v in record.items()}}


def input_values(obj: schema.ObjectDef, body: object, *, creating: bool) -> dict[str, object]:
    """Validate a record body (JSON object) against the schema; RecordError per Salesforce."""
    if not isinstance(body, dict):
        msg = "JSON_PARSER_ERROR"
        raise RecordError(msg, "Expected a JSON object for the record")
    values: dict[str, object] = {}
    for key, value in body.items():
        if key == "attributes":
            continue
        fdef = obj.field(key)
        if fdef is None:
            msg = "INVALID_FIELD"
            raise RecordError(msg, f"No such column '{key}' on sobject of type {obj.name}", [key])
        if fdef.name == "Id":
            if creating:
                msg = "INVALID_FIELD"
                raise RecordError(msg, "The Id field should not be specified in the sobject data.")
            continue
        allowed = fdef.createable if creating else fdef.updateable
        if not allowed:
            verb = "create" if creating else "update"
            msg = "INVALID_FIELD_FOR_INSERT_UPDATE"
            raise RecordError(
                msg,
                f"Unable to {verb} the field: {fdef.name}" if not creating else
                f"Unable to create/update fields: {fdef.name}. Please check the security settings of this "
                "field and verify that it is read/write for your profile or permission set.",
                [fdef.name],
            )  # fmt: skip
        values[fdef.name] = check_value(obj, fdef, value)
    if creating:
        missing = [
            f.name for f in obj.fields.values()
            if not f.nillable and f.createable and f.default is None and f.type != "boolean" and values.get(f.name) in (None, "")
        ]  # fmt: skip
        if missing:
            msg = "REQUIRED_FIELD_MISSING"
            raise RecordError(msg, f"Required fields are missing: [{', '.join(missing)}]", missing)
    return values


def check_value(obj: schema.ObjectDef, fdef: schema.FieldDef, value: object) -> object:
    """One lenient wire value, checked (IDs, restricted picklists, numbers as strings)."""
    from sfsync.emulator.codec import from_sql, to_sql

    if value is None or (
        value == "" and fdef.type in ("reference", "date", "datetime", "double", "currency", "percent", "int")
    ):
        if not fdef.nillable:
            msg = "REQUIRED_FIELD_MISSING"
            raise RecordError(msg, f"Required fields are missing: [{fdef.name}]", [fdef.name])
        return None
    if fdef.type == "reference":
        if not isinstance(value, str):
            msg = "JSON_PARSER_ERROR"
            raise RecordError(msg, f"Cannot deserialize value for field {fdef.name}", [fdef.name])
        try:
            full = sfid.to18(value)
        except sfid.InvalidIdError as exc:
            msg = "MALFORMED_ID"
            raise RecordError(msg, f"{fdef.name}: id value of incorrect type: {value}", [fdef.name]) from exc
        target = schema.object_for_id(full)
        if target is None or target.name not in fdef.reference_to:
            msg = "FIELD_INTEGRITY_EXCEPTION"
            raise RecordError(msg, f"{fdef.name}: id value of incorrect type: {value}", [fdef.name])
        return full
    if fdef.type == "picklist" and fdef.restricted and value not in fdef.picklist_values:
        msg = "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        raise RecordError(msg, f"{fdef.name}: bad value for restricted picklist field: {value}", [fdef.name])
    try:
        return from_sql(fdef, to_sql(fdef, value))
    except BadValue as exc:
        msg = "JSON_PARSER_ERROR"
        raise RecordError(
            msg, f"Cannot deserialize instance of {fdef.type} from value {value!r}", [fdef.name]
        ) from exc
