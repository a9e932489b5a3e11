"""Log set-up for `emulator serve`: one line per record, as text or as JSON (for CI).

Served, the access lines bypass `logging` (emulator/core/access.py writes them in batches,
formatted as these formats would); in-process they are records of the `emulator.access`
logger at info level, with `extra` fields that the JSON format emits as keys of their own:
api, method, path, status, durationMs, key (redacted), faultId.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson

FORMATS = ("text", "json")
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"
# The fields the request path puts on its records (emulator/core/access.py).
REQUEST_FIELDS = ("api", "method", "path", "status", "durationMs", "key", "faultId")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, wall clock: when it was logged, not the
    emulator's clock), level, logger, message, and the request fields when present."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in REQUEST_FIELDS:
            if name in record.__dict__:
                line[name] = record.__dict__[name]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


def configure(level: str, fmt: str = "text") -> None:
    """The root logger writes to stderr at `level`, in `fmt`; uvicorn's own loggers
    propagate to it when the format is JSON (cli.py gives uvicorn no config then)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
