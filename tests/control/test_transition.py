"""POST /_emulator/247xd/orders/{orderId}/transition: forced moves, their errors."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from emulator.runtime import Emulator
from tests.xd247.support import (
    DEMO,
    OTP_NEVER,
    OTP_TEST_SERVICE,
    SOCIAL_NEVER,
    UNKNOWN_UUID,
    account_of,
    auth,
    ok,
    snapshot,
)

H = auth(DEMO)


def otp_order(client: TestClient) -> str:
    body = {"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_NEVER}
    return ok(client.post("/api/v1/otp/orders", headers=H, json=body), 201)["orderId"]


def social_order(client: TestClient, quantity: int = 100) -> str:
    body = {"optionId": SOCIAL_NEVER, "link": "https://x.com/a", "quantity": quantity}
    return ok(client.post("/api/v1/social/orders", headers=H, json=body), 201)["orderId"]


def transition(client: TestClient, order_id: str, **body: object):  # type: ignore[no-untyped-def]
    return client.post(f"/_emulator/247xd/orders/{order_id}/transition", json=body)


def code(response) -> str:  # type: ignore[no-untyped-def]
    return response.json()["error"]["code"]


def test_a_transition_answers_the_order_as_the_api_shows_it(client: TestClient) -> None:
    order_id = otp_order(client)
    response = transition(client, order_id, to="cancelled")
    assert response.status_code == 200
    assert response.json() == ok(client.get(f"/api/v1/otp/orders/{order_id}", headers=H))
    assert response.json()["status"] == "cancelled"


def test_an_unknown_order_is_404(client: TestClient) -> None:
    for order_id in (UNKNOWN_UUID, "not-an-id"):
        response = transition(client, order_id, to="completed")
        assert response.status_code == 404 and code(response) == "NOT_FOUND"


def test_a_forbidden_move_is_409_naming_the_allowed_ones(client: TestClient, emu: Emulator) -> None:
    order_id = otp_order(client)
    before = snapshot(emu)
    response = transition(client, order_id, to="refunded")
    assert response.status_code == 409 and code(response) == "CONFLICT"
    message = response.json()["error"]["message"]
    for allowed in ("completed", "cancelled", "expired"):
        assert allowed in message
    assert snapshot(emu) == before


def test_a_status_no_table_knows_is_409(client: TestClient) -> None:
    response = transition(client, otp_order(client), to="teleported")
    assert response.status_code == 409 and code(response) == "CONFLICT"


@pytest.mark.parametrize("body", [{}, {"to": None}, {"to": 5}, {"to": ""}, {"to": "x" * 33}])
def test_a_missing_or_mistyped_target_is_400_naming_to(client: TestClient, body: dict) -> None:
    order_id = otp_order(client)
    response = client.post(f"/_emulator/247xd/orders/{order_id}/transition", json=body)
    assert response.status_code == 400 and code(response) == "VALIDATION_ERROR"
    assert "to" in response.json()["error"]["message"]


@pytest.mark.parametrize("raw", [b"", b"{", b"[]"])
def test_a_body_that_is_not_an_object_is_400(client: TestClient, raw: bytes) -> None:
    response = client.post(
        f"/_emulator/247xd/orders/{otp_order(client)}/transition",
        content=raw,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and code(response) == "BAD_REQUEST"


def test_due_moves_apply_before_the_forced_one(client: TestClient) -> None:
    order_id = otp_order(client)
    client.post("/_emulator/clock/advance", json={"seconds": 1200})
    response = transition(client, order_id, to="completed")
    assert response.status_code == 409
    assert "expired" in response.json()["error"]["message"]


def test_completed_may_carry_the_otp_code(client: TestClient) -> None:
    order_id = otp_order(client)
    response = transition(client, order_id, to="completed", otpCode="87654321")
    assert response.status_code == 200 and response.json()["otpCode"] == "87654321"


@pytest.mark.parametrize("otp_code", ["123", "abcdef", 123456, "1234567890"])
def test_a_bad_otp_code_is_400_and_the_order_waits_on(client: TestClient, otp_code: object) -> None:
    order_id = otp_order(client)
    response = transition(client, order_id, to="completed", otpCode=otp_code)
    assert response.status_code == 400 and code(response) == "VALIDATION_ERROR"
    assert "otpCode" in response.json()["error"]["message"]
    assert ok(client.get(f"/api/v1/otp/orders/{order_id}", headers=H))["status"] == "waiting_sms"


def test_partial_with_delivered_sets_the_progress(client: TestClient) -> None:
    order_id = social_order(client)
    response = transition(client, order_id, to="partial", delivered=30)
    assert response.status_code == 200
    assert (response.json()["delivered"], response.json()["remains"]) == (30, 70)


@pytest.mark.parametrize("target", ["partial", "cancelled"])
@pytest.mark.parametrize("delivered", [-1, 100, 1000, "30", 30.5, True])
def test_a_bad_delivered_count_is_400_and_leaves_the_order_readable(
    client: TestClient, emu: Emulator, target: str, delivered: object
) -> None:
    order_id = social_order(client)
    response = transition(client, order_id, to=target, delivered=delivered)
    assert response.status_code == 400 and code(response) == "VALIDATION_ERROR"
    assert "delivered" in response.json()["error"]["message"]
    order = ok(client.get(f"/api/v1/social/orders/{order_id}", headers=H))
    assert (order["status"], order["delivered"], order["remains"]) == ("processing", 0, 100)


def test_a_forced_refund_credits_exactly_once(client: TestClient, emu: Emulator) -> None:
    order_id = otp_order(client)
    transition(client, order_id, to="expired")
    coins = account_of(emu, DEMO).coins
    assert transition(client, order_id, to="refunded").json()["refundedAmount"] == 5.0
    assert account_of(emu, DEMO).coins == coins + 500
    assert transition(client, order_id, to="refunded").status_code == 409
    assert account_of(emu, DEMO).coins == coins + 500


def test_forced_moves_take_the_current_clock_instant(client: TestClient) -> None:
    order_id = otp_order(client)
    client.post("/_emulator/clock/advance", json={"seconds": 12.345})
    assert transition(client, order_id, to="cancelled").json()["updatedAt"] == "2025-01-15T10:30:12.345Z"


def test_transition_refuses_other_methods(client: TestClient) -> None:
    response = client.get(f"/_emulator/247xd/orders/{UNKNOWN_UUID}/transition")
    assert response.status_code == 405 and code(response) == "METHOD_NOT_ALLOWED"
