"""Hand-run benchmarks (not part of the package, not collected by pytest)."""

from __future__ import annotations
