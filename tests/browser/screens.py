"""Screenshots of the admin pages, saved as test artifacts under ``artifacts/screenshots/`` (git-ignored)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
