"""A tiny raw-``requests`` client for the emulator contract tests (not sfsync's client)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests

from sfsync.emulator.harness import EmulatorHandle, wait_for


class Api:
    """Raw REST calls against a running emulator, with an explicit CA (``verify=``) on every call."""

    def __init__(self, handle: EmulatorHandle, version: str = "66.0") -> None:
        self.handle = handle
        self.version = version
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {handle.access_token()}"
        self.verify = str(handle.ca_path)

    def url(self, path: str, version: str | None = None) -> str:
        """Absolute URL of a data-API path."""
        return f"{self.handle.base_url}/services/data/v{version or self.version}/{path}"

    def action(
        self, name: str, inputs: list[dict[str, Any]], version: str | None = None
    ) -> requests.Response:
        """POST an invocable action with the documented ``{"inputs": [...]}`` body."""
        return self.session.post(
            self.url(f"actions/standard/{name}", version),
            json={"inputs": inputs},
            verify=self.verify,
            timeout=30,
        )

    def query(self, soql: str) -> list[dict[str, Any]]:
        """All records of a SOQL query (one page suffices in these tests)."""
        response = self.session.get(self.url("query"), params={"q": soql}, verify=self.verify, timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["done"] is True
        records: list[dict[str, Any]] = body["records"]
        return records

    def patch(self, sobject: str, record_id: str, fields: dict[str, Any]) -> requests.Response:
        """PATCH one record."""
        return self.session.patch(
            self.url(f"sobjects/{sobject}/{record_id}"), json=fields, verify=self.verify, timeout=30
        )

    def wait_for_one(self, soql: str, timeout: float = 10.0) -> dict[str, Any]:
        """Poll a query until it returns exactly one record (with a deadline)."""
        found: list[dict[str, Any]] = []

        def ready() -> bool:
            found[:] = self.query(soql)
            return len(found) == 1

        assert wait_for(ready, timeout=timeout), f"no single record for {soql!r}: {found}"
        return found[0]


def wire_datetime(text: str) -> datetime:
    """A datetime as the emulator sends it (``2026-11-23T00:00:00.000+0000``)."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
