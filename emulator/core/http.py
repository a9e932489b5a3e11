"""Bodies in (size limit, Content-Type, JSON objects only) and one request through an
ASGI app in the calling task, for in-process clients."""

from __future__ import annotations

import asyncio
from email.utils import formatdate
from typing import Any

import orjson

from .types import ASGIApp, Headers, Message, Receive, Scope

MAX_BODY = 64 * 1024
# A request's target and headers, at most (docs/limits.md): over it -> 431. Browsers and
# proxies cap headers at 8-64 KiB; a client of these APIs sends well under 1 KiB.
MAX_HEADER_BYTES = 32 * 1024
# A body that has not fully arrived this many seconds after the handler starts reading it
# is cut (408): a client that stalls must not hold a request (and its lock-free wait) forever.
BODY_TIMEOUT_S = 10.0
_US_PER_S = 1_000_000
_date: tuple[int, tuple[bytes, bytes]] = (-1, (b"date", b""))  # formatted once a second, swapped whole


def date_header(now_us: int) -> tuple[bytes, bytes]:
    """`Date` at an instant of the emulator clock (SPEC "HTTP details": `X-RateLimit-Reset -
    Date` is the true wait, also when the clock is frozen, advanced or the account's own)."""
    global _date
    second = now_us // _US_PER_S
    cached = _date
    if cached[0] != second:
        cached = _date = (second, (b"date", formatdate(second, usegmt=True).encode()))
    return cached[1]


class BodyError(Exception):
    """The body cannot be read as a JSON object (-> the API's BAD_REQUEST, with `status`)."""

    status = 400


class BodyTimeout(BodyError):
    """The body stalled: not complete within BODY_TIMEOUT_S (-> 408, connection closed)."""

    status = 408


def header_bytes(scope: Scope) -> int:
    """The size of a request's target (path and query, as sent) and its header names and values."""
    size = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
    for name, value in scope["headers"]:
        size += len(name) + len(value)
    return size


async def read_body(receive: Receive, limit: int = MAX_BODY, timeout_s: float | None = None) -> bytes:
    """The whole body, within `timeout_s` (default BODY_TIMEOUT_S, looked up per call)."""
    if timeout_s is None:
        timeout_s = BODY_TIMEOUT_S
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise BodyError("the client went away")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size <= limit:
                    chunks.append(chunk)
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        raise BodyTimeout(f"the body did not arrive within {timeout_s:g} s") from None
    if size > limit:
        raise BodyError(f"the body is larger than {limit // 1024} KiB")
    return b"".join(chunks)


async def read_body_quietly(receive: Receive) -> bytes:
    """The body for the journal only, on paths that did not read it: never fails."""
    try:
        return await read_body(receive)
    except BodyError:
        return b""


def content_type_is_json(headers: Headers) -> bool:
    for name, value in headers:
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json"
    return False


def parse_json_object(raw: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BodyError("the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise BodyError("the body must be a JSON object")
    return value


async def exchange(app: ASGIApp, scope: Scope, body: bytes = b"") -> tuple[int, Headers, bytes]:
    """One request through an ASGI app in the calling task: (status, headers, body).

    The request body is received once; after it, `receive` waits until the response is
    complete and then reports the disconnect, as a server does: a response that streams
    while listening for a disconnect (Starlette's FileResponse) gets the whole way out.
    A status of 0 means the app answered nothing (it dropped the connection).
    """
    status = 0
    headers: Headers = []
    chunks: list[bytes] = []
    received = False
    done = asyncio.Event()

    async def receive() -> Message:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers.extend(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    try:
        await app(scope, receive, send)
    finally:
        done.set()
    return status, headers, b"".join(chunks)
