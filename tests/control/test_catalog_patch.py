"""PATCH /_emulator/247xd/catalog/{itemId} (price, stock) and the USDTLowFee price table
(GET/PUT /_emulator/usdtlowfee/prices): what the API lists and charges changes for new
orders only; a bad body changes nothing."""

from __future__ import annotations

import copy

import pytest
from starlette.testclient import TestClient

from emulator.runtime import Emulator
from tests.usdtlowfee.support import DEMO_KEY as ULF_DEMO
from tests.usdtlowfee.support import PRICES, order_body
from tests.usdtlowfee.support import auth as ulf_auth
from tests.xd247.support import (
    CHATGPT,
    DEMO,
    FB_LIKES,
    LINE,
    LINE_AIS,
    OTP_SOLD_OUT,
    OTP_TEST_SERVICE,
    PREMIUM_SOLD_OUT,
    UNKNOWN_UUID,
    assert_error,
    auth,
    ok,
)

from .apis import control_error

CATALOG = "/_emulator/247xd/catalog/"


def patch(client: TestClient, item: str, **body: object) -> dict:
    response = client.patch(CATALOG + item, json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def listed(client: TestClient, kind: str, item: str) -> dict:
    services = ok(client.get(f"/api/v1/{kind}/services", headers=auth(DEMO)))
    for service in services:
        if kind == "premium":
            if service["id"] == item:
                return service  # type: ignore[no-any-return]
            continue
        for option in service["priceOptions" if kind == "otp" else "options"]:
            if option["id"] == item:
                return option  # type: ignore[no-any-return]
    raise AssertionError(f"{item} not listed")


def coins(client: TestClient) -> float:
    return ok(client.get("/api/v1/balance", headers=auth(DEMO)))["coins"]  # type: ignore[no-any-return]


def test_a_price_options_price_changes_what_is_listed_and_charged(client: TestClient) -> None:
    before = ok(
        client.post(
            "/api/v1/otp/orders", headers=auth(DEMO), json={"serviceId": LINE, "priceOptionId": LINE_AIS}
        ),
        201,
    )
    assert before["price"] == 15.0
    shown = patch(client, LINE_AIS, price=21.25)
    assert shown == {"id": LINE_AIS, "name": "AIS", "price": 21.25, "stock": 280}
    assert listed(client, "otp", LINE_AIS) == shown
    after = ok(
        client.post(
            "/api/v1/otp/orders", headers=auth(DEMO), json={"serviceId": LINE, "priceOptionId": LINE_AIS}
        ),
        201,
    )
    assert after["price"] == 21.25
    assert coins(client) == 500.0 - 15.0 - 21.25
    # the first order keeps the price it was made at, and refunds that
    assert ok(client.get(f"/api/v1/otp/orders/{before['orderId']}", headers=auth(DEMO)))["price"] == 15.0
    ok(client.post(f"/api/v1/otp/orders/{before['orderId']}/cancel", headers=auth(DEMO)))
    refunded = ok(client.post(f"/api/v1/otp/orders/{before['orderId']}/refund", headers=auth(DEMO)))
    assert refunded["refundedAmount"] == 15.0
    assert coins(client) == 500.0 - 21.25


def test_stock_opens_a_sold_out_option_and_closes_an_open_one(client: TestClient) -> None:
    body = {"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_SOLD_OUT}
    assert_error(client.post("/api/v1/otp/orders", headers=auth(DEMO), json=body), 400, "BAD_REQUEST")
    assert patch(client, OTP_SOLD_OUT, stock=1)["stock"] == 1
    ok(client.post("/api/v1/otp/orders", headers=auth(DEMO), json=body), 201)
    assert listed(client, "otp", OTP_SOLD_OUT)["stock"] == 0
    assert_error(client.post("/api/v1/otp/orders", headers=auth(DEMO), json=body), 400, "BAD_REQUEST")


def test_a_social_options_price_is_its_price_per_1000(client: TestClient) -> None:
    shown = patch(client, FB_LIKES, price=70)
    assert shown["pricePer1000"] == 70.0 and set(shown) == {"id", "name", "pricePer1000", "min", "max"}
    assert listed(client, "social", FB_LIKES) == shown
    body = {"optionId": FB_LIKES, "link": "https://facebook.com/p/1", "quantity": 150}
    assert ok(client.post("/api/v1/social/orders", headers=auth(DEMO), json=body), 201)["price"] == 10.5


def test_a_social_option_has_no_stock(client: TestClient, emu: Emulator) -> None:
    before = copy.deepcopy(emu.xd247.social_catalog())
    message = control_error(
        client.patch(CATALOG + FB_LIKES, json={"price": 1, "stock": 5}), 400, "VALIDATION_ERROR"
    )
    assert "stock" in message
    assert emu.xd247.social_catalog() == before  # the price did not change either


def test_a_premium_service_takes_price_and_stock(client: TestClient) -> None:
    shown = patch(client, PREMIUM_SOLD_OUT, price=1.5, stock=2)
    assert (shown["price"], shown["stock"], shown["durationDays"]) == (1.5, 2, 30)
    assert listed(client, "premium", PREMIUM_SOLD_OUT) == shown
    order = ok(
        client.post("/api/v1/premium/orders", headers=auth(DEMO), json={"serviceId": PREMIUM_SOLD_OUT}), 201
    )
    assert order["price"] == 1.5
    patch(client, PREMIUM_SOLD_OUT, price=99)
    again = ok(client.get(f"/api/v1/premium/orders/{order['orderId']}", headers=auth(DEMO)))
    assert again["price"] == 1.5


def test_an_empty_patch_shows_the_item(client: TestClient) -> None:
    assert patch(client, CHATGPT) == listed(client, "premium", CHATGPT)


def test_item_ids_match_in_any_case(client: TestClient) -> None:
    assert patch(client, LINE_AIS.upper(), stock=3)["id"] == LINE_AIS


@pytest.mark.parametrize("item", [UNKNOWN_UUID, LINE, OTP_TEST_SERVICE, "not-a-uuid", "xd-demo"])
def test_unknown_items_are_404(client: TestClient, item: str) -> None:
    control_error(client.patch(CATALOG + item, json={"stock": 1}), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"price": -1}, "price"),
        ({"price": "10"}, "price"),
        ({"price": True}, "price"),
        ({"price": 1.005}, "price"),
        ({"price": None}, "price"),
        ({"price": 1e300}, "price"),
        ({"stock": -1}, "stock"),
        ({"stock": 1.5}, "stock"),
        ({"stock": "5"}, "stock"),
        ({"stock": False}, "stock"),
        ({"stock": 10**10}, "stock"),
        ({"price": 5, "stock": -1}, "stock"),
        ({"price": 5.001, "stock": 1}, "price"),
    ],
)
def test_bad_fields_are_400_and_change_nothing(
    client: TestClient, emu: Emulator, body: dict, field: str
) -> None:
    before = (emu.xd247.otp_catalog(), emu.xd247.premium_catalog())
    for item in (LINE_AIS, CHATGPT):
        assert field in control_error(client.patch(CATALOG + item, json=body), 400, "VALIDATION_ERROR")
    assert (emu.xd247.otp_catalog(), emu.xd247.premium_catalog()) == before


