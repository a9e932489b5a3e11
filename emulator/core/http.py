"""Bodies in (size limit, Content-Type, JSON objects only) and one request through an
ASGI app in the calling task, for in-process clients."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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
# (second, the header, its line): formatted once a second, swapped whole.
_date: tuple[int, tuple[bytes, bytes], bytes] = (-1, (b"date", b""), b"")
# The scope key under which a server may offer a `Responder` (emulator/server.py does).
RESPONDER = "emulator.responder"
# The scope key under which a server may put a request's whole body (a bytearray) that
# had arrived before the app ran: no `receive` to await for it (emulator/server.py).
ARRIVED_BODY = "emulator.body"


# Responder(status, head, body) -> bool: write the answer, `status`, the header lines
# `head` (each `name: value\r\n`, names in lower case, a Content-Length that is the
# body's, no Connection or Transfer-Encoding) after the server's own, and `body` (left out
# for HEAD), in one call. False, having written nothing, when the server would rather get
# the ASGI messages (a connection to close, a paused transport, ...): the caller sends
# them instead.
Responder = Callable[[int, bytes, bytes], bool]


def _dated(second: int) -> tuple[int, tuple[bytes, bytes], bytes]:
    global _date
    value = formatdate(second, usegmt=True).encode()
    _date = (second, (b"date", value), b"date: " + value + b"\r\n")
    return _date


def date_header(now_us: int) -> tuple[bytes, bytes]:
    """`Date` at an instant of the emulator clock (SPEC "HTTP details": `X-RateLimit-Reset -
    Date` is the true wait, also when the clock is frozen, advanced or the account's own)."""
    second = now_us // _US_PER_S
    cached = _date
    return (cached if cached[0] == second else _dated(second))[1]


def date_line(now_us: int) -> bytes:
    """`date_header` as a header line (`date: ...\r\n`), for a `Responder`."""
    second = now_us // _US_PER_S
    cached = _date
    return (cached if cached[0] == second else _dated(second))[2]


class BodyError(Exception):
    """The body cannot be read as a JSON object (-> the API's BAD_REQUEST, with `status`)."""

    status = 400


class BodyTimeout(BodyError):
    """The body stalled: not complete within BODY_TIMEOUT_S (-> 408, connection closed)."""

    status = 408


class _Deadlines:
    """Body reads in progress and when each must end, watched by one timer per loop.

    `asyncio.timeout` per request costs a timer handle, a context object and a reschedule
    (~14% of a POST); here a read costs a dict entry. The timer runs at the earliest
    deadline and cancels the reads past theirs; with one fixed timeout it fires about
    once per timeout, not once per request."""

    __slots__ = ("reads", "expired", "timer")

    def __init__(self) -> None:
        self.reads: dict[asyncio.Task[Any], float] = {}
        self.expired: set[asyncio.Task[Any]] = set()
        self.timer: asyncio.TimerHandle | None = None

    def watch(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], deadline: float) -> None:
        self.reads[task] = deadline
        timer = self.timer
        if timer is None or deadline < timer.when():
            if timer is not None:
                timer.cancel()
            self.timer = loop.call_at(deadline, self._sweep, loop)

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        self.timer = None
        now = loop.time()
        for task, deadline in list(self.reads.items()):
            if deadline <= now:
                del self.reads[task]
                self.expired.add(task)
                task.cancel()
        if self.reads:
            self.timer = loop.call_at(min(self.reads.values()), self._sweep, loop)


_deadlines: dict[asyncio.AbstractEventLoop, _Deadlines] = {}


async def read_body(receive: Receive, limit: int = MAX_BODY, timeout_s: float | None = None) -> bytes:
    """The whole body, within `timeout_s` (default BODY_TIMEOUT_S, looked up per call)."""
    if timeout_s is None:
        timeout_s = BODY_TIMEOUT_S
    task = asyncio.current_task()
    if task is None:  # driven outside a task (no loop to time it): read without a deadline
        return await _read(receive, limit)
    loop = task.get_loop()
    deadlines = _deadlines.get(loop)
    if deadlines is None:
        deadlines = _deadlines[loop] = _Deadlines()
        if len(_deadlines) > 64:  # loops of finished tests: keep the live one only
            for other in [other for other in _deadlines if other.is_closed()]:
                del _deadlines[other]
    deadlines.watch(loop, task, loop.time() + timeout_s)
    try:
        return await _read(receive, limit)
    except asyncio.CancelledError:
        if task not in deadlines.expired:
            raise
        deadlines.expired.discard(task)
        task.uncancel()
        raise BodyTimeout(f"the body did not arrive within {timeout_s:g} s") from None
    finally:
        deadlines.reads.pop(task, None)


async def _read(receive: Receive, limit: int) -> bytes:
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
        raise BodyError(_larger_than(limit))
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _larger_than(limit: int) -> str:
    return f"the body is larger than {limit // 1024} KiB"


def arrived_body(scope: Scope, limit: int = MAX_BODY) -> bytes | None:
    """The whole body, if the server put it in the scope (ARRIVED_BODY: it had all arrived
    before the app ran, emulator/server.py); else None: read it with `read_body`."""
    arrived: bytearray | None = scope.get(ARRIVED_BODY)
    if arrived is None:
        return None
    if len(arrived) > limit:
        raise BodyError(_larger_than(limit))
    return bytes(arrived)


async def read_body_quietly(receive: Receive) -> bytes:
    """The body for the journal only, on paths that did not read it: never fails."""
    try:
        return await read_body(receive)
    except BodyError:
        return b""


def content_type_is_json(headers: Headers) -> bool:
    for name, value in headers:
        if name == b"content-type":
            return is_json_media(value)
    return False


def is_json_media(content_type: bytes) -> bool:
    """A Content-Type value naming application/json (parameters and case aside)."""
    return content_type.split(b";", 1)[0].strip().lower() == b"application/json"


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
