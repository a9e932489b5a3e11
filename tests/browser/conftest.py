"""The dashboard in a real browser: Playwright for Python driving Debian's Chromium,
headless, against a served emulator (a real process). `make test` installs Chromium
(scripts/install-browser); Playwright's own browser download is never used.

Each test starts from a reset emulator with a frozen clock and a fresh browser context.
Screenshots go to test-artifacts/screenshots/ (EMULATOR_SCREENSHOTS overrides).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from ..served import Served, serve

CHROMIUM = os.environ.get("EMULATOR_CHROMIUM", "/usr/bin/chromium")
# The flags this machine's closed network needs (no background connections, no QUIC).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
START = "2026-11-21T09:00:00Z"
SCREENSHOTS = Path(
    os.environ.get("EMULATOR_SCREENSHOTS", Path(__file__).parents[2] / "test-artifacts" / "screenshots")
)
LAPTOP = {"width": 1366, "height": 800}
PHONE = {"width": 390, "height": 844}

XD_KEY = "247xd_3769736d6939931e6de10def20d9a2483134d0c1"
ULF_KEY = "ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4"


# Package scope, not session: Playwright's sync API keeps an event loop running in this
# thread while it is open, which asyncio.run() in the other test folders refuses.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: `make test` installs it (scripts/install-browser: "
            "apt-get install chromium fonts-thai-tlwg)",
            pytrace=False,
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # Playwright gives every launch a new, empty profile (--user-data-dir) of its own.
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture(scope="package")
def served() -> Iterator[Served]:
    with serve("--clock-start", START, "--clock-frozen", "--seed", "7") as server:
        yield server


@pytest.fixture
def base_url(served: Served) -> Iterator[str]:
    httpx.post(served.url + "/_emulator/reset").raise_for_status()
    yield served.url


@pytest.fixture
def xd(base_url: str) -> Iterator[httpx.Client]:
    """247xd's API as the demo account calls it."""
    with httpx.Client(base_url=base_url + "/api/v1", headers={"Authorization": f"Bearer {XD_KEY}"}) as client:
        yield client


@pytest.fixture
def ulf(base_url: str) -> Iterator[httpx.Client]:
    """USDTLowFee's API as the demo account calls it."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"ApiKey {ULF_KEY}"}) as client:
        yield client


@pytest.fixture
def context(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=base_url, viewport=LAPTOP, locale="th-TH")
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def screenshot(page: Page, name: str) -> Path:
    """The whole page as PNG under SCREENSHOTS; the path, for the test to check."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
