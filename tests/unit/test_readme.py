"""README.md keeps the newcomer commands, and CI runs the same test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run's TEST_CMD appears verbatim in README.md."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    match = re.search(r'^TEST_CMD="(.+)"$', ci, re.MULTILINE)
    assert match is not None
    assert match.group(1) in (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_has_the_demo_command() -> None:
    """The install-and-demo command is there."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install -q -e . && .venv/bin/sfsync demo" in readme
