"""One log line per API request: method, path, status, duration, the key redacted."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import httpx
import pytest
from starlette.testclient import TestClient

from emulator import config as config_mod
from emulator.logs import JsonFormatter

from .served import serve

XD_KEY = "247xd_3769736d6939931e6de10def20d9a2483134d0c1"
ULF_KEY = "ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4"


def test_each_api_request_logs_one_info_line_with_the_key_redacted(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="emulator.access")
    client.get("/api/v1/balance", headers={"Authorization": f"Bearer {XD_KEY}"})
    client.get("/v1/wallet/balance", headers={"Authorization": f"ApiKey {ULF_KEY}"})
    client.get("/v1/no-such-path")
    records = [r for r in caplog.records if r.name == "emulator.access"]
    assert len(records) == 3
    first, second, third = records
    assert (first.method, first.path, first.status, first.key) == (  # type: ignore[attr-defined]
        "GET", "/api/v1/balance", 200, "Bearer ****d0c1"
    )
    assert second.key == "ApiKey ****" + ULF_KEY[-4:]  # type: ignore[attr-defined]
    assert (third.status, third.key) == (404, "-")  # type: ignore[attr-defined]
    assert all(r.levelno == logging.INFO and r.durationMs >= 0 for r in records)  # type: ignore[attr-defined]
    text = caplog.text
    assert XD_KEY not in text and ULF_KEY not in text
    assert "GET /api/v1/balance 200" in first.getMessage()


def test_a_key_in_the_path_is_redacted_too(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="emulator.access")
    client.get(f"/api/v1/otp/orders/{XD_KEY}", headers={"Authorization": "Bearer short"})
    (record,) = [r for r in caplog.records if r.name == "emulator.access"]
    assert XD_KEY not in record.getMessage() and record.key == "Bearer ****"  # type: ignore[attr-defined]


def test_nothing_is_logged_when_info_is_off(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="emulator.access")
    client.get("/api/v1/balance", headers={"Authorization": f"Bearer {XD_KEY}"})
    assert not [r for r in caplog.records if r.name == "emulator.access"]


def test_the_json_formatter_writes_one_object_with_the_request_fields() -> None:
    record = logging.LogRecord("emulator.access", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    record.__dict__.update(method="GET", path="/x", status=200, durationMs=0.5, key="Bearer ****d0c1")
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /x" and line["level"] == "info" and line["status"] == 200
    assert line["key"] == "Bearer ****d0c1" and "time" in line


def test_log_format_comes_from_flag_or_environment_and_is_checked() -> None:
    assert config_mod.load({}, {}).log_format == "text"
    assert config_mod.load({}, {"EMULATOR_LOG_FORMAT": "JSON"}).log_format == "json"
    assert config_mod.load({"log_format": "text"}, {"EMULATOR_LOG_FORMAT": "json"}).log_format == "text"
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--log-format", "xml"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2 and "log format" in result.stderr


def test_a_served_emulator_with_json_logs_prints_parseable_lines_and_never_a_full_key() -> None:
    with serve("--log-format", "json") as served:
        httpx.get(f"{served.url}/api/v1/balance", headers={"Authorization": f"Bearer {XD_KEY}"})
        httpx.post(
            f"{served.url}/v1/energy/orders", headers={"Authorization": f"ApiKey {ULF_KEY}"}, json={}
        )
        served.process.terminate()
        assert served.process.stderr is not None
        stderr = served.process.stderr.read()
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    requests = [line for line in lines if line["logger"] == "emulator.access"]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("GET", "/api/v1/balance", 200),
        ("POST", "/v1/energy/orders", 400),
    ]
    assert [r["key"] for r in requests] == ["Bearer ****d0c1", "ApiKey ****" + ULF_KEY[-4:]]
    assert all(isinstance(r["durationMs"], float) and r["level"] == "info" for r in requests)
    assert XD_KEY not in stderr and ULF_KEY not in stderr
