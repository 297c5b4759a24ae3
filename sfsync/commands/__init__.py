"""The CLI's command implementations, one module per group; ``sfsync.cli`` assembles them."""

from __future__ import annotations
