"""GET /_emulator/health and POST /_emulator/reset."""

from __future__ import annotations

from starlette.testclient import TestClient

from emulator import __version__
from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator
from tests.conftest import START
from tests.xd247.support import CHATGPT, DEMO, LINE, LINE_AIS, auth


def test_health_reports_status_version_seed_apis_and_clock(client: TestClient) -> None:
    response = client.get("/_emulator/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["seed"] == 7
    assert body["apis"]["247xd"] == "/api/v1"
    assert body["clock"] == {"now": "2025-01-15T10:30:00.000Z", "frozen": True}


def test_reset_restores_the_fixtures_state(client: TestClient, emu: Emulator) -> None:
    h = auth(DEMO)
    client.post("/api/v1/otp/orders", headers=h, json={"serviceId": LINE, "priceOptionId": LINE_AIS})
    client.post("/api/v1/premium/orders", headers=h, json={"serviceId": CHATGPT})
    created = client.post("/_emulator/247xd/accounts", json={"coins": 10}).json()
    client.patch("/_emulator/247xd/accounts/xd-rich", json={"banned": True})
    client.post("/_emulator/clock/advance", json={"seconds": 3600})

    response = client.post("/_emulator/reset")
    assert response.status_code == 200 and response.json() == {"status": "reset"}

    assert client.get("/api/v1/balance", headers=h).json()["data"] == {"coins": 500.0}
    otp = client.get("/api/v1/otp/services", headers=h).json()["data"]
    assert otp[0]["priceOptions"][0]["stock"] == 281
    premium = client.get("/api/v1/premium/services", headers=h).json()["data"]
    assert next(s for s in premium if s["id"] == CHATGPT)["stock"] == 10
    assert emu.xd247.orders == {}
    # accounts made since are gone, fixture accounts are as written
    assert client.get("/api/v1/balance", headers=auth(created["apiKey"])).status_code == 401
    from tests.xd247.support import RICH

    assert client.get("/api/v1/balance", headers=auth(RICH)).status_code == 200


def test_reset_puts_a_running_clock_back_to_its_start_and_running() -> None:
    emu = Emulator(Config(seed=7, clock_start_us=parse_iso(START)))
    with TestClient(create_app(emulator=emu)) as client:
        client.post("/_emulator/clock/advance", json={"seconds": 86_400})
        client.post("/_emulator/reset")
        clock = client.get("/_emulator/clock").json()
    assert clock["frozen"] is False
    assert clock["now"].startswith("2025-01-15T10:30:0")  # the configured start, flowing again


def test_reset_puts_a_clock_started_frozen_back_frozen_at_its_start(client: TestClient) -> None:
    client.post("/_emulator/clock/advance", json={"seconds": 86_400})
    client.post("/_emulator/clock/resume")
    client.post("/_emulator/reset")
    assert client.get("/_emulator/clock").json() == {"now": "2025-01-15T10:30:00.000Z", "frozen": True}


def test_reset_keeps_the_fixed_keys(client: TestClient) -> None:
    client.post("/_emulator/reset")
    assert client.get("/api/v1/balance", headers=auth(DEMO)).status_code == 200


def test_control_plane_errors_use_its_own_plain_envelope(client: TestClient) -> None:
    missing = client.get("/_emulator/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"
    wrong = client.get("/_emulator/reset")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert "POST" in wrong.headers["Allow"]
