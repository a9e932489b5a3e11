"""The dashboard's only way into the state: GET requests to the control plane's own
endpoints, made in-process through the whole app (middleware included), as a client would.

No backend object is touched here: what the pages show is exactly what
`GET /_emulator/...` answers, so the dashboard cannot drift from the control plane.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

import orjson

from emulator.core.http import exchange


class ControlAnswer(Exception):
    """A control-plane answer other than 200: its status and `error.message`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ControlReader:
    """GETs against one ASGI app (the emulator's own), answering parsed JSON."""

    __slots__ = ("app", "credentials")

    def __init__(self, app: Any, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
        self.app = app
        # The visitor's own credentials (the control token's cookie or header), so that the
        # page reads only what its visitor may (emulator/guard.py).
        self.credentials = [(k, v) for k, v in headers if k in (b"cookie", b"authorization")]

    async def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        query = urlencode({k: v for k, v in (params or {}).items() if v != ""}).encode()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query,
            "root_path": "",
            "headers": [(b"host", b"emulator"), (b"accept", b"application/json"), *self.credentials],
            "client": ("127.0.0.1", 0),
            "server": ("emulator", 80),
        }
        status, _, raw = await exchange(self.app, scope)
        if status != 200:
            try:
                message = orjson.loads(raw)["error"]["message"]
            except (orjson.JSONDecodeError, KeyError, TypeError):
                message = f"{path} answered {status}"
            raise ControlAnswer(status, str(message))
        return orjson.loads(raw)
