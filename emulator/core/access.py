"""The access log: one line per API request, as text or as a JSON object.

The pipeline calls `write(api, method, path, status, duration_ms, key, fault_id)` once per
request (the key already redacted). `BufferedAccessLog` (what `emulator serve` uses)
formats the line there and then and keeps it in memory; the batch is written with one
`write` at most 100 ms later on the server's loop, as soon as it holds `MAX_LINES` lines,
and by `flush()` (the CLI calls it when the server stops and at exit). No LogRecord, no
handler lock, no syscall per line: the `logging` module's path cost ~40% of a GET.
`LoggedAccessLog` (in-process apps, the pytest plugin) sends each line through the
`emulator.access` logger instead, so `caplog` and the host's own log set-up see it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import IO, Protocol

import orjson

from .clock import wall_us

LOGGER = "emulator.access"
FLUSH_S = 0.1
MAX_LINES = 512
FORMATS = ("text", "json")

access = logging.getLogger(LOGGER)
_INFO = logging.INFO


class AccessLog(Protocol):
    # True: `enabled()` is always true, and the request path does not call it.
    always: bool

    def enabled(self) -> bool:
        """Whether a line would be written now (nothing is built when not)."""
        ...

    def write(
        self, api: str, method: str, path: str, status: int | None, duration_ms: float, key: str,
        fault_id: str | None,
    ) -> None:
        """One request's line; `status` None: the connection was dropped; `key` redacted."""
        ...


# A duration as the log shows it, rounded half up to 0.1 ms: "0.0" to "99.9" made once.
_TENTHS_BYTES = [f"{tenths // 10}.{tenths % 10}".encode() for tenths in range(1000)]


def ms_text(duration_ms: float) -> str:
    tenths = int(duration_ms * 10 + 0.5)
    return f"{tenths // 10}.{tenths % 10}"


def message(method: str, path: str, status: int | None, duration_ms: float, key: str) -> str:
    shown = "dropped" if status is None else status
    return f"{method} {path} {shown} {ms_text(duration_ms)}ms {key}"


class LoggedAccessLog:
    """Each line as a record of the `emulator.access` logger at info level, the fields as
    the record's `extra` attributes (emulator/logs.py's JSON format emits them as keys)."""

    always = False

    def enabled(self) -> bool:
        return access.isEnabledFor(_INFO)

    def write(
        self, api: str, method: str, path: str, status: int | None, duration_ms: float, key: str,
        fault_id: str | None,
    ) -> None:
        access.info(
            "%s", message(method, path, status, duration_ms, key),
            extra={
                "api": api, "method": method, "path": path, "status": status,
                "durationMs": round(duration_ms, 3), "key": key, "faultId": fault_id,
            },
        )


LOGGED = LoggedAccessLog()


class BufferedAccessLog:
    """Lines formatted as emulator/logs.py formats records (same text, same JSON keys),
    kept in memory and written to the binary `stream` in batches."""

    __slots__ = (
        "stream", "json", "lines", "timer", "_ms", "_second", "_stamp", "_time_text", "_heads", "_tails",
    )
    always = True
    # The text line's start (`INFO emulator.access: GET /api/v1/balance 200 `) per
    # (method, path, status), and its end (`ms Bearer ****d0c1\n`) per shown key: made
    # once, so a line is three bytes objects joined. Bounded: cleared when full.
    MAX_CACHED = 1024

    def __init__(self, stream: IO[bytes], fmt: str = "text") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"log format must be one of {', '.join(FORMATS)}")
        self.stream = stream
        self.json = fmt == "json"
        self.lines: list[bytes] = []
        self.timer: asyncio.TimerHandle | None = None
        self._ms = -1
        self._second = -1
        self._stamp = ""
        self._time_text = ""
        self._heads: dict[tuple[str, str, int | None], bytes] = {}
        self._tails: dict[str, bytes] = {}

    def enabled(self) -> bool:
        return True

    def write(
        self, api: str, method: str, path: str, status: int | None, duration_ms: float, key: str,
        fault_id: str | None,
    ) -> None:
        if self.json:
            line = orjson.dumps(
                {
                    "time": self._time(), "level": "info", "logger": LOGGER,
                    "message": message(method, path, status, duration_ms, key),
                    "api": api, "method": method, "path": path, "status": status,
                    "durationMs": int(duration_ms * 1000 + 0.5) / 1000, "key": key, "faultId": fault_id,
                },
                option=orjson.OPT_APPEND_NEWLINE,
            )
        else:
            heads = self._heads
            head = heads.get((method, path, status))
            if head is None:
                if len(heads) >= self.MAX_CACHED:
                    heads.clear()
                shown = "dropped" if status is None else status
                head = heads[(method, path, status)] = f"INFO {LOGGER}: {method} {path} {shown} ".encode(
                    "utf-8", "backslashreplace"
                )
            tail = self._tails.get(key)
            if tail is None:
                if len(self._tails) >= self.MAX_CACHED:
                    self._tails.clear()
                tail = self._tails[key] = f"ms {key}\n".encode("utf-8", "backslashreplace")
            tenths = int(duration_ms * 10 + 0.5)
            shown_ms = _TENTHS_BYTES[tenths] if 0 <= tenths < 1000 else ms_text(duration_ms).encode()
            line = head + shown_ms + tail
        lines = self.lines
        lines.append(line)
        if self.timer is None:
            try:
                self.timer = asyncio.get_running_loop().call_later(FLUSH_S, self.flush)
            except RuntimeError:  # no loop running (a synchronous caller): write now
                self.flush()
        elif len(lines) >= MAX_LINES:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered, in one write."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not self.lines:
            return
        data = b"".join(self.lines)
        self.lines.clear()
        try:
            self.stream.write(data)
            self.stream.flush()
        except (OSError, ValueError):  # stderr closed or gone: the lines have nowhere to go
            pass

    def _time(self) -> str:
        """Wall-clock UTC time with milliseconds, as logs.JsonFormatter writes it; the
        text once per millisecond, its seconds part once per second."""
        ms = wall_us() // 1000
        if ms != self._ms:
            self._ms = ms
            second, milli = divmod(ms, 1000)
            if second != self._second:
                self._second = second
                self._stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._time_text = f"{self._stamp}.{milli:03d}+00:00"
        return self._time_text
