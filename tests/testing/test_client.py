"""EmulatorClient against the app in-process: every control endpoint, with its effect seen."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from emulator.config import DEFAULT_FIXTURES
from emulator.runtime import Emulator
from emulator.testing.client import Account, EmulatorClient, EmulatorError, iso

from ..conftest import START, XD_DEMO_KEY

OTP_NEVER = {
    "serviceId": "00000000-0000-4000-8000-000000000001",
    "priceOptionId": "00000000-0000-4000-8000-000000000011",
}
NEVER_OPTION = OTP_NEVER["priceOptionId"]
WALLET = "TUA2WHkGntrdRxgJxoveDa4nqbMPDwuWn9"
ENERGY_ORDER = {"type": "manual", "data": {"tronAddress": WALLET, "energyValue": 65000, "durationHours": 1}}


def otp_order(account: Account) -> dict[str, Any]:
    created = account.client.post("/otp/orders", json=OTP_NEVER)
    assert created.status_code == 201, created.text
    return created.json()["data"]


def energy_order(account: Account) -> dict[str, Any]:
    created = account.client.post("/v1/energy/orders", json=ENERGY_ORDER)
    assert created.status_code == 201, created.text
    return created.json()["data"]


def test_health_names_the_seed_and_the_apis(control: EmulatorClient) -> None:
    health = control.health()
    assert health["status"] == "ok" and health["seed"] == 7
    assert health["apis"] == {"247xd": "/api/v1", "usdtlowfee": "/v1"}


def test_in_process_it_drives_the_very_emulator_given(control: EmulatorClient, emu: Emulator) -> None:
    assert control.runtime is emu and control.app is not None
    account = control.create_xd247_account(coins=3)
    assert account.account_id in emu.xd247.accounts


def test_reset_forgets_accounts_made_since(control: EmulatorClient) -> None:
    account = control.create_xd247_account(coins=1)
    assert control.reset() == {"status": "reset"}
    with pytest.raises(EmulatorError) as caught:
        control.patch_xd247_account(account.account_id, coins=2)
    assert (caught.value.status, caught.value.code) == (404, "NOT_FOUND")
    assert account.client.get("/balance").status_code == 401


def test_load_fixtures_replaces_the_state(control: EmulatorClient) -> None:
    document = json.loads(DEFAULT_FIXTURES.read_text())
    demo = next(a for a in document["247xd"]["accounts"] if a["id"] == "xd-demo")
    demo["coins"] = 42.5
    assert control.load_fixtures(document) == {"status": "loaded"}
    with control.api_client("247xd", XD_DEMO_KEY) as api:
        assert api.get("/balance").json()["data"] == {"coins": 42.5}
    document["247xd"]["accounts"] = "none"
    with pytest.raises(EmulatorError) as caught:
        control.load_fixtures(document)
    assert caught.value.status == 400 and caught.value.code == "VALIDATION_ERROR"


def test_the_emulator_clock_advances_sets_freezes_and_resumes(control: EmulatorClient) -> None:
    assert control.clock.get() == {"now": "2025-01-15T10:30:00.000Z", "frozen": True}
    assert control.clock.advance(1.5)["now"] == "2025-01-15T10:30:01.500Z"
    later = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
    assert control.clock.set(later)["now"] == "2025-01-15T12:00:00.000Z"
    assert control.clock.now() == later
    with pytest.raises(EmulatorError) as caught:
        control.clock.set(START)
    assert (caught.value.status, caught.value.code) == (409, "CONFLICT")
    assert control.clock.resume()["frozen"] is False
    assert control.clock.freeze()["frozen"] is True


def test_a_247xd_account_comes_with_a_client_holding_its_key(control: EmulatorClient) -> None:
    account = control.create_xd247_account(coins=12.5, banned=False, label="mine", clock="own")
    assert (account.api, account.user_id) == ("247xd", None)
    assert (account.info["coins"], account.info["label"], account.info["clock"]) == (12.5, "mine", "own")
    assert account.client.headers["Authorization"] == f"Bearer {account.api_key}"
    assert str(account.client.base_url) == "http://emulator/api/v1/"
    assert account.client.get("/balance").json()["data"] == {"coins": 12.5}
    assert account.patch(coins=20, banned=True) == {**account.info, "coins": 20.0, "banned": True}
    refused = account.client.get("/balance")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "ACCOUNT_BANNED"


def test_a_usdtlowfee_account_comes_with_a_client_holding_its_key(control: EmulatorClient) -> None:
    account = control.create_usdtlowfee_account(
        balance_sun=5_000_000, email="dev@example.com", email_verified=False, label="ci", clock="own"
    )
    assert account.client.headers["Authorization"] == f"ApiKey {account.api_key}"
    assert str(account.client.base_url) == "http://emulator"
    me = account.client.get("/v1/users/me").json()["data"]
    assert me["id"] == account.user_id and me["email"] == "dev@example.com" and me["emailVerified"] is False
    assert account.client.get("/v1/wallet/balance").json()["data"]["balanceSun"] == 5_000_000
    assert account.patch(balance_sun=7, disabled=True)["balanceSun"] == 7
    refused = account.client.get("/v1/wallet/balance")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FORBIDDEN"
    assert control.create_usdtlowfee_account(disabled=True).info["disabled"] is True


def test_bad_input_raises_the_control_planes_error(control: EmulatorClient) -> None:
    with pytest.raises(EmulatorError) as caught:
        control.create_xd247_account(coins=-1)
    error = caught.value
    assert (error.status, error.code) == (400, "VALIDATION_ERROR") and "coins" in error.message
    assert error.response is not None and str(error).startswith("400 VALIDATION_ERROR: ")


def test_keys_are_issued_expired_and_revoked(control: EmulatorClient) -> None:
    account = control.create_xd247_account(coins=1, clock="own")
    issued = account.create_key()
    assert issued["accountId"] == account.account_id and issued["expiresAt"] is None
    with control.api_client("247xd", issued["apiKey"]) as api:
        assert api.get("/balance").status_code == 200
        # Keys expire by the account's own clock.
        expiry = control.set_key_expiry("247xd", issued["apiKey"], START)
        assert expiry["expiresAt"] == "2025-01-15T10:30:00.000Z"
        assert api.get("/balance").status_code == 401
        assert control.set_key_expiry("247xd", issued["apiKey"], None)["expiresAt"] is None
        assert api.get("/balance").status_code == 200
        control.revoke_key("247xd", issued["apiKey"])
        assert api.get("/balance").status_code == 401
    a_minute_on = datetime(2025, 1, 15, 10, 31, tzinfo=UTC)
    soon = control.create_key("247xd", account.account_id, expires_at=a_minute_on)
    assert soon["expiresAt"] == "2025-01-15T10:31:00.000Z"
    with control.api_client("247xd", soon["apiKey"]) as api:
        assert api.get("/balance").status_code == 200
        account.advance(60)
        assert api.get("/balance").status_code == 401
    assert account.client.get("/balance").status_code == 200  # the first key never expires
    with pytest.raises(EmulatorError) as caught:
        control.revoke_key("usdtlowfee", account.api_key)
    assert caught.value.status == 404


def test_an_accounts_own_clock_moves_alone(control: EmulatorClient) -> None:
    account = control.create_xd247_account(coins=100, clock="own")
    assert account.clock.get() == {"now": "2025-01-15T10:30:00.000Z", "frozen": True}
    order = otp_order(account)
    assert account.advance(1200)["now"] == order["expiresAt"] == "2025-01-15T10:50:00.000Z"
    assert account.client.get(f"/otp/orders/{order['orderId']}").json()["data"]["status"] == "expired"
    assert control.clock.get()["now"] == "2025-01-15T10:30:00.000Z"
    assert account.clock.set("2025-01-16T00:00:00Z")["now"] == "2025-01-16T00:00:00.000Z"
    assert account.clock.resume()["frozen"] is False
    assert account.clock.freeze()["frozen"] is True
    usdt = control.create_usdtlowfee_account(clock="own")
    its_clock = control.account_clock("usdtlowfee", usdt.account_id)
    assert its_clock.advance(5)["now"] == "2025-01-15T10:30:05.000Z"
    on_the_emulator_clock = control.create_xd247_account()
    with pytest.raises(EmulatorError) as caught:
        on_the_emulator_clock.clock.get()
    assert (caught.value.status, caught.value.code) == (409, "CONFLICT")


def test_a_catalog_item_gets_a_new_price_and_stock(control: EmulatorClient) -> None:
    patched = control.patch_catalog_item(NEVER_OPTION, price=7.25, stock=3)
    assert (patched["price"], patched["stock"]) == (7.25, 3)
    account = control.create_xd247_account(coins=100)
    assert otp_order(account)["price"] == 7.25
    services = account.client.get("/otp/services").json()["data"]
    option = next(o for s in services for o in s["priceOptions"] if o["id"] == NEVER_OPTION)
    assert (option["price"], option["stock"]) == (7.25, 2)


def test_the_usdtlowfee_price_table_is_read_and_replaced(control: EmulatorClient) -> None:
    prices = control.get_prices()
    assert prices[1] == 3_000_000 and sorted(prices) == [1, 24, 72, 168, 336, 720]
    doubled = {hours: sun * 2 for hours, sun in prices.items()}
    assert control.put_prices(doubled) == doubled == control.get_prices()
    account = control.create_usdtlowfee_account(balance_sun=10_000_000)
    assert energy_order(account)["priceSun"] == 6_000_000
    with pytest.raises(EmulatorError) as caught:
        control.put_prices({1: 1})
    assert caught.value.code == "VALIDATION_ERROR"


def test_transitions_are_forced_on_both_apis(control: EmulatorClient) -> None:
    xd = control.create_xd247_account(coins=100, clock="own")
    order = otp_order(xd)
    completed = xd.transition(order["orderId"], "completed", otp_code="123456")
    assert (completed["status"], completed["otpCode"]) == ("completed", "123456")
    with pytest.raises(EmulatorError) as caught:
        control.transition("247xd", order["orderId"], "refunded")
    assert (caught.value.status, caught.value.code) == (409, "CONFLICT")
    usdt = control.create_usdtlowfee_account(balance_sun=10_000_000, clock="own")
    energy = energy_order(usdt)
    failed = control.transition("usdtlowfee", energy["id"], "failed", reason="no bandwidth")
    assert failed["status"] == "failed" and failed["canTransitionTo"] == []
    assert usdt.client.get("/v1/wallet/balance").json()["data"]["balanceSun"] == 10_000_000
    with pytest.raises(EmulatorError) as caught:
        usdt.transition(1, "completed")
    assert caught.value.status == 404


def test_faults_are_created_listed_and_deleted(control: EmulatorClient) -> None:
    account = control.create_xd247_account(coins=1)
    fault = control.create_fault("247xd", path="/balance", method="GET", status=503, times=1)
    assert fault["code"] == "INTERNAL_ERROR" and fault["injected"] == 0
    assert account.client.get("/balance").status_code == 503
    assert account.client.get("/balance").status_code == 200
    assert [f["injected"] for f in control.list_faults()] == [1]
    control.delete_fault(fault["faultId"])
    assert control.list_faults() == []
    control.create_fault("usdtlowfee", latency_ms=1)
    control.create_fault("247xd", drop=True, probability=0.0)
    assert len(control.list_faults()) == 2
    control.delete_faults()
    assert control.list_faults() == []
    with pytest.raises(EmulatorError) as caught:
        control.delete_fault(fault["faultId"])
    assert caught.value.status == 404


def test_the_journal_is_filtered_and_cleared(control: EmulatorClient) -> None:
    account = control.create_xd247_account(coins=1)
    account.client.get("/balance")
    account.client.get("/otp/orders/nothing")
    every = control.list_requests(api="247xd")
    assert [r["path"] for r in every] == ["/api/v1/otp/orders/nothing", "/api/v1/balance"]
    assert account.api_key not in json.dumps(every)  # keys are redacted
    assert [r["status"] for r in control.list_requests(status=404, method="GET")] == [404]
    assert [r["path"] for r in control.list_requests(path="/api/v1/balance", limit=1)] == ["/api/v1/balance"]
    assert control.list_requests(api="usdtlowfee") == []
    control.clear_requests()
    assert control.list_requests() == []


def test_state_is_exported_and_imported(control: EmulatorClient) -> None:
    account = control.create_xd247_account(coins=9, clock="own")
    order = otp_order(account)
    state = control.export_state()
    control.reset()
    assert account.client.get("/balance").status_code == 401
    assert control.import_state(state) == {"status": "loaded"}
    assert account.client.get("/balance").json()["data"] == {"coins": 4.0}
    assert account.client.get(f"/otp/orders/{order['orderId']}").json()["data"]["status"] == "waiting_sms"


@pytest.mark.parametrize("name", ["247xd", "usdtlowfee", "control"])
def test_the_openapi_documents_are_served(control: EmulatorClient, name: str) -> None:
    spec = control.spec(name)  # type: ignore[arg-type]
    assert spec["openapi"].startswith("3.1")


def test_closing_an_accounts_client_keeps_the_shared_transport(control: EmulatorClient) -> None:
    with control.create_xd247_account(coins=1) as account:
        assert account.client.get("/balance").status_code == 200
    assert control.health()["status"] == "ok"
    with control.create_xd247_account(coins=1) as again:
        assert again.client.get("/balance").status_code == 200


def test_an_error_without_the_control_planes_envelope_still_raises() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(502, text="Bad Gateway"))
    with EmulatorClient("http://proxy", transport) as control, pytest.raises(EmulatorError) as caught:
        control.health()
    assert (caught.value.status, caught.value.code, caught.value.message) == (502, "HTTP_502", "Bad Gateway")
    assert control.runtime is None


def test_instants_are_sent_as_iso_8601_utc() -> None:
    assert iso("2025-01-15T10:30:00Z") == "2025-01-15T10:30:00Z"
    assert iso(datetime(2025, 1, 15, 10, 30)) == "2025-01-15T10:30:00Z"
    bangkok = timezone(timedelta(hours=7))
    assert iso(datetime(2025, 1, 15, 17, 30, 0, 500, tzinfo=bangkok)) == "2025-01-15T10:30:00.000500Z"
