"""uvicorn's HTTP protocol with a bound on a request's head (docs/limits.md), a
response head written with its body in one write, and one keep-alive timer per
connection instead of one per answer.

httptools (llhttp), uvicorn's parser whenever it is installed, buffers a request line
and headers of any size: a 64 MiB header cost the server 60 MB. The Gateway answers 431
in the surface's envelope above MAX_HEADER_BYTES (core/http.py), but only once the whole
head has arrived; this cuts the connection while it is still arriving.

uvicorn writes a response's head as soon as `http.response.start` arrives and its body
with the next message: two writes (two `send` system calls) per answer, and two regex
searches per header. `coalescing_send` (docs/speed.md) makes the same bytes: it holds
the head until the body and writes both at once, and checks the header names and values
with one `bytes.translate` each, which refuses exactly the bytes uvicorn's patterns do.
Anything else (a streamed or chunked body, HEAD, flow control, uvicorn's own access
log) leaves the head to uvicorn's own `send` after writing what was held.

Each cycle is a `FastCycle` (made by uvicorn's own `on_headers_complete`, run with it in
place of uvicorn's class): `coalescing_send` as its `send`, and its `respond` in the scope
as the app's Responder (core/http.py): the API pipelines hand it the status, header lines
they vouch for and the body, and it writes them in one call, with no ASGI messages, no
header list and no checks per header (the same bytes: tests/test_server_protocol.py).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine, Generator
from types import FunctionType, SimpleNamespace, coroutine
from typing import Any

from uvicorn.protocols.http.httptools_impl import (
    HEADER_RE,
    HEADER_VALUE_RE,
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)

from emulator.core.http import ARRIVED_BODY, MAX_HEADER_BYTES, RESPONDER

# Bytes that may arrive outside a body before the head is cut. Counted per read, so
# the tail of a body read with the next pipelined head counts too: far above
# MAX_HEADER_BYTES, so that only a head that nothing could serve reaches it.
HEAD_CAP = 32 * MAX_HEADER_BYTES  # 1 MiB
_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 38\r\nconnection: close\r\n\r\nthe request headers are far too large\n"
)


# Before uvicorn 0.53 a cycle is kept alive whatever the request said, and uvicorn's `send`
# adds `connection: close` to the answer of a request that sent it (and then closes): such
# a request is left to that `send` there. From 0.53 the cycle's `keep_alive` says it.
_CLOSE = (b"connection", b"close")
_CLOSE_IN_SEND = "should_keep_alive" not in HttpToolsProtocol.on_headers_complete.__code__.co_names


def _kept_alive(cycle: RequestResponseCycle) -> bool:
    """Whether the answer leaves the connection open, as uvicorn's `send` would."""
    return cycle.keep_alive and not (_CLOSE_IN_SEND and _CLOSE in cycle.scope["headers"])

# Header names already checked against HEADER_RE, each to its lower case: a handful (the
# APIs' own, Starlette's), each searched and lowered once; bounded for an app that could
# make it grow. `connection` and `transfer-encoding` are never in it (left to uvicorn).
_GOOD_NAMES: dict[bytes, bytes] = {}
_MAX_NAMES = 256
# Each byte to 0 where HEADER_VALUE_RE would match it, else to 1: one C pass over the
# joined values (a regex search costs ~60 instructions a byte).
_VALUE_BYTES = bytes(0 if HEADER_VALUE_RE.search(bytes([b])) else 1 for b in range(256))
_stock_send = RequestResponseCycle.send


