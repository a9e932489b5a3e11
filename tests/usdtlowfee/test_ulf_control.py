"""The control plane for USDTLowFee: accounts, forced transitions, reset, fixtures."""

from __future__ import annotations

import copy
import json
import re

import pytest
from starlette.testclient import TestClient

from emulator import apis
from emulator.config import DEFAULT_FIXTURES
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator
from emulator.usdtlowfee import tron
from tests.conftest import START

from .support import (
    DELAY_S,
    DEMO_BALANCE,
    DEMO_KEY,
    ORDER_KEYS_COMPLETED,
    RICH_KEY,
    TXID,
    advance,
    auth,
    create_order,
    error_of,
    new_account,
    wallet,
)

ACCOUNTS = "/_emulator/usdtlowfee/accounts"


def transition(client: TestClient, order_id: object, body: object) -> object:
    return client.post(f"/_emulator/usdtlowfee/orders/{order_id}/transition", json=body)


# --- accounts ------------------------------------------------------------------------------


def test_create_an_account(client: TestClient) -> None:
    response = client.post(ACCOUNTS, json={"balanceSun": 123_456_789})
    assert response.status_code == 201
    data = response.json()
    assert {"accountId", "userId", "apiKey", "balanceSun"} <= set(data)
    assert data["balanceSun"] == 123_456_789 and data["frozenSun"] == 0 and data["disabled"] is False
    assert isinstance(data["accountId"], str) and data["accountId"]
    assert re.fullmatch(r"ak_live_[A-Za-z0-9]{32}", data["apiKey"])
    assert data["userId"] > 2**53 and f'"userId":{data["userId"]},' in response.text
    assert wallet(client, data["apiKey"])["balanceSun"] == 123_456_789
    assert client.get("/v1/users/me", headers=auth(data["apiKey"])).json()["data"]["id"] == data["userId"]


def test_account_defaults(client: TestClient) -> None:
    data = client.post(ACCOUNTS).json()
    assert data["balanceSun"] == 0 and data["disabled"] is False and data["emailVerified"] is True
    assert "@" in data["email"]
    again = client.post(ACCOUNTS, json={}).json()
    assert again["userId"] > data["userId"] and again["apiKey"] != data["apiKey"]
    assert again["accountId"] != data["accountId"]


def test_create_with_email_and_disabled(client: TestClient) -> None:
    data = new_account(client, 10, email="x@y.org", disabled=True, emailVerified=False)
    assert data["email"] == "x@y.org" and data["disabled"] is True
    assert error_of(client.get("/v1/users/me", headers=auth(data["apiKey"]))) == (403, "FORBIDDEN")
    client.patch(f"{ACCOUNTS}/{data['accountId']}", json={"disabled": False})
    me = client.get("/v1/users/me", headers=auth(data["apiKey"])).json()["data"]
    assert me["email"] == "x@y.org" and me["emailVerified"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"balanceSun": -1},
        {"balanceSun": "100"},
        {"balanceSun": 1.5},
        {"balanceSun": 100.0},
        {"balanceSun": True},
        {"balanceSun": None},
        {"balanceSun": 2**63},
        {"email": "not-an-email"},
        {"email": 5},
        {"email": ""},
        {"disabled": "yes"},
        {"disabled": 1},
        {"emailVerified": "no"},
        {"label": 3},
    ],
)
def test_create_account_validation(client: TestClient, body: dict[str, object]) -> None:
    before = len(client.app.state.emulator.usdtlowfee.accounts)  # type: ignore[attr-defined]
    response = client.post(ACCOUNTS, json=body)
    assert error_of(response) == (400, "VALIDATION_ERROR")
    assert len(client.app.state.emulator.usdtlowfee.accounts) == before  # type: ignore[attr-defined]


@pytest.mark.parametrize("content", [b"{", b"[]", b"1", b'"x"'])
def test_create_account_bad_bodies(client: TestClient, content: bytes) -> None:
    response = client.post(ACCOUNTS, content=content, headers={"Content-Type": "application/json"})
    assert error_of(response) == (400, "BAD_REQUEST")


