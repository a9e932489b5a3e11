"""Test clocks per account (Stripe's test clocks): an account created with {"clock": "own"}
runs on a clock of its own, so parallel tests sharing one server never disturb each other."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from emulator.core.clock import parse_iso
from emulator.runtime import Emulator
from tests.usdtlowfee.support import order_body
from tests.xd247.support import OTP_NEVER, OTP_TEST_SERVICE, SOCIAL_FAST, auth, ok

from .apis import APIS, ULF, XD, Api, control_error

START = "2025-01-15T10:30:00.000Z"
apis = pytest.mark.parametrize("api", APIS, ids=lambda a: a.name)


def clock_url(api: Api, account_id: str, action: str = "") -> str:
    return f"/_emulator/{api.name}/accounts/{account_id}/clock" + (f"/{action}" if action else "")


def move(client: TestClient, api: Api, account_id: str, action: str, **body: object) -> dict:
    response = client.post(clock_url(api, account_id, action), json=body or None)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def advance_global(client: TestClient, seconds: float) -> None:
    assert client.post("/_emulator/clock/advance", json={"seconds": seconds}).status_code == 200


def xd_otp(client: TestClient, key: str) -> str:
    body = {"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_NEVER}
    return ok(client.post("/api/v1/otp/orders", headers=auth(key), json=body), 201)["orderId"]  # type: ignore[no-any-return]


def xd_status(client: TestClient, key: str, order_id: str) -> dict:
    return ok(client.get(f"/api/v1/otp/orders/{order_id}", headers=auth(key)))  # type: ignore[no-any-return]


def ulf_order(client: TestClient, key: str) -> dict:
    response = client.post("/v1/energy/orders", headers=ULF.headers(key), json=order_body())
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def ulf_get(client: TestClient, key: str, order_id: int) -> dict:
    response = client.get(f"/v1/energy/orders/{order_id}", headers=ULF.headers(key))
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


@apis
def test_an_own_clock_starts_frozen_at_the_emulator_instant(client: TestClient, api: Api) -> None:
    client.post("/_emulator/clock/resume")  # even when the emulator clock runs
    account = api.create_account(client, clock="own")
    response = client.get(clock_url(api, account["accountId"]))
    assert response.status_code == 200
    clock = response.json()
    assert clock["frozen"] is True
    assert START <= clock["now"] <= client.get("/_emulator/clock").json()["now"]


@apis
def test_an_own_clock_starts_at_the_emulator_instant_of_its_creation(client: TestClient, api: Api) -> None:
    advance_global(client, 90)
    account = api.create_account(client, clock="own")
    assert client.get(clock_url(api, account["accountId"])).json() == {
        "now": "2025-01-15T10:31:30.000Z",
        "frozen": True,
    }


@apis
def test_advance_set_freeze_resume_move_only_that_account(
    client: TestClient, emu: Emulator, api: Api
) -> None:
    account = api.create_account(client, clock="own")["accountId"]
    assert move(client, api, account, "advance", seconds=1.5) == {
        "now": "2025-01-15T10:30:01.500Z",
        "frozen": True,
    }
    assert move(client, api, account, "set", now="2025-01-15T11:00:00Z") == {
        "now": "2025-01-15T11:00:00.000Z",
        "frozen": True,
    }
    assert move(client, api, account, "resume")["frozen"] is False
    assert move(client, api, account, "freeze")["frozen"] is True
    assert client.get("/_emulator/clock").json() == {"now": START, "frozen": True}
    assert emu.clock.now_us() == parse_iso(START)


@apis
def test_moving_the_emulator_clock_leaves_an_own_clock_alone(client: TestClient, api: Api) -> None:
    account = api.create_account(client, clock="own")["accountId"]
    advance_global(client, 3600)
    client.post("/_emulator/clock/set", json={"now": "2026-01-01T00:00:00Z"})
    assert client.get(clock_url(api, account)).json() == {"now": START, "frozen": True}


@apis
def test_account_clocks_refuse_what_the_emulator_clock_refuses(client: TestClient, api: Api) -> None:
    account = api.create_account(client, clock="own")["accountId"]
    move(client, api, account, "advance", seconds=60)
    control_error(client.post(clock_url(api, account, "set"), json={"now": START}), 409, "CONFLICT")
    for body in ({"seconds": -1}, {"seconds": "1"}, {"seconds": True}, {}, {"seconds": 1e300}):
        assert "seconds" in control_error(
            client.post(clock_url(api, account, "advance"), json=body), 400, "VALIDATION_ERROR"
        )
    for body in ({"now": "soon"}, {"now": 5}, {"now": "9999-01-01T00:00:00Z"}):
        assert "now" in control_error(
            client.post(clock_url(api, account, "set"), json=body), 400, "VALIDATION_ERROR"
        )
    control_error(
        client.post(
            clock_url(api, account, "freeze"), content=b"[]", headers={"Content-Type": "application/json"}
        ),
        400,
        "BAD_REQUEST",
    )
    assert client.get(clock_url(api, account)).json() == {"now": "2025-01-15T10:31:00.000Z", "frozen": True}


@apis
@pytest.mark.parametrize("action", ["", "advance", "set", "freeze", "resume"])
def test_an_account_on_the_emulator_clock_has_none_of_its_own(
    client: TestClient, api: Api, action: str
) -> None:
    url = clock_url(api, api.demo_account, action)
    body = (
        {"seconds": 1}
        if action == "advance"
        else {"now": "2026-01-01T00:00:00Z"}
        if action == "set"
        else None
    )
    response = client.get(url) if not action else client.post(url, json=body)
    assert '"clock": "own"' in control_error(response, 409, "CONFLICT")
    assert client.get("/_emulator/clock").json() == {"now": START, "frozen": True}


@apis
def test_unknown_accounts_and_apis_are_404(client: TestClient, api: Api) -> None:
    control_error(client.get(clock_url(api, "nobody")), 404, "NOT_FOUND")
    control_error(client.post(clock_url(api, "nobody", "advance"), json={"seconds": 1}), 404, "NOT_FOUND")
    control_error(client.get("/_emulator/paypal/accounts/xd-demo/clock"), 404, "NOT_FOUND")
    control_error(client.post("/_emulator/paypal/accounts/xd-demo/clock/freeze"), 404, "NOT_FOUND")
    other = ULF if api is XD else XD
    created = other.create_account(client, clock="own")["accountId"]
    control_error(client.get(clock_url(api, created)), 404, "NOT_FOUND")  # an account of the other API


# --- 247xd: expiries, transitions --------------------------------------------------------


def test_advancing_one_account_expires_its_otp_order_and_not_the_others(client: TestClient) -> None:
    first = XD.create_account(client, coins=100, clock="own")
    second = XD.create_account(client, coins=100, clock="own")
    a = xd_otp(client, first["apiKey"])
    b = xd_otp(client, second["apiKey"])
    move(client, XD, first["accountId"], "advance", seconds=1199.999)
    assert xd_status(client, first["apiKey"], a)["status"] == "waiting_sms"
    move(client, XD, first["accountId"], "advance", seconds=0.001)
    expired = xd_status(client, first["apiKey"], a)
    assert (expired["status"], expired["updatedAt"]) == ("expired", "2025-01-15T10:50:00.000Z")
    assert xd_status(client, second["apiKey"], b)["status"] == "waiting_sms"
    advance_global(client, 86_400)  # the emulator clock moves neither
    assert xd_status(client, second["apiKey"], b)["status"] == "waiting_sms"
    # ... while an order on the emulator clock does expire
    demo = xd_otp(client, XD.demo_key)
    advance_global(client, 1200)
    assert xd_status(client, XD.demo_key, demo)["status"] == "expired"


def test_an_own_clock_account_stamps_its_orders_with_its_time(client: TestClient) -> None:
    account = XD.create_account(client, coins=100, clock="own")
    move(client, XD, account["accountId"], "set", now="2025-03-01T00:00:00Z")
    order = xd_status(client, account["apiKey"], xd_otp(client, account["apiKey"]))
    assert (order["createdAt"], order["expiresAt"]) == (
        "2025-03-01T00:00:00.000Z",
        "2025-03-01T00:20:00.000Z",
    )


def test_a_forced_move_happens_at_the_accounts_instant(client: TestClient) -> None:
    account = XD.create_account(client, coins=100, clock="own")
    order_id = xd_otp(client, account["apiKey"])
    advance_global(client, 7200)  # would have expired the order on the emulator clock
    move(client, XD, account["accountId"], "advance", seconds=100)
    response = client.post(f"/_emulator/247xd/orders/{order_id}/transition", json={"to": "cancelled"})
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["updatedAt"]) == (
        "cancelled",
        "2025-01-15T10:31:40.000Z",
    )


def test_social_delivery_follows_the_accounts_clock(client: TestClient) -> None:
    account = XD.create_account(client, coins=100, clock="own")
    body = {"optionId": SOCIAL_FAST, "link": "https://example.com/post", "quantity": 1000}
    order_id = ok(client.post("/api/v1/social/orders", headers=auth(account["apiKey"]), json=body), 201)[
        "orderId"
    ]
    advance_global(client, 3600)
    url = f"/api/v1/social/orders/{order_id}"
    assert ok(client.get(url, headers=auth(account["apiKey"])))["delivered"] == 0
    move(client, XD, account["accountId"], "advance", seconds=30)
    assert ok(client.get(url, headers=auth(account["apiKey"])))["delivered"] == 500
    move(client, XD, account["accountId"], "advance", seconds=30)
    done = ok(client.get(url, headers=auth(account["apiKey"])))
    assert (done["status"], done["updatedAt"]) == ("completed", "2025-01-15T10:31:00.000Z")


# --- rate limits --------------------------------------------------------------------------


@apis
def test_rate_limit_windows_follow_the_accounts_clock(client: TestClient, api: Api) -> None:
    account = api.create_account(client, clock="own")
    key = account["apiKey"]
    for _ in range(60):
        assert api.get(client, key).status_code == 200
    refused = api.get(client, key)
    assert refused.status_code == 429 and api.code(refused) == "RATE_LIMITED"
    assert refused.headers["X-RateLimit-Reset"] == str(1736937060)  # the account's minute
    advance_global(client, 60)  # the emulator's minute: not this account's window
    assert api.get(client, key).status_code == 429
    assert api.get(client, api.demo_key).status_code == 200  # another account's budget
    move(client, api, account["accountId"], "advance", seconds=60)
    response = api.get(client, key)
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Remaining"] == "59"


# --- USDTLowFee: fulfilment, forced moves, ids -------------------------------------------


def test_advancing_one_account_fulfils_its_energy_order_and_not_the_others(client: TestClient) -> None:
    first = ULF.create_account(client, balanceSun=10_000_000, clock="own")
    second = ULF.create_account(client, balanceSun=10_000_000, clock="own")
    a = ulf_order(client, first["apiKey"])
    b = ulf_order(client, second["apiKey"])
    advance_global(client, 3600)
    assert ulf_get(client, first["apiKey"], a["id"])["status"] == "processing"
    move(client, ULF, first["accountId"], "advance", seconds=5)
    done = ulf_get(client, first["apiKey"], a["id"])
    assert (done["status"], done["completedAt"]) == ("completed", "2025-01-15T10:30:05Z")
    assert ulf_get(client, second["apiKey"], b["id"])["status"] == "processing"
    listed = client.get("/v1/energy/orders?status=processing", headers=ULF.headers(second["apiKey"])).json()[
        "data"
    ]
    assert [o["id"] for o in listed["orders"]] == [b["id"]]
    wallet = client.get("/v1/wallet/balance", headers=ULF.headers(first["apiKey"])).json()["data"]
    assert wallet == {"balanceSun": 7_000_000, "frozenSun": 0, "totalSun": 7_000_000}


def test_a_forced_energy_move_and_the_account_view_use_the_accounts_clock(client: TestClient) -> None:
    account = ULF.create_account(client, balanceSun=10_000_000, clock="own")
    order = ulf_order(client, account["apiKey"])
    advance_global(client, 3600)
    patched = client.patch(f"/_emulator/usdtlowfee/accounts/{account['accountId']}", json={})
    assert patched.json()["frozenSun"] == 3_000_000  # not settled by the emulator clock
    move(client, ULF, account["accountId"], "advance", seconds=2)
    response = client.post(f"/_emulator/usdtlowfee/orders/{order['id']}/transition", json={"to": "failed"})
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["updatedAt"]) == ("failed", "2025-01-15T10:30:02Z")


def test_snowflake_ids_stay_increasing_across_account_clocks(client: TestClient) -> None:
    ahead = ULF.create_account(client, balanceSun=100_000_000, clock="own")
    behind = ULF.create_account(client, balanceSun=100_000_000, clock="own")
    move(client, ULF, ahead["accountId"], "advance", seconds=86_400)
    ids = []
    for key in (ahead["apiKey"], behind["apiKey"], ahead["apiKey"], XD_FREE_ULF_KEY, behind["apiKey"]):
        ids.append(ulf_order(client, key)["id"])
    later = ULF.create_account(client, clock="own")
    ids.append(later["userId"])
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(i > 2**53 for i in ids)
    me = client.get("/v1/users/me", headers=ULF.headers(ahead["apiKey"])).json()["data"]
    assert me["createdAt"] == "2025-01-15T10:30:00Z"


XD_FREE_ULF_KEY = ULF.demo_key  # an account on the emulator clock, between the others


@apis
def test_an_accounts_answers_are_dated_by_its_own_clock(client: TestClient, api: Api) -> None:
    # SPEC "HTTP details": Date is the account's own clock where the request has one, so
    # X-RateLimit-Reset - Date is the true wait on that clock too.
    account = api.create_account(client, clock="own")
    move(client, api, account["accountId"], "set", now="2031-06-01T12:00:30Z")
    advance_global(client, 3600)
    answer = api.get(client, account["apiKey"])
    assert answer.headers.get_list("date") == ["Sun, 01 Jun 2031 12:00:30 GMT"]
    assert int(answer.headers["x-ratelimit-reset"]) == int(parse_iso("2031-06-01T12:01:00Z") // 1_000_000)
    demo = api.get(client, api.demo_key)
    assert demo.headers["date"] != answer.headers["date"]
