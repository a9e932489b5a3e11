"""Both APIs from Python with nothing but the standard library: balances, an OTP number,
an energy order, and their statuses. Point EMULATOR_URL at a running emulator (or at
nothing: http://127.0.0.1:8080); against the vendors, the same code takes their base URLs.

    python examples/client.py
    EMULATOR_URL=http://emulator:8080 python examples/client.py
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

BASE = os.environ.get("EMULATOR_URL", "http://127.0.0.1:8080").rstrip("/")
XD247_URL = os.environ.get("XD247_URL", f"{BASE}/api/v1")  # vendor: https://247xd.com/api/v1
USDTLOWFEE_URL = os.environ.get("USDTLOWFEE_URL", BASE)  # vendor: https://api.usdtlowfee.com
# The emulator's ready keys (emulator/data/default.json): xd-demo and ulf-demo.
XD247_KEY = os.environ.get("XD247_KEY", "247xd_3769736d6939931e6de10def20d9a2483134d0c1")
USDTLOWFEE_KEY = os.environ.get("USDTLOWFEE_KEY", "ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4")

# The test OTP option whose SMS arrives at once, and a TRON address that completes.
OTP_ORDER = {
    "serviceId": "00000000-0000-4000-8000-000000000001",
    "priceOptionId": "00000000-0000-4000-8000-000000000012",
}
ENERGY_ORDER = {
    "type": "manual",
    "data": {"tronAddress": "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7", "energyValue": 65000, "durationHours": 1},
}


def call(method: str, url: str, authorization: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", authorization)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)  # Python's ints are exact: int64 ids survive
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{method} {url}: {error.code} {error.read().decode()}") from None


def xd247(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return call(method, XD247_URL + path, f"Bearer {XD247_KEY}", body)["data"]


def usdtlowfee(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    return call(method, USDTLOWFEE_URL + path, f"ApiKey {USDTLOWFEE_KEY}", body)["data"]


def main() -> None:
    print("247xd coins:", xd247("GET", "/balance")["coins"])
    otp = xd247("POST", "/otp/orders", OTP_ORDER)
    print("OTP order", otp["orderId"], "phone", otp["phoneNumber"], otp["status"])
    seen = xd247("GET", f"/otp/orders/{otp['orderId']}")
    print("OTP order status:", seen["status"], "code:", seen["otpCode"])

    print("USDTLowFee balanceSun:", usdtlowfee("GET", "/v1/wallet/balance")["balanceSun"])
    energy = usdtlowfee("POST", "/v1/energy/orders", ENERGY_ORDER)
    print("energy order", energy["id"], "priceSun", energy["priceSun"], energy["status"])
    seen = usdtlowfee("GET", f"/v1/energy/orders/{energy['id']}")
    print("energy order status:", seen["status"])


if __name__ == "__main__":
    main()
