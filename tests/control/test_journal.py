"""/_emulator/requests: the journal of API traffic, newest first, with every key redacted."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator
from tests.usdtlowfee.support import DEMO_KEY as ULF_DEMO
from tests.usdtlowfee.support import EXCHANGE_PATH, MAIN_WALLET_PATH
from tests.usdtlowfee.support import auth as ulf_auth
from tests.xd247.support import DEMO, LINE, LINE_AIS, START, auth, ok

H = auth(DEMO)


def journal(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/_emulator/requests", params=params)
    assert response.status_code == 200, response.text
    return response.json()["requests"]  # type: ignore[no-any-return]


def emulator(**config: Any) -> Emulator:
    emu = Emulator(Config(seed=7, clock_start_us=parse_iso(START), **config))
    emu.clock.freeze()
    return emu


def test_an_entry_shows_the_request_and_the_response(client: TestClient) -> None:
    body = {"serviceId": LINE, "priceOptionId": LINE_AIS}
    created = ok(client.post("/api/v1/otp/orders?trace=1", headers=H, json=body), 201)
    (entry,) = journal(client)
    assert entry["time"] == "2025-01-15T10:30:00.000Z"  # the emulator clock
    assert (entry["api"], entry["method"], entry["path"], entry["route"]) == (
        "247xd",
        "POST",
        "/api/v1/otp/orders",
        "/otp/orders",
    )
    assert entry["query"] == "trace=1"
    assert entry["headers"]["content-type"] == "application/json"
    assert entry["headers"]["authorization"] == "Bearer ****" + DEMO[-4:]
    assert entry["body"] == body
    assert entry["status"] == 201
    assert entry["response"] == {"success": True, "data": created}
    assert isinstance(entry["durationMs"], float) and entry["durationMs"] >= 0
    assert (entry["faulted"], entry["faultId"]) == (False, None)


def test_only_api_traffic_is_recorded_newest_first(client: TestClient) -> None:
    client.get("/api/v1/balance", headers=H)
    client.get("/_emulator/health")
    client.post("/_emulator/clock/advance", json={"seconds": 1})
    client.get("/v1/users/me", headers=ulf_auth(ULF_DEMO))
    client.get("/api/v1/nowhere")
    entries = journal(client)
    assert [(e["path"], e["status"]) for e in entries] == [
        ("/api/v1/nowhere", 404),
        ("/v1/users/me", 200),
        ("/api/v1/balance", 200),
    ]
    assert entries[0]["route"] is None
    assert entries[0]["time"] == "2025-01-15T10:30:01.000Z"


def test_a_body_that_is_not_json_is_kept_as_text_and_a_rejected_request_keeps_its_body(
    client: TestClient,
) -> None:
    client.post("/api/v1/otp/orders", headers=H, content=b"serviceId=1")
    client.post("/api/v1/otp/orders", json={"serviceId": LINE})  # no key: 401 before the body
    refused, malformed = journal(client)
    assert (malformed["status"], malformed["body"]) == (400, "serviceId=1")
    assert (refused["status"], refused["body"]) == (401, {"serviceId": LINE})


def test_a_204_has_no_response_body(client: TestClient) -> None:
    client.put(f"{EXCHANGE_PATH}/default", headers=ulf_auth(ULF_DEMO))
    (entry,) = journal(client)
    assert (entry["status"], entry["response"]) == (204, None)


def _traffic(client: TestClient) -> None:
    client.get("/api/v1/balance", headers=H)
    client.get("/api/v1/otp/orders/12345678-1234-4234-8234-123456789abc", headers=H)
    client.get("/v1/wallet/balance", headers=ulf_auth(ULF_DEMO))
    client.post("/api/v1/otp/orders", headers=H, json={})
    client.get(MAIN_WALLET_PATH, headers=ulf_auth(ULF_DEMO))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"api": "usdtlowfee"}, [MAIN_WALLET_PATH, "/v1/wallet/balance"]),
        ({"api": "247xd", "method": "post"}, ["/api/v1/otp/orders"]),
        ({"status": "404"}, ["/api/v1/otp/orders/12345678-1234-4234-8234-123456789abc"]),
        ({"status": "400"}, ["/api/v1/otp/orders"]),
        ({"path": "/api/v1/balance"}, ["/api/v1/balance"]),
        ({"path": "/balance"}, ["/api/v1/balance"]),
        ({"path": "/wallet/balance"}, ["/v1/wallet/balance"]),
        ({"path": "/otp/orders/{orderId}"}, ["/api/v1/otp/orders/12345678-1234-4234-8234-123456789abc"]),
        ({"path": "/addresses/{id}", "api": "247xd"}, []),
        ({"limit": "2"}, [MAIN_WALLET_PATH, "/api/v1/otp/orders"]),
    ],
)
def test_filters_and_limit(client: TestClient, params: dict[str, str], expected: list[str]) -> None:
    _traffic(client)
    assert [e["path"] for e in journal(client, **params)] == expected


def test_the_default_limit_is_100() -> None:
    with TestClient(create_app(emulator=emulator())) as client:
        for _ in range(105):
            client.get("/api/v1/nowhere")  # unrouted: not counted by the rate limiter
        assert len(journal(client)) == 100
        assert len(journal(client, limit=105)) == 105


@pytest.mark.parametrize(
    "params",
    [
        {"api": "stripe"},
        {"method": "G3T"},
        {"status": "abc"},
        {"status": "99"},
        {"status": "600"},
        {"status": "-1"},
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "ten"},
        {"limit": "1.5"},
        {"path": ""},
    ],
)
def test_bad_query_values_are_400_naming_the_parameter(client: TestClient, params: dict[str, str]) -> None:
    response = client.get("/_emulator/requests", params=params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"].startswith(next(iter(params)))


def test_the_journal_is_bounded_by_journal_size() -> None:
    with TestClient(create_app(emulator=emulator(journal_size=3))) as client:
        for i in range(5):
            client.get(f"/api/v1/nowhere/{i}")
        assert [e["path"] for e in journal(client)] == [f"/api/v1/nowhere/{i}" for i in (4, 3, 2)]
        assert client.get("/_emulator/requests", params={"limit": "4"}).status_code == 400


def test_journal_size_zero_records_nothing() -> None:
    with TestClient(create_app(emulator=emulator(journal_size=0))) as client:
        client.get("/api/v1/balance", headers=H)
        assert journal(client) == []


def test_no_full_key_appears_anywhere_in_the_journal(client: TestClient) -> None:
    client.post(
        f"/api/v1/otp/orders?key={DEMO}",
        headers={**H, "X-Api-Key": ULF_DEMO},
        json={"serviceId": LINE, "priceOptionId": LINE_AIS, "note": f"my keys are {DEMO} and {ULF_DEMO}"},
    )
    client.get("/v1/users/me", headers=ulf_auth(ULF_DEMO))
    client.get("/v1/users/me", headers={"Authorization": f"Bearer {ULF_DEMO}"})  # wrong scheme
    client.get("/v1/users/me", headers={"Authorization": ULF_DEMO})  # no scheme at all
    client.get(f"/api/v1/otp/orders/{DEMO}", headers=H)
    response = client.get("/_emulator/requests")
    text = response.text
    assert DEMO not in text and ULF_DEMO not in text
    assert DEMO[6:] not in text and ULF_DEMO[8:] not in text
    entries = response.json()["requests"]
    assert entries[0]["path"] == f"/api/v1/otp/orders/247xd_****{DEMO[-4:]}"
    assert [e["headers"]["authorization"] for e in entries[1:4]] == [
        f"****{ULF_DEMO[-4:]}",
        f"Bearer ****{ULF_DEMO[-4:]}",
        f"ApiKey ****{ULF_DEMO[-4:]}",
    ]
    posted = entries[4]
    assert posted["body"]["note"] == f"my keys are 247xd_****{DEMO[-4:]} and ak_live_****{ULF_DEMO[-4:]}"
    assert posted["query"] == f"key=247xd_****{DEMO[-4:]}"
    assert posted["headers"]["x-api-key"] == f"ak_live_****{ULF_DEMO[-4:]}"


def test_faulted_requests_are_marked_with_their_fault(client: TestClient) -> None:
    fault = client.post("/_emulator/faults", json={"api": "247xd", "path": "/balance", "status": 503}).json()
    client.get("/api/v1/balance", headers=H)
    client.get("/api/v1/otp/services", headers=H)
    services, balance = journal(client)
    assert (balance["status"], balance["faulted"], balance["faultId"]) == (503, True, fault["faultId"])
    assert balance["response"]["error"]["code"] == "INTERNAL_ERROR"
    assert (services["status"], services["faulted"], services["faultId"]) == (200, False, None)


def test_delete_and_reset_clear_the_journal(client: TestClient) -> None:
    client.get("/api/v1/balance", headers=H)
    response = client.delete("/_emulator/requests")
    assert response.status_code == 204 and response.content == b""
    assert journal(client) == []
    client.get("/api/v1/balance", headers=H)
    client.post("/_emulator/reset")
    assert journal(client) == []
