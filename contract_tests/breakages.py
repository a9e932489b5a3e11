"""Deliberately broken copies of the emulator, to prove the contract suites have teeth.

Each breakage is a small ASGI middleware around the real app that injects one fault a
vendor (or a regression) could introduce. `CONTRACT_BREAK=<name>` makes the in-process
target use it (test_teeth.py runs the suites that way and expects them to fail).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

App = Any
Message = dict[str, Any]


Edit = Callable[[int, list, bytes], tuple[int, list, bytes]]


def _rewrite(app: App, path: str, method: str | None, edit: Edit) -> App:
    """Buffer the responses to `method path` (any method if None) and pass them through `edit`."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != path or (method and scope["method"] != method):
            await app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status, headers, body = edit(start["status"], list(start.get("headers", [])), b"".join(chunks))
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return wrapped


def _json_edit(change: Callable[[Any], None]) -> Edit:
    def edit(status: int, headers: list, body: bytes) -> tuple[int, list, bytes]:
        if status < 300 and body:
            doc = orjson.loads(body)
            change(doc)
            body = orjson.dumps(doc)
        return status, headers, body

    return edit


def rename_field(app: App, key: str) -> App:
    """247xd GET /balance answers `coin` instead of `coins` (seed section 5)."""

    def change(doc: Any) -> None:
        doc["data"]["coin"] = doc["data"].pop("coins")

    return _rewrite(app, "/api/v1/balance", "GET", _json_edit(change))


def change_type(app: App, key: str) -> App:
    """USDTLowFee balanceSun as a string, as a JavaScript-minded backend might."""

    def change(doc: Any) -> None:
        doc["data"]["balanceSun"] = str(doc["data"]["balanceSun"])

    return _rewrite(app, "/v1/wallet/balance", "GET", _json_edit(change))


def change_status(app: App, key: str) -> App:
    """247xd POST /otp/orders answers 200 instead of 201 (seed section 6)."""

    def edit(status: int, headers: list, body: bytes) -> tuple[int, list, bytes]:
        return (200 if status == 201 else status), headers, body

    return _rewrite(app, "/api/v1/otp/orders", "POST", edit)


def drop_header(app: App, key: str) -> App:
    """Every 247xd response loses X-RateLimit-Remaining (seed section 3)."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/v1"):
            await app(scope, receive, send)
            return

        async def strip(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message["headers"] if k.lower() != b"x-ratelimit-remaining"]
                message = {
                    **message,
                    "headers": kept,
                }
            await send(message)

        await app(scope, receive, strip)

    return wrapped


def ignore_auth(app: App, key: str) -> App:
    """USDTLowFee serves any request as if it carried a valid key."""
    valid = f"ApiKey {key}".encode()

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
            scope = {**scope, "headers": [*headers, (b"authorization", valid)]}
        await app(scope, receive, send)

    return wrapped


def no_allow(app: App, key: str) -> App:
    """USDTLowFee answers a wrong method with 404 and no Allow header."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await app(scope, receive, send)
            return

        async def hide(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                headers = [(k, v) for k, v in message["headers"] if k.lower() != b"allow"]
                message = {**message, "status": 404, "headers": headers}
            await send(message)

        await app(scope, receive, hide)

    return wrapped


# name -> (API it breaks, middleware)
BREAKAGES: dict[str, tuple[str, Callable[[App, str], App]]] = {
    "rename-field": ("247xd", rename_field),
    "change-type": ("usdtlowfee", change_type),
    "change-status": ("247xd", change_status),
    "drop-header": ("247xd", drop_header),
    "ignore-auth": ("usdtlowfee", ignore_auth),
    "no-allow": ("usdtlowfee", no_allow),
}


def wrap(app: App, api: str, name: str | None, key: str) -> App:
    """The app with breakage `name` when it targets `api`; otherwise the app itself."""
    if name is None:
        return app
    if name not in BREAKAGES:
        raise ValueError(f"unknown breakage {name!r}; known: {', '.join(BREAKAGES)}")
    target_api, middleware = BREAKAGES[name]
    return middleware(app, key) if target_api == api else app
