"""Saved addresses: create, list, read, relabel, default, delete; one default; isolation."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from emulator.core.clock import parse_iso
from emulator.usdtlowfee import tron
from tests.conftest import START

from .support import (
    COLD,
    DEMO_KEY,
    EXCHANGE,
    EXCHANGE_ID,
    EXCHANGE_PATH,
    MAIN_WALLET,
    MAIN_WALLET_ID,
    MAIN_WALLET_PATH,
    OTHER,
    RICH_KEY,
    USDT_CONTRACT,
    advance,
    auth,
    error_of,
    new_account,
)

# Address ids are snowflakes from the users' and orders' sequence (docs/ids.md): the first
# one created at the frozen START is that millisecond's first id, the next its second.
FIRST_NEW_ID = tron.snowflake_at(parse_iso(START) // 1000)
SECOND_NEW_ID = tron.snowflake_at(parse_iso(START) // 1000, 1)

CREATED_KEYS = ["id", "tronAddress", "label", "isDefault", "usageCount", "createdAt"]
USED_KEYS = ["id", "tronAddress", "label", "isDefault", "usageCount", "lastUsedAt", "createdAt"]

DEMO_ADDRESSES = [
    {
        "id": MAIN_WALLET_ID,
        "tronAddress": MAIN_WALLET,
        "label": "Main wallet",
        "isDefault": True,
        "usageCount": 5,
        "lastUsedAt": "2025-01-10T09:00:00Z",
        "createdAt": "2024-11-03T10:00:00Z",
    },
    {
        "id": EXCHANGE_ID,
        "tronAddress": EXCHANGE,
        "label": "Exchange deposit",
        "isDefault": False,
        "usageCount": 0,
        "createdAt": "2024-12-01T00:00:00Z",
    },
]


def _addresses(client: TestClient, key: str = DEMO_KEY) -> list[dict]:  # type: ignore[type-arg]
    response = client.get("/v1/addresses", headers=auth(key))
    assert response.status_code == 200
    data = response.json()["data"]
    assert list(data) == ["addresses", "total"] and data["total"] == len(data["addresses"])
    return data["addresses"]  # type: ignore[no-any-return]


def _create(client: TestClient, key: str = DEMO_KEY, **body: object) -> dict:  # type: ignore[type-arg]
    response = client.post("/v1/addresses", headers=auth(key), json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def test_the_fixture_addresses_match_the_seed_shapes(client: TestClient) -> None:
    assert _addresses(client) == DEMO_ADDRESSES
    assert list(_addresses(client)[0]) == USED_KEYS
    assert client.get(MAIN_WALLET_PATH, headers=auth(DEMO_KEY)).json() == {"data": DEMO_ADDRESSES[0]}


def test_an_account_without_addresses_lists_none(client: TestClient) -> None:
    response = client.get("/v1/addresses", headers=auth(RICH_KEY))
    assert response.json() == {"data": {"addresses": [], "total": 0}}


def test_create_reproduces_the_seed_example(client: TestClient) -> None:
    response = client.post(
        "/v1/addresses", headers=auth(DEMO_KEY),
        json={"tronAddress": USDT_CONTRACT, "label": "กระเป๋าหลัก", "isDefault": False},
    )
    assert response.status_code == 201
    data = response.json()["data"]
    assert list(data) == CREATED_KEYS  # no lastUsedAt until first use
    assert data == {
        "id": FIRST_NEW_ID,
        "tronAddress": USDT_CONTRACT,
        "label": "กระเป๋าหลัก",
        "isDefault": False,
        "usageCount": 0,
        "createdAt": "2025-01-15T10:30:00Z",
    }
    assert client.get(f"/v1/addresses/{FIRST_NEW_ID}", headers=auth(DEMO_KEY)).json()["data"] == data
    assert [a["id"] for a in _addresses(client)] == [MAIN_WALLET_ID, EXCHANGE_ID, FIRST_NEW_ID]
    assert data["id"] > 2**53 and int(float(data["id"])) != data["id"]


def test_is_default_is_optional_and_false_by_default(client: TestClient) -> None:
    assert _create(client, tronAddress=USDT_CONTRACT, label="a")["isDefault"] is False
    assert _create(client, tronAddress=COLD, label="b", isDefault=None)["isDefault"] is False
    assert _addresses(client)[0]["isDefault"] is True


def test_one_default_per_user(client: TestClient) -> None:
    created = _create(client, tronAddress=USDT_CONTRACT, label="new default", isDefault=True)
    assert created["isDefault"] is True
    defaults = [a["id"] for a in _addresses(client) if a["isDefault"]]
    assert defaults == [created["id"]]
    response = client.put(f"{EXCHANGE_PATH}/default", headers=auth(DEMO_KEY))
    assert response.status_code == 204
    assert response.content == b""
    assert "content-type" not in response.headers and "content-length" not in response.headers
    assert [a["id"] for a in _addresses(client) if a["isDefault"]] == [EXCHANGE_ID]
    # Setting the current default again changes nothing.
    assert client.put(f"{EXCHANGE_PATH}/default", headers=auth(DEMO_KEY)).status_code == 204
    assert [a["id"] for a in _addresses(client) if a["isDefault"]] == [EXCHANGE_ID]


def test_a_first_address_can_be_the_default(client: TestClient) -> None:
    created = _create(client, RICH_KEY, tronAddress=MAIN_WALLET, label="mine", isDefault=True)
    assert created["isDefault"] is True
    # The demo user's default is untouched.
    assert _addresses(client)[0]["isDefault"] is True


def test_the_same_address_twice_for_one_user_is_409(client: TestClient) -> None:
    body = {"tronAddress": MAIN_WALLET, "label": "x"}
    response = client.post("/v1/addresses", headers=auth(DEMO_KEY), json=body)
    assert error_of(response) == (409, "CONFLICT")
    assert MAIN_WALLET in response.json()["error"]["message"]
    assert _addresses(client) == DEMO_ADDRESSES
    # Another user may save it.
    assert _create(client, RICH_KEY, tronAddress=MAIN_WALLET, label="x")["id"] == FIRST_NEW_ID


def test_a_conflicting_default_changes_nothing(client: TestClient) -> None:
    body = {"tronAddress": EXCHANGE, "label": "again", "isDefault": True}
    assert client.post("/v1/addresses", headers=auth(DEMO_KEY), json=body).status_code == 409
    assert _addresses(client) == DEMO_ADDRESSES


@pytest.mark.parametrize(
    "body,message",
    [
        ({"label": "x"}, "tronAddress is required"),
        ({"tronAddress": None, "label": "x"}, "tronAddress is required"),
        ({"tronAddress": 5, "label": "x"}, "tronAddress must be a string"),
        ({"tronAddress": "TYour1Address2Here3...", "label": "x"}, "tronAddress must be a valid TRON address"),
        ({"tronAddress": USDT_CONTRACT[:-1] + "u", "label": "x"}, "tronAddress must be a valid TRON address"),
        ({"tronAddress": USDT_CONTRACT}, "label is required"),
        ({"tronAddress": USDT_CONTRACT, "label": None}, "label is required"),
        ({"tronAddress": USDT_CONTRACT, "label": ""}, "label must be 1 to 64 characters"),
        ({"tronAddress": USDT_CONTRACT, "label": "x" * 65}, "label must be 1 to 64 characters"),
        ({"tronAddress": USDT_CONTRACT, "label": 7}, "label must be a string"),
        ({"tronAddress": USDT_CONTRACT, "label": ["x"]}, "label must be a string"),
        ({"tronAddress": USDT_CONTRACT, "label": "x", "isDefault": "yes"}, "isDefault must be true or false"),
        ({"tronAddress": USDT_CONTRACT, "label": "x", "isDefault": 1}, "isDefault must be true or false"),
        ({"tronAddress": USDT_CONTRACT, "label": "x", "isDefault": 0}, "isDefault must be true or false"),
    ],
)
def test_invalid_address_fields(client: TestClient, body: dict[str, object], message: str) -> None:
    response = client.post("/v1/addresses", headers=auth(DEMO_KEY), json=body)
    assert error_of(response) == (400, "VALIDATION_ERROR")
    assert response.json()["error"]["message"].startswith(message)
    assert _addresses(client) == DEMO_ADDRESSES


def test_label_lengths_at_the_edges(client: TestClient) -> None:
    assert _create(client, tronAddress=USDT_CONTRACT, label="x")["label"] == "x"
    assert _create(client, tronAddress=COLD, label="ท" * 64)["label"] == "ท" * 64


def test_bad_bodies_are_bad_request(client: TestClient) -> None:
    for content, ctype in ((b"{", "application/json"), (b"[]", "application/json"), (b"{}", "text/plain")):
        for method, path in (("POST", "/v1/addresses"), ("PUT", f"{MAIN_WALLET_PATH}/label")):
            headers = {**auth(DEMO_KEY), "Content-Type": ctype}
            response = client.request(method, path, headers=headers, content=content)
            assert error_of(response) == (400, "BAD_REQUEST"), (method, content)
    assert _addresses(client) == DEMO_ADDRESSES


def test_relabel(client: TestClient) -> None:
    response = client.put(f"{EXCHANGE_PATH}/label", headers=auth(DEMO_KEY), json={"label": "ป้ายกำกับใหม่"})
    assert response.status_code == 200
    assert response.json() == {"data": {**DEMO_ADDRESSES[1], "label": "ป้ายกำกับใหม่"}}
    assert client.get(EXCHANGE_PATH, headers=auth(DEMO_KEY)).json()["data"]["label"] == "ป้ายกำกับใหม่"


@pytest.mark.parametrize(
    "body,message",
    [({}, "label is required"), ({"label": ""}, "label must be 1 to 64 characters"),
     ({"label": "y" * 65}, "label must be 1 to 64 characters"), ({"label": False}, "label must be a string")],
)
def test_relabel_validation(client: TestClient, body: dict[str, object], message: str) -> None:
    response = client.put(f"{MAIN_WALLET_PATH}/label", headers=auth(DEMO_KEY), json=body)
    assert error_of(response) == (400, "VALIDATION_ERROR")
    assert response.json()["error"]["message"] == message
    assert _addresses(client) == DEMO_ADDRESSES


def test_delete(client: TestClient) -> None:
    response = client.delete(EXCHANGE_PATH, headers=auth(DEMO_KEY))
    assert response.status_code == 204 and response.content == b""
    assert [a["id"] for a in _addresses(client)] == [MAIN_WALLET_ID]
    assert error_of(client.get(EXCHANGE_PATH, headers=auth(DEMO_KEY))) == (404, "NOT_FOUND")
    assert error_of(client.delete(EXCHANGE_PATH, headers=auth(DEMO_KEY))) == (404, "NOT_FOUND")
    assert error_of(client.put(f"{EXCHANGE_PATH}/default", headers=auth(DEMO_KEY))) == (404, "NOT_FOUND")


def test_deleting_the_default_leaves_no_default_and_ids_are_not_reused(client: TestClient) -> None:
    assert client.delete(MAIN_WALLET_PATH, headers=auth(DEMO_KEY)).status_code == 204
    assert [a["isDefault"] for a in _addresses(client)] == [False]
    # The same address may be saved again (no conflict), under a new id.
    again = _create(client, tronAddress=MAIN_WALLET, label="back")
    assert again["id"] == FIRST_NEW_ID and again["usageCount"] == 0 and "lastUsedAt" not in again
    assert _create(client, tronAddress=USDT_CONTRACT, label="next")["id"] == SECOND_NEW_ID


@pytest.mark.parametrize(
    "address_id", [str(FIRST_NEW_ID), "3", "0", "-1", "abc", "1.0", "01", "99999999999999999999", "%20"]
)
@pytest.mark.parametrize(
    "method,suffix,body",
    [("GET", "", None), ("DELETE", "", None), ("PUT", "/label", {"label": "x"}), ("PUT", "/default", None)],
)
def test_unknown_and_malformed_address_ids_are_404(
    client: TestClient, address_id: str, method: str, suffix: str, body: object
) -> None:
    path = f"/v1/addresses/{address_id}{suffix}"
    response = client.request(method, path, headers=auth(DEMO_KEY), json=body)
    assert error_of(response) == (404, "NOT_FOUND")
    assert _addresses(client) == DEMO_ADDRESSES


@pytest.mark.parametrize(
    "method,suffix,body",
    [("GET", "", None), ("DELETE", "", None), ("PUT", "/label", {"label": "x"}), ("PUT", "/default", None)],
)
def test_another_users_address_is_404_and_untouched(
    client: TestClient, method: str, suffix: str, body: object
) -> None:
    other = new_account(client)["apiKey"]
    mine = _create(client, other, tronAddress=OTHER, label="other's", isDefault=True)
    response = client.request(method, f"{MAIN_WALLET_PATH}{suffix}", headers=auth(other), json=body)
    assert error_of(response) == (404, "NOT_FOUND")
    assert _addresses(client) == DEMO_ADDRESSES
    # And the other way round.
    path = f"/v1/addresses/{mine['id']}{suffix}"
    response = client.request(method, path, headers=auth(DEMO_KEY), json=body)
    assert error_of(response) == (404, "NOT_FOUND")
    assert _addresses(client, other) == [mine]


def test_created_at_follows_the_clock(client: TestClient) -> None:
    advance(client, 3600.5)
    assert _create(client, tronAddress=USDT_CONTRACT, label="x")["createdAt"] == "2025-01-15T11:30:00Z"


def test_the_default_endpoint_ignores_a_body(client: TestClient) -> None:
    response = client.put(
        f"{EXCHANGE_PATH}/default", headers={**auth(DEMO_KEY), "Content-Type": "text/plain"}, content=b"junk"
    )
    assert response.status_code == 204
