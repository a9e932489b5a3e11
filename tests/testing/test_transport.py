"""The in-process transport: the same answers as over a socket, in the caller's thread."""

from __future__ import annotations

import httpx
import pytest

from emulator.app import create_app
from emulator.runtime import Emulator
from emulator.testing.transport import InProcessTransport, in_process_client

from ..conftest import XD_DEMO_KEY

NEVER_SERVICE = "00000000-0000-4000-8000-000000000001"
NEVER_OPTION = "00000000-0000-4000-8000-000000000011"


def test_a_whole_otp_lifecycle_runs_through_the_transport(emu: Emulator) -> None:
    headers = {"Authorization": f"Bearer {XD_DEMO_KEY}"}
    with in_process_client(create_app(emulator=emu), headers=headers) as client:
        created = client.post(
            "/api/v1/otp/orders", json={"serviceId": NEVER_SERVICE, "priceOptionId": NEVER_OPTION}
        )
        assert created.status_code == 201
        assert created.headers["x-ratelimit-limit"] == "60"
        path = f"/api/v1/otp/orders/{created.json()['data']['orderId']}"
        assert client.get(path).json()["data"]["status"] == "waiting_sms"
        assert client.post(path + "/cancel").json()["data"]["status"] == "cancelled"
        refunded = client.post(path + "/refund").json()["data"]
        assert refunded["status"] == "refunded" and refunded["refundedAmount"] == 5.0
        assert client.get("/api/v1/balance").json()["data"] == {"coins": 500.0}


def test_query_strings_reach_the_app(emu: Emulator) -> None:
    with in_process_client(create_app(emulator=emu)) as client:
        created = client.post("/_emulator/usdtlowfee/accounts", json={"balanceSun": 0}).json()
        answer = client.get(
            "/v1/energy/orders", params={"limit": "101"},
            headers={"Authorization": f"ApiKey {created['apiKey']}"},
        )
        assert answer.status_code == 400
        assert "limit" in answer.json()["error"]["message"]


def test_an_app_that_closes_without_answering_is_a_transport_error() -> None:
    async def silent(scope, receive, send):  # type: ignore[no-untyped-def]
        return None

    client = httpx.Client(transport=InProcessTransport(silent), base_url="http://x")
    with client, pytest.raises(httpx.RemoteProtocolError):
        client.get("/")
