"""The control plane's clock: get, advance, set, freeze, resume; bad bodies are 4xx."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from emulator.core.clock import parse_iso
from emulator.runtime import Emulator

START = "2025-01-15T10:30:00.000Z"


def clock(client: TestClient) -> dict:
    response = client.get("/_emulator/clock")
    assert response.status_code == 200
    return response.json()


def assert_control_error(response, status: int, code: str) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    return body["error"]["message"]


def test_get_clock_shows_now_and_frozen(client: TestClient) -> None:
    assert clock(client) == {"now": START, "frozen": True}


def test_advance_moves_by_seconds_with_fractions(client: TestClient) -> None:
    response = client.post("/_emulator/clock/advance", json={"seconds": 1.5})
    assert response.status_code == 200
    assert response.json() == {"now": "2025-01-15T10:30:01.500Z", "frozen": True}
    client.post("/_emulator/clock/advance", json={"seconds": 60})
    assert clock(client)["now"] == "2025-01-15T10:31:01.500Z"


def test_advance_by_zero_is_allowed(client: TestClient) -> None:
    assert client.post("/_emulator/clock/advance", json={"seconds": 0}).json()["now"] == START


def test_advance_moves_a_running_clock_too(client: TestClient, emu: Emulator) -> None:
    client.post("/_emulator/clock/resume")
    before = emu.clock.now_us()
    client.post("/_emulator/clock/advance", json={"seconds": 3600})
    assert emu.clock.now_us() - before >= 3600 * 1_000_000
    assert clock(client)["frozen"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "seconds"),
        ({"seconds": None}, "seconds"),
        ({"seconds": -1}, "seconds"),
        ({"seconds": -0.5}, "seconds"),
        ({"seconds": "10"}, "seconds"),
        ({"seconds": True}, "seconds"),
        ({"seconds": [1]}, "seconds"),
        ({"seconds": 1e300}, "seconds"),  # beyond the calendar
        ({"seconds": 10**18}, "seconds"),
    ],
)
def test_advance_refuses_bad_seconds_naming_the_field(
    client: TestClient, emu: Emulator, body: dict, field: str
) -> None:
    before = emu.clock.now_us()
    message = assert_control_error(
        client.post("/_emulator/clock/advance", json=body), 400, "VALIDATION_ERROR"
    )
    assert field in message
    assert emu.clock.now_us() == before
    assert clock(client)["now"] == START  # and the clock still renders


@pytest.mark.parametrize(
    ("raw", "content_type"),
    [
        (b"{", "application/json"),
        (b"[1]", "application/json"),
        (b"", "application/json"),
        (b"12", "application/json"),
    ],
)
def test_advance_refuses_a_body_that_is_not_a_json_object(
    client: TestClient, raw: bytes, content_type: str
) -> None:
    response = client.post("/_emulator/clock/advance", content=raw, headers={"Content-Type": content_type})
    assert_control_error(response, 400, "BAD_REQUEST")
    assert clock(client)["now"] == START


def test_set_moves_the_clock_forward_to_the_instant(client: TestClient) -> None:
    response = client.post("/_emulator/clock/set", json={"now": "2025-01-15T12:00:00Z"})
    assert response.status_code == 200
    assert response.json() == {"now": "2025-01-15T12:00:00.000Z", "frozen": True}


def test_set_accepts_an_offset_and_the_current_instant(client: TestClient) -> None:
    assert (
        client.post("/_emulator/clock/set", json={"now": "2025-01-15T17:30:00+07:00"}).json()["now"] == START
    )
    assert client.post("/_emulator/clock/set", json={"now": "2025-01-15T17:30:00.250+07:00"}).json()[
        "now"
    ] == ("2025-01-15T10:30:00.250Z")


def test_set_backwards_is_409_and_the_clock_stays(client: TestClient, emu: Emulator) -> None:
    before = emu.clock.now_us()
    response = client.post("/_emulator/clock/set", json={"now": "2025-01-15T10:29:59.999Z"})
    message = assert_control_error(response, 409, "CONFLICT")
    assert "reset" in message
    assert emu.clock.now_us() == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"now": None},
        {"now": ""},
        {"now": "tomorrow"},
        {"now": 1736937000},
        {"now": "2025-02-30T00:00:00Z"},
        {"now": "9999-12-31T23:59:59-05:00"},  # past the calendar's end in UTC
        {"now": "9500-01-01T00:00:00Z"},  # past the clock's latest instant
    ],
)
def test_set_refuses_what_is_not_an_instant_naming_the_field(client: TestClient, body: dict) -> None:
    message = assert_control_error(client.post("/_emulator/clock/set", json=body), 400, "VALIDATION_ERROR")
    assert "now" in message
    assert clock(client)["now"] == START


def test_set_refuses_a_malformed_body(client: TestClient) -> None:
    assert_control_error(client.post("/_emulator/clock/set", content=b"now=1"), 400, "BAD_REQUEST")


def test_resume_lets_time_flow_on_from_the_frozen_instant(client: TestClient, emu: Emulator) -> None:
    client.post("/_emulator/clock/advance", json={"seconds": 10})
    response = client.post("/_emulator/clock/resume")
    assert response.status_code == 200 and response.json()["frozen"] is False
    elapsed = emu.clock.now_us() - parse_iso("2025-01-15T10:30:10Z")
    assert 0 <= elapsed < 60 * 1_000_000  # on from the frozen instant, not from real time


def test_freeze_stops_the_clock(client: TestClient, emu: Emulator) -> None:
    client.post("/_emulator/clock/resume")
    response = client.post("/_emulator/clock/freeze")
    assert response.status_code == 200
    assert response.json()["frozen"] is True
    frozen_at = response.json()["now"]
    assert clock(client)["now"] == frozen_at


def test_freeze_and_resume_accept_an_empty_json_object_and_are_idempotent(client: TestClient) -> None:
    assert client.post("/_emulator/clock/freeze", json={}).json() == {"now": START, "frozen": True}
    assert client.post("/_emulator/clock/freeze").json() == {"now": START, "frozen": True}
    assert client.post("/_emulator/clock/resume", json={}).json()["frozen"] is False
    assert client.post("/_emulator/clock/resume").json()["frozen"] is False


def test_freeze_refuses_a_malformed_body(client: TestClient) -> None:
    assert_control_error(client.post("/_emulator/clock/freeze", content=b"[]"), 400, "BAD_REQUEST")


def test_clock_endpoints_refuse_other_methods(client: TestClient) -> None:
    assert_control_error(client.post("/_emulator/clock"), 405, "METHOD_NOT_ALLOWED")
    assert_control_error(client.get("/_emulator/clock/advance"), 405, "METHOD_NOT_ALLOWED")


def test_the_api_sees_the_moved_clock(client: TestClient) -> None:
    from tests.xd247.support import DEMO, auth

    client.post("/_emulator/clock/set", json={"now": "2025-01-15T10:45:30Z"})
    response = client.get("/api/v1/balance", headers=auth(DEMO))
    assert response.headers["X-RateLimit-Reset"] == str(parse_iso("2025-01-15T10:46:00Z") // 1_000_000)
