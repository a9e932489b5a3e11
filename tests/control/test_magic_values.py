"""Magic values (Stripe's test cards): documented inputs of emulator/data/default.json that reach
each unhappy outcome by the clock alone, without any control call but moving the clock."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from emulator.config import DEFAULT_FIXTURES
from tests.usdtlowfee.support import DEMO_KEY as ULF_DEMO
from tests.usdtlowfee.support import FAILING, FAILING_2, USDT_CONTRACT, order_body, wallet
from tests.usdtlowfee.support import auth as ulf_auth
from tests.xd247.support import (
    DEMO,
    FB_LIKES,
    OTP_AT_ONCE,
    OTP_NEVER,
    OTP_SOLD_OUT,
    OTP_TEST_SERVICE,
    PREMIUM_SOLD_OUT,
    SOCIAL_FAST,
    SOCIAL_NEVER,
    assert_error,
    auth,
    ok,
)

from .apis import control_error

CANCELLED_LINK = "https://example.com/emulator/cancelled"
PARTIAL_LINK = "https://example.com/emulator/partial-30"
SLOW = "T9yD14Nj9j7xAB4dbGeiX9h8unkKLxmGkn"  # completes after 1 hour
DEFAULT = json.loads(DEFAULT_FIXTURES.read_text("utf-8"))


def advance(client: TestClient, seconds: float) -> None:
    assert client.post("/_emulator/clock/advance", json={"seconds": seconds}).status_code == 200


def coins(client: TestClient) -> float:
    return ok(client.get("/api/v1/balance", headers=auth(DEMO)))["coins"]  # type: ignore[no-any-return]


def otp(client: TestClient, option: str) -> Any:
    return client.post(
        "/api/v1/otp/orders",
        headers=auth(DEMO),
        json={"serviceId": OTP_TEST_SERVICE, "priceOptionId": option},
    )


def social(client: TestClient, link: str, option: str = FB_LIKES, quantity: int = 1000) -> str:
    body = {"optionId": option, "link": link, "quantity": quantity}
    return ok(client.post("/api/v1/social/orders", headers=auth(DEMO), json=body), 201)["orderId"]  # type: ignore[no-any-return]


def social_get(client: TestClient, order_id: str) -> dict:
    return ok(client.get(f"/api/v1/social/orders/{order_id}", headers=auth(DEMO)))  # type: ignore[no-any-return]


# --- 247xd: OTP and premium --------------------------------------------------------------


def test_otp_never_expires_exactly_at_expires_at_and_refunds(client: TestClient) -> None:
    order = ok(otp(client, OTP_NEVER), 201)
    url = f"/api/v1/otp/orders/{order['orderId']}"
    advance(client, 1199.999)
    assert ok(client.get(url, headers=auth(DEMO)))["status"] == "waiting_sms"
    advance(client, 0.001)
    expired = ok(client.get(url, headers=auth(DEMO)))
    assert (expired["status"], expired["otpCode"], expired["updatedAt"]) == (
        "expired",
        None,
        order["expiresAt"],
    )
    ok(client.post(url + "/refund", headers=auth(DEMO)))
    assert coins(client) == 500.0


def test_otp_at_once_is_completed_on_the_first_read(client: TestClient) -> None:
    order = ok(otp(client, OTP_AT_ONCE), 201)
    shown = ok(client.get(f"/api/v1/otp/orders/{order['orderId']}", headers=auth(DEMO)))
    assert shown["status"] == "completed" and shown["otpCode"] and shown["updatedAt"] == shown["createdAt"]


def test_sold_out_items_are_refused_and_charge_nothing(client: TestClient) -> None:
    assert_error(otp(client, OTP_SOLD_OUT), 400, "BAD_REQUEST")
    assert_error(
        client.post("/api/v1/premium/orders", headers=auth(DEMO), json={"serviceId": PREMIUM_SOLD_OUT}),
        400,
        "BAD_REQUEST",
    )
    assert coins(client) == 500.0


def test_social_never_stays_processing(client: TestClient) -> None:
    order_id = social(client, "https://example.com/post", SOCIAL_NEVER, 100)
    advance(client, 366 * 86_400)
    shown = social_get(client, order_id)
    assert (shown["status"], shown["delivered"], shown["remains"]) == ("processing", 0, 100)


# --- 247xd: magic links ------------------------------------------------------------------


def test_the_cancelled_link_is_cancelled_when_it_would_start(client: TestClient) -> None:
    order_id = social(client, CANCELLED_LINK)  # FB likes: starts 30 s after creation
    assert coins(client) == 465.0
    advance(client, 29.999)
    assert social_get(client, order_id)["status"] == "pending"
    advance(client, 0.001)
    shown = social_get(client, order_id)
    assert (shown["status"], shown["delivered"], shown["remains"], shown["updatedAt"]) == (
        "cancelled",
        0,
        1000,
        "2025-01-15T10:30:30.000Z",
    )
    refunded = ok(client.post(f"/api/v1/social/orders/{order_id}/refund", headers=auth(DEMO)))
    assert (refunded["status"], refunded["refundedAmount"]) == ("refunded", 35.0)
    assert coins(client) == 500.0


def test_the_partial_link_stops_at_its_share_and_refunds_the_rest(client: TestClient) -> None:
    order_id = social(client, PARTIAL_LINK)  # 1000 FB likes: starts at 30 s, 200 a minute
    advance(client, 30 + 89.999)  # 300 delivered at 30 s + 90 s
    shown = social_get(client, order_id)
    assert (shown["status"], shown["delivered"]) == ("processing", 299)
    advance(client, 0.001)
    shown = social_get(client, order_id)
    assert (shown["status"], shown["delivered"], shown["remains"], shown["updatedAt"]) == (
        "partial",
        300,
        700,
        "2025-01-15T10:32:00.000Z",
    )
    advance(client, 3600)
    assert social_get(client, order_id)["delivered"] == 300  # stays stopped
    refunded = ok(client.post(f"/api/v1/social/orders/{order_id}/refund", headers=auth(DEMO)))
    assert refunded["refundedAmount"] == 24.5  # 35.00 × 700 / 1000
    assert coins(client) == 500.0 - 35.0 + 24.5


def test_the_partial_share_rounds_down(client: TestClient) -> None:
    order_id = social(client, PARTIAL_LINK, SOCIAL_FAST, 15)  # starts at once, 1000 a minute
    advance(client, 60)
    shown = social_get(client, order_id)
    assert (shown["status"], shown["delivered"]) == ("partial", 4)  # 30% of 15 = 4.5
    assert shown["updatedAt"] == "2025-01-15T10:30:00.240Z"  # 4 units at 1000 a minute


def test_magic_links_match_exactly(client: TestClient) -> None:
    ids = [
        social(client, link, SOCIAL_FAST, 100)
        for link in (
            CANCELLED_LINK + "/",
            PARTIAL_LINK.upper(),
            PARTIAL_LINK + "?x=1",
            "http://example.com/emulator/cancelled",
        )
    ]
    advance(client, 60)
    assert {social_get(client, i)["status"] for i in ids} == {"completed"}


def test_a_magic_link_on_an_option_that_never_delivers(client: TestClient) -> None:
    cancelled = social(client, CANCELLED_LINK, SOCIAL_NEVER, 100)
    partial = social(client, PARTIAL_LINK, SOCIAL_NEVER, 100)
    assert social_get(client, cancelled)["status"] == "cancelled"  # starts at once
    advance(client, 86_400)
    assert social_get(client, partial)["status"] == "processing"  # never reaches its share


def test_the_control_plane_still_overrides_a_magic_order(client: TestClient) -> None:
    order_id = social(client, PARTIAL_LINK)
    advance(client, 60)
    response = client.post(f"/_emulator/247xd/orders/{order_id}/transition", json={"to": "completed"})
    assert response.status_code == 200 and response.json()["status"] == "completed"
    advance(client, 3600)
    assert social_get(client, order_id)["delivered"] == 1000


# --- USDTLowFee ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        (FAILING, "the receiving account is not activated"),
        (FAILING_2, "energy delegation to this account was rejected"),
    ],
)
def test_failing_addresses_fail_after_the_delay_and_give_the_price_back(
    client: TestClient, address: str, reason: str
) -> None:
    order = client.post("/v1/energy/orders", headers=ulf_auth(ULF_DEMO), json=order_body(address)).json()[
        "data"
    ]
    advance(client, 4.999)
    assert wallet(client, ULF_DEMO)["frozenSun"] == 3_000_000
    advance(client, 0.001)
    shown = client.get(f"/v1/energy/orders/{order['id']}", headers=ulf_auth(ULF_DEMO)).json()["data"]
    assert (shown["status"], shown["failureReason"], shown["updatedAt"]) == (
        "failed",
        reason,
        "2025-01-15T10:30:05Z",
    )
    assert wallet(client, ULF_DEMO) == {"balanceSun": 100_000_000, "frozenSun": 0, "totalSun": 100_000_000}


def test_the_slow_address_completes_after_one_hour(client: TestClient) -> None:
    slow = client.post("/v1/energy/orders", headers=ulf_auth(ULF_DEMO), json=order_body(SLOW)).json()["data"]
    quick = client.post(
        "/v1/energy/orders", headers=ulf_auth(ULF_DEMO), json=order_body(USDT_CONTRACT)
    ).json()["data"]
    advance(client, 3599.999)

    def shown(order: dict) -> dict:
        return client.get(f"/v1/energy/orders/{order['id']}", headers=ulf_auth(ULF_DEMO)).json()["data"]  # type: ignore[no-any-return]

    assert (shown(slow)["status"], shown(quick)["status"]) == ("processing", "completed")
    assert wallet(client, ULF_DEMO)["frozenSun"] == 3_000_000
    advance(client, 0.001)
    done = shown(slow)
    assert (done["status"], done["completedAt"], done["statusUpdatedAt"]) == (
        "completed",
        "2025-01-15T11:30:00Z",
        "2025-01-15T11:30:00Z",
    )
    assert shown(quick)["completedAt"] == "2025-01-15T10:30:05Z"
    assert wallet(client, ULF_DEMO) == {"balanceSun": 94_000_000, "frozenSun": 0, "totalSun": 94_000_000}
    listed = client.get("/v1/energy/orders", headers=ulf_auth(ULF_DEMO)).json()["data"]["orders"]
    assert [o["completedAt"] for o in listed] == ["2025-01-15T10:30:05Z", "2025-01-15T11:30:00Z"]


def test_a_slow_order_can_still_be_forced(client: TestClient) -> None:
    order = client.post("/v1/energy/orders", headers=ulf_auth(ULF_DEMO), json=order_body(SLOW)).json()["data"]
    advance(client, 5)
    response = client.post(f"/_emulator/usdtlowfee/orders/{order['id']}/transition", json={"to": "completed"})
    assert response.status_code == 200
    assert response.json()["completedAt"] == "2025-01-15T10:30:05Z"
    advance(client, 7200)
    assert wallet(client, ULF_DEMO)["balanceSun"] == 97_000_000


# --- the fixtures that define them --------------------------------------------------------


def test_the_default_fixtures_define_them() -> None:
    xd = DEFAULT["247xd"]
    links = {m["link"]: (m["outcome"], m.get("deliveredPercent")) for m in xd["magicLinks"]}
    assert links == {CANCELLED_LINK: ("cancelled", None), PARTIAL_LINK: ("partial", 30)}
    slow = {s["tronAddress"]: s["delaySeconds"] for s in DEFAULT["usdtlowfee"]["slowAddresses"]}
    assert slow == {SLOW: 3600}


def test_loaded_fixtures_can_define_their_own(client: TestClient) -> None:
    doc = copy.deepcopy(DEFAULT)
    doc["247xd"]["magicLinks"] = [
        {"link": "https://x.test/half", "outcome": "partial", "deliveredPercent": 50}
    ]
    doc["usdtlowfee"]["slowAddresses"] = [{"tronAddress": USDT_CONTRACT, "delaySeconds": 60.5}]
    assert client.post("/_emulator/fixtures", json=doc).status_code == 200
    client.post("/_emulator/clock/freeze")
    half = social(client, "https://x.test/half", SOCIAL_FAST, 100)
    partial = social(client, PARTIAL_LINK, SOCIAL_FAST, 100)  # no longer magic
    order = client.post(
        "/v1/energy/orders", headers=ulf_auth(ULF_DEMO), json=order_body(USDT_CONTRACT)
    ).json()["data"]
    advance(client, 60.5)
    assert social_get(client, half)["delivered"] == 50
    assert social_get(client, partial)["status"] == "completed"
    shown = client.get(f"/v1/energy/orders/{order['id']}", headers=ulf_auth(ULF_DEMO)).json()["data"]
    assert shown["status"] == "completed"


@pytest.mark.parametrize(
    ("section", "key", "value", "path"),
    [
        ("247xd", "magicLinks", {}, "magicLinks"),
        ("247xd", "magicLinks", [{"outcome": "cancelled"}], "magicLinks[0].link"),
        ("247xd", "magicLinks", [{"link": "ftp://x", "outcome": "cancelled"}], "magicLinks[0].link"),
        ("247xd", "magicLinks", [{"link": "https://x/ y", "outcome": "cancelled"}], "magicLinks[0].link"),
        ("247xd", "magicLinks", [{"link": "https://x", "outcome": "refunded"}], "magicLinks[0].outcome"),
        (
            "247xd",
            "magicLinks",
            [{"link": "https://x", "outcome": "partial"}],
            "magicLinks[0].deliveredPercent",
        ),
        (
            "247xd",
            "magicLinks",
            [{"link": "https://x", "outcome": "partial", "deliveredPercent": 100}],
            "magicLinks[0].deliveredPercent",
        ),
        (
            "247xd",
            "magicLinks",
            [{"link": "https://x", "outcome": "cancelled"}, {"link": "https://x", "outcome": "cancelled"}],
            "magicLinks[1].link",
        ),
        ("usdtlowfee", "slowAddresses", [{"tronAddress": SLOW}], "slowAddresses[0].delaySeconds"),
        (
            "usdtlowfee",
            "slowAddresses",
            [{"tronAddress": SLOW, "delaySeconds": -1}],
            "slowAddresses[0].delaySeconds",
        ),
        (
            "usdtlowfee",
            "slowAddresses",
            [{"tronAddress": SLOW, "delaySeconds": 10**9}],
            "slowAddresses[0].delaySeconds",
        ),
        (
            "usdtlowfee",
            "slowAddresses",
            [{"tronAddress": "Tnope", "delaySeconds": 1}],
            "slowAddresses[0].tronAddress",
        ),
        (
            "usdtlowfee",
            "slowAddresses",
            [{"tronAddress": SLOW, "delaySeconds": 1}, {"tronAddress": SLOW, "delaySeconds": 2}],
            "slowAddresses[1].tronAddress",
        ),
    ],
)
def test_bad_magic_fixtures_are_refused_whole(
    client: TestClient, section: str, key: str, value: object, path: str
) -> None:
    doc = copy.deepcopy(DEFAULT)
    doc[section][key] = value
    message = control_error(client.post("/_emulator/fixtures", json=doc), 400, "VALIDATION_ERROR")
    assert f"{section}.{path}" in message
    # the running fixtures still hold
    order_id = social(client, PARTIAL_LINK, SOCIAL_FAST, 100)
    advance(client, 60)
    assert social_get(client, order_id)["status"] == "partial"
