"""PUT /_emulator/state has a body limit (--max-state-body / EMULATOR_MAX_STATE_BODY):
refused from its Content-Length before reading, or as soon as that much has arrived."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from emulator import config as config_mod
from emulator.app import create_app
from emulator.config import Config, ConfigError
from emulator.core.clock import parse_iso
from emulator.core.types import Message
from emulator.runtime import Emulator

START = "2025-01-15T10:30:00Z"
MiB = 1024 * 1024


def emulator(limit: int | None = None) -> Emulator:
    config = Config(seed=7, clock_start_us=parse_iso(START), clock_frozen=True)
    if limit is not None:
        config.max_state_body = limit
    return Emulator(config)


def put_raw(app: Any, headers: list[tuple[bytes, bytes]], chunks: int, chunk: bytes) -> tuple[int, Any, int]:
    """PUT /_emulator/state straight through ASGI, the body as `chunks` chunks (more
    would follow): (status, JSON body, how many chunks the app read)."""
    read = 0
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal read
        read += 1
        more = read < chunks
        return {"type": "http.request", "body": chunk, "more_body": more}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": "/_emulator/state",
        "raw_path": b"/_emulator/state",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8080),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], orjson.loads(body), read


def test_the_default_is_256_mib_comfortably_above_a_state_of_100000_orders() -> None:
    assert Config().max_state_body == 256 * MiB
    assert config_mod.load({}, env={}).max_state_body == 256 * MiB


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    emu = emulator(64 * 1024)
    before = emu_state(emu)
    status, body, read = put_raw(
        create_app(emulator=emu), [(b"content-length", str(64 * 1024 + 1).encode())], 1000, b" " * 1024
    )
    assert status == 413, body
    assert body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "65536 bytes" in body["error"]["message"] and "max-state-body" in body["error"]["message"]
    assert read == 0  # not one chunk read
    assert emu_state(emu) == before


def test_a_body_without_a_length_stops_being_read_once_over_the_limit() -> None:
    emu = emulator(4096)
    before = emu_state(emu)
    status, body, read = put_raw(create_app(emulator=emu), [], 10_000, b" " * 1024)
    assert status == 413 and body["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert read == 5  # 5 KiB is the first read past 4 KiB; the other 9,995 chunks stay unread
    assert emu_state(emu) == before


def emu_state(emu: Emulator) -> bytes:
    from emulator import state

    with emu.lock:
        return state.dumps(emu)


def test_a_document_at_the_limit_loads_and_one_byte_more_is_refused() -> None:
    source = emulator()
    raw = emu_state(source)
    exact = emulator(len(raw))
    with TestClient(create_app(emulator=exact)) as client:
        assert client.put("/_emulator/state", content=raw).status_code == 200
        response = client.put("/_emulator/state", content=raw + b" ")
        assert response.status_code == 413, response.text
        assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
        assert client.get("/_emulator/state").content == raw


@pytest.mark.parametrize(
    ("text", "size"),
    [("1048576", MiB), ("64M", 64 * MiB), ("64MiB", 64 * MiB), ("512k", 512 * 1024), ("1G", 1024 * MiB)],
)
def test_the_setting_takes_bytes_or_binary_units(text: str, size: int) -> None:
    assert config_mod.load({"max_state_body": text}, env={}).max_state_body == size
    assert config_mod.load({}, env={"EMULATOR_MAX_STATE_BODY": text}).max_state_body == size
    assert (
        config_mod.load({"max_state_body": text}, env={"EMULATOR_MAX_STATE_BODY": "2M"}).max_state_body
        == size
    )


@pytest.mark.parametrize("text", ["lots", "-1", "12X", "1.5M", "100", "2T"])
def test_a_bad_setting_is_refused_naming_it(text: str) -> None:
    with pytest.raises(ConfigError, match="max state body"):
        config_mod.load({"max_state_body": text}, env={})


def test_the_flag_is_served_and_a_bad_one_stops_start_up_with_exit_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "emulator", "serve", "--max-state-body", "huge"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "max state body" in result.stderr
    assert (
        "--max-state-body"
        in subprocess.run(
            [sys.executable, "-m", "emulator", "serve", "--help"], capture_output=True, text=True, timeout=30
        ).stdout
    )
