"""The dashboard clicked through in Chromium: what the issue's "done when" names, and each
page on a laptop and a phone-width screen, with a screenshot of each.

The emulator's clock is frozen: the page's live refresh waits for the DOM (Playwright's
`expect`), never for time to pass, and every change of time is a click on the clock bar.
"""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, expect

from .conftest import LAPTOP, PHONE, START, ULF_KEY, XD_KEY, screenshot

NEVER_SMS = "00000000-0000-4000-8000-000000000011"
TEST_OTP_SERVICE = "00000000-0000-4000-8000-000000000001"
SLOW_TRON = "T9yD14Nj9j7xAB4dbGeiX9h8unkKLxmGkn"  # completes 1 h after creation
SOCIAL_NEVER = "00000000-0000-4000-8000-000000000021"  # starts at once, never delivers by itself


def otp_order(xd: httpx.Client, option: str = NEVER_SMS) -> dict[str, object]:
    response = xd.post("/otp/orders", json={"serviceId": TEST_OTP_SERVICE, "priceOptionId": option})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def row(page: Page, order_id: object):  # type: ignore[no-untyped-def]
    return page.locator(f'tr[data-order="{order_id}"]')


def move_targets(order_row) -> list[str]:  # type: ignore[no-untyped-def]
    """The statuses the row's move buttons lead to, sorted."""
    return sorted(order_row.locator("button[data-move]").evaluate_all("bs => bs.map(b => b.dataset.move)"))


def test_an_api_order_appears_and_an_sms_delivered_from_the_ui_shows_its_code(
    page: Page, xd: httpx.Client
) -> None:
    page.goto("/_emulator/ui/orders")
    expect(page.get_by_text("No orders")).to_be_visible()
    order = otp_order(xd)
    order_row = row(page, order["orderId"])
    expect(order_row).to_be_visible()  # live: no reload
    expect(order_row.get_by_test_id("status")).to_have_text("waiting_sms")
    expect(order_row.get_by_test_id("otp-code")).to_have_text("—")
    # The moves of a waiting OTP order, as its state machine allows them, and nothing else.
    moves = order_row.locator("button[data-move]")
    expect(moves).to_have_count(3)
    assert sorted(moves.evaluate_all("bs => bs.map(b => b.dataset.move)")) == [
        "cancelled",
        "completed",
        "expired",
    ]

    order_row.get_by_placeholder("SMS code").fill("482913")
    order_row.get_by_role("button", name="Deliver SMS").click()
    expect(order_row.get_by_test_id("status")).to_have_text("completed")
    expect(order_row.get_by_test_id("otp-code")).to_have_text("482913")
    expect(order_row.locator("button[data-move]")).to_have_count(0)  # completed is final
    screenshot(page, "orders-otp-delivered")

    seen = xd.get(f"/otp/orders/{order['orderId']}").json()["data"]
    assert (seen["status"], seen["otpCode"]) == ("completed", "482913")


def test_advancing_the_clock_from_the_ui_expires_an_order_and_refund_gives_the_coins_back(
    page: Page, xd: httpx.Client
) -> None:
    coins_before = xd.get("/balance").json()["data"]["coins"]
    order = otp_order(xd)
    assert xd.get("/balance").json()["data"]["coins"] < coins_before
    page.goto("/_emulator/ui/orders")
    order_row = row(page, order["orderId"])
    expect(order_row.get_by_test_id("status")).to_have_text("waiting_sms")
    expect(page.locator("#clock-now")).to_have_text("2026-11-21 09:00:00")
    expect(page.locator("#clock-state")).to_have_text("frozen")

    page.get_by_test_id("advance-60").click()  # +1 min: still waiting (expires after 20 min)
    expect(page.locator("#clock-now")).to_have_text("2026-11-21 09:01:00")
    expect(order_row.get_by_test_id("status")).to_have_text("waiting_sms")
    page.get_by_test_id("advance-1200").click()  # +20 min: past expiresAt
    expect(page.locator("#clock-now")).to_have_text("2026-11-21 09:21:00")
    expect(order_row.get_by_test_id("status")).to_have_text("expired")
    # expired -> refunded is the only move left; Deliver SMS is gone.
    expect(order_row.locator("button[data-move]")).to_have_count(1)
    expect(order_row.get_by_role("button", name="Deliver SMS")).to_have_count(0)
    screenshot(page, "orders-otp-expired")

    order_row.get_by_role("button", name="Refund").click()
    expect(order_row.get_by_test_id("status")).to_have_text("refunded")
    assert xd.get("/balance").json()["data"]["coins"] == coins_before
    assert (
        httpx.get(page.url.split("/_emulator")[0] + "/_emulator/clock")
        .json()["now"]
        .startswith("2026-11-21T09:21:00")
    )


