"""Salesforce error bodies translated into :mod:`sfsync.errors` types, at the boundary.

Three shapes arrive (salesforce-api.md §1.5, §2.4, §2.6, §3):

- top-level REST errors: a JSON array ``[{"message", "errorCode", "fields"?}]`` with the HTTP status;
- element errors inside action and sObject Collections results: ``{"statusCode", "message", "fields"}``;
- token endpoint errors: ``{"error", "error_description"}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sfsync import errors

#: Status codes whose errors mean "this resource is not there".
_NOT_FOUND_CODES = frozenset({"NOT_FOUND", "ENTITY_IS_DELETED"})


@dataclass(frozen=True)
class ElementError:
    """One error of a Salesforce element or top-level error array."""

    code: str
    message: str
    fields: tuple[str, ...] = ()


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _fields(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    return ()


def parse_error_items(body: object) -> list[ElementError]:
    """Errors of a top-level array or an element ``errors`` list; codes from errorCode or statusCode."""
    if isinstance(body, Mapping):
        body = [body]
    if not isinstance(body, list):
        return []
    out: list[ElementError] = []
    for item in body:
        if not isinstance(item, Mapping):
            continue
        code = _text(item.get("errorCode")) or _text(item.get("statusCode")) or "UNKNOWN_ERROR"
        out.append(ElementError(code, _text(item.get("message")), _fields(item.get("fields"))))
    return out


def is_error_array(body: object) -> bool:
    """Whether a body is the top-level error array (not a list of per-element results)."""
    return (
        isinstance(body, list)
        and bool(body)
        and all(isinstance(item, Mapping) and "errorCode" in item for item in body)
    )


def error_for(
    status: int | None,
    items: Sequence[ElementError],
    *,
    endpoint: str | None,
    request_id: str | None = None,
    fallback: str = "",
    record_ids: Sequence[str] = (),
) -> errors.SalesforceError:
    """The typed error for a refused call (a permanent refusal unless the status says otherwise)."""
    codes = [item.code for item in items]
    message = "; ".join(item.message for item in items if item.message) or fallback
    if request_id:
        message = f"{message} (request id {request_id})"
    fields = [field for item in items for field in item.fields]
    kind: type[errors.SalesforceError] = errors.RejectedError
    if status == 401:
        kind = errors.AuthError
    elif status == 404 or _NOT_FOUND_CODES & set(codes):
        kind = errors.NotFoundError
    elif status is not None and status >= 500:
        kind = errors.UnavailableError
    return kind(
        message or None,
        status=status,
        error_codes=codes,
        fields=fields,
        endpoint=endpoint,
        record_ids=record_ids,
    )


def token_error(status: int, body: object, *, endpoint: str) -> errors.AuthError:
    """The AuthError for a refused token request, naming Salesforce's error and description."""
    if isinstance(body, Mapping) and "error" in body:
        code = _text(body.get("error")) or "unknown_error"
        description = _text(body.get("error_description"))
        message = f"Salesforce refused the login: {code}: {description}".rstrip(": ")
        return errors.AuthError(message, status=status, error_codes=[code], endpoint=endpoint)
    return errors.AuthError(
        f"Salesforce refused the login with HTTP {status} and no OAuth error body",
        status=status,
        endpoint=endpoint,
    )