def _head(cycle: RequestResponseCycle, message: Any) -> bytes | None:
    """The response head uvicorn writes for `message` (its `send`, byte for byte), with
    the cycle's state set as its `send` sets it; or None, having changed nothing, for
    whatever this leaves to uvicorn's own `send`: a connection not kept alive, a header
    uvicorn refuses or treats specially (`connection`, `transfer-encoding`), no
    Content-Length (chunked), anything malformed (uvicorn raises its own error for it, at
    its own point)."""
    if not _kept_alive(cycle):
        return None  # HTTP/1.0, or closing: how to say so has changed between uvicorn versions
    try:
        status_line = STATUS_LINE.get(message.get("status"))
        headers = message.get("headers", ())
        if status_line is None or type(headers) not in (list, tuple):
            return None
        content = [status_line]
        length = None
        good = _GOOD_NAMES
        for name, value in (*cycle.default_headers, *headers):
            lowered = good.get(name)
            if lowered is None:
                if type(name) is not bytes or HEADER_RE.search(name):
                    return None
                lowered = name.lower()
                if lowered == b"transfer-encoding" or lowered == b"connection":
                    return None
                if len(good) < _MAX_NAMES:
                    good[name] = lowered
            if lowered == b"content-length" and length is None:
                length = int(value.decode())
            content += (lowered, b": ", value, b"\r\n")
        if length is None and cycle.scope["method"] != "HEAD" and message["status"] not in (204, 304):
            return None  # uvicorn sends it chunked
        # A byte refused in one value is refused in all of them joined.
        if 0 in b"".join(content[3::4]).translate(_VALUE_BYTES):
            return None
    except (TypeError, ValueError, AttributeError):
        return None
    if length is not None:
        cycle.expected_content_length = length
        cycle.chunked_encoding = False
    content.append(b"\r\n")
    cycle.response_started = True
    cycle.waiting_for_100_continue = False
    return b"".join(content)


def _complete(cycle: RequestResponseCycle, data: bytes) -> None:
    """Write the rest of a started answer, whole, and end the cycle as uvicorn's `send`
    does after the last body."""
    cycle.expected_content_length = 0
    cycle.transport.write(data)
    cycle.response_complete = True
    cycle.message_event.set()
    if not cycle.keep_alive:
        cycle.transport.close()
    cycle.on_response()


async def coalescing_send(cycle: FastCycle, message: Any) -> None:
    """uvicorn's `send`, with the head held back and written with a whole body."""
    held = cycle.held
    if held is None:
        if (
            message["type"] == "http.response.start" and not cycle.response_started and not cycle.disconnected
            and not cycle.flow.write_paused and not cycle.access_log
        ):
            held = cycle.held = _head(cycle, message)
            if held is not None:
                return
        await _stock_send(cycle, message)
        return
    cycle.held = None
    if cycle.disconnected:
        return  # as uvicorn: nothing more is written
    if message["type"] == "http.response.body" and not message.get("more_body", False) \
            and not cycle.flow.write_paused:
        body = message.get("body", b"")
        if cycle.scope["method"] == "HEAD":
            _complete(cycle, held)
        elif len(body) == cycle.expected_content_length:
            _complete(cycle, held + body)
        else:
            cycle.transport.write(held)
            await _stock_send(cycle, message)  # too long or short: uvicorn raises
        return
    cycle.transport.write(held)
    await _stock_send(cycle, message)


_defaults: tuple[object, bytes | None] = (None, None)  # (the server's default headers, as lines)


