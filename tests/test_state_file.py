"""`emulator serve --state-file PATH`: every acknowledged write survives `kill -9`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import orjson

from .served import serve

XD_RICH = {"Authorization": "Bearer 247xd_b8dea7c360f5addabe9d6dd532d8fadd55d62b2a"}
ULF_RICH = {"Authorization": "ApiKey ak_live_rR89FMJJckUpNloEOvSsT6RT8ItCPzCp"}
PREMIUM = "a1724606-ddc1-4bbd-b225-d523fffc171f"
ADDRESS = "TXfLr54GXLwfcBtwNPoHKoFhpdJr6v8ta5"
START = "2025-01-15T10:30:00Z"


def test_every_acknowledged_write_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    args = ("--seed", "5", "--clock-start", START, "--state-file", str(path))
    with serve(*args) as served, httpx.Client(base_url=served.url) as c:
        assert path.exists()  # created from the fixtures at start-up
        assert c.post("/_emulator/clock/freeze").status_code == 200
        assert c.post("/_emulator/clock/set", json={"now": "2025-01-15T11:00:00Z"}).status_code == 200
        otp = c.get("/api/v1/otp/services", headers=XD_RICH).json()["data"][0]
        made = c.post(
            "/api/v1/otp/orders",
            headers=XD_RICH,
            json={"serviceId": otp["id"], "priceOptionId": otp["priceOptions"][0]["id"]},
        ).json()["data"]
        assert c.post(f"/api/v1/otp/orders/{made['orderId']}/cancel", headers=XD_RICH).status_code == 200
        premium = c.post("/api/v1/premium/orders", headers=XD_RICH, json={"serviceId": PREMIUM}).json()[
            "data"
        ]
        account = c.post("/_emulator/247xd/accounts", json={"coins": 12.5}).json()
        key = c.post(f"/_emulator/247xd/accounts/{account['accountId']}/keys", json={}).json()["apiKey"]
        energy = c.post(
            "/v1/energy/orders",
            headers=ULF_RICH,
            json={
                "type": "manual",
                "data": {"tronAddress": ADDRESS, "energyValue": 65000, "durationHours": 1},
            },
        ).json()["data"]
        address = c.post(
            "/v1/addresses",
            headers=ULF_RICH,
            json={"tronAddress": ADDRESS, "label": "main", "isDefault": True},
        ).json()["data"]
        reads = {
            p: c.get(p, headers=h).content
            for p, h in [
                ("/api/v1/balance", XD_RICH),
                (f"/api/v1/otp/orders/{made['orderId']}", XD_RICH),
                (f"/api/v1/premium/orders/{premium['orderId']}", XD_RICH),
                ("/api/v1/balance", {"Authorization": f"Bearer {key}"}),
                ("/v1/wallet/balance", ULF_RICH),
                (f"/v1/energy/orders/{energy['id']}", ULF_RICH),
                (f"/v1/addresses/{address['id']}", ULF_RICH),
                ("/_emulator/clock", {}),
            ]
        }
        served.process.kill()  # kill -9: no chance to save anything on the way out
        served.process.wait()
    with serve(*args) as served, httpx.Client(base_url=served.url) as c:
        assert {
            p: c.get(p, headers=h).content
            for p, h in [
                ("/api/v1/balance", XD_RICH),
                (f"/api/v1/otp/orders/{made['orderId']}", XD_RICH),
                (f"/api/v1/premium/orders/{premium['orderId']}", XD_RICH),
                ("/api/v1/balance", {"Authorization": f"Bearer {key}"}),
                ("/v1/wallet/balance", ULF_RICH),
                (f"/v1/energy/orders/{energy['id']}", ULF_RICH),
                (f"/v1/addresses/{address['id']}", ULF_RICH),
                ("/_emulator/clock", {}),
            ]
        } == reads
        assert orjson.loads(reads["/_emulator/clock"]) == {"now": "2025-01-15T11:00:00.000Z", "frozen": True}
        assert orjson.loads(reads[f"/api/v1/otp/orders/{made['orderId']}"])["data"]["status"] == "cancelled"


def test_a_corrupt_state_file_stops_start_up_and_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    for content in (b'{"version": 1, "ids": ', b'{"version": 7}'):
        path.write_bytes(content)
        result = subprocess.run(
            [sys.executable, "-m", "emulator", "serve", "--port", "0", "--state-file", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0], result.stderr
        assert "Traceback" not in result.stderr
        assert path.read_bytes() == content
        assert sorted(os.listdir(tmp_path)) == ["state.json"]


def test_without_a_state_file_nothing_touches_the_disk(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "EMULATOR_STATE_FILE"}
    with serve("--seed", "5", env=env, cwd=str(tmp_path)) as served, httpx.Client(base_url=served.url) as c:
        premium = c.post("/api/v1/premium/orders", headers=XD_RICH, json={"serviceId": PREMIUM})
        assert premium.status_code == 201
        assert c.post("/_emulator/247xd/accounts", json={}).status_code == 201
        assert c.post("/_emulator/reset").status_code == 200
    assert os.listdir(tmp_path) == []


def test_the_environment_variable_names_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "env-state.json"
    with serve(env={"EMULATOR_STATE_FILE": str(path)}) as served, httpx.Client(base_url=served.url) as c:
        assert c.post("/_emulator/247xd/accounts", json={"label": "kept"}).status_code == 201
        assert b"kept" in path.with_name(path.name + ".log").read_bytes()  # recorded before answered
    # A clean shutdown folds the log into the snapshot and removes it.
    labels = [a.get("label") for a in orjson.loads(path.read_bytes())["247xd"]["accounts"]]
    assert "kept" in labels
    assert sorted(os.listdir(tmp_path)) == ["env-state.json"]
