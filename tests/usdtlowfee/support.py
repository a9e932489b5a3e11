"""What the USDTLowFee tests share: fixture keys and ids (emulator/data/default.json), helpers."""

from __future__ import annotations

import re
from typing import Any

DEMO_KEY = "ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4"
RICH_KEY = "ak_live_rR89FMJJckUpNloEOvSsT6RT8ItCPzCp"
EMPTY_KEY = "ak_live_czCrs0bMw5urzsTa2SDcg64sQ8EjgCFy"
DISABLED_KEY = "ak_live_RsTb2k8ZHvAuUKqH1hwgIDjMtrdG8ErM"
EXPIRED_KEY = "ak_live_eeUj0Hguy64GFPzjQXo3fYTZ10n2Bn9K"
REVOKED_KEY = "ak_live_taF7X6ZovrvGeVQW47sDhLmgo6in9VOh"
XD_DEMO_KEY = "247xd_3769736d6939931e6de10def20d9a2483134d0c1"

DEMO_USER_ID = 640463929344004097
RICH_USER_ID = 591462295142404099
EMPTY_USER_ID = 662626212249604101
DEMO_BALANCE = 100_000_000
RICH_BALANCE = 1_000_000_000_000

# Saved addresses of the demo account (MAIN_WALLET is the default); ids are snowflakes too.
MAIN_WALLET = "TUA2WHkGntrdRxgJxoveDa4nqbMPDwuWn9"
MAIN_WALLET_ID = 640852741324804097
EXCHANGE = "TNyyZSu9FpC2kUL7TYB3vAfkV76qk7NyKs"
EXCHANGE_ID = 650848606617604097
MAIN_WALLET_PATH = f"/v1/addresses/{MAIN_WALLET_ID}"
EXCHANGE_PATH = f"/v1/addresses/{EXCHANGE_ID}"
# Valid addresses that nobody saved.
USDT_CONTRACT = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
COLD = "TXfLr54GXLwfcBtwNPoHKoFhpdJr6v8ta5"
OTHER = "TW6X5zcLT82HU2B6fBNruHTc1ayCeeA8xY"
# Documented failing inputs.
FAILING = "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"
FAILING_REASON = "the receiving account is not activated"
FAILING_2 = "TKLCnEceDWyDogL4KGy1eG6FadMp8XtpFG"

PRICES = {1: 3_000_000, 24: 4_500_000, 72: 12_000_000, 168: 26_000_000, 336: 50_000_000, 720: 100_000_000}
DELAY_S = 5

ORDER_KEYS_PROCESSING = [
    "id", "userId", "tronAddress", "energyValue", "durationHours", "priceSun", "priceTrx",
    "orderType", "status", "createdAt", "updatedAt", "statusUpdatedAt", "canTransitionTo",
]
ORDER_KEYS_COMPLETED = [
    "id", "userId", "tronAddress", "energyValue", "durationHours", "priceSun", "priceTrx",
    "orderType", "status", "txid", "createdAt", "completedAt", "updatedAt", "statusUpdatedAt",
    "canTransitionTo",
]
ISO_S = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
TXID = re.compile(r"[0-9a-f]{64}")


def auth(key: str, scheme: str = "ApiKey") -> dict[str, str]:
    return {"Authorization": f"{scheme} {key}"}


def order_body(address: str = USDT_CONTRACT, energy: int = 65000, hours: int = 1) -> dict[str, Any]:
    return {"type": "manual", "data": {"tronAddress": address, "energyValue": energy, "durationHours": hours}}


def wallet(client: Any, key: str) -> dict[str, int]:
    response = client.get("/v1/wallet/balance", headers=auth(key))
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["balanceSun"] + data["frozenSun"] == data["totalSun"]
    return data  # type: ignore[no-any-return]


def create_order(client: Any, key: str = DEMO_KEY, **kwargs: Any) -> dict[str, Any]:
    response = client.post("/v1/energy/orders", headers=auth(key), json=order_body(**kwargs))
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def new_account(client: Any, balance_sun: int = DEMO_BALANCE, **extra: Any) -> dict[str, Any]:
    response = client.post("/_emulator/usdtlowfee/accounts", json={"balanceSun": balance_sun, **extra})
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def advance(client: Any, seconds: float) -> None:
    response = client.post("/_emulator/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


def error_of(response: Any) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return response.status_code, body["error"]["code"]