def test_patch_an_account(client: TestClient) -> None:
    response = client.patch(f"{ACCOUNTS}/ulf-demo", json={"balanceSun": 7})
    assert response.status_code == 200
    data = response.json()
    assert data["accountId"] == "ulf-demo" and data["balanceSun"] == 7 and data["totalSun"] == 7
    assert wallet(client, DEMO_KEY) == {"balanceSun": 7, "frozenSun": 0, "totalSun": 7}
    assert client.patch(f"{ACCOUNTS}/ulf-demo", json={}).json()["balanceSun"] == 7


def test_patching_the_balance_keeps_the_frozen_amount(client: TestClient) -> None:
    create_order(client)
    data = client.patch(f"{ACCOUNTS}/ulf-demo", json={"balanceSun": 1_000}).json()
    assert data["balanceSun"] == 1_000 and data["frozenSun"] == 3_000_000 and data["totalSun"] == 3_001_000
    advance(client, DELAY_S)
    assert wallet(client, DEMO_KEY) == {"balanceSun": 1_000, "frozenSun": 0, "totalSun": 1_000}


def test_patch_unknown_or_invalid(client: TestClient) -> None:
    assert error_of(client.patch(f"{ACCOUNTS}/nobody", json={"balanceSun": 1})) == (404, "NOT_FOUND")
    for body in ({"balanceSun": -5}, {"disabled": "no"}):
        assert error_of(client.patch(f"{ACCOUNTS}/ulf-demo", json=body)) == (400, "VALIDATION_ERROR")
    assert wallet(client, DEMO_KEY)["balanceSun"] == DEMO_BALANCE


def test_wrong_methods_on_control_routes(client: TestClient) -> None:
    assert client.delete(ACCOUNTS).status_code == 405
    assert client.post(f"{ACCOUNTS}/ulf-demo").status_code == 405


# --- transitions -----------------------------------------------------------------------------


def test_force_completed(client: TestClient) -> None:
    order = create_order(client)
    advance(client, 2)
    response = transition(client, order["id"], {"to": "completed"})
    assert response.status_code == 200  # type: ignore[attr-defined]
    data = response.json()  # type: ignore[attr-defined]
    assert list(data) == ORDER_KEYS_COMPLETED
    assert data["status"] == "completed" and data["canTransitionTo"] == []
    assert data["completedAt"] == data["updatedAt"] == data["statusUpdatedAt"] == "2025-01-15T10:30:02Z"
    assert TXID.fullmatch(data["txid"])
    assert f'"id":{order["id"]},' in response.text  # type: ignore[attr-defined]
    # The API shows the same, and the natural move does not happen again.
    advance(client, 60)
    got = client.get(f"/v1/energy/orders/{order['id']}", headers=auth(DEMO_KEY)).json()["data"]
    assert got == data
    assert wallet(client, DEMO_KEY) == {
        "balanceSun": DEMO_BALANCE - 3_000_000, "frozenSun": 0, "totalSun": DEMO_BALANCE - 3_000_000,
    }


def test_force_failed_with_and_without_a_reason(client: TestClient) -> None:
    one = create_order(client)
    two = create_order(client)
    data = transition(client, one["id"], {"to": "failed", "reason": "node unreachable"}).json()  # type: ignore[attr-defined]
    assert data["status"] == "failed" and data["failureReason"] == "node unreachable"
    assert data["canTransitionTo"] == [] and "txid" not in data and "completedAt" not in data
    data = transition(client, two["id"], {"to": "failed"}).json()  # type: ignore[attr-defined]
    assert data["status"] == "failed" and isinstance(data["failureReason"], str) and data["failureReason"]
    advance(client, 60)
    assert wallet(client, DEMO_KEY) == {"balanceSun": DEMO_BALANCE, "frozenSun": 0, "totalSun": DEMO_BALANCE}


