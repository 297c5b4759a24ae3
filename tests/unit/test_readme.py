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


def test_configuration_reference_is_generated_from_the_settings() -> None:
    """README's configuration table equals what the settings models generate (it cannot drift)."""
    from sfsync.settings_doc import replace_block

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert replace_block(readme) == readme, "run: python -m sfsync.settings_doc --write README.md"


def test_every_setting_is_documented() -> None:
    """Every settings field has a description, shown in the README."""
    from sfsync.settings_doc import reference_markdown

    for line in reference_markdown().splitlines()[2:]:
        assert not line.rstrip().endswith("|  |"), line
