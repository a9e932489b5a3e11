"""A synchronous httpx transport that calls the ASGI app in the calling thread.

Starlette's TestClient hands every request to an event loop in another thread, which
costs about a millisecond a request. This transport drives the app on an event loop it
owns, in the caller's thread: an order's whole lifecycle takes a fraction of that. Use it
from synchronous code; from async code use `httpx.ASGITransport`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from emulator.core.faults import ConnectionDropped
from emulator.core.http import exchange


class InProcessTransport(httpx.BaseTransport):
    def __init__(self, app: Any, client: tuple[str, int] = ("127.0.0.1", 50000)) -> None:
        self.app = app
        self.client = client
        self._loop = asyncio.new_event_loop()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        url = request.url
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "query_string": url.query,
            "root_path": "",
            "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": self.client,
            "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
        }
        try:
            status, headers, content = self._loop.run_until_complete(exchange(self.app, scope, body))
        except ConnectionDropped as exc:  # a `drop` fault: what httpx says of a served one
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.") from exc
        if not status:
            # The app closed the connection without answering (e.g. a `drop` fault).
            raise httpx.RemoteProtocolError("the server closed the connection without a response")
        return httpx.Response(status, headers=headers, content=content, request=request)

    def close(self) -> None:
        if not self._loop.is_closed():
            self._loop.close()


def in_process_client(app: Any, base_url: str = "http://emulator", **kwargs: Any) -> httpx.Client:
    """An httpx.Client whose requests go straight into `app`."""
    return httpx.Client(transport=InProcessTransport(app), base_url=base_url, **kwargs)