def test_a_fault_added_in_the_ui_fails_the_next_api_call_and_the_journal_shows_it_live(
    page: Page, xd: httpx.Client
) -> None:
    page.goto("/_emulator/ui/faults")
    expect(page.get_by_text("No faults")).to_be_visible()
    page.get_by_label("API").select_option("247xd")
    page.get_by_label("Route").select_option("/balance")
    page.get_by_label("Method").select_option("GET")
    page.get_by_label("Status").fill("503")
    page.get_by_label("Times").fill("1")
    page.get_by_test_id("add-fault").click()
    fault_row = page.locator("tr[data-fault]")
    expect(fault_row).to_have_count(1)
    expect(fault_row).to_contain_text("247xd GET /balance")
    expect(fault_row).to_contain_text("0 of 1")
    screenshot(page, "faults")

    failed = xd.get("/balance")
    assert failed.status_code == 503
    assert failed.json()["success"] is False
    assert xd.get("/balance").status_code == 200  # times: 1, used up
    expect(fault_row).to_contain_text("1 of 1")  # live

    page.goto("/_emulator/ui/requests")
    entries = page.locator("li.entry")
    expect(entries).to_have_count(2)
    expect(entries.nth(1)).to_have_class(re.compile(r"\bfaulted\b"))
    expect(entries.nth(1).get_by_test_id("status")).to_have_text("503")
    # A new API call appears without a reload, newest first.
    xd.get("/otp/orders/00000000-0000-4000-8000-00000000dead")
    expect(entries).to_have_count(3)
    expect(entries.first.get_by_test_id("status")).to_have_text("404")

    page.goto("/_emulator/ui/faults")
    page.locator("tr[data-fault]").get_by_role("button", name="Clear").click()
    expect(page.get_by_text("No faults")).to_be_visible()
    assert httpx.get(page.url.split("/_emulator")[0] + "/_emulator/faults").json() == {"faults": []}


def test_an_after_fault_for_one_account_a_retry_and_the_verdicts_page_names_the_double_order(
    page: Page, xd: httpx.Client
) -> None:
    page.goto("/_emulator/ui/faults")
    page.get_by_label("API").select_option("247xd")
    page.get_by_label("Route").select_option("/otp/orders")
    page.get_by_label("Method").select_option("POST")
    page.get_by_label("Status").fill("500")
    page.get_by_label("Times").fill("1")
    page.get_by_label("Phase").select_option("after")
    page.get_by_label("Account").fill("xd-demo")
    page.get_by_test_id("add-fault").click()
    fault_row = page.locator("tr[data-fault]")
    expect(fault_row).to_contain_text("account xd-demo")
    expect(fault_row.get_by_test_id("phase")).to_have_text("after the commit")

    body = {"serviceId": TEST_OTP_SERVICE, "priceOptionId": NEVER_SMS}
    assert xd.post("/otp/orders", json=body).status_code == 500  # lost, but served
    assert xd.get("/balance").json()["data"]["coins"] == 495.0
    assert xd.post("/otp/orders", json=body).status_code == 201  # the naive retry: a second order

    page.get_by_role("link", name="Verdicts").click()
    expect(page).to_have_url(re.compile(r"/_emulator/ui/verdicts$"))
    finding = page.locator('tr[data-rule="duplicate-create"]')
    expect(finding).to_have_count(1)
    expect(finding).to_contain_text("xd-demo")
    expect(finding).to_contain_text("withheld by a fault")
    screenshot(page, "verdicts")
    # The filters are GETs of the page: another API has no findings, the rule keeps this one.
    page.get_by_label("API").select_option("usdtlowfee")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No findings")).to_be_visible()
    page.get_by_role("link", name="clear").click()
    page.get_by_label("Rule").select_option("duplicate-create")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"rule=duplicate-create"))
    expect(finding).to_have_count(1)
    # Live: a client that keeps sending a refused request shows up without a reload.
    page.get_by_role("link", name="clear").click()
    for _ in range(4):
        xd.post("/otp/orders", json={"serviceId": TEST_OTP_SERVICE})
    expect(page.locator('tr[data-rule="ignored-refusal"]')).to_have_count(1)

    page.get_by_role("link", name="Requests").click()
    lost = page.locator("li.entry.faulted")
    expect(lost).to_have_count(1)
    expect(lost.get_by_test_id("status")).to_have_text("500")
    expect(lost).to_contain_text("after the commit")
    lost.locator("summary").click()
    expect(lost.get_by_test_id("withheld")).to_contain_text("Withheld: 201")