def test_other_methods_are_405(client: TestClient) -> None:
    control_error(client.get(CATALOG + LINE_AIS), 405, "METHOD_NOT_ALLOWED")
    control_error(client.patch("/_emulator/usdtlowfee/catalog/" + LINE_AIS, json={}), 404, "NOT_FOUND")


# --- USDTLowFee price table ---------------------------------------------------------------


def table(prices: dict[int, int]) -> dict:
    return {"prices": [{"durationHours": h, "priceSun": p} for h, p in prices.items()]}


def test_get_shows_the_fixtures_table(client: TestClient) -> None:
    response = client.get("/_emulator/usdtlowfee/prices")
    assert response.status_code == 200 and response.json() == table(PRICES)


def test_put_prices_new_orders_only(client: TestClient) -> None:
    before = client.post(
        "/v1/energy/orders", headers=ulf_auth(ULF_DEMO), json=order_body(energy=65000, hours=1)
    )
    assert before.json()["data"]["priceSun"] == 3_000_000
    new = {**PRICES, 1: 1_000_000, 720: 77}
    # any order of entries, extra fields ignored; answered in duration order
    body = table(dict(reversed(list(new.items()))))
    body["prices"][0]["note"] = "ignored"
    response = client.put("/_emulator/usdtlowfee/prices", json=body)
    assert response.status_code == 200 and response.json() == table(new)
    assert client.get("/_emulator/usdtlowfee/prices").json() == table(new)
    after = client.post(
        "/v1/energy/orders", headers=ulf_auth(ULF_DEMO), json=order_body(energy=32000, hours=1)
    )
    assert after.json()["data"]["priceSun"] == 492_308  # ceil(32000 × 1000000 / 65000)
    shown = client.get(f"/v1/energy/orders/{before.json()['data']['id']}", headers=ulf_auth(ULF_DEMO))
    assert shown.json()["data"]["priceSun"] == 3_000_000
    wallet = client.get("/v1/wallet/balance", headers=ulf_auth(ULF_DEMO)).json()["data"]
    assert wallet["frozenSun"] == 3_000_000 + 492_308


