"""Same seed, same clock start, same requests: the same responses, byte for byte."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator

from .support import DEMO, FB_LIKES, LINE, LINE_AIS, NETFLIX, OTP_AT_ONCE, OTP_TEST_SERVICE, START, auth

H = auth(DEMO)


def run(seed: int) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    emu = Emulator(Config(seed=seed, clock_start_us=parse_iso(START), clock_frozen=True))
    seen: list[tuple[int, list[tuple[str, str]], bytes]] = []
    with TestClient(create_app(emulator=emu)) as client:

        def send(method: str, path: str, **kwargs: Any) -> Any:
            response = client.request(method, path, **kwargs)
            seen.append((response.status_code, sorted(response.headers.items()), response.content))
            return response

        otp = send(
            "POST", "/api/v1/otp/orders", headers=H, json={"serviceId": LINE, "priceOptionId": LINE_AIS}
        )
        fast = send(
            "POST",
            "/api/v1/otp/orders",
            headers=H,
            json={"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_AT_ONCE},
        )
        social = send(
            "POST",
            "/api/v1/social/orders",
            headers=H,
            json={"optionId": FB_LIKES, "link": "https://a.b", "quantity": 500},
        )
        premium = send("POST", "/api/v1/premium/orders", headers=H, json={"serviceId": NETFLIX})
        account = send("POST", "/_emulator/247xd/accounts", json={"coins": 100})
        send("POST", "/_emulator/clock/advance", json={"seconds": 95.5})
        send("GET", f"/api/v1/otp/orders/{otp.json()['data']['orderId']}", headers=H)
        send("GET", f"/api/v1/otp/orders/{fast.json()['data']['orderId']}", headers=H)
        send("GET", f"/api/v1/social/orders/{social.json()['data']['orderId']}", headers=H)
        send("GET", f"/api/v1/premium/orders/{premium.json()['data']['orderId']}", headers=H)
        send(
            "POST",
            "/api/v1/premium/orders",
            headers=auth(account.json()["apiKey"]),
            json={"serviceId": NETFLIX},
        )
        send("GET", "/api/v1/balance", headers=H)
        send("GET", "/api/v1/nope", headers=H)
        send("POST", "/api/v1/otp/orders", headers=H, json={"serviceId": 1})
    return seen


def test_two_emulators_with_the_same_seed_answer_identically() -> None:
    first, second = run(7), run(7)
    assert len(first) == 14
    assert first == second


def test_a_different_seed_generates_different_values() -> None:
    first, other = run(7), run(8)
    assert first[0][2] != other[0][2]  # order id and phone number differ
    assert [status for status, _, _ in first] == [status for status, _, _ in other]


def test_reset_replays_the_same_values(client: TestClient) -> None:
    body = {"serviceId": LINE, "priceOptionId": LINE_AIS}
    first = client.post("/api/v1/otp/orders", headers=H, json=body).json()
    client.post("/_emulator/reset")
    client.post("/_emulator/clock/freeze")
    second = client.post("/api/v1/otp/orders", headers=H, json=body).json()
    assert first["data"]["orderId"] == second["data"]["orderId"]
    assert first["data"]["phoneNumber"] == second["data"]["phoneNumber"]
