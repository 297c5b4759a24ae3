"""A thin HTTP client for the emulator contract tests (a plain module: this directory is no package)."""

from __future__ import annotations

import requests

from sfsync.emulator.harness import EmulatorHandle


class Api:
    """A thin `requests` wrapper: the emulator's CA, a bearer token, paths relative to the data root."""

    def __init__(self, handle: EmulatorHandle, version: str = "66.0") -> None:
        self.handle = handle
        self.version = version
        self.session = requests.Session()
        self.session.trust_env = False  # REQUESTS_CA_BUNDLE must not override the emulator's CA
        self.session.verify = str(handle.ca_path)
        self.session.headers["Authorization"] = f"Bearer {handle.access_token()}"

    def url(self, path: str) -> str:
        """Absolute URL; a path without a leading /services is under /services/data/vXX.X/."""
        if path.startswith("/"):
            return self.handle.base_url + path
        return f"{self.handle.base_url}/services/data/v{self.version}/{path}"

    def request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        """Send a request."""
        return self.session.request(method, self.url(path), timeout=10, **kwargs)  # type: ignore[arg-type]

    def get(self, path: str, **kwargs: object) -> requests.Response:
        """GET."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: object) -> requests.Response:
        """POST."""
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: object) -> requests.Response:
        """PATCH."""
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: object) -> requests.Response:
        """DELETE."""
        return self.request("DELETE", path, **kwargs)
