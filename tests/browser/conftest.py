"""Browser fixtures: the admin app served by uvicorn on 127.0.0.1 over a populated ledger, and
Debian's headless Chromium driven by Playwright (never ``playwright install``)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import structlog

_WEB_TESTS = str(Path(__file__).resolve().parents[1] / "integration" / "web")
if _WEB_TESTS not in sys.path:
    sys.path.insert(0, _WEB_TESTS)

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright  # noqa: E402
from webdata import START, Seeded, populate, web_settings  # noqa: E402

from sfsync.clock import FixedClock  # noqa: E402
from sfsync.ledger import Ledger, open_ledger  # noqa: E402
from sfsync.web import WebServer, create_app, serve  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
#: Records CSP violations in the page, to prove none was needed to stop the payloads.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI);
});
"""


@pytest.fixture(autouse=True)
def _default_logging() -> None:
    """Log through structlog's defaults: an earlier test may have left it writing to a closed stream."""
    structlog.reset_defaults()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless (skipped with the reason when it is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seeded, datetime]:
    """One ledger populated once per session: its file, what it holds, its clock's end time."""
    path = tmp_path_factory.mktemp("browser") / "template.db"
    clock = FixedClock(START)
    structlog.reset_defaults()  # see _default_logging
    with open_ledger(f"sqlite:///{path}", clock=clock) as ledger:
        seeded = populate(ledger, clock)
    return path, seeded, clock.now()


@pytest.fixture
def seeded(template: tuple[Path, Seeded, datetime]) -> Seeded:
    """What the ledger holds."""
    return template[1]


@pytest.fixture
def ledger(tmp_path: Path, template: tuple[Path, Seeded, datetime]) -> Iterator[Ledger]:
    """A private copy of the populated ledger."""
    path = tmp_path / "ledger.db"
    shutil.copyfile(template[0], path)
    opened = open_ledger(f"sqlite:///{path}", clock=FixedClock(template[2]), migrate=False)
    yield opened
    opened.close()


@pytest.fixture
def server(ledger: Ledger) -> Iterator[WebServer]:
    """The admin app served by uvicorn on 127.0.0.1, on a free port."""
    app = create_app(ledger, web_settings(), clock=ledger.clock)
    with serve(app, "127.0.0.1", 0) as running:
        yield running


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (no cookies) that records CSP violations."""
    created = browser.new_context(viewport={"width": 1280, "height": 900})
    created.add_init_script(WATCH_CSP)
    created.set_default_timeout(10_000)
    yield created
    created.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab in that profile."""
    return context.new_page()
