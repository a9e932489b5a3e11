"""GET /v1/wallet/balance and GET /v1/users/me."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from .support import (
    DEMO_BALANCE,
    DEMO_KEY,
    DEMO_USER_ID,
    EMPTY_KEY,
    EMPTY_USER_ID,
    RICH_BALANCE,
    RICH_KEY,
    RICH_USER_ID,
    advance,
    auth,
    new_account,
)


@pytest.mark.parametrize(
    "key,balance",
    [(DEMO_KEY, DEMO_BALANCE), (RICH_KEY, RICH_BALANCE), (EMPTY_KEY, 0)],
)
def test_balance_matches_the_seed_shape(client: TestClient, key: str, balance: int) -> None:
    response = client.get("/v1/wallet/balance", headers=auth(key))
    assert response.status_code == 200
    assert response.json() == {"data": {"balanceSun": balance, "frozenSun": 0, "totalSun": balance}}
    assert list(response.json()["data"]) == ["balanceSun", "frozenSun", "totalSun"]
    assert f'"balanceSun":{balance},' in response.text  # integers, not floats


def test_me_matches_the_seed_shape(client: TestClient) -> None:
    response = client.get("/v1/users/me", headers=auth(DEMO_KEY))
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "id": DEMO_USER_ID,
            "email": "demo@example.com",
            "emailVerified": True,
            "createdAt": "2024-11-02T08:15:00Z",
        }
    }
    assert list(response.json()["data"]) == ["id", "email", "emailVerified", "createdAt"]
    assert response.text.startswith('{"data":{"id":640463929344004097,')


@pytest.mark.parametrize(
    "key,user_id,verified",
    [(RICH_KEY, RICH_USER_ID, True), (EMPTY_KEY, EMPTY_USER_ID, False)],
)
def test_each_fixture_user(client: TestClient, key: str, user_id: int, verified: bool) -> None:
    data = client.get("/v1/users/me", headers=auth(key)).json()["data"]
    assert data["id"] == user_id and data["id"] > 2**53
    assert data["emailVerified"] is verified


def test_a_new_user_is_a_snowflake_of_now(client: TestClient) -> None:
    advance(client, 12.345)
    account = new_account(client, 5, email="new@example.com")
    response = client.get("/v1/users/me", headers=auth(account["apiKey"]))
    data = response.json()["data"]
    assert data == {
        "id": account["userId"],
        "email": "new@example.com",
        "emailVerified": True,
        "createdAt": "2025-01-15T10:30:12Z",
    }
    assert f'"id":{account["userId"]},' in response.text
    assert data["id"] > 2**53
    # Its high bits hold the creation millisecond since 2020-01-01.
    from emulator.core.clock import parse_iso

    ms = parse_iso("2025-01-15T10:30:12.345Z") // 1000
    assert data["id"] >> 22 == ms - parse_iso("2020-01-01T00:00:00Z") // 1000


def test_users_are_isolated(client: TestClient) -> None:
    one = new_account(client, 1)
    two = new_account(client, 2)
    assert one["userId"] < two["userId"]
    assert client.get("/v1/wallet/balance", headers=auth(one["apiKey"])).json()["data"]["balanceSun"] == 1
    assert client.get("/v1/wallet/balance", headers=auth(two["apiKey"])).json()["data"]["balanceSun"] == 2


def test_responses_have_no_meta_and_ignore_query_and_body(client: TestClient) -> None:
    headers = {**auth(DEMO_KEY), "Content-Type": "text/plain"}
    response = client.request("GET", "/v1/wallet/balance?x=1", headers=headers, content=b"{")
    assert response.status_code == 200 and list(response.json()) == ["data"]
