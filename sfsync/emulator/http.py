"""Plain request/response values between the socket server and the emulator's handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from sfsync.emulator.errors import ApiError

JSON_TYPE = "application/json;charset=UTF-8"


@dataclass
class Request:
    """One HTTP request; header names are lower-cased."""

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def build(
        cls, method: str, target: str, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> Request:
        """From a method, a request target (path with query) and headers."""
        parts = urlsplit(target)
        return cls(
            method=method.upper(),
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in (headers or {}).items()},
            body=body,
        )

    def header(self, name: str) -> str | None:
        """A header's value, or None."""
        return self.headers.get(name.lower())

    def param(self, name: str) -> str | None:
        """The first value of a query-string parameter, or None."""
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> object:
        """The body as JSON; 400 JSON_PARSER_ERROR when it is not."""
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(
                400, "JSON_PARSER_ERROR", f"Unexpected character in the request body: {exc}"
            ) from exc


@dataclass
class Response:
    """One answer; ``drop`` closes the connection without answering, ``hold_s`` delays the answer."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    hold_s: float = 0.0


def json_response(status: int, data: object, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer."""
    return Response(status, json.dumps(data).encode(), {"Content-Type": JSON_TYPE, **(headers or {})})


def error_response(exc: ApiError, headers: dict[str, str] | None = None) -> Response:
    """A Salesforce REST error array."""
    return json_response(exc.http_status, exc.body(), headers)