def test_the_journal_shows_the_redacted_request_and_the_thai_response(page: Page, xd: httpx.Client) -> None:
    page.goto("/_emulator/ui/requests")
    expect(page.get_by_text("No API requests yet")).to_be_visible()
    refused = xd.post("/otp/orders", json={"serviceId": TEST_OTP_SERVICE})  # no priceOptionId
    assert refused.status_code == 400
    message = refused.json()["error"]["message"]
    assert re.search(r"[\u0E00-\u0E7F]", message), message  # the vendor's Thai
    entry = page.locator("li.entry").first
    expect(entry.get_by_test_id("status")).to_have_text("400")
    entry.locator("summary").click()
    request_text = entry.locator("pre").first
    expect(request_text).to_contain_text("Bearer ****d0c1")
    expect(request_text).not_to_contain_text(XD_KEY)
    expect(entry.locator("pre").nth(1)).to_contain_text(message)
    assert_thai_renders(page)
    screenshot(page, "requests")


def test_accounts_show_balances_and_redacted_keys_whose_copy_button_copies_the_whole_key(
    page: Page, ulf: httpx.Client
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    created = ulf.post(
        "/v1/energy/orders",
        json={"type": "manual", "data": {"tronAddress": SLOW_TRON, "energyValue": 65000, "durationHours": 1}},
    )
    assert created.status_code in (200, 201), created.text
    price = created.json()["data"]["priceSun"]
    page.goto("/_emulator/ui")
    demo = page.locator('tr[data-account="ulf-demo"]')
    expect(demo.get_by_test_id("balance")).to_have_text(f"{100_000_000 - price:,}")
    expect(demo.get_by_test_id("frozen")).to_have_text(f"{price:,}")
    expect(demo.get_by_test_id("total")).to_have_text(f"{100_000_000:,}")
    expect(demo.locator("code").first).to_have_text("ak_live_****enH4")
    expect(page.get_by_text(ULF_KEY)).to_have_count(0)
    demo.get_by_role("button", name="Copy").first.click()
    assert page.evaluate("navigator.clipboard.readText()") == ULF_KEY
    expect(page.locator('tr[data-account="xd-demo"]')).to_contain_text("xd-demo")
    screenshot(page, "overview")


def test_an_energy_order_completed_from_the_ui_gets_its_txid(page: Page, ulf: httpx.Client) -> None:
    created = ulf.post(
        "/v1/energy/orders",
        json={"type": "manual", "data": {"tronAddress": SLOW_TRON, "energyValue": 65000, "durationHours": 1}},
    )
    order_id = created.json()["data"]["id"]
    page.goto("/_emulator/ui/orders?api=usdtlowfee")
    order_row = row(page, order_id)  # the id as a string: exact beyond 2^53
    expect(order_row.get_by_test_id("status")).to_have_text("processing")
    expect(order_row.get_by_test_id("txid")).to_have_text("—")
    order_row.get_by_role("button", name="Complete").click()
    expect(order_row.get_by_test_id("status")).to_have_text("completed")
    txid = ulf.get(f"/v1/energy/orders/{order_id}").json()["data"]["txid"]
    assert re.fullmatch(r"[0-9a-f]{64}", txid)
    expect(order_row.get_by_test_id("txid")).to_have_text(txid)


def test_a_social_order_started_and_stopped_partial_from_the_ui_is_refunded_the_rest(
    page: Page, xd: httpx.Client
) -> None:
    coins_before = xd.get("/balance").json()["data"]["coins"]
    created = xd.post(
        "/social/orders",
        json={"optionId": SOCIAL_NEVER, "link": "https://x.com/a", "quantity": 1000},
    )
    assert created.status_code == 201, created.text
    order_id = created.json()["data"]["orderId"]
    page.goto("/_emulator/ui/orders?kind=social")
    order_row = row(page, order_id)
    # Starts at once (startDelaySeconds 0) and never delivers by itself: processing.
    expect(order_row.get_by_test_id("status")).to_have_text("processing")
    assert move_targets(order_row) == ["cancelled", "completed", "partial"]
    order_row.get_by_placeholder("delivered").fill("300")
    order_row.get_by_role("button", name="Stop partial").click()
    expect(order_row.get_by_test_id("status")).to_have_text("partial")
    expect(order_row).to_contain_text("300 / 1000")
    order_row.get_by_role("button", name="Refund").click()
    expect(order_row.get_by_test_id("status")).to_have_text("refunded")
    seen = xd.get(f"/social/orders/{order_id}").json()["data"]
    assert seen["status"] == "refunded"
    # 10.00 coins per 1000; 700 undelivered -> 7.00 back: 3.00 spent.
    assert xd.get("/balance").json()["data"]["coins"] == coins_before - 3.0


def test_filters_narrow_the_orders_to_an_api_and_a_status(
    page: Page, xd: httpx.Client, ulf: httpx.Client
) -> None:
    waiting = otp_order(xd)
    ulf.post(
        "/v1/energy/orders",
        json={"type": "manual", "data": {"tronAddress": SLOW_TRON, "energyValue": 65000, "durationHours": 1}},
    )
    page.goto("/_emulator/ui/orders")
    expect(page.locator("tr[data-order]")).to_have_count(2)
    page.get_by_label("API").select_option("247xd")
    page.get_by_label("Status").select_option("waiting_sms")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"api=247xd.*status=waiting_sms"))
    expect(page.locator("tr[data-order]")).to_have_count(1)
    expect(row(page, waiting["orderId"])).to_be_visible()


