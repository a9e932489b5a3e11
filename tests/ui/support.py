"""What the dashboard tests share: the fixture keys, test items, and API/control calls."""

from __future__ import annotations

from typing import Any

import httpx

from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator
from emulator.testing.transport import in_process_client

from .html import Node, parse

START = "2025-01-15T10:30:00Z"
UI = "/_emulator/ui"
PAGES = ("", "/orders", "/requests", "/faults", "/verdicts")
FRAGMENTS = ("clock", "accounts", "orders", "requests", "faults", "verdicts")

XD_KEY = "247xd_3769736d6939931e6de10def20d9a2483134d0c1"  # xd-demo, 500 coins
XD_RICH = "247xd_b8dea7c360f5addabe9d6dd532d8fadd55d62b2a"  # xd-rich
XD_REVOKED = "247xd_fc204a6d15e1470dcc3ed1a18b074344edd409bd"  # xd-old-keys, revoked
ULF_KEY = "ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4"  # ulf-demo
ULF_REVOKED = "ak_live_taF7X6ZovrvGeVQW47sDhLmgo6in9VOh"  # ulf-old-keys, revoked

OTP_SERVICE = "00000000-0000-4000-8000-000000000001"
OTP_NEVER = "00000000-0000-4000-8000-000000000011"  # the SMS never arrives; expires after 1200 s
OTP_AT_ONCE = "00000000-0000-4000-8000-000000000012"  # the SMS arrives at once
SOCIAL_NEVER = "00000000-0000-4000-8000-000000000021"  # starts at once, never delivers
FB_LIKES = "50371bb9-f952-4916-b02b-cb89b962367f"  # starts after 30 s
CHATGPT = "3d436fd9-a3d0-432c-bcf3-cad13ad53f6d"  # premium, 250.00
SLOW_TRON = "T9yD14Nj9j7xAB4dbGeiX9h8unkKLxmGkn"  # an energy order to it completes after 1 h


def emulator(**config: Any) -> Emulator:
    return Emulator(Config(seed=7, clock_start_us=parse_iso(START), clock_frozen=True, **config))


def client_of(emu: Emulator) -> httpx.Client:
    return in_process_client(create_app(emulator=emu))


def xd(key: str = XD_KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def ulf(key: str = ULF_KEY) -> dict[str, str]:
    return {"Authorization": f"ApiKey {key}"}


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def otp_order(web: httpx.Client, option: str = OTP_NEVER, key: str = XD_KEY) -> str:
    body = {"serviceId": OTP_SERVICE, "priceOptionId": option}
    return ok(web.post("/api/v1/otp/orders", headers=xd(key), json=body), 201)["data"]["orderId"]  # type: ignore[no-any-return]


def social_order(web: httpx.Client, option: str = SOCIAL_NEVER, quantity: int = 100) -> str:
    body = {"optionId": option, "link": "https://x.com/a", "quantity": quantity}
    return ok(web.post("/api/v1/social/orders", headers=xd(), json=body), 201)["data"]["orderId"]  # type: ignore[no-any-return]


def premium_order(web: httpx.Client) -> str:
    body = {"serviceId": CHATGPT}
    return ok(web.post("/api/v1/premium/orders", headers=xd(XD_RICH), json=body), 201)["data"]["orderId"]  # type: ignore[no-any-return]


def energy_order(web: httpx.Client) -> int:
    body = {"type": "manual", "data": {"tronAddress": SLOW_TRON, "energyValue": 65000, "durationHours": 1}}
    response = web.post("/v1/energy/orders", headers=ulf(), json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]  # type: ignore[no-any-return]  # exact: json keeps big ints


def transition(web: httpx.Client, api: str, order_id: object, to: str, **extra: Any) -> Any:
    return ok(web.post(f"/_emulator/{api}/orders/{order_id}/transition", json={"to": to, **extra}))


def advance(web: httpx.Client, seconds: float) -> Any:
    return ok(web.post("/_emulator/clock/advance", json={"seconds": seconds}))


def page(
    web: httpx.Client, path: str, query: dict[str, str] | None = None, *, expect: int = 200, **params: str
) -> Node:
    """A dashboard page or fragment (path below /_emulator/ui) with a query, parsed."""
    response = web.get(UI + path, params={**(query or {}), **params})
    assert response.status_code == expect, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return parse(response.text)


def when(iso: str) -> str:
    """As the dashboard shows an instant: `2025-01-15T10:30:00.000Z` -> `2025-01-15 10:30:00`."""
    assert iso[10] == "T" and iso.endswith("Z"), iso
    return f"{iso[:10]} {iso[11:19]}"