@pytest.mark.parametrize("first,second", [("completed", "failed"), ("completed", "completed"),
                                          ("failed", "completed"), ("failed", "failed")])
def test_terminal_orders_refuse_every_move(client: TestClient, first: str, second: str) -> None:
    order = create_order(client)
    assert transition(client, order["id"], {"to": first}).status_code == 200  # type: ignore[attr-defined]
    money = wallet(client, DEMO_KEY)
    response = transition(client, order["id"], {"to": second})
    assert error_of(response) == (409, "CONFLICT")
    assert wallet(client, DEMO_KEY) == money


@pytest.mark.parametrize("target", ["processing", "cancelled", "refunded", "COMPLETED", ""])
def test_moves_outside_the_table_are_409(client: TestClient, target: str) -> None:
    order = create_order(client)
    response = transition(client, order["id"], {"to": target})
    if target == "":
        assert error_of(response) == (400, "VALIDATION_ERROR")
    else:
        assert error_of(response) == (409, "CONFLICT")
    assert wallet(client, DEMO_KEY)["frozenSun"] == 3_000_000


def test_due_moves_apply_before_a_forced_one(client: TestClient) -> None:
    order = create_order(client)
    advance(client, 60)  # completed at +5, unread
    response = transition(client, order["id"], {"to": "failed"})
    assert error_of(response) == (409, "CONFLICT")
    got = client.get(f"/v1/energy/orders/{order['id']}", headers=auth(DEMO_KEY)).json()["data"]
    assert got["status"] == "completed" and got["completedAt"] == "2025-01-15T10:30:05Z"


@pytest.mark.parametrize("order_id", ["1", "abc", "-5", "0", "01", "99999999999999999999", "1.5"])
def test_unknown_or_malformed_orders_are_404(client: TestClient, order_id: str) -> None:
    assert error_of(transition(client, order_id, {"to": "completed"})) == (404, "NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [{}, {"to": None}, {"to": 5}, {"to": "failed", "reason": 5}, {"to": "failed", "reason": ""},
     {"to": "failed", "reason": "x" * 201}, {"to": "completed", "reason": "why"}],
)
def test_transition_body_validation(client: TestClient, body: dict[str, object]) -> None:
    order = create_order(client)
    assert error_of(transition(client, order["id"], body)) == (400, "VALIDATION_ERROR")
    got = client.get(f"/v1/energy/orders/{order['id']}", headers=auth(DEMO_KEY)).json()["data"]
    assert got["status"] == "processing"


def test_transition_needs_a_body(client: TestClient) -> None:
    order = create_order(client)
    response = client.post(f"/_emulator/usdtlowfee/orders/{order['id']}/transition")
    assert error_of(response) == (400, "BAD_REQUEST")


def test_transition_of_another_users_order_works_on_the_owner(client: TestClient) -> None:
    order = create_order(client, RICH_KEY)
    transition(client, order["id"], {"to": "completed"})
    assert wallet(client, RICH_KEY)["frozenSun"] == 0
    assert wallet(client, DEMO_KEY) == {"balanceSun": DEMO_BALANCE, "frozenSun": 0, "totalSun": DEMO_BALANCE}


# --- reset, fixtures, health -----------------------------------------------------------------


