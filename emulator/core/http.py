"""Bodies in (size limit, Content-Type, JSON objects only) and one request through an
ASGI app in the calling task, for in-process clients."""

from __future__ import annotations

import asyncio
from email.utils import formatdate
from typing import Any

import orjson

from .types import ASGIApp, Headers, Message, Receive, Scope

MAX_BODY = 64 * 1024
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
    """The body cannot be read as a JSON object (-> the API's BAD_REQUEST)."""


async def read_body(receive: Receive, limit: int = MAX_BODY) -> bytes:
    chunks: list[bytes] = []
    size = 0
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