def entries(*pairs: tuple[int, object]) -> list[dict[str, object]]:
    return [{"durationHours": h, "priceSun": p} for h, p in pairs]


FULL = list(PRICES.items())


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"prices": None},
        {"prices": {}},
        {"prices": "cheap"},
        {"prices": []},
        {"prices": entries(*FULL[:5])},
        {"prices": entries(*FULL, (1, 5))},
        {"prices": entries(*FULL[:5], (2, 5))},
        {"prices": entries(*FULL[:5], (720, -1))},
        {"prices": entries(*FULL[:5], (720, "1"))},
        {"prices": entries(*FULL[:5], (720, 1.5))},
        {"prices": entries(*FULL[:5], (720, True))},
        {"prices": entries(*FULL[:5], (720, 10**11))},
        {"prices": [*entries(*FULL[:5]), "720"]},
        {"prices": [*entries(*FULL[:5]), {"durationHours": 720}]},
    ],
)
def test_a_bad_table_is_400_and_changes_nothing(client: TestClient, emu: Emulator, body: dict) -> None:
    message = control_error(client.put("/_emulator/usdtlowfee/prices", json=body), 400, "VALIDATION_ERROR")
    assert "prices" in message
    assert emu.usdtlowfee.prices == PRICES
    order = client.post("/v1/energy/orders", headers=ulf_auth(ULF_DEMO), json=order_body())
    assert order.json()["data"]["priceSun"] == 3_000_000


def test_put_needs_a_json_object(client: TestClient, emu: Emulator) -> None:
    for raw in (b"", b"{", b"[]"):
        control_error(
            client.put(
                "/_emulator/usdtlowfee/prices", content=raw, headers={"Content-Type": "application/json"}
            ),
            400,
            "BAD_REQUEST",
        )
    assert emu.usdtlowfee.prices == PRICES


def test_prices_come_back_with_a_reset(client: TestClient) -> None:
    client.put("/_emulator/usdtlowfee/prices", json=table({**PRICES, 24: 1}))
    client.post("/_emulator/reset")
    assert client.get("/_emulator/usdtlowfee/prices").json() == table(PRICES)
    control_error(client.post("/_emulator/usdtlowfee/prices", json={}), 405, "METHOD_NOT_ALLOWED")
