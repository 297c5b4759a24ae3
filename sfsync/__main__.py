"""``python -m sfsync`` runs the CLI."""

from __future__ import annotations

from sfsync.cli import entrypoint

entrypoint()
