"""In Chromium: logging in to a token-protected dashboard with `?token=`, then a button;
and a page on another origin that tries to frame the dashboard (issue 15, docs/security.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from ..served import Served, serve
from .conftest import LAPTOP, START, XD_KEY, screenshot

TOKEN = "browser-test-token_42"


@pytest.fixture(scope="module")
def protected() -> Iterator[Served]:
    with serve("--clock-start", START, "--clock-frozen", "--seed", "7", "--control-token", TOKEN) as server:
        yield server


def test_a_visit_with_the_token_logs_in_and_a_button_works(browser: Browser, protected: Served) -> None:
    context = browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        blocked: list[str] = []  # what the CSP would refuse on the dashboard: nothing
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        refused = page.goto(protected.url + "/_emulator/ui")
        assert refused is not None and refused.status == 401
        expect(page.get_by_text("needs its control token")).to_be_visible()

        page.goto(protected.url + f"/_emulator/ui?token={TOKEN}")
        assert page.url == protected.url + "/_emulator/ui"  # the clean URL: no token in history
        expect(page.locator("a.brand")).to_be_visible()
        expect(page.get_by_text("xd-demo").first).to_be_visible()
        [cookie] = context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/_emulator"
        assert TOKEN not in cookie["value"]
        assert page.evaluate("document.cookie") == ""  # HttpOnly: no script reads it

        expect(page.locator("#clock-now")).to_have_text("2026-11-21 09:00:00")
        page.get_by_test_id("advance-60").click()  # ui.js: a JSON POST with the cookie
        expect(page.locator("#clock-now")).to_have_text("2026-11-21 09:01:00")
        screenshot(page, "security-logged-in")
        assert blocked == []
    finally:
        context.close()
    # The button's call really went through the control plane, which needs the token.
    assert httpx.get(protected.url + "/_emulator/clock").status_code == 401
    clock = httpx.get(protected.url + "/_emulator/clock", headers={"Authorization": f"Bearer {TOKEN}"})
    assert clock.json()["now"] == "2026-11-21T09:01:00.000Z"
    # The APIs never need the control token.
    balance = httpx.get(protected.url + "/api/v1/balance", headers={"Authorization": f"Bearer {XD_KEY}"})
    assert balance.status_code == 200


def frame_page(src: str) -> bytes:
    return f'<!doctype html><title>other site</title><iframe id="target" src="{src}"></iframe>'.encode()


@pytest.fixture
def other_origin(base_url: str) -> Iterator[str]:
    """A second local server (another port: another origin, on the loopback as the
    emulator, so only the emulator's own headers decide whether it may be framed)."""
    pages = {
        "/framer": frame_page(base_url + "/_emulator/ui"),
        "/control": frame_page("/plain"),
        "/plain": b'<!doctype html><p id="shown">framed</p>',
    }

    class Pages(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            body = pages.get(self.path, b"")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_page_on_another_origin_cannot_frame_the_dashboard(
    page: Page, base_url: str, other_origin: str
) -> None:
    # The control: in this browser a frame that allows it is shown, and the check sees it.
    page.goto(f"{other_origin}/control")
    expect(page.frame_locator("#target").locator("#shown")).to_have_text("framed")

    with page.expect_response(lambda r: r.url == base_url + "/_emulator/ui") as answer:
        page.goto(f"{other_origin}/framer")
    response = answer.value
    assert response.status == 200  # the emulator answered; the browser does not show it
    frame = next(f for f in page.frames if f != page.main_frame)
    frame.wait_for_load_state()
    assert not frame.url.startswith(base_url), frame.url  # Chromium's error page instead
    assert page.frame_locator("#target").locator("a.brand").count() == 0
    screenshot(page, "security-frame-blocked")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
