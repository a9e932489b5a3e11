"""/_emulator/faults: errors in each API's own envelope, delays, dropped connections."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator
from emulator.xd247.errors import MESSAGES
from tests.served import serve
from tests.usdtlowfee.support import DEMO_KEY as ULF_DEMO
from tests.usdtlowfee.support import MAIN_WALLET_PATH, order_body
from tests.usdtlowfee.support import auth as ulf_auth
from tests.xd247.support import DEMO, LINE, LINE_AIS, START, START_UNIX, auth, ok, snapshot

H = auth(DEMO)


def add(client: TestClient, **fault: Any) -> dict[str, Any]:
    response = client.post("/_emulator/faults", json=fault)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def emulator(seed: int = 7, **config: Any) -> Emulator:
    return Emulator(Config(seed=seed, clock_start_us=parse_iso(START), clock_frozen=True, **config))


# --- the registry over HTTP ---------------------------------------------------------------


def test_a_fault_is_created_listed_and_deleted(client: TestClient) -> None:
    created = add(client, api="247xd", method="get", path="/balance", status=503, times=3)
    assert created == {
        "faultId": created["faultId"],
        "api": "247xd",
        "method": "GET",
        "path": "/balance",
        "status": 503,
        "code": "INTERNAL_ERROR",
        "message": None,
        "latencyMs": 0,
        "drop": False,
        "times": 3,
        "probability": 1.0,
        "phase": "before",
        "accountId": None,
        "injected": 0,
    }
    client.get("/api/v1/balance", headers=H)
    listed = client.get("/_emulator/faults").json()["faults"]
    assert listed == [{**created, "injected": 1}]
    assert client.delete(f"/_emulator/faults/{created['faultId']}").status_code == 204
    assert client.get("/_emulator/faults").json() == {"faults": []}
    missing = client.delete(f"/_emulator/faults/{created['faultId']}")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "NOT_FOUND"


def test_delete_all_removes_every_fault_and_the_api_serves_normally_again(client: TestClient) -> None:
    add(client, api="247xd", status=500)
    add(client, api="usdtlowfee", status=500)
    response = client.delete("/_emulator/faults")
    assert response.status_code == 204 and response.content == b""
    assert client.get("/_emulator/faults").json() == {"faults": []}
    assert ok(client.get("/api/v1/balance", headers=H)) == {"coins": 500.0}


def test_reset_clears_the_faults(client: TestClient) -> None:
    add(client, api="247xd", status=500)
    client.post("/_emulator/reset")
    assert client.get("/_emulator/faults").json() == {"faults": []}
    assert client.get("/api/v1/balance", headers=H).status_code == 200


# --- the injected error ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "BAD_REQUEST"),
        (401, "UNAUTHORIZED"),
        (403, "ACCOUNT_BANNED"),
        (404, "NOT_FOUND"),
        (405, "BAD_REQUEST"),
        (418, "BAD_REQUEST"),
        (429, "RATE_LIMITED"),
        (500, "INTERNAL_ERROR"),
        (502, "INTERNAL_ERROR"),
        (503, "INTERNAL_ERROR"),
    ],
)
def test_247xd_faults_use_its_envelope_and_the_code_its_table_gives_the_status(
    client: TestClient, status: int, code: str
) -> None:
    add(client, api="247xd", status=status)
    response = client.get("/api/v1/balance", headers=H)
    assert response.status_code == status
    assert response.json() == {"success": False, "error": {"code": code, "message": MESSAGES[code]}}
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "BAD_REQUEST"),
        (401, "UNAUTHORIZED"),
        (403, "FORBIDDEN"),
        (404, "NOT_FOUND"),
        (405, "METHOD_NOT_ALLOWED"),
        (409, "CONFLICT"),
        (422, "BAD_REQUEST"),
        (429, "RATE_LIMITED"),
        (500, "INTERNAL_ERROR"),
        (504, "INTERNAL_ERROR"),
    ],
)
def test_usdtlowfee_faults_use_its_envelope_and_the_code_its_table_gives_the_status(
    client: TestClient, status: int, code: str
) -> None:
    add(client, api="usdtlowfee", status=status)
    response = client.get("/v1/wallet/balance", headers=ulf_auth(ULF_DEMO))
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


def test_a_given_code_and_message_are_served_as_given(client: TestClient) -> None:
    add(client, api="usdtlowfee", status=503, code="SERVICE_UNAVAILABLE", message="down for maintenance")
    response = client.get("/v1/users/me", headers=ulf_auth(ULF_DEMO))
    assert response.status_code == 503
    assert response.json() == {"error": {"code": "SERVICE_UNAVAILABLE", "message": "down for maintenance"}}


def test_an_injected_405_names_the_allowed_methods(client: TestClient) -> None:
    add(client, api="usdtlowfee", path="/addresses/{id}", status=405)
    response = client.get(MAIN_WALLET_PATH, headers=ulf_auth(ULF_DEMO))
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "DELETE"}


@pytest.mark.parametrize(
    ("api", "path", "headers"),
    [("247xd", "/api/v1/balance", H), ("usdtlowfee", "/v1/wallet/balance", ulf_auth(ULF_DEMO))],
)
def test_an_injected_429_carries_the_rate_limit_headers(
    client: TestClient, api: str, path: str, headers: dict[str, str]
) -> None:
    client.post("/_emulator/clock/advance", json={"seconds": 15})
    add(client, api=api, status=429)
    response = client.get(path, headers=headers)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "RATE_LIMITED"
    assert response.headers["X-RateLimit-Limit"] == "60"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Reset"] == str(START_UNIX + 60)
    assert response.headers["Retry-After"] == "45"


def test_faults_are_matched_before_auth(client: TestClient) -> None:
    add(client, api="247xd", path="/balance", status=503)
    for headers in ({}, auth("247xd_" + "0" * 40), {"Authorization": "garbage"}):
        response = client.get("/api/v1/balance", headers=headers)
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "INTERNAL_ERROR"


def test_a_faulted_request_changes_no_state(client: TestClient, emu: Emulator) -> None:
    before = snapshot(emu)
    add(client, api="247xd", method="POST", path="/otp/orders", status=500)
    response = client.post(
        "/api/v1/otp/orders", headers=H, json={"serviceId": LINE, "priceOptionId": LINE_AIS}
    )
    assert response.status_code == 500
    assert snapshot(emu) == before
    assert emu.xd247.orders == {}
    client.delete("/_emulator/faults")
    assert ok(client.get("/api/v1/balance", headers=H)) == {"coins": 500.0}


def test_a_faulted_energy_order_moves_no_money(client: TestClient) -> None:
    headers = ulf_auth(ULF_DEMO)
    before = client.get("/v1/wallet/balance", headers=headers).json()["data"]
    add(client, api="usdtlowfee", method="POST", path="/energy/orders", status=502)
    response = client.post("/v1/energy/orders", headers=headers, json=order_body())
    assert response.status_code == 502
    client.delete("/_emulator/faults")
    assert client.get("/v1/wallet/balance", headers=headers).json()["data"] == before
    assert client.get("/v1/energy/orders", headers=headers).json()["data"]["total"] == 0


def test_faulted_requests_do_not_count_toward_the_rate_limit() -> None:
    emu = emulator(rate_limit_247xd=2)
    with TestClient(create_app(emulator=emu)) as client:
        fault = add(client, api="247xd", status=500, times=5)
        for _ in range(5):
            response = client.get("/api/v1/balance", headers=H)
            assert response.status_code == 500
            assert response.headers["X-RateLimit-Remaining"] == "2"
        assert client.get("/_emulator/faults").json()["faults"][0]["injected"] == fault["injected"] + 5
        assert [client.get("/api/v1/balance", headers=H).status_code for _ in range(3)] == [200, 200, 429]


# --- which requests --------------------------------------------------------------------------


def test_a_fault_matches_its_route_template_and_method_only(client: TestClient) -> None:
    order = ok(
        client.post("/api/v1/otp/orders", headers=H, json={"serviceId": LINE, "priceOptionId": LINE_AIS}), 201
    )
    add(client, api="247xd", method="GET", path="/otp/orders/{orderId}", status=503)
    assert client.get(f"/api/v1/otp/orders/{order['orderId']}", headers=H).status_code == 503
    assert client.get("/api/v1/otp/orders/not-even-a-uuid", headers=H).status_code == 503
    assert client.post(f"/api/v1/otp/orders/{order['orderId']}/cancel", headers=H).status_code == 200
    assert client.get("/api/v1/otp/services", headers=H).status_code == 200
    assert client.get("/v1/wallet/balance", headers=ulf_auth(ULF_DEMO)).status_code == 200


def test_a_method_only_fault_matches_that_method_on_every_route(client: TestClient) -> None:
    add(client, api="247xd", method="POST", status=500)
    assert client.post("/api/v1/otp/orders", headers=H, json={}).status_code == 500
    assert client.post("/api/v1/premium/orders", headers=H, json={}).status_code == 500
    assert client.get("/api/v1/balance", headers=H).status_code == 200


def test_a_fault_without_a_path_matches_unrouted_requests_too(client: TestClient) -> None:
    add(client, api="247xd", status=502)
    assert client.get("/api/v1/no/such/thing", headers=H).status_code == 502
    assert client.get("/v1/no/such/thing").status_code == 404


def test_times_caps_the_injections_then_the_fault_stays_listed_and_inert(client: TestClient) -> None:
    add(client, api="247xd", path="/balance", status=500, times=2)
    statuses = [client.get("/api/v1/balance", headers=H).status_code for _ in range(4)]
    assert statuses == [500, 500, 200, 200]
    (listed,) = client.get("/_emulator/faults").json()["faults"]
    assert (listed["times"], listed["injected"]) == (2, 2)


def test_probability_zero_never_injects_and_one_always_does(client: TestClient) -> None:
    add(client, api="247xd", path="/balance", status=500, probability=0)
    add(client, api="247xd", path="/otp/services", status=500, probability=1)
    assert {client.get("/api/v1/balance", headers=H).status_code for _ in range(20)} == {200}
    assert {client.get("/api/v1/otp/services", headers=H).status_code for _ in range(20)} == {500}


def _statuses_then_order(seed: int, probability: float | None) -> tuple[list[int], dict[str, Any]]:
    emu = emulator(seed, rate_limit_247xd=10**6)
    with TestClient(create_app(emulator=emu)) as client:
        if probability is not None:
            add(client, api="247xd", path="/balance", status=503, probability=probability)
        statuses = [client.get("/api/v1/balance", headers=H).status_code for _ in range(40)]
        order = client.post(
            "/api/v1/otp/orders", headers=H, json={"serviceId": LINE, "priceOptionId": LINE_AIS}
        )
        return statuses, ok(order, 201)


def test_a_fractional_probability_is_the_same_for_the_same_seed_and_shifts_no_ids() -> None:
    first, order = _statuses_then_order(7, 0.5)
    second, again = _statuses_then_order(7, 0.5)
    assert first == second
    assert 5 <= first.count(503) <= 35 and set(first) == {200, 503}
    assert order == again
    _, unfaulted = _statuses_then_order(7, None)
    # The draws come from the fault registry's own random source: the API's ids,
    # phone numbers and codes are those of a run without faults.
    assert unfaulted == order


def test_a_latency_fault_delays_then_serves_normally(client: TestClient) -> None:
    fault = add(client, api="247xd", path="/balance", latencyMs=5)
    response = client.get("/api/v1/balance", headers=H)
    assert ok(response) == {"coins": 500.0}
    assert response.headers["X-RateLimit-Remaining"] == "59"  # served, so counted
    (entry,) = client.get("/_emulator/requests").json()["requests"]
    assert entry["status"] == 200 and entry["faultId"] == fault["faultId"]
    assert entry["durationMs"] >= 5


def test_a_drop_fault_is_a_transport_error_in_process(client: TestClient) -> None:
    add(client, api="247xd", path="/balance", drop=True, times=1)
    with pytest.raises(ConnectionError):
        client.get("/api/v1/balance", headers=H)
    assert client.get("/api/v1/balance", headers=H).status_code == 200
    entries = client.get("/_emulator/requests").json()["requests"]
    assert [(e["status"], e["faulted"]) for e in entries] == [(200, False), (None, True)]


def test_a_drop_fault_is_a_transport_error_through_httpx_asgi_transport(emu: Emulator) -> None:
    app = create_app(emulator=emu)

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
            await client.post("/_emulator/faults", json={"api": "usdtlowfee", "drop": True})
            with pytest.raises(ConnectionError):
                await client.get("/v1/users/me", headers=ulf_auth(ULF_DEMO))

    asyncio.run(run())


def test_a_served_drop_fault_closes_the_socket_with_zero_bytes() -> None:
    with serve("--seed", "1") as served:
        created = httpx.post(
            f"{served.url}/_emulator/faults", json={"api": "247xd", "path": "/balance", "drop": True}
        )
        assert created.status_code == 201
        url = urlsplit(served.url)
        assert url.hostname is not None and url.port is not None
        with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
            sock.sendall(
                b"GET /api/v1/balance HTTP/1.1\r\nHost: emulator\r\n"
                b"Authorization: Bearer " + DEMO.encode() + b"\r\n\r\n"
            )
            received = b""
            try:
                while chunk := sock.recv(4096):
                    received += chunk
            except ConnectionResetError:
                pass
        assert received == b""
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"{served.url}/api/v1/balance", headers=H)
        # The server is fine: other routes answer, and the journal saw both drops.
        assert httpx.get(f"{served.url}/api/v1/otp/services", headers=H).status_code == 200
        dropped = httpx.get(f"{served.url}/_emulator/requests", params={"path": "/balance"}).json()
        assert [(e["status"], e["faulted"]) for e in dropped["requests"]] == [(None, True), (None, True)]
        served.process.terminate()
        served.process.wait(timeout=10)
        assert served.process.stderr is not None
        assert "Exception" not in served.process.stderr.read()  # no 500, no traceback logged


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "api"),
        ({"api": "stripe", "status": 500}, "api"),
        ({"api": 247, "status": 500}, "api"),
        ({"api": "247xd", "path": "/nope", "status": 500}, "path"),
        ({"api": "247xd", "path": "/wallet/balance", "status": 500}, "path"),  # the other API's
        ({"api": "247xd", "path": "/api/v1/balance", "status": 500}, "path"),  # not relative
        ({"api": "247xd", "path": "/balance", "method": "POST", "status": 500}, "method"),
        ({"api": "247xd", "method": "FETCH", "status": 500}, "method"),
        ({"api": "247xd", "status": "500"}, "status"),
        ({"api": "247xd", "status": 500.0}, "status"),
        ({"api": "247xd", "status": True}, "status"),
        ({"api": "247xd", "status": 99}, "status"),
        ({"api": "247xd", "status": 200}, "status"),
        ({"api": "247xd", "status": 600}, "status"),
        ({"api": "247xd", "status": 500, "latencyMs": -1}, "latencyMs"),
        ({"api": "247xd", "status": 500, "latencyMs": 60_001}, "latencyMs"),
        ({"api": "247xd", "status": 500, "latencyMs": 1.5}, "latencyMs"),
        ({"api": "247xd", "status": 500, "times": 0}, "times"),
        ({"api": "247xd", "status": 500, "times": 1.0}, "times"),
        ({"api": "247xd", "status": 500, "probability": 1.5}, "probability"),
        ({"api": "247xd", "status": 500, "probability": -0.1}, "probability"),
        ({"api": "247xd", "status": 500, "probability": "half"}, "probability"),
        ({"api": "247xd", "status": 500, "probability": True}, "probability"),
        ({"api": "247xd", "drop": "yes"}, "drop"),
        ({"api": "247xd", "drop": True, "status": 500}, "drop"),
        ({"api": "247xd", "status": 500, "code": "not upper"}, "code"),
        ({"api": "247xd", "code": "NOT_FOUND"}, "code"),
        ({"api": "247xd", "message": "hi"}, "message"),
        ({"api": "247xd", "status": 500, "message": ""}, "message"),
        ({"api": "247xd"}, "status"),  # does nothing at all
        ({"api": "247xd", "latencyMs": 0}, "status"),
    ],
)
def test_a_bad_fault_is_400_validation_error_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/_emulator/faults", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"].startswith(field), error
    assert client.get("/_emulator/faults").json() == {"faults": []}


@pytest.mark.parametrize("raw", [b"", b"{", b"[]", b'"x"'])
def test_a_body_that_is_not_a_json_object_is_400_bad_request(client: TestClient, raw: bytes) -> None:
    response = client.post("/_emulator/faults", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"


def test_random_fault_bodies_never_cause_a_server_error() -> None:
    emu = emulator()
    fields = [
        "api",
        "method",
        "path",
        "status",
        "code",
        "message",
        "latencyMs",
        "drop",
        "times",
        "probability",
    ]
    values = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats()
        | st.text(max_size=20)
        | st.sampled_from(
            ["247xd", "usdtlowfee", "GET", "post", "/balance", "/addresses/{id}", "RATE_LIMITED"]
        )
        | st.lists(st.integers(), max_size=2)
        | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)
    )
    bodies = st.dictionaries(st.sampled_from(fields), values, max_size=6) | values
    with TestClient(create_app(emulator=emu)) as client:

        @settings(
            max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
        )
        @given(body=bodies)
        def run(body: Any) -> None:
            raw = json.dumps(body, allow_nan=True).encode()
            response = client.post(
                "/_emulator/faults", content=raw, headers={"Content-Type": "application/json"}
            )
            assert response.status_code in (201, 400), response.text
            if response.status_code == 400:
                assert set(response.json()) == {"error"}
            client.delete("/_emulator/faults")

        run()


def test_a_drop_fault_through_the_in_process_transport_is_httpx_remote_protocol_error(emu: Emulator) -> None:
    from emulator.testing.transport import in_process_client

    with in_process_client(create_app(emulator=emu)) as client:
        client.post("/_emulator/faults", json={"api": "247xd", "drop": True, "times": 1})
        with pytest.raises(httpx.RemoteProtocolError):
            client.get("/api/v1/balance", headers=H)
        assert client.get("/api/v1/balance", headers=H).status_code == 200
