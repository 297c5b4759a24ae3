"""The newcomer's `pip install .` (no extras) must be enough for the CLI and the demo."""

from __future__ import annotations

import subprocess
import sys

OPTIONAL = ("argon2", "jinja2", "itsdangerous", "prometheus_client", "multipart", "psycopg", "sfsync.web")


def test_cli_imports_no_optional_extra() -> None:
    """Importing the CLI loads nothing from the `web` or `postgres` extras."""
    code = (
        "import sys, sfsync.cli; "
        f"loaded = [m for m in {OPTIONAL!r} if m in sys.modules]; "
        "print(','.join(loaded))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""