def _default_lines(headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The server's own headers (`server: uvicorn`, --header) as uvicorn's `send` writes
    them; None if any is one `respond` leaves to it. Made once per list."""
    global _defaults
    cached = _defaults
    if cached[0] is headers:
        return cached[1]
    lines: bytes | None = b"".join(name.lower() + b": " + value + b"\r\n" for name, value in headers)
    for name, value in headers:
        if HEADER_RE.search(name) or 0 in value.translate(_VALUE_BYTES) or name.lower() in (
            b"connection", b"transfer-encoding", b"content-length",
        ):
            lines = None
    _defaults = (headers, lines)
    return lines


def respond(cycle: RequestResponseCycle, status: int, head: bytes, body: bytes) -> bool:
    """The cycle's Responder (core/http.py: RESPONDER), bound to it: what `coalescing_send`
    does with a start and a whole body, for header lines the caller vouches for, with no
    ASGI messages, no header list and no checks per header. False, having written
    nothing, for whatever it would leave to uvicorn's `send`, or once a start was sent."""
    if (
        cycle.response_started or cycle.disconnected or cycle.flow.write_paused or cycle.access_log
        or not _kept_alive(cycle)
    ):
        return False
    status_line = STATUS_LINE.get(status)
    defaults = _default_lines(cycle.default_headers)
    if status_line is None or defaults is None:
        return False
    cycle.response_started = True
    cycle.waiting_for_100_continue = False
    cycle.chunked_encoding = False
    if cycle.scope["method"] == "HEAD":
        _complete(cycle, b"".join((status_line, defaults, head, b"\r\n")))
    else:
        _complete(cycle, b"".join((status_line, defaults, head, b"\r\n", body)))
    return True


class FastCycle(RequestResponseCycle):
    """uvicorn's cycle with `coalescing_send` as its `send` and `respond` as the app's
    Responder. Made by uvicorn's own `on_headers_complete` (`_on_headers_complete`): a
    cycle made as uvicorn's and then given attributes or a class of its own keeps them in
    a dict instead of its fast slots, and every later access to them is slower."""

    send = coalescing_send
    held: bytes | None = None
    respond = respond


class MessageEvent:
    """asyncio.Event as a cycle uses it (set, clear, is_set, wait), made for nothing: no
    __init__ of its own, its waiters' list only once someone waits (a whole request that
    was answered at once never does). An asyncio.Event costs ~2,900 instructions a
    request to make."""

    _value = False
    _waiters: list[asyncio.Future[bool]] | None = None

    def is_set(self) -> bool:
        return self._value

    def set(self) -> None:
        if not self._value:
            self._value = True
            for waiter in self._waiters or ():
                if not waiter.done():
                    waiter.set_result(True)

    def clear(self) -> None:
        self._value = False

    async def wait(self) -> bool:
        if self._value:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
            return True
        finally:
            self._waiters.remove(waiter)


# uvicorn's HttpToolsProtocol.on_headers_complete, its very code, with FastCycle where it
# names RequestResponseCycle and a MessageEvent for its asyncio.Event: what uvicorn does on
# every head, whatever its version.
_uvicorn_headers_complete = HttpToolsProtocol.on_headers_complete
_on_headers_complete = FunctionType(
    _uvicorn_headers_complete.__code__,
    {
        **_uvicorn_headers_complete.__globals__,
        "RequestResponseCycle": FastCycle,
        "asyncio": SimpleNamespace(**{**vars(asyncio), "Event": MessageEvent}),
    },
    "on_headers_complete",
    _uvicorn_headers_complete.__defaults__,
    _uvicorn_headers_complete.__closure__,
)


@coroutine
def _resume(coro: Coroutine[Any, Any, None], yielded: Any) -> Generator[Any, Any, None]:
    """The rest of `coro`, whose first step has run and yielded `yielded`: what
    `yield from coro` does from there on, for a task to run."""
    while True:
        try:
            sent = yield yielded
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:  # noqa: BLE001 - thrown in by the task (cancellation)
            try:
                yielded = coro.throw(exc)
            except StopIteration:
                return
        else:
            try:
                yielded = coro.send(sent)
            except StopIteration:
                return


class BoundedHttpTools(HttpToolsProtocol):
    _head = 0
    _in_body = False
    # Paths whose requests may run at once in `data_received` instead of in a task
    # (`_start_asgi_task`): the API pipelines', which never need a current task.
    eager_prefixes: tuple[str, ...] = ()
    # (the app uvicorn serves, what it runs for a request under those prefixes): the
    # latter straight, without the app's own frame (see `protocol`).
    eager_shortcut: tuple[Any, Any] | None = None
    _feeding = False
    _deferred: tuple[RequestResponseCycle, Any] | None = None

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        if self._feeding and self._deferred is None and self.eager_prefixes:
            path: str = cycle.scope["path"]
            if path.startswith(self.eager_prefixes) or path + "/" in self.eager_prefixes:
                self._deferred = (cycle, app)
                return
        super()._start_asgi_task(cycle, app)

    def _run_now(self, cycle: RequestResponseCycle, app: Any) -> None:
        """The request whose head arrived in this read: run at once if the whole of it has
        arrived too, up to its first wait (a whole GET or POST usually never waits); the
        rest, if any, as a task. A body still arriving goes to a task from the start."""
        if cycle.more_body or self.transport.is_closing():
            super()._start_asgi_task(cycle, app)
            return
        if cycle.body and not cycle.waiting_for_100_continue:
            # All of it is here: the app may take it from the scope (core/http.py).
            cycle.scope[ARRIVED_BODY] = cycle.body  # type: ignore[literal-required]
        reset = getattr(self.config, "reset_contextvars", False)
        context = contextvars.Context() if reset else contextvars.copy_context()
        shortcut = self.eager_shortcut
        if shortcut is not None and app is shortcut[0]:
            app = shortcut[1]
        coro = cycle.run_asgi(app)
        try:
            yielded = context.run(coro.send, None)
        except StopIteration:
            return
        task = self.loop.create_task(_resume(coro, yielded), context=context)
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)

    def on_headers_complete(self) -> None:
        self._in_body = True
        _on_headers_complete(self)  # uvicorn's, making a FastCycle
        cycle = self.cycle
        if type(cycle) is FastCycle:
            cycle.scope[RESPONDER] = cycle.respond  # type: ignore[literal-required]

    def on_message_complete(self) -> None:
        self._in_body = False
        self._head = 0
        HttpToolsProtocol.on_message_complete(self)  # not super(): a frame fewer

    # The keep-alive timeout. uvicorn arms a timer after every answer and cancels it when
    # the next request's bytes arrive: a timer made and dropped per request. Here the
    # connection notes when it went idle (`_idle_since`, None while a request is under
    # way) and keeps one timer, which on firing closes a connection idle for the whole
    # timeout, re-arms itself for what is left of it, or (busy) lapses until the next
    # answer: the same deadline, one timer per timeout instead of one per request.
    _idle_since: float | None = None

    def _unset_keepalive_if_required(self) -> None:
        self._idle_since = None

    def on_response_complete(self) -> None:
        """uvicorn's, with the keep-alive timer kept (see `_idle_since`). A pipelined
        request waiting, or a connection closing, is left to uvicorn's own."""
        if self.pipeline or self.transport.is_closing():
            super().on_response_complete()  # it calls _unset_keepalive_if_required: busy
            return
        self.server_state.total_requests += 1
        self.flow.resume_reading()
        self._idle_since = self.loop.time()
        if self.timeout_keep_alive_task is None:
            self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self._keep_alive_due)

    def _keep_alive_due(self) -> None:
        self.timeout_keep_alive_task = None
        idle_since = self._idle_since
        if idle_since is None:
            return  # a request is under way: its answer arms the timer again
        left = idle_since + self.timeout_keep_alive - self.loop.time()
        if left > 0:
            self.timeout_keep_alive_task = self.loop.call_later(left, self._keep_alive_due)
        else:
            self.timeout_keep_alive_handler()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.timeout_keep_alive_task is not None:
            self.timeout_keep_alive_task.cancel()
            self.timeout_keep_alive_task = None

    def data_received(self, data: bytes) -> None:
        self._feeding = True
        try:
            HttpToolsProtocol.data_received(self, data)  # not super(): a frame fewer
        finally:
            self._feeding = False
        deferred = self._deferred
        if deferred is not None:
            self._deferred = None
            self._run_now(*deferred)
        if not self._in_body and not self.transport.is_closing():
            self._head += len(data)
            if self._head > HEAD_CAP:
                self.transport.write(_TOO_LARGE)
                self.transport.close()


def protocol(
    eager_prefixes: tuple[str, ...] = (), shortcut: tuple[Any, Any] | None = None
) -> type[asyncio.Protocol]:
    """The protocol for uvicorn.Config(http=...): httptools bounded, or h11 (which bounds
    the head itself, to h11_max_incomplete_event_size) when httptools is missing.
    `eager_prefixes`: see BoundedHttpTools. `shortcut`: (app, inner): a request under
    those prefixes for `app` is run by `inner` instead (the emulator's API front, which
    `app` would call and nothing else: emulator/app.py's `EmulatorApp.api_front`)."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    if not issubclass(AutoHTTPProtocol, HttpToolsProtocol):
        return AutoHTTPProtocol
    if not eager_prefixes:
        return BoundedHttpTools
    prefixes = tuple(p + "/" for p in eager_prefixes)
    attributes = {"eager_prefixes": prefixes, "eager_shortcut": shortcut}
    return type("EagerHttpTools", (BoundedHttpTools,), attributes)
