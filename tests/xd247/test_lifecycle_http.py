"""Orders over time through HTTP: the clock moves (control plane), reads see the due moves."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from emulator.core.clock import US_PER_S, iso_ms, parse_iso
from emulator.runtime import Emulator

from .support import (
    CHATGPT,
    DEMO,
    FB_LIKES,
    LINE,
    LINE_AIS,
    OTP_NEVER,
    OTP_TEST_SERVICE,
    RICH,
    SOCIAL_FAST,
    SOCIAL_NEVER,
    account_of,
    assert_error,
    auth,
    ok,
    snapshot,
)

H = auth(DEMO)


def advance(client: TestClient, seconds: float) -> None:
    response = client.post("/_emulator/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


def get_otp(client: TestClient, order_id: str) -> dict:
    return ok(client.get(f"/api/v1/otp/orders/{order_id}", headers=H))


def get_social(client: TestClient, order_id: str) -> dict:
    return ok(client.get(f"/api/v1/social/orders/{order_id}", headers=H))


def test_an_otp_order_expires_exactly_at_expires_at(client: TestClient, emu: Emulator) -> None:
    body = {"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_NEVER}
    created = ok(client.post("/api/v1/otp/orders", headers=H, json=body), 201)
    expires_us = parse_iso(created["expiresAt"])
    emu.clock.advance(expires_us - emu.clock.now_us() - 1)  # one microsecond before
    assert get_otp(client, created["orderId"])["status"] == "waiting_sms"
    emu.clock.advance(1)
    order = get_otp(client, created["orderId"])
    assert order["status"] == "expired"
    assert order["updatedAt"] == order["expiresAt"] == created["expiresAt"]
    assert order["otpCode"] is None


def test_an_expired_order_read_much_later_still_carries_expires_at(client: TestClient) -> None:
    body = {"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_NEVER}
    created = ok(client.post("/api/v1/otp/orders", headers=H, json=body), 201)
    advance(client, 7200)
    assert get_otp(client, created["orderId"])["updatedAt"] == created["expiresAt"]


def test_the_sms_arrives_after_the_options_delay_with_the_code_shown_only_then(
    client: TestClient, emu: Emulator
) -> None:
    delay_s = emu.xd247.price_options[LINE_AIS][1].sms_delay_us / US_PER_S
    assert delay_s == 57
    created = ok(
        client.post("/api/v1/otp/orders", headers=H, json={"serviceId": LINE, "priceOptionId": LINE_AIS}), 201
    )
    start = parse_iso(get_otp(client, created["orderId"])["createdAt"])
    advance(client, delay_s - 0.000001)
    waiting = get_otp(client, created["orderId"])
    assert waiting["status"] == "waiting_sms" and waiting["otpCode"] is None
    advance(client, 0.000001)
    done = get_otp(client, created["orderId"])
    assert done["status"] == "completed"
    assert re.fullmatch(r"[0-9]{6}", done["otpCode"])
    assert done["updatedAt"] == iso_ms(start + 57 * US_PER_S)
    advance(client, 3600)  # completed is final: it never expires afterwards
    assert get_otp(client, created["orderId"]) == done


def test_a_cancelled_order_shows_no_code_and_does_not_expire(client: TestClient) -> None:
    body = {"serviceId": LINE, "priceOptionId": LINE_AIS}
    created = ok(client.post("/api/v1/otp/orders", headers=H, json=body), 201)
    cancelled = ok(client.post(f"/api/v1/otp/orders/{created['orderId']}/cancel", headers=H))
    advance(client, 3600)
    later = get_otp(client, created["orderId"])
    assert later == cancelled and later["otpCode"] is None


def test_the_control_plane_can_deliver_the_sms_with_a_chosen_code(client: TestClient) -> None:
    created = ok(
        client.post(
            "/api/v1/otp/orders", headers=H, json={"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_NEVER}
        ),
        201,
    )
    forced = client.post(
        f"/_emulator/247xd/orders/{created['orderId']}/transition",
        json={"to": "completed", "otpCode": "123456"},
    )
    assert forced.status_code == 200
    assert get_otp(client, created["orderId"])["otpCode"] == "123456"


def test_social_progress_moves_with_the_clock(client: TestClient) -> None:
    body = {"optionId": FB_LIKES, "link": "https://facebook.com/p/1", "quantity": 1000}  # 30 s delay, 200/min
    created = ok(client.post("/api/v1/social/orders", headers=H, json=body), 201)
    order = get_social(client, created["orderId"])
    assert (order["status"], order["delivered"], order["remains"]) == ("pending", 0, 1000)
    advance(client, 30)
    order = get_social(client, created["orderId"])
    assert (order["status"], order["delivered"], order["remains"]) == ("processing", 0, 1000)
    advance(client, 60)
    order = get_social(client, created["orderId"])
    assert (order["status"], order["delivered"], order["remains"]) == ("processing", 200, 800)
    advance(client, 4 * 60 - 0.000001)
    order = get_social(client, created["orderId"])
    assert (order["status"], order["delivered"], order["remains"]) == ("processing", 999, 1)
    advance(client, 0.000001)
    order = get_social(client, created["orderId"])
    assert (order["status"], order["delivered"], order["remains"]) == ("completed", 1000, 0)
    assert parse_iso(order["updatedAt"]) - parse_iso(order["createdAt"]) == (30 + 300) * US_PER_S
    assert_error(
        client.post(f"/api/v1/social/orders/{created['orderId']}/refund", headers=H), 400, "BAD_REQUEST"
    )


def test_a_partial_order_refunds_the_undelivered_share_rounded_down(
    client: TestClient, emu: Emulator
) -> None:
    body = {"optionId": FB_LIKES, "link": "https://facebook.com/p/1", "quantity": 51}
    created = ok(client.post("/api/v1/social/orders", headers=H, json=body), 201)
    assert created["price"] == 1.79  # 35.00 x 51 / 1000 = 1.785 -> half up
    order_id = created["orderId"]
    advance(client, 30)
    forced = client.post(
        f"/_emulator/247xd/orders/{order_id}/transition", json={"to": "partial", "delivered": 50}
    )
    assert forced.status_code == 200
    assert (forced.json()["status"], forced.json()["delivered"], forced.json()["remains"]) == (
        "partial",
        50,
        1,
    )
    refunded = ok(client.post(f"/api/v1/social/orders/{order_id}/refund", headers=H))
    assert refunded["refundedAmount"] == 0.03  # 1.79 x 1/51 = 0.0351 -> 0.03, never 0.04
    assert ok(client.get("/api/v1/balance", headers=H)) == {"coins": 498.24}  # 500 - 1.79 + 0.03
    assert_error(client.post(f"/api/v1/social/orders/{order_id}/refund", headers=H), 400, "BAD_REQUEST")
    assert account_of(emu, DEMO).coins == 49_824


def test_a_partial_order_without_a_count_keeps_what_the_clock_delivered(client: TestClient) -> None:
    body = {"optionId": SOCIAL_FAST, "link": "https://x.com/a", "quantity": 1000}
    order_id = ok(client.post("/api/v1/social/orders", headers=H, json=body), 201)["orderId"]
    advance(client, 15)  # 1000 per minute -> 250
    forced = client.post(f"/_emulator/247xd/orders/{order_id}/transition", json={"to": "partial"})
    assert forced.json()["delivered"] == 250
    advance(client, 600)  # delivery has stopped
    assert get_social(client, order_id)["delivered"] == 250
    refunded = ok(client.post(f"/api/v1/social/orders/{order_id}/refund", headers=H))
    assert refunded["refundedAmount"] == 7.5  # 10.00 x 750 / 1000


def test_a_cancelled_social_order_refunds_in_full(client: TestClient) -> None:
    body = {"optionId": SOCIAL_FAST, "link": "https://x.com/a", "quantity": 1000}
    order_id = ok(client.post("/api/v1/social/orders", headers=H, json=body), 201)["orderId"]
    advance(client, 30)
    client.post(f"/_emulator/247xd/orders/{order_id}/transition", json={"to": "cancelled"})
    refunded = ok(client.post(f"/api/v1/social/orders/{order_id}/refund", headers=H))
    assert refunded["refundedAmount"] == refunded["price"] == 10.0
    assert ok(client.get("/api/v1/balance", headers=H)) == {"coins": 500.0}


def test_refunds_are_never_paid_twice(client: TestClient, emu: Emulator) -> None:
    body = {"serviceId": LINE, "priceOptionId": LINE_AIS}
    order_id = ok(client.post("/api/v1/otp/orders", headers=H, json=body), 201)["orderId"]
    ok(client.post(f"/api/v1/otp/orders/{order_id}/cancel", headers=H))
    assert ok(client.post(f"/api/v1/otp/orders/{order_id}/refund", headers=H))["refundedAmount"] == 15.0
    before = snapshot(emu)
    assert "refunded" in assert_error(
        client.post(f"/api/v1/otp/orders/{order_id}/refund", headers=H), 400, "BAD_REQUEST"
    )
    assert (
        client.post(f"/_emulator/247xd/orders/{order_id}/transition", json={"to": "refunded"}).status_code
        == 409
    )
    assert snapshot(emu) == before
    assert ok(client.get("/api/v1/balance", headers=H)) == {"coins": 500.0}


def test_an_expired_order_can_be_refunded_once(client: TestClient) -> None:
    body = {"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_NEVER}
    order_id = ok(client.post("/api/v1/otp/orders", headers=H, json=body), 201)["orderId"]
    advance(client, 1200)
    assert ok(client.post(f"/api/v1/otp/orders/{order_id}/refund", headers=H))["status"] == "refunded"
    assert_error(client.post(f"/api/v1/otp/orders/{order_id}/refund", headers=H), 400, "BAD_REQUEST")
    assert ok(client.get("/api/v1/balance", headers=H)) == {"coins": 500.0}


def test_insufficient_coins_changes_nothing_over_http(client: TestClient, emu: Emulator) -> None:
    account = client.post("/_emulator/247xd/accounts", json={"coins": 14.99}).json()
    headers = auth(account["apiKey"])
    before = snapshot(emu)
    response = client.post(
        "/api/v1/otp/orders", headers=headers, json={"serviceId": LINE, "priceOptionId": LINE_AIS}
    )
    assert_error(response, 400, "BAD_REQUEST")
    assert snapshot(emu) == before
    assert ok(client.get("/api/v1/balance", headers=headers)) == {"coins": 14.99}
    services = ok(client.get("/api/v1/otp/services", headers=headers))
    assert services[0]["priceOptions"][0]["stock"] == 281


def test_stock_running_out_refuses_the_next_order_and_leaves_coins_alone(
    client: TestClient, emu: Emulator
) -> None:
    rich = auth(RICH)
    for _ in range(10):
        ok(client.post("/api/v1/premium/orders", headers=rich, json={"serviceId": CHATGPT}), 201)
    services = ok(client.get("/api/v1/premium/services", headers=rich))
    assert next(s for s in services if s["id"] == CHATGPT)["stock"] == 0
    coins = ok(client.get("/api/v1/balance", headers=rich))["coins"]
    assert coins == 100000.0 - 10 * 250.0
    before = snapshot(emu)
    message = assert_error(
        client.post("/api/v1/premium/orders", headers=rich, json={"serviceId": CHATGPT}), 400, "BAD_REQUEST"
    )
    assert "สินค้าหมด" in message
    assert snapshot(emu) == before
    assert ok(client.get("/api/v1/balance", headers=rich))["coins"] == coins


def test_a_never_finishing_social_order_stays_processing(client: TestClient) -> None:
    body = {"optionId": SOCIAL_NEVER, "link": "https://x.com/a", "quantity": 100}
    order_id = ok(client.post("/api/v1/social/orders", headers=H, json=body), 201)["orderId"]
    advance(client, 86_400)
    order = get_social(client, order_id)
    assert (order["status"], order["delivered"], order["remains"]) == ("processing", 0, 100)
