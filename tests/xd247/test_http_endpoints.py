"""The 13 documented 247xd endpoints over HTTP: statuses, envelopes, shapes, headers."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from emulator.runtime import Emulator

from .support import (
    CHATGPT,
    DEMO,
    FB_LIKES,
    ISO_MS,
    LINE,
    LINE_AIS,
    NETFLIX,
    OTP_NEVER,
    OTP_TEST_SERVICE,
    SOCIAL_NEVER,
    account_of,
    assert_rate_headers,
    auth,
    ok,
)

H = auth(DEMO)


def post_otp(client: TestClient, option: str = OTP_NEVER, service: str = OTP_TEST_SERVICE) -> dict:
    return ok(
        client.post("/api/v1/otp/orders", headers=H, json={"serviceId": service, "priceOptionId": option}),
        201,
    )


def test_get_balance_answers_the_vendors_example(client: TestClient) -> None:
    response = client.get("/api/v1/balance", headers=H)
    assert response.json() == {"success": True, "data": {"coins": 500.0}}
    assert response.headers["content-type"] == "application/json"
    assert_rate_headers(response)


def test_get_otp_services_lists_services_with_price_options_and_stock(client: TestClient) -> None:
    response = client.get("/api/v1/otp/services", headers=H)
    data = ok(response)
    assert_rate_headers(response)
    assert isinstance(data, list) and data
    line = next(s for s in data if s["id"] == LINE)
    assert line["priceOptions"][0] == {"id": LINE_AIS, "name": "AIS", "price": 15.0, "stock": 281}
    assert all(set(s) == {"id", "name", "priceOptions"} for s in data)


def test_post_otp_orders_answers_201_with_the_vendors_fields(client: TestClient, emu: Emulator) -> None:
    response = client.post(
        "/api/v1/otp/orders", headers=H, json={"serviceId": LINE, "priceOptionId": LINE_AIS}
    )
    data = ok(response, 201)
    assert_rate_headers(response)
    assert set(data) == {"orderId", "phoneNumber", "status", "price", "expiresAt"}
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", data["orderId"]
    )
    assert re.fullmatch(r"08[0-9]{8}", data["phoneNumber"])
    assert data["status"] == "waiting_sms"
    assert data["price"] == 15.0
    assert data["expiresAt"] == "2025-01-15T10:50:00.000Z"
    assert ok(client.get("/api/v1/balance", headers=H)) == {"coins": 485.0}
    assert ok(client.get("/api/v1/otp/services", headers=H))[0]["priceOptions"][0]["stock"] == 280


def test_ids_in_the_body_are_matched_case_insensitively(client: TestClient) -> None:
    data = post_otp(client, LINE_AIS.upper(), LINE.upper())
    assert data["price"] == 15.0


def test_get_otp_order_returns_the_order(client: TestClient) -> None:
    created = post_otp(client)
    response = client.get(f"/api/v1/otp/orders/{created['orderId']}", headers=H)
    data = ok(response)
    assert_rate_headers(response)
    for field in ("orderId", "phoneNumber", "status", "price", "expiresAt"):
        assert data[field] == created[field]
    assert data["otpCode"] is None
    assert data["serviceId"] == OTP_TEST_SERVICE and data["priceOptionId"] == OTP_NEVER
    assert ISO_MS.fullmatch(data["createdAt"]) and ISO_MS.fullmatch(data["updatedAt"])


def test_order_ids_in_the_path_match_case_insensitively(client: TestClient) -> None:
    created = post_otp(client)
    assert (
        ok(client.get(f"/api/v1/otp/orders/{created['orderId'].upper()}", headers=H))["orderId"]
        == (created["orderId"])
    )


def test_post_cancel_answers_200_with_the_order_as_get_shows_it(client: TestClient) -> None:
    created = post_otp(client)
    response = client.post(f"/api/v1/otp/orders/{created['orderId']}/cancel", headers=H)
    data = ok(response)
    assert_rate_headers(response)
    assert data["status"] == "cancelled"
    assert data == ok(client.get(f"/api/v1/otp/orders/{created['orderId']}", headers=H))
    assert ok(client.get("/api/v1/balance", headers=H)) == {"coins": 495.0}


def test_post_otp_refund_answers_200_with_the_refunded_amount(client: TestClient) -> None:
    created = post_otp(client)
    client.post(f"/api/v1/otp/orders/{created['orderId']}/cancel", headers=H)
    response = client.post(f"/api/v1/otp/orders/{created['orderId']}/refund", headers=H)
    data = ok(response)
    assert_rate_headers(response)
    assert data["status"] == "refunded" and data["refundedAmount"] == 5.0
    assert data == ok(client.get(f"/api/v1/otp/orders/{created['orderId']}", headers=H))
    assert ok(client.get("/api/v1/balance", headers=H)) == {"coins": 500.0}


def test_get_social_services_lists_options_with_price_per_1000_min_and_max(client: TestClient) -> None:
    response = client.get("/api/v1/social/services", headers=H)
    data = ok(response)
    assert_rate_headers(response)
    assert all(set(s) == {"id", "name", "platform", "options"} for s in data)
    option = next(o for s in data for o in s["options"] if o["id"] == FB_LIKES)
    assert option == {"id": FB_LIKES, "name": option["name"], "pricePer1000": 35.0, "min": 50, "max": 20000}


def test_post_social_orders_answers_201_with_the_vendors_fields(client: TestClient) -> None:
    response = client.post(
        "/api/v1/social/orders",
        headers=H,
        json={"optionId": FB_LIKES, "link": "https://instagram.com/example", "quantity": 1000},
    )
    data = ok(response, 201)
    assert_rate_headers(response)
    assert set(data) == {"orderId", "status", "price"}
    assert data["status"] == "pending" and data["price"] == 35.0
    assert ok(client.get("/api/v1/balance", headers=H)) == {"coins": 465.0}


def test_get_social_order_shows_progress(client: TestClient) -> None:
    created = ok(
        client.post(
            "/api/v1/social/orders",
            headers=H,
            json={"optionId": FB_LIKES, "link": "http://facebook.com/p/1", "quantity": 100},
        ),
        201,
    )
    response = client.get(f"/api/v1/social/orders/{created['orderId']}", headers=H)
    data = ok(response)
    assert_rate_headers(response)
    assert data["orderId"] == created["orderId"]
    assert data["status"] == "pending"
    assert (data["quantity"], data["delivered"], data["remains"]) == (100, 0, 100)
    assert isinstance(data["startCount"], int) and data["startCount"] >= 0
    assert data["link"] == "http://facebook.com/p/1"


def test_post_social_refund_answers_200_for_a_cancelled_order(client: TestClient) -> None:
    created = ok(
        client.post(
            "/api/v1/social/orders",
            headers=H,
            json={"optionId": SOCIAL_NEVER, "link": "https://x.com/a", "quantity": 100},
        ),
        201,
    )
    transition = client.post(
        f"/_emulator/247xd/orders/{created['orderId']}/transition", json={"to": "cancelled"}
    )
    assert transition.status_code == 200
    response = client.post(f"/api/v1/social/orders/{created['orderId']}/refund", headers=H)
    data = ok(response)
    assert_rate_headers(response)
    assert data["status"] == "refunded" and data["refundedAmount"] == 1.0
    assert ok(client.get("/api/v1/balance", headers=H)) == {"coins": 500.0}


def test_get_premium_services_lists_price_stock_and_duration(client: TestClient) -> None:
    response = client.get("/api/v1/premium/services", headers=H)
    data = ok(response)
    assert_rate_headers(response)
    assert all(set(s) == {"id", "name", "price", "stock", "durationDays"} for s in data)
    assert next(s for s in data if s["id"] == CHATGPT)["stock"] == 10


def test_post_premium_orders_answers_201_with_credentials(client: TestClient, emu: Emulator) -> None:
    response = client.post("/api/v1/premium/orders", headers=H, json={"serviceId": NETFLIX})
    data = ok(response, 201)
    assert_rate_headers(response)
    assert set(data) == {"orderId", "credentials", "price"}
    assert set(data["credentials"]) == {"email", "password", "profile", "pin"}
    assert data["price"] == 99.0
    assert account_of(emu, DEMO).coins == 50_000 - 9_900
    services = ok(client.get("/api/v1/premium/services", headers=H))
    assert next(s for s in services if s["id"] == NETFLIX)["stock"] == 24


def test_get_premium_order_returns_it_again(client: TestClient) -> None:
    created = ok(client.post("/api/v1/premium/orders", headers=H, json={"serviceId": NETFLIX}), 201)
    response = client.get(f"/api/v1/premium/orders/{created['orderId']}", headers=H)
    data = ok(response)
    assert_rate_headers(response)
    assert data["orderId"] == created["orderId"]
    assert data["credentials"] == created["credentials"]
    assert data["price"] == created["price"] and data["status"] == "completed"


def test_unknown_body_fields_are_ignored(client: TestClient) -> None:
    response = client.post(
        "/api/v1/premium/orders", headers=H, json={"serviceId": NETFLIX, "coupon": "FREE", "price": 0}
    )
    assert ok(response, 201)["price"] == 99.0


def test_content_type_with_parameters_is_json(client: TestClient) -> None:
    response = client.post(
        "/api/v1/premium/orders",
        headers={**H, "Content-Type": "Application/JSON; charset=utf-8"},
        content=b'{"serviceId": "%s"}' % NETFLIX.encode(),
    )
    assert response.status_code == 201


def test_a_body_of_exactly_64_kib_is_accepted(client: TestClient) -> None:
    prefix = b'{"serviceId": "%s", "pad": "' % NETFLIX.encode()
    body = prefix + b"x" * (64 * 1024 - len(prefix) - 2) + b'"}'
    assert len(body) == 64 * 1024
    response = client.post(
        "/api/v1/premium/orders", headers={**H, "Content-Type": "application/json"}, content=body
    )
    assert response.status_code == 201


def test_query_strings_are_ignored(client: TestClient) -> None:
    assert ok(client.get("/api/v1/balance?coins=1000000", headers=H)) == {"coins": 500.0}
