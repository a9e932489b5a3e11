"""POST /_emulator/247xd/accounts and PATCH /_emulator/247xd/accounts/{accountId}."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient

from emulator.runtime import Emulator
from tests.xd247.support import DEMO, LINE, LINE_AIS, assert_error, auth, ok


def error_code(response) -> str:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return body["error"]["code"]


def test_create_account_answers_201_with_an_id_and_a_working_key(client: TestClient) -> None:
    response = client.post("/_emulator/247xd/accounts", json={"coins": 42.5, "label": "ci"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) >= {"accountId", "apiKey", "coins", "banned", "label"}
    assert re.fullmatch(r"247xd_[0-9a-f]{40}", body["apiKey"])
    assert (body["coins"], body["banned"], body["label"]) == (42.5, False, "ci")
    assert ok(client.get("/api/v1/balance", headers=auth(body["apiKey"]))) == {"coins": 42.5}


def test_create_account_defaults_to_zero_coins_and_not_banned(client: TestClient) -> None:
    body = client.post("/_emulator/247xd/accounts").json()
    assert (body["coins"], body["banned"], body["label"]) == (0.0, False, "")
    assert ok(client.get("/api/v1/balance", headers=auth(body["apiKey"]))) == {"coins": 0.0}


def test_each_created_account_is_its_own(client: TestClient) -> None:
    first = client.post("/_emulator/247xd/accounts", json={"coins": 20}).json()
    second = client.post("/_emulator/247xd/accounts", json={"coins": 20}).json()
    assert first["accountId"] != second["accountId"] and first["apiKey"] != second["apiKey"]
    body = {"serviceId": LINE, "priceOptionId": LINE_AIS}
    order = ok(client.post("/api/v1/otp/orders", headers=auth(first["apiKey"]), json=body), 201)
    assert_error(
        client.get(f"/api/v1/otp/orders/{order['orderId']}", headers=auth(second["apiKey"])), 404, "NOT_FOUND"
    )
    assert ok(client.get("/api/v1/balance", headers=auth(second["apiKey"]))) == {"coins": 20.0}


def test_a_banned_created_account_is_refused_with_403(client: TestClient) -> None:
    body = client.post("/_emulator/247xd/accounts", json={"coins": 10, "banned": True}).json()
    assert body["banned"] is True
    assert_error(client.get("/api/v1/balance", headers=auth(body["apiKey"])), 403, "ACCOUNT_BANNED")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"coins": -1}, "coins"),
        ({"coins": "100"}, "coins"),
        ({"coins": True}, "coins"),
        ({"coins": 1.001}, "coins"),
        ({"coins": None}, "coins"),
        ({"banned": "yes"}, "banned"),
        ({"banned": 1}, "banned"),
        ({"label": 5}, "label"),
        ({"label": "x" * 201}, "label"),
    ],
)
def test_create_account_refuses_bad_fields_and_creates_nothing(
    client: TestClient, emu: Emulator, body: dict, field: str
) -> None:
    count = len(emu.xd247.accounts)
    response = client.post("/_emulator/247xd/accounts", json=body)
    assert response.status_code == 400 and error_code(response) == "VALIDATION_ERROR"
    assert field in response.json()["error"]["message"]
    assert len(emu.xd247.accounts) == count


@pytest.mark.parametrize("raw", [b"{", b"[]", b'"x"', b"null"])
def test_create_account_refuses_a_body_that_is_not_an_object(
    client: TestClient, emu: Emulator, raw: bytes
) -> None:
    count = len(emu.xd247.accounts)
    response = client.post(
        "/_emulator/247xd/accounts", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and error_code(response) == "BAD_REQUEST"
    assert len(emu.xd247.accounts) == count


def test_patch_sets_the_balance(client: TestClient) -> None:
    response = client.patch("/_emulator/247xd/accounts/xd-demo", json={"coins": 12.34})
    assert response.status_code == 200
    assert response.json()["accountId"] == "xd-demo" and response.json()["coins"] == 12.34
    assert ok(client.get("/api/v1/balance", headers=auth(DEMO))) == {"coins": 12.34}


def test_patch_bans_and_unbans(client: TestClient) -> None:
    assert client.patch("/_emulator/247xd/accounts/xd-demo", json={"banned": True}).json()["banned"] is True
    assert_error(client.get("/api/v1/balance", headers=auth(DEMO)), 403, "ACCOUNT_BANNED")
    assert client.patch("/_emulator/247xd/accounts/xd-demo", json={"banned": False}).json()["banned"] is False
    assert ok(client.get("/api/v1/balance", headers=auth(DEMO))) == {"coins": 500.0}


def test_patch_with_nothing_changes_nothing(client: TestClient) -> None:
    response = client.patch("/_emulator/247xd/accounts/xd-demo", json={})
    assert response.status_code == 200 and response.json()["coins"] == 500.0


def test_patch_an_unknown_account_is_404(client: TestClient) -> None:
    response = client.patch("/_emulator/247xd/accounts/nobody", json={"coins": 1})
    assert response.status_code == 404 and error_code(response) == "NOT_FOUND"


@pytest.mark.parametrize(
    "body", [{"coins": -5}, {"coins": "lots"}, {"banned": "no"}, {"coins": 10, "banned": 0}]
)
def test_patch_refuses_bad_fields_all_or_nothing(client: TestClient, body: dict) -> None:
    response = client.patch("/_emulator/247xd/accounts/xd-demo", json=body)
    assert response.status_code == 400 and error_code(response) == "VALIDATION_ERROR"
    assert ok(client.get("/api/v1/balance", headers=auth(DEMO))) == {"coins": 500.0}


def test_accounts_endpoints_refuse_other_methods(client: TestClient) -> None:
    assert client.delete("/_emulator/247xd/accounts").status_code == 405
    assert client.post("/_emulator/247xd/accounts/xd-demo").status_code == 405
