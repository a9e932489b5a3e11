"""60 requests per minute per user, fixed windows on the emulator clock's minute."""

from __future__ import annotations

from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator

from .support import DEMO, OTP_NEVER, OTP_TEST_SERVICE, RICH, START_UNIX, assert_error, auth, ok, snapshot

H = auth(DEMO)
NEXT_MINUTE = START_UNIX + 60


def test_every_response_counts_down_the_window(client: TestClient) -> None:
    for expected in range(59, 49, -1):
        response = client.get("/api/v1/balance", headers=H)
        assert response.headers["X-RateLimit-Limit"] == "60"
        assert response.headers["X-RateLimit-Remaining"] == str(expected)
        assert response.headers["X-RateLimit-Reset"] == str(NEXT_MINUTE)


def test_the_61st_request_in_a_minute_is_429_and_the_next_minute_allows_again(
    client: TestClient, emu: Emulator
) -> None:
    for _ in range(60):
        assert client.get("/api/v1/balance", headers=H).status_code == 200
    response = client.get("/api/v1/balance", headers=H)
    assert "ส่งคำขอมากเกินไป" in assert_error(response, 429, "RATE_LIMITED")
    assert response.headers["Retry-After"] == "60"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Reset"] == str(NEXT_MINUTE)

    client.post("/_emulator/clock/advance", json={"seconds": 59.999999})
    response = client.get("/api/v1/balance", headers=H)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "1"  # rounded up, never 0

    client.post("/_emulator/clock/advance", json={"seconds": 0.000001})  # exactly the next minute
    response = client.get("/api/v1/balance", headers=H)
    assert ok(response) == {"coins": 500.0}
    assert response.headers["X-RateLimit-Remaining"] == "59"
    assert response.headers["X-RateLimit-Reset"] == str(NEXT_MINUTE + 60)


def test_retry_after_counts_the_seconds_left_in_the_window_rounded_up(client: TestClient) -> None:
    client.post("/_emulator/clock/advance", json={"seconds": 20.5})
    for _ in range(60):
        client.get("/api/v1/balance", headers=H)
    response = client.get("/api/v1/balance", headers=H)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "40"  # 39.5 s left


def test_a_rate_limited_create_changes_nothing(client: TestClient, emu: Emulator) -> None:
    for _ in range(60):
        client.get("/api/v1/balance", headers=H)
    before = snapshot(emu)
    body = {"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_NEVER}
    assert_error(client.post("/api/v1/otp/orders", headers=H, json=body), 429, "RATE_LIMITED")
    # the rate limit comes before the body
    assert_error(client.post("/api/v1/otp/orders", headers=H, content=b"{"), 429, "RATE_LIMITED")
    assert snapshot(emu) == before


def test_the_limit_is_per_user(client: TestClient) -> None:
    for _ in range(61):
        client.get("/api/v1/balance", headers=H)
    response = client.get("/api/v1/balance", headers=auth(RICH))
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Remaining"] == "59"


def test_requests_without_a_valid_key_are_counted_per_client_address(client: TestClient) -> None:
    first = client.get("/api/v1/balance")
    second = client.get("/api/v1/balance", headers={"Authorization": "Bearer nonsense"})
    assert first.status_code == second.status_code == 401
    assert first.headers["X-RateLimit-Remaining"] == "59"
    assert second.headers["X-RateLimit-Remaining"] == "58"
    # and they are not the user's
    assert client.get("/api/v1/balance", headers=H).headers["X-RateLimit-Remaining"] == "59"


def test_auth_is_checked_before_the_rate_limit(client: TestClient) -> None:
    for _ in range(61):
        client.get("/api/v1/balance")
    assert_error(client.get("/api/v1/balance"), 401, "UNAUTHORIZED")


def test_unknown_paths_and_wrong_methods_still_carry_the_headers(client: TestClient) -> None:
    for response in (
        client.get("/api/v1/nope", headers=H),
        client.get("/api/v1/nope"),
        client.delete("/api/v1/balance", headers=H),
    ):
        assert response.headers["X-RateLimit-Limit"] == "60"
        assert response.headers["X-RateLimit-Reset"] == str(NEXT_MINUTE)
        assert 0 <= int(response.headers["X-RateLimit-Remaining"]) <= 60


def test_the_limit_is_configurable() -> None:
    emu = Emulator(Config(seed=7, clock_start_us=parse_iso("2025-01-15T10:30:00Z"), rate_limit_247xd=3))
    emu.clock.freeze()
    with TestClient(create_app(emulator=emu)) as client:
        remaining = [
            client.get("/api/v1/balance", headers=H).headers["X-RateLimit-Remaining"] for _ in range(3)
        ]
        assert remaining == ["2", "1", "0"]
        response = client.get("/api/v1/balance", headers=H)
        assert_error(response, 429, "RATE_LIMITED")
        assert response.headers["X-RateLimit-Limit"] == "3"


def test_reset_clears_the_counters(client: TestClient) -> None:
    for _ in range(61):
        client.get("/api/v1/balance", headers=H)
    client.post("/_emulator/reset")
    assert client.get("/api/v1/balance", headers=H).status_code == 200
