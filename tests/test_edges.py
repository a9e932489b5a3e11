"""Edges of the request path on both APIs (issues 15 and 18): ambiguous auth, encoded
slashes in paths, oversized headers, stalled bodies."""

from __future__ import annotations

import httpx
import pytest
from starlette.testclient import TestClient

from .served import serve

XD_KEY = "247xd_3769736d6939931e6de10def20d9a2483134d0c1"
ULF_KEY = "ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4"
XD_ME = "/api/v1/balance"
ULF_ME = "/v1/users/me"
APIS = [
    pytest.param(XD_ME, "Bearer", XD_KEY, id="247xd"),
    pytest.param(ULF_ME, "ApiKey", ULF_KEY, id="usdtlowfee"),
]


def code_of(body: dict[str, object]) -> object:
    error = body.get("error")
    return error.get("code") if isinstance(error, dict) else body.get("code")


@pytest.mark.parametrize(("path", "scheme", "key"), APIS)
def test_one_authorization_header_is_served(client: TestClient, path: str, scheme: str, key: str) -> None:
    assert client.get(path, headers={"Authorization": f"{scheme} {key}"}).status_code == 200


@pytest.mark.parametrize(("path", "scheme", "key"), APIS)
@pytest.mark.parametrize("second", ["same", "garbage"])
def test_two_authorization_headers_are_401(
    client: TestClient, path: str, scheme: str, key: str, second: str
) -> None:
    good = f"{scheme} {key}"
    other = good if second == "same" else "Basic eDp5"
    for values in ([good, other], [other, good]):
        response = client.get(path, headers=[("Authorization", v) for v in values])
        assert response.status_code == 401, response.text
        assert code_of(response.json()) == "UNAUTHORIZED"


OTP_BODY = {  # the test service's SMS that never arrives
    "serviceId": "00000000-0000-4000-8000-000000000001",
    "priceOptionId": "00000000-0000-4000-8000-000000000011",
}
ADDRESS = "/v1/addresses"
MAIN_WALLET_ID = 640852741324804097


def encoded_slash_cases(http: httpx.Client) -> None:
    """`%2F` inside a segment is data: a 404 in each API's envelope, nothing changes."""
    xd = {"Authorization": f"Bearer {XD_KEY}"}
    created = http.post("/api/v1/otp/orders", headers=xd, json=OTP_BODY)
    assert created.status_code == 201, created.text
    order = created.json()["data"]["orderId"]
    for encoded in ("%2F", "%2f"):
        response = http.post(f"/api/v1/otp/orders/{order}{encoded}cancel", headers=xd)
        assert response.status_code == 404, response.text
        assert code_of(response.json()) == "NOT_FOUND"
        assert http.get(f"/api/v1/otp/orders/{order}{encoded}cancel", headers=xd).status_code == 404
    assert http.get(f"/api/v1/otp/orders/{order}", headers=xd).json()["data"]["status"] == "waiting_sms"
    assert http.post(f"/api/v1/otp/orders/{order}/cancel", headers=xd).status_code == 200
    assert http.get("/api/v1%2Fbalance", headers=xd).status_code == 404

    ulf = {"Authorization": f"ApiKey {ULF_KEY}"}
    address = MAIN_WALLET_ID  # the demo account's main wallet (emulator/data/default.json)
    response = http.put(f"{ADDRESS}/{address}%2Fdefault", headers=ulf)
    assert response.status_code == 404, response.text
    assert code_of(response.json()) == "NOT_FOUND"
    assert http.get(f"{ADDRESS}%2F{address}", headers=ulf).status_code == 404
    assert http.get(f"{ADDRESS}/{address}", headers=ulf).status_code == 200


def test_an_encoded_slash_is_data_in_process(client: TestClient) -> None:
    encoded_slash_cases(client)


def test_an_encoded_slash_is_data_served() -> None:
    with serve() as served, httpx.Client(base_url=served.url) as http:
        encoded_slash_cases(http)
