"""Testing an integration against the emulator with its pytest plugin: no money, no waiting.

With the emulator installed where the tests run, pytest finds the plugin by itself. Each
session starts one emulator in-process; `--emulator-url http://127.0.0.1:8080` (or
EMULATOR_URL) drives a served one instead, such as a CI service container. Every test gets
a fresh account with its own clock: tests never see each other, also in parallel (-n 4).
"""

from __future__ import annotations

from emulator.testing.client import Account, EmulatorClient

# emulator/data/default.json: a test service whose SMS never arrives, 5 coins a number.
OTP_NO_SMS = {
    "serviceId": "00000000-0000-4000-8000-000000000001",
    "priceOptionId": "00000000-0000-4000-8000-000000000011",
}
WALLET = "TUA2WHkGntrdRxgJxoveDa4nqbMPDwuWn9"
ENERGY = {"type": "manual", "data": {"tronAddress": WALLET, "energyValue": 65000, "durationHours": 1}}


def test_an_otp_number_nobody_texts_expires_and_is_refunded(xd247_account: Account) -> None:
    api = xd247_account.client  # https://247xd.com/api/v1, as the emulator, with "Bearer <key>"
    coins = api.get("/balance").json()["data"]["coins"]
    order = api.post("/otp/orders", json=OTP_NO_SMS).json()["data"]
    assert order["status"] == "waiting_sms"

    xd247_account.advance(20 * 60)  # this account's clock only: 20 minutes pass at once
    path = f"/otp/orders/{order['orderId']}"
    expired = api.get(path).json()["data"]
    assert expired["status"] == "expired" and expired["updatedAt"] == order["expiresAt"]

    assert api.post(path + "/refund").json()["data"]["refundedAmount"] == order["price"]
    assert api.get("/balance").json()["data"]["coins"] == coins


def test_an_sms_arrives_with_the_code_you_choose(xd247_account: Account) -> None:
    order = xd247_account.client.post("/otp/orders", json=OTP_NO_SMS).json()["data"]
    xd247_account.transition(order["orderId"], "completed", otp_code="123456")
    seen = xd247_account.client.get(f"/otp/orders/{order['orderId']}").json()["data"]
    assert (seen["status"], seen["otpCode"]) == ("completed", "123456")


def test_an_energy_order_completes_after_the_fulfilment_delay(usdtlowfee_account: Account) -> None:
    api = usdtlowfee_account.client  # https://api.usdtlowfee.com, as the emulator, "ApiKey <key>"
    order = api.post("/v1/energy/orders", json=ENERGY).json()["data"]
    assert order["status"] == "processing" and order["priceSun"] == 3_000_000
    assert api.get("/v1/wallet/balance").json()["data"]["frozenSun"] == 3_000_000

    usdtlowfee_account.advance(60)
    done = api.get(f"/v1/energy/orders/{order['id']}").json()["data"]
    assert done["status"] == "completed" and len(done["txid"]) == 64
    assert api.get("/v1/wallet/balance").json()["data"]["frozenSun"] == 0


def test_a_low_balance_is_refused(emulator: EmulatorClient) -> None:
    with emulator.create_usdtlowfee_account(balance_sun=1_000, clock="own") as poor:
        refused = poor.client.post("/v1/energy/orders", json=ENERGY)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "INSUFFICIENT_BALANCE"