def test_reset_restores_fixture_accounts_and_drops_created_ones(client: TestClient) -> None:
    account = new_account(client, 10)
    client.patch(f"{ACCOUNTS}/ulf-demo", json={"balanceSun": 1, "disabled": True})
    body = {"tronAddress": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "label": "x"}
    client.post("/v1/addresses", headers=auth(RICH_KEY), json=body)
    assert client.post("/_emulator/reset").status_code == 200
    assert error_of(client.get("/v1/users/me", headers=auth(account["apiKey"]))) == (401, "UNAUTHORIZED")
    assert wallet(client, DEMO_KEY)["balanceSun"] == DEMO_BALANCE
    assert client.get("/v1/addresses", headers=auth(RICH_KEY)).json()["data"]["total"] == 0
    # Ids start again after the fixtures': the frozen instant's first snowflake once more.
    created = client.post("/v1/addresses", headers=auth(RICH_KEY), json=body)
    assert created.json()["data"]["id"] == tron.snowflake_at(parse_iso(START) // 1000)


def test_health_lists_the_usdtlowfee_surface(client: TestClient) -> None:
    assert client.get("/_emulator/health").json()["apis"]["usdtlowfee"] == "/v1"


def test_the_banner_prints_the_ready_usdtlowfee_keys(emu: Emulator) -> None:
    banner = apis.banner(emu, "http://127.0.0.1:8080")
    assert "usdtlowfee  http://127.0.0.1:8080/v1" in banner
    assert "ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4   ulf-demo (100 TRX)" in banner
    assert "ulf-rich (1,000,000 TRX)" in banner and "ulf-empty (0 TRX)" in banner
    # Not the disabled account, not the expired or revoked keys.
    assert "ulf-disabled" not in banner and "ulf-old-keys" not in banner


def _default_doc() -> dict:  # type: ignore[type-arg]
    return json.loads(DEFAULT_FIXTURES.read_text())  # type: ignore[no-any-return]


def test_loading_fixtures_changes_prices_delay_and_failures(client: TestClient) -> None:
    doc = _default_doc()
    section = doc["usdtlowfee"]
    section["fulfilmentDelaySeconds"] = 60
    section["prices"][0]["priceSun"] = 6_500_000
    section["failingAddresses"] = [{"tronAddress": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"}]
    assert client.post("/_emulator/fixtures", json=doc).status_code == 200
    client.app.state.emulator.clock.freeze()  # type: ignore[attr-defined]
    order = create_order(client, address="TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", energy=32500)
    assert order["priceSun"] == 3_250_000 and order["priceTrx"] == 3.25
    advance(client, 59)
    assert client.get(f"/v1/energy/orders/{order['id']}", headers=auth(DEMO_KEY)).json()["data"][
        "status"] == "processing"
    advance(client, 1)
    got = client.get(f"/v1/energy/orders/{order['id']}", headers=auth(DEMO_KEY)).json()["data"]
    assert got["status"] == "failed" and got["failureReason"]


@pytest.mark.parametrize(
    "change,path",
    [
        (lambda s: s["accounts"][0]["keys"][0].update(key="ak_live_short"),
         "usdtlowfee.accounts[0].keys[0].key"),
        (lambda s: s["accounts"][1].update(userId="1"), "usdtlowfee.accounts[1].userId"),
        (lambda s: s["accounts"][1].update(balanceSun=-1), "usdtlowfee.accounts[1].balanceSun"),
        (lambda s: s["accounts"][0]["addresses"][0].update(tronAddress="Tnope"),
         "usdtlowfee.accounts[0].addresses[0].tronAddress"),
        (lambda s: s["prices"].pop(), "usdtlowfee.prices"),
        (lambda s: s["prices"][0].update(durationHours=2), "usdtlowfee.prices[0].durationHours"),
        (lambda s: s.update(fulfilmentDelaySeconds=-1), "usdtlowfee.fulfilmentDelaySeconds"),
        (lambda s: s["failingAddresses"][0].update(tronAddress="x"),
         "usdtlowfee.failingAddresses[0].tronAddress"),
        (lambda s: s["accounts"][1].update(id="ulf-demo"), "usdtlowfee.accounts[].id"),
    ],
)
def test_a_bad_usdtlowfee_section_is_refused_whole(client: TestClient, change, path: str) -> None:  # type: ignore[no-untyped-def]
    create_order(client)
    doc = _default_doc()
    bad = copy.deepcopy(doc)
    change(bad["usdtlowfee"])
    response = client.post("/_emulator/fixtures", json=bad)
    assert error_of(response) == (400, "VALIDATION_ERROR")
    assert path in response.json()["error"]["message"]
    # Nothing changed: the order is still there.
    assert wallet(client, DEMO_KEY)["frozenSun"] == 3_000_000