PAGES = {
    "overview": "/_emulator/ui",
    "orders": "/_emulator/ui/orders",
    "requests": "/_emulator/ui/requests",
    "faults": "/_emulator/ui/faults",
    "verdicts": "/_emulator/ui/verdicts",
}


def test_every_page_fits_a_laptop_and_a_phone_screen(page: Page, xd: httpx.Client, ulf: httpx.Client) -> None:
    otp_order(xd)
    ulf.post(
        "/v1/energy/orders",
        json={"type": "manual", "data": {"tronAddress": SLOW_TRON, "energyValue": 65000, "durationHours": 1}},
    )
    xd.get("/balance")
    for size_name, size in (("laptop", LAPTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        for name, path in PAGES.items():
            page.goto(path)
            expect(page.locator("#clock-now")).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} is {overflow}px wider than a {size_name} screen"
            shot = screenshot(page, f"{name}-{size_name}")
            assert shot.stat().st_size > 5_000


def assert_thai_renders(page: Page) -> None:
    """Thai is drawn with a Thai font: its marks above a consonant (sara i, mai ek) take no
    width of their own, so "กิ่" is as wide as "ก". Without a Thai font each code point is a
    box of its own and "กิ่" is three boxes wide (as Tibetan's "ཀི" is two here)."""
    widths = page.evaluate(
        """() => {
            const ctx = document.createElement("canvas").getContext("2d");
            ctx.font = "16px " + getComputedStyle(document.body).fontFamily;
            return ["ก", "กิ่"].map((text) => ctx.measureText(text).width);
        }"""
    )
    consonant, with_marks = widths
    assert consonant > 0 and abs(with_marks - consonant) < 0.5, widths


def test_the_root_redirects_to_the_dashboard(page: Page) -> None:
    response = page.goto("/")
    assert response is not None and response.ok
    assert page.url.endswith("/_emulator/ui")
    expect(page.locator("h2").first).to_contain_text("247xd accounts")
    expect(page.locator("#clock-now")).to_have_text(START[:19].replace("T", " "))
