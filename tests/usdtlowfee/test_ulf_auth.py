"""Auth, order of checks, envelopes of refusals, rate limiting."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator

from .support import (
    DEMO_KEY,
    DISABLED_KEY,
    EXCHANGE_PATH,
    EXPIRED_KEY,
    MAIN_WALLET_PATH,
    REVOKED_KEY,
    XD_DEMO_KEY,
    advance,
    auth,
    error_of,
    new_account,
    order_body,
)

ENDPOINTS = [
    ("GET", "/v1/wallet/balance"),
    ("GET", "/v1/users/me"),
    ("POST", "/v1/energy/orders"),
    ("GET", "/v1/energy/orders"),
    ("GET", "/v1/energy/orders/667314605260804096"),
    ("POST", "/v1/addresses"),
    ("GET", "/v1/addresses"),
    ("GET", MAIN_WALLET_PATH),
    ("PUT", f"{MAIN_WALLET_PATH}/label"),
    ("PUT", f"{MAIN_WALLET_PATH}/default"),
    ("DELETE", MAIN_WALLET_PATH),
]


def test_a_valid_key_is_served(client: TestClient) -> None:
    response = client.get("/v1/wallet/balance", headers=auth(DEMO_KEY))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "ApiKey"},
        {"Authorization": "ApiKey "},
        {"Authorization": DEMO_KEY},  # no scheme
        {"Authorization": f"Bearer {DEMO_KEY}"},  # the wrong scheme
        {"Authorization": f"Basic {DEMO_KEY}"},
        {"Authorization": "ApiKey ak_live_short"},
        {"Authorization": "ApiKey ak_test_6xT3MweUDszReLuYfv1vnmFmb4x3enH4"},
        {"Authorization": f"ApiKey {DEMO_KEY}x"},  # 33 characters
        {"Authorization": f"ApiKey {DEMO_KEY[:-1]}!"},
        {"Authorization": f"ApiKey {DEMO_KEY.upper()}"},  # keys match exactly
        {"Authorization": "ApiKey ak_live_00000000000000000000000000000000"},  # unknown
        {"Authorization": f"ApiKey {EXPIRED_KEY}"},
        {"Authorization": f"ApiKey {REVOKED_KEY}"},
        {"Authorization": f"ApiKey {XD_DEMO_KEY}"},  # a 247xd key
        {"Authorization": f"Bearer {XD_DEMO_KEY}"},
        {"Authorization": f"ApiKey {DEMO_KEY} extra"},
    ],
)
def test_bad_credentials_are_401_unauthorized(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/v1/wallet/balance", headers=headers)
    assert error_of(response) == (401, "UNAUTHORIZED")


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_every_endpoint_requires_a_key(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, json={})
    assert error_of(response) == (401, "UNAUTHORIZED")


@pytest.mark.parametrize("method,path", ENDPOINTS)
def test_a_disabled_account_is_403_forbidden_everywhere(client: TestClient, method: str, path: str) -> None:
    response = client.request(method, path, headers=auth(DISABLED_KEY), json={})
    assert error_of(response) == (403, "FORBIDDEN")


@pytest.mark.parametrize("scheme", ["apikey", "APIKEY", "ApiKey", "aPiKeY"])
def test_the_scheme_matches_case_insensitively(client: TestClient, scheme: str) -> None:
    assert client.get("/v1/users/me", headers=auth(DEMO_KEY, scheme)).status_code == 200


def test_extra_spaces_around_the_key_are_tolerated(client: TestClient) -> None:
    response = client.get("/v1/users/me", headers={"Authorization": f"ApiKey   {DEMO_KEY}  "})
    assert response.status_code == 200


def test_usdtlowfee_keys_do_not_work_on_247xd(client: TestClient) -> None:
    response = client.get("/api/v1/balance", headers={"Authorization": f"Bearer {DEMO_KEY}"})
    assert response.status_code == 401


def test_a_key_expires_on_the_emulator_clock(client: TestClient) -> None:
    account = new_account(client)
    key = account["apiKey"]
    emu = client.app.state.emulator  # type: ignore[attr-defined]
    with emu.lock:
        emu.usdtlowfee.keys.records[key].expires_us = emu.clock.now_us() + 10_000_000
    assert client.get("/v1/users/me", headers=auth(key)).status_code == 200
    advance(client, 9.999999)
    assert client.get("/v1/users/me", headers=auth(key)).status_code == 200
    advance(client, 0.000001)
    assert error_of(client.get("/v1/users/me", headers=auth(key))) == (401, "UNAUTHORIZED")


def test_disabling_and_enabling_through_the_control_plane(client: TestClient) -> None:
    account = new_account(client)
    key, account_id = account["apiKey"], account["accountId"]
    assert client.get("/v1/users/me", headers=auth(key)).status_code == 200
    patched = client.patch(f"/_emulator/usdtlowfee/accounts/{account_id}", json={"disabled": True})
    assert patched.status_code == 200 and patched.json()["disabled"] is True
    assert error_of(client.get("/v1/users/me", headers=auth(key))) == (403, "FORBIDDEN")
    client.patch(f"/_emulator/usdtlowfee/accounts/{account_id}", json={"disabled": False})
    assert client.get("/v1/users/me", headers=auth(key)).status_code == 200


# --- order of checks: route, auth, rate limit, body, business rules ---------------------


@pytest.mark.parametrize(
    "path",
    ["/v1", "/v1/", "/v1/nothing", "/v1/wallet", "/v1/wallet/balance/", "/v1/energy/orders/1/cancel",
     f"{MAIN_WALLET_PATH}/label/x", "/v1//addresses", "/v1/users/me/extra"],
)
@pytest.mark.parametrize("key", [None, DEMO_KEY, DISABLED_KEY, "junk"])
def test_an_unknown_path_is_404_with_or_without_a_key(client: TestClient, path: str, key: str | None) -> None:
    headers = auth(key) if key else {}
    response = client.get(path, headers=headers)
    assert error_of(response) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    "method,path,allow",
    [
        ("POST", "/v1/wallet/balance", "GET, HEAD"),
        ("DELETE", "/v1/users/me", "GET, HEAD"),
        ("PUT", "/v1/energy/orders", "GET, HEAD, POST"),
        ("DELETE", "/v1/energy/orders/1", "GET, HEAD"),
        ("PATCH", "/v1/addresses", "GET, HEAD, POST"),
        ("POST", MAIN_WALLET_PATH, "GET, HEAD, DELETE"),
        ("GET", f"{MAIN_WALLET_PATH}/label", "PUT"),
        ("POST", f"{MAIN_WALLET_PATH}/default", "PUT"),
    ],
)
@pytest.mark.parametrize("key", [None, DEMO_KEY])
def test_a_wrong_method_is_405_with_allow(
    client: TestClient, method: str, path: str, allow: str, key: str | None
) -> None:
    response = client.request(method, path, headers=auth(key) if key else {})
    assert error_of(response) == (405, "METHOD_NOT_ALLOWED")
    assert sorted(response.headers["allow"].split(", ")) == sorted(allow.split(", "))


def test_auth_comes_before_the_body(client: TestClient) -> None:
    json_type = {"Content-Type": "application/json"}
    response = client.post("/v1/energy/orders", content=b"{not json", headers=json_type)
    assert error_of(response) == (401, "UNAUTHORIZED")
    response = client.post(
        "/v1/energy/orders", content=b"{not json",
        headers={"Content-Type": "application/json", **auth(DISABLED_KEY)},
    )
    assert error_of(response) == (403, "FORBIDDEN")


def test_the_body_comes_before_business_rules(client: TestClient) -> None:
    # The empty account cannot pay, but a malformed body is refused first.
    from .support import EMPTY_KEY

    response = client.post("/v1/energy/orders", headers=auth(EMPTY_KEY), json={"type": "manual"})
    assert error_of(response) == (400, "VALIDATION_ERROR")
    response = client.post("/v1/energy/orders", headers=auth(EMPTY_KEY), json=order_body())
    assert error_of(response) == (403, "INSUFFICIENT_BALANCE")


# --- rate limiting --------------------------------------------------------------------


def test_every_response_carries_the_rate_limit_headers(client: TestClient) -> None:
    for response in (
        client.get("/v1/wallet/balance", headers=auth(DEMO_KEY)),
        client.get("/v1/wallet/balance"),
        client.get("/v1/nothing", headers=auth(DEMO_KEY)),
        client.put(f"{EXCHANGE_PATH}/default", headers=auth(DEMO_KEY)),
    ):
        assert response.headers["x-ratelimit-limit"] == "60"
        assert int(response.headers["x-ratelimit-remaining"]) >= 0
        # 2025-01-15T10:30:00Z is on a minute boundary: the window ends a minute later.
        assert response.headers["x-ratelimit-reset"] == str(parse_iso("2025-01-15T10:31:00Z") // 10**6)


def test_the_61st_request_in_a_minute_is_429(client: TestClient) -> None:
    for i in range(60):
        response = client.get("/v1/wallet/balance", headers=auth(DEMO_KEY))
        assert response.status_code == 200
        assert response.headers["x-ratelimit-remaining"] == str(59 - i)
    response = client.get("/v1/wallet/balance", headers=auth(DEMO_KEY))
    assert error_of(response) == (429, "RATE_LIMITED")
    assert response.headers["retry-after"] == "60"
    assert response.headers["x-ratelimit-remaining"] == "0"
    # Another user is not affected.
    from .support import RICH_KEY

    assert client.get("/v1/wallet/balance", headers=auth(RICH_KEY)).status_code == 200
    # A new window opens with the clock's next minute.
    advance(client, 30)
    response = client.get("/v1/wallet/balance", headers=auth(DEMO_KEY))
    assert response.status_code == 429 and response.headers["retry-after"] == "30"
    advance(client, 30)
    assert client.get("/v1/wallet/balance", headers=auth(DEMO_KEY)).status_code == 200


def test_a_rate_limited_create_moves_no_money(client: TestClient) -> None:
    for _ in range(60):
        client.get("/v1/users/me", headers=auth(DEMO_KEY))
    response = client.post("/v1/energy/orders", headers=auth(DEMO_KEY), json=order_body())
    assert error_of(response) == (429, "RATE_LIMITED")
    advance(client, 60)
    data = client.get("/v1/wallet/balance", headers=auth(DEMO_KEY)).json()["data"]
    assert data == {"balanceSun": 100_000_000, "frozenSun": 0, "totalSun": 100_000_000}


def test_the_limit_comes_from_the_config() -> None:
    start = parse_iso("2025-01-15T10:30:00Z")
    emulator = Emulator(Config(seed=1, clock_start_us=start, rate_limit_usdtlowfee=3))
    emulator.clock.freeze()
    with TestClient(create_app(emulator=emulator)) as client:
        for _ in range(3):
            response = client.get("/v1/users/me", headers=auth(DEMO_KEY))
            assert response.status_code == 200 and response.headers["x-ratelimit-limit"] == "3"
        assert error_of(client.get("/v1/users/me", headers=auth(DEMO_KEY))) == (429, "RATE_LIMITED")
        # 247xd keeps its own limit.
        from .support import XD_DEMO_KEY as xd

        assert client.get("/api/v1/balance", headers={"Authorization": f"Bearer {xd}"}).headers[
            "x-ratelimit-limit"
        ] == "60"


def test_requests_without_a_valid_key_are_counted_per_client_address(client: TestClient) -> None:
    for _ in range(60):
        assert client.get("/v1/users/me").status_code == 401
    # Auth comes before the rate limit: still 401, but the address's window is used up.
    response = client.get("/v1/users/me")
    assert error_of(response) == (401, "UNAUTHORIZED")
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert client.get("/v1/users/me", headers=auth(DEMO_KEY)).status_code == 200


def test_the_two_apis_have_separate_limiters(client: TestClient) -> None:
    for _ in range(60):
        client.get("/v1/users/me", headers=auth(DEMO_KEY))
    response = client.get("/api/v1/balance", headers={"Authorization": f"Bearer {XD_DEMO_KEY}"})
    assert response.status_code == 200
