"""Salesforce-shaped errors raised inside the emulator and turned into wire answers at the edge.

These are the emulator's own (it shares nothing with the client): :class:`ApiError` becomes a
top-level REST error array with an HTTP status; :class:`RecordError` is one record's failure, which
sObject Collections report per record and single-record calls report as a 400 error array.
"""

from __future__ import annotations

from collections.abc import Sequence


class ApiError(Exception):
    """A request-level failure: HTTP status plus ``[{message, errorCode, fields}]``."""

    def __init__(self, http_status: int, error_code: str, message: str, fields: Sequence[str] = ()) -> None:
        super().__init__(f"{error_code}: {message}")
        self.http_status = http_status
        self.error_code = error_code
        self.message = message
        self.fields = list(fields)

    def body(self) -> list[dict[str, object]]:
        """The REST error array for this error."""
        item: dict[str, object] = {"message": self.message, "errorCode": self.error_code}
        if self.fields:
            item["fields"] = list(self.fields)
        return [item]


class RecordError(Exception):
    """One record's failure (``statusCode`` in collection results), e.g. from a before-trigger."""

    def __init__(self, status_code: str, message: str, fields: Sequence[str] = ()) -> None:
        super().__init__(f"{status_code}: {message}")
        self.status_code = status_code
        self.message = message
        self.fields = list(fields)

    def item(self) -> dict[str, object]:
        """The per-record error item ``{statusCode, message, fields}``."""
        return {"statusCode": self.status_code, "message": self.message, "fields": list(self.fields)}

    def as_api_error(self, http_status: int = 400) -> ApiError:
        """The same failure as a single-record REST error."""
        return ApiError(http_status, self.status_code, self.message, self.fields)


def not_found() -> ApiError:
    """404 NOT_FOUND with Salesforce's text."""
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def malformed_query(message: str) -> ApiError:
    """400 MALFORMED_QUERY."""
    return ApiError(400, "MALFORMED_QUERY", message)


def invalid_field(message: str, fields: Sequence[str] = ()) -> ApiError:
    """400 INVALID_FIELD."""
    return ApiError(400, "INVALID_FIELD", message, fields)


def invalid_type(name: str) -> ApiError:
    """400 INVALID_TYPE for an unknown sObject."""
    return ApiError(
        400,
        "INVALID_TYPE",
        f"sObject type '{name}' is not supported. If you are attempting to use a custom object, be sure "
        "to append the '__c' after the entity name. Please reference your WSDL or the describe call "
        "for the appropriate names.",
    )


def entity_deleted() -> RecordError:
    """ENTITY_IS_DELETED for a write to a deleted record."""
    return RecordError("ENTITY_IS_DELETED", "entity is deleted")


def bad_reference(record_id: str) -> RecordError:
    """INVALID_CROSS_REFERENCE_KEY for an ID that names no record of the type."""
    return RecordError("INVALID_CROSS_REFERENCE_KEY", f"invalid cross reference id: {record_id}")


def no_such_field(name: str, sobject: str) -> RecordError:
    """INVALID_FIELD for a record key that is not a field of the object."""
    return RecordError("INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}", [name])


def bad_field_value(name: str, message: str) -> RecordError:
    """INVALID_FIELD_FOR_INSERT_UPDATE-like error for a value of the wrong type."""
    return RecordError("JSON_PARSER_ERROR", f"Cannot deserialize value for field {name}: {message}", [name])
