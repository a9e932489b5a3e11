"""One log line per API request: method, path, status, duration, the key redacted."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import queue
import signal
import subprocess
import sys
import threading

import httpx
import pytest
from starlette.testclient import TestClient

from emulator import config as config_mod
from emulator.app import create_app
from emulator.core.access import FLUSH_S, LOGGED, LOGGER, MAX_LINES, BufferedAccessLog
from emulator.logs import TEXT_FORMAT, JsonFormatter

from .conftest import FakeTimeLoop
from .served import serve

XD_KEY = "247xd_3769736d6939931e6de10def20d9a2483134d0c1"
HEADERS = {"Authorization": f"Bearer {XD_KEY}"}
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


# --- the buffered writer `emulator serve` uses (core/access.py) ----------------------------


class Stream(io.BytesIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.writes += 1
        return super().write(data)


def write_one(log: BufferedAccessLog, path: str = "/api/v1/balance", status: int | None = 200) -> None:
    log.write("247xd", "GET", path, status, 0.1234, "Bearer ****d0c1", None)


def test_lines_are_buffered_and_written_within_100_ms_in_one_write() -> None:
    stream = Stream()
    log = BufferedAccessLog(stream)
    loop = FakeTimeLoop()

    async def requests() -> None:
        for _ in range(3):
            write_one(log)

    try:
        loop.run_until_complete(requests())
        assert stream.getvalue() == b"" and len(log.lines) == 3
        loop.now += FLUSH_S - 0.01
        loop.run_until_complete(asyncio.sleep(0))
        assert stream.getvalue() == b""
        loop.now += 0.01
        loop.run_until_complete(asyncio.sleep(0))
        loop.run_until_complete(asyncio.sleep(0))
    finally:
        loop.close()
    assert stream.getvalue() == b"INFO emulator.access: GET /api/v1/balance 200 0.1ms Bearer ****d0c1\n" * 3
    assert stream.writes == 1 and log.lines == [] and log.timer is None


def test_a_full_buffer_is_written_at_once_and_flush_writes_the_rest() -> None:
    stream = Stream()
    log = BufferedAccessLog(stream)
    loop = FakeTimeLoop()

    async def requests() -> None:
        for _ in range(MAX_LINES + 5):
            write_one(log)

    try:
        loop.run_until_complete(requests())
    finally:
        loop.close()
    assert stream.writes == 1 and stream.getvalue().count(b"\n") == MAX_LINES
    log.flush()
    assert stream.writes == 2 and stream.getvalue().count(b"\n") == MAX_LINES + 5
    log.flush()
    assert stream.writes == 2  # nothing buffered: no write


def test_without_a_running_loop_a_line_is_written_at_once() -> None:
    stream = Stream()
    write_one(BufferedAccessLog(stream), status=None)
    assert stream.getvalue() == b"INFO emulator.access: GET /api/v1/balance dropped 0.1ms Bearer ****d0c1\n"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_buffered_lines_are_the_lines_the_logging_formats_write(fmt: str) -> None:
    """The served writer and the in-process logger path say the same, in both formats."""
    stream = Stream()
    BufferedAccessLog(stream, fmt).write("usdtlowfee", "POST", "/v1/x", 503, 2.34567, "-", "f_1")
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger(LOGGER)
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        LOGGED.write("usdtlowfee", "POST", "/v1/x", 503, 2.34567, "-", "f_1")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    (record,) = records
    written = stream.getvalue().decode()
    if fmt == "text":
        assert written == logging.Formatter(TEXT_FORMAT).format(record) + "\n"
    else:
        ours, theirs = json.loads(written), json.loads(JsonFormatter().format(record))
        assert ours.pop("time")[:16] == theirs.pop("time")[:16]  # the same minute, wall clock
        assert ours == theirs
        assert ours["durationMs"] == 2.346 and ours["faultId"] == "f_1" and ours["status"] == 503


def request_lines(stderr: str, fmt: str) -> list[str]:
    if fmt == "json":
        return [
            f"{r['method']} {r['path']} {r['status']}"
            for r in map(json.loads, stderr.splitlines())
            if r.get("logger") == LOGGER
        ]
    return [
        " ".join(line.split()[2:5])
        for line in stderr.splitlines()
        if line.startswith("INFO emulator.access:")
    ]


@pytest.mark.parametrize(("fmt", "stop"), [("text", signal.SIGTERM), ("json", signal.SIGINT)])
def test_a_clean_stop_writes_every_request_line(fmt: str, stop: signal.Signals) -> None:
    count = MAX_LINES + 88  # a full batch written on the way, the rest at the stop
    with serve("--log-format", fmt, "--rate-limit-247xd", "10000") as served:
        assert served.process.stderr is not None
        stderr = served.process.stderr
        chunks: list[str] = []
        reader = threading.Thread(target=lambda: chunks.extend(iter(stderr.readline, "")), daemon=True)
        reader.start()  # a pipe nobody reads would stall the server once full
        with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {XD_KEY}"}) as http:
            for n in range(count):
                assert http.get(f"/api/v1/otp/orders/{n}").status_code == 404
        served.process.send_signal(stop)
        # uvicorn stops gracefully, then re-raises the signal: SIGTERM ends the process by
        # it, SIGINT is a KeyboardInterrupt the CLI turns into exit status 130, no traceback.
        assert served.process.wait(timeout=20) == (-stop if stop == signal.SIGTERM else 130)
        reader.join(timeout=20)
    assert request_lines("".join(chunks), fmt) == [f"GET /api/v1/otp/orders/{n} 404" for n in range(count)]


def test_a_running_server_writes_its_lines_without_being_stopped() -> None:
    with serve() as served:
        assert served.process.stderr is not None
        stderr = served.process.stderr
        found: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            for line in iter(stderr.readline, ""):
                if line.startswith("INFO emulator.access:"):
                    found.put(line)

        threading.Thread(target=pump, daemon=True).start()
        httpx.get(f"{served.url}/api/v1/balance", headers={"Authorization": f"Bearer {XD_KEY}"})
        # Waits for the server's flush timer (100 ms), not a fixed time: the line is read as
        # soon as it is written.
        line = found.get(timeout=10)
        assert served.process.poll() is None
    assert line == "INFO emulator.access: GET /api/v1/balance 200 " + line.split()[5] + " Bearer ****d0c1\n"


def test_at_warning_a_served_emulator_writes_no_access_line() -> None:
    with serve("--log-level", "warning") as served:
        assert httpx.get(f"{served.url}/api/v1/balance").status_code == 401
        served.process.terminate()
        served.process.wait(timeout=20)
        assert served.process.stderr is not None
        assert "emulator.access" not in served.process.stderr.read()


def test_the_server_writes_the_buffered_lines_when_it_shuts_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stop flush alone: uvicorn serving in this process, the batch timer set too far
    off to fire; the lines are written when the server has shut down, not before."""
    import socket

    import uvicorn

    from emulator.cli import build_server
    from emulator.core import access

    monkeypatch.setattr(access, "FLUSH_S", 3600.0)
    stream = Stream()
    log = BufferedAccessLog(stream)
    app = create_app(config_mod.Config(rate_limit_247xd=1000), access=log)
    server = build_server(uvicorn.Config(app, log_level="warning", lifespan="off"), log)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]

    async def run() -> None:
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            await asyncio.sleep(0)  # yields to the server's start-up; no time passes here
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            for n in range(3):
                assert (await http.get(f"/api/v1/otp/orders/{n}", headers=HEADERS)).status_code == 404
        assert stream.writes == 0 and len(log.lines) == 3
        server.should_exit = True
        await serving

    try:
        asyncio.run(run())
    finally:
        sock.close()
    written = stream.getvalue().decode().splitlines()
    assert stream.writes == 1 and [" ".join(line.split()[2:5]) for line in written] == [
        f"GET /api/v1/otp/orders/{n} 404" for n in range(3)
    ]
