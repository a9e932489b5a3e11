"""emulator/server.py's protocol against uvicorn's own: the same bytes on the wire.

`BoundedHttpTools` replaces each cycle's `send` with `coalescing_send` (the head held
until the body, written with it; header checks without a regex per header). These tests
feed the same requests to uvicorn's stock `HttpToolsProtocol` and to ours over a
recording transport and compare what each wrote, and whether each closed the
connection: for the emulator's own answers, for Starlette's, and for generated header
lists and bodies, malformed ones included (uvicorn refuses those; so must we, the same way).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from emulator.server import BoundedHttpTools, coalescing_send, protocol

from .conftest import XD_DEMO_KEY, FakeTimeLoop

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
GET = b"GET /api/v1/balance HTTP/1.1\r\nHost: localhost\r\n\r\n"
# Requests under /api/v1 run at once in data_received, as `emulator serve` runs the APIs'.
EAGER = protocol(("/api/v1",))


class Recording(asyncio.Transport):
    """What a protocol writes, write by write, and whether it closed."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def connected(
    protocol: type[HttpToolsProtocol], app: App, loop: asyncio.AbstractEventLoop
) -> tuple[HttpToolsProtocol, ServerState, Recording]:
    """A protocol serving `app` on a new connection over a recording transport, with
    uvicorn's defaults (keep-alive timeout 5 s, the `server` header), no proxy headers
    (as `emulator serve`: uvicorn serves the app itself, unwrapped)."""
    config = Config(app=app, lifespan="off", log_level="critical", date_header=False, access_log=False,
                    timeout_keep_alive=5, proxy_headers=False)
    config.load()
    state = ServerState()
    state.default_headers = [(b"server", b"uvicorn")]  # as uvicorn.Server sets it by default
    server = protocol(config=config, server_state=state, app_state={}, _loop=loop)
    transport = Recording()
    server.connection_made(transport)
    return server, state, transport


def exchange(protocol: type[HttpToolsProtocol], app: App, request: bytes) -> tuple[bytes, int, bool]:
    """(the bytes written, how many writes, closed) for `request` served by `app`."""

    async def run() -> tuple[bytes, int, bool]:
        server, state, transport = connected(protocol, app, asyncio.get_running_loop())
        server.data_received(request)
        for _ in range(50):  # the tasks of pipelined requests start one after another
            if not state.tasks:
                break
            await asyncio.gather(*list(state.tasks), return_exceptions=True)
            await asyncio.sleep(0)
        closed = transport.closed
        server.connection_lost(None)
        return b"".join(transport.writes), len(transport.writes), closed

    return asyncio.run(run())


def answering(status: Any, headers: Any, bodies: list[tuple[Any, bool]], fail: bool = False) -> App:
    """An app sending one start message and then `bodies` ((body, more_body) each); with
    `fail`, it raises after the last of them."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for body, more in bodies:
            await send({"type": "http.response.body", "body": body, "more_body": more})
        if fail:
            raise RuntimeError("the app failed")

    return app


def same(app: App, request: bytes = GET) -> tuple[bytes, int]:
    """Assert both protocols write the same bytes and close alike; (bytes, our writes)."""
    stock, _, stock_closed = exchange(HttpToolsProtocol, app, request)
    ours, writes, closed = exchange(BoundedHttpTools, app, request)
    assert ours == stock
    assert closed == stock_closed
    assert exchange(EAGER, app, request)[::2] == (stock, stock_closed)
    return ours, writes


JSON = [(b"content-type", b"application/json"), (b"content-length", b"39")]
LENGTH_2, CHUNKED = (b"content-length", b"2"), (b"transfer-encoding", b"chunked")
BODY = b'{"success":true,"data":{"coins":500.0}}'


def test_an_answer_with_a_length_is_one_write_of_the_same_bytes() -> None:
    data, writes = same(answering(200, JSON, [(BODY, False)]))
    assert data.startswith(b"HTTP/1.1 200 OK\r\nserver: uvicorn\r\ncontent-type: application/json\r\n")
    assert data.endswith(b"\r\n\r\n" + BODY)
    assert writes == 1  # uvicorn: 2 (the head, then the body)


@pytest.mark.parametrize(
    ("request_bytes", "status", "headers", "bodies"),
    [
        pytest.param(b"HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", 200, JSON, [(BODY, False)], id="HEAD"),
        pytest.param(GET, 204, [], [(b"", False)], id="204"),
        pytest.param(GET, 304, [(b"etag", b'"x"')], [(b"", False)], id="304"),
        pytest.param(b"GET / HTTP/1.0\r\n\r\n", 200, JSON, [(BODY, False)], id="HTTP/1.0 closes"),
        pytest.param(GET, 200, [], [(b"chunk", True), (b"ed", False)], id="no length: chunked"),
        pytest.param(GET, 200, JSON, [(BODY[:10], True), (BODY[10:], False)], id="streamed"),
        pytest.param(GET, 200, [*JSON, (b"connection", b"close")], [(BODY, False)], id="connection close"),
        pytest.param(GET, 200, [(b"transfer-encoding", b"chunked")], [(b"x", False)], id="transfer-encoding"),
        pytest.param(GET, 200, [LENGTH_2, CHUNKED], [(b"ok", False)], id="a length, then chunked"),
        pytest.param(GET, 200, [CHUNKED, LENGTH_2], [(b"ok", False)], id="chunked, then a length"),
        pytest.param(GET, 200, [(b"Content-Length", b"2"), (b"X-Up", b"A")], [(b"ok", False)],
                     id="upper case"),
        pytest.param(GET, 200, [(b"content-length", b"2"), (b"content-length", b"9")], [(b"ok", False)],
                     id="two lengths"),
        pytest.param(GET, 200, [(b"content-length", b"5")], [(b"ok", False)], id="shorter than its length"),
        pytest.param(GET, 200, [(b"content-length", b"1")], [(b"ok", False)], id="longer than its length"),
        pytest.param(GET, 200, [(b"content-length", b"x")], [(b"ok", False)], id="a length not a number"),
        pytest.param(GET, 200, [(b"bad name", b"v"), *JSON], [(BODY, False)], id="a name uvicorn refuses"),
        pytest.param(GET, 200, [(b"x", b"a\nb"), *JSON], [(BODY, False)], id="a value uvicorn refuses"),
        pytest.param(GET, 200, [(b"x", "text"), *JSON], [(BODY, False)], id="a value not bytes"),
        pytest.param(GET, 200, [("x", b"v"), *JSON], [(BODY, False)], id="a name not bytes"),
        pytest.param(GET, 999, JSON, [(BODY, False)], id="no such status"),
        pytest.param(GET, 200, iter(JSON), [(BODY, False)], id="headers as an iterator"),
        pytest.param(GET, 200, [(b"x", b"\t\x80\xff"), *JSON], [(BODY, False)], id="tab and high bytes"),
    ],
)
def test_every_other_answer_is_left_to_uvicorn_or_made_alike(
    request_bytes: bytes, status: int, headers: Any, bodies: list[tuple[bytes, bool]]
) -> None:
    if not isinstance(headers, list):  # an iterator: each protocol needs its own
        items = list(headers)
        app_for: Callable[[], App] = lambda: answering(status, iter(items), bodies)  # noqa: E731
        stock = exchange(HttpToolsProtocol, app_for(), request_bytes)
        ours = exchange(BoundedHttpTools, app_for(), request_bytes)
        assert (ours[0], ours[2]) == (stock[0], stock[2])
        return
    same(answering(status, headers, bodies), request_bytes)


def test_a_failure_after_the_start_closes_the_connection_as_uvicorn_does() -> None:
    # uvicorn wrote the head, then closed; the held head is never written. Either way the
    # client gets no complete answer and a closed connection.
    stock, _, stock_closed = exchange(HttpToolsProtocol, answering(200, JSON, [], fail=True), GET)
    ours, _, closed = exchange(BoundedHttpTools, answering(200, JSON, [], fail=True), GET)
    assert stock_closed and closed
    assert b"\r\n\r\n" + BODY not in stock and ours == b""


def test_a_failure_before_the_start_is_uvicorns_500() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise RuntimeError("the app failed")

    data, _ = same(app)
    assert data.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")


def test_pipelined_requests_get_their_answers_in_order() -> None:
    calls = iter(range(3))

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = str(next(calls)).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1")]})
        await send({"type": "http.response.body", "body": body})

    ours, writes, _ = exchange(BoundedHttpTools, app, GET * 3)
    assert ours.count(b"HTTP/1.1 200 OK") == 3 and writes == 3
    assert [part[-1:] for part in ours.split(b"HTTP/1.1 ")[1:]] == [b"0", b"1", b"2"]


def test_expect_100_continue_is_answered_before_the_body_is_read() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        message = await receive()
        body = message["body"]
        await send({"type": "http.response.start", "status": 201,
                    "headers": [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    request = b"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi"
    data, _ = same(app, request)
    assert data.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n") and data.endswith(b"hi")


def test_the_emulators_answers_are_written_once_each() -> None:
    from emulator.app import create_app
    from emulator.config import Config as EmulatorConfig

    app = create_app(EmulatorConfig())
    get = f"GET /api/v1/balance HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {XD_DEMO_KEY}\r\n\r\n"
    health = b"GET /_emulator/health HTTP/1.1\r\nHost: localhost\r\n\r\n"
    nowhere = b"GET /api/v1/nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n"
    for request in (get.encode(), get.replace("GET", "HEAD", 1).encode(), health, nowhere):
        ours, writes, closed = exchange(BoundedHttpTools, app, request)
        assert writes == 1 and not closed, ours
        assert ours.startswith(b"HTTP/1.1 "), ours


names = st.binary(min_size=1, max_size=12) | st.sampled_from(
    [b"content-length", b"Content-Length", b"x-a", b"transfer-encoding", b"connection"]
)
values = st.binary(max_size=12) | st.sampled_from(
    [b"0", b"3", b"-1", b" 3", b"chunked", b"Chunked", b"close"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    status=st.sampled_from([200, 201, 204, 304, 404, 429, 500]),
    headers=st.lists(st.tuples(names, values), max_size=5),
    bodies=st.lists(st.tuples(st.binary(max_size=5), st.booleans()), min_size=1, max_size=3),
    head=st.booleans(),
)
def test_generated_answers_are_the_same_bytes_as_uvicorns(
    status: int, headers: list[tuple[bytes, bytes]], bodies: list[tuple[bytes, bool]], head: bool
) -> None:
    bodies[-1] = (bodies[-1][0], False)
    request = GET.replace(b"GET", b"HEAD", 1) if head else GET
    same(answering(status, headers, bodies), request)


def test_the_send_is_replaced_once_per_cycle() -> None:
    seen: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(send)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    exchange(BoundedHttpTools, app, GET)
    assert seen[0].__func__ is coalescing_send


def keep_alive_trace(protocol: type[HttpToolsProtocol], steps: list[float | str | None]) -> list[bool]:
    """Whether the connection is closed after each step: None sends a request and
    lets its answer complete, "partial" sends the start of a request's head and "rest"
    the rest of it, a number moves the clock that many seconds."""
    loop = FakeTimeLoop()
    try:
        server, _, transport = connected(protocol, answering(200, JSON, [(BODY, False)]), loop)
        trace = []
        for step in steps:
            if step is None or step == "partial" or step == "rest":
                server.data_received({None: GET, "partial": GET[:20], "rest": GET[20:]}[step])
                for _ in range(5):
                    loop.run_until_complete(asyncio.sleep(0))
            else:
                assert isinstance(step, float | int)
                loop.now += step
                loop.run_until_complete(asyncio.sleep(0))
            trace.append(transport.closed)
        server.connection_lost(None)
        return trace
    finally:
        loop.close()


@pytest.mark.parametrize(
    "steps",
    [
        pytest.param([None, 4.9, 0.2], id="idle past the timeout: closed"),
        pytest.param([None, 3.0, None, 3.0, 1.9, 0.2], id="a request in between starts the wait afresh"),
        pytest.param([None, 0.5, None, 0.5, None, 4.0, 0.9, 0.2], id="many requests, one timer"),
        pytest.param([None, 5.0], id="exactly the timeout"),
        pytest.param([4.0, None, 4.9, 0.2], id="the first request after a while"),
        pytest.param([None, 4.0, "partial", 30.0, "rest", 4.9, 0.2], id="a request under way is not cut"),
    ],
)
def test_the_keep_alive_timeout_closes_an_idle_connection_when_uvicorn_does(
    steps: list[float | str | None],
) -> None:
    ours = keep_alive_trace(BoundedHttpTools, steps)
    assert ours == keep_alive_trace(HttpToolsProtocol, steps)
    assert ours[-1] is True or steps[-1] is None


def test_one_keep_alive_timer_serves_many_requests() -> None:
    loop = FakeTimeLoop()
    made: list[float] = []
    call_later = loop.call_later

    def counting(delay: float, callback: Any, *args: Any, **kwargs: Any) -> asyncio.TimerHandle:
        made.append(delay)
        return call_later(delay, callback, *args, **kwargs)

    loop.call_later = counting  # type: ignore[method-assign, assignment]
    try:
        server, _, transport = connected(BoundedHttpTools, answering(200, JSON, [(BODY, False)]), loop)
        for _ in range(20):
            server.data_received(GET)
            for _ in range(5):
                loop.run_until_complete(asyncio.sleep(0))
        assert len(made) == 1 and transport.writes and not transport.closed  # uvicorn: 20 timers
        server.connection_lost(None)
    finally:
        loop.close()


def test_a_whole_request_under_an_eager_prefix_is_answered_within_data_received() -> None:
    async def run() -> None:
        app = answering(200, JSON, [(BODY, False)])
        server, state, transport = connected(EAGER, app, asyncio.get_running_loop())
        server.data_received(GET)
        assert transport.writes and not state.tasks  # answered, no task made
        other, other_state, other_transport = connected(EAGER, app, asyncio.get_running_loop())
        other.data_received(GET.replace(b"/api/v1/balance", b"/_emulator/health"))
        assert not other_transport.writes and len(other_state.tasks) == 1  # elsewhere: a task
        await asyncio.gather(*other_state.tasks)
        assert other_transport.writes[0].split(b"\r\n\r\n")[1] == BODY

    asyncio.run(run())


def test_a_body_still_arriving_is_read_in_a_task() -> None:
    """Not run at once: reading a body needs a task (its deadline, core/http.py)."""
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message["body"]
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4")]})
        await send({"type": "http.response.body", "body": body})

    async def run() -> None:
        server, state, transport = connected(EAGER, app, asyncio.get_running_loop())
        post = b"POST /api/v1/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\n\r\nab"
        server.data_received(post)
        assert len(state.tasks) == 1 and not transport.writes
        server.data_received(b"cd")
        await asyncio.gather(*state.tasks)
        assert transport.writes[-1].endswith(b"\r\n\r\nabcd")

    asyncio.run(run())


def test_an_eager_request_that_waits_goes_on_in_a_task_and_can_be_cancelled() -> None:
    seen: list[str] = []
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        marker.set("set by the app")
        await send({"type": "http.response.start", "status": 200, "headers": JSON})
        await asyncio.sleep(0)
        seen.append(marker.get())
        await send({"type": "http.response.body", "body": BODY})
        try:
            await asyncio.get_running_loop().create_future()  # waits until cancelled
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    async def run() -> None:
        server, state, transport = connected(EAGER, app, asyncio.get_running_loop())
        server.data_received(GET)
        assert marker.get() == "unset"  # the app ran in a context of its own
        assert len(state.tasks) == 1 and not transport.writes
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert seen == ["set by the app"] and transport.writes[0].endswith(BODY)
        task = next(iter(state.tasks))
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert seen[-1] == "cancelled"

    asyncio.run(run())


def frozen_emulator_app() -> Any:
    """A new emulator app, its clock frozen at one instant: apps made one after another
    give the same request the same answer (Date, rate-limit headers)."""
    from emulator.app import create_app
    from emulator.config import Config as EmulatorConfig

    app = create_app(EmulatorConfig())
    app.state.emulator.clock.freeze()
    app.state.emulator.clock.set(4_000_000_000_000_000)  # 2096: ahead of any real clock
    return app


BALANCE = f"GET /api/v1/balance HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {XD_DEMO_KEY}\r\n\r\n"
RESPONDED = [
    pytest.param(BALANCE, True, id="GET 200"),
    pytest.param(BALANCE.replace("GET", "HEAD", 1), True, id="HEAD 200"),
    pytest.param("GET /api/v1/balance HTTP/1.1\r\nHost: localhost\r\n\r\n", True, id="401"),
    pytest.param("GET /api/v1/nowhere HTTP/1.1\r\nHost: localhost\r\n\r\n", True, id="404"),
    pytest.param("DELETE /api/v1/balance HTTP/1.1\r\nHost: localhost\r\n\r\n", False, id="405 with Allow"),
    pytest.param("GET /v1/order/list HTTP/1.1\r\nHost: localhost\r\n\r\n", True, id="USDTLowFee 401"),
    pytest.param(BALANCE.replace("Host:", "Connection: close\r\nHost:"), False, id="Connection: close"),
    pytest.param(BALANCE.replace("HTTP/1.1", "HTTP/1.0"), False, id="HTTP/1.0"),
    pytest.param("PUT /v1/addresses/640852741324804097/default HTTP/1.1\r\nHost: localhost\r\n"
                 "Authorization: ApiKey ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4\r\n\r\n",
                 True, id="USDTLowFee 204"),
]


@pytest.mark.parametrize(("request_text", "responded"), RESPONDED)
def test_the_pipelines_answers_through_the_responder_are_the_asgi_answers_bytes(
    request_text: str, responded: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An API answer written through server.respond (core/http.py's Responder) is byte
    for byte what the same answer sent as ASGI messages is; what it leaves to them
    (a connection to close, an error with headers of its own) gets them."""
    from emulator.server import FastCycle, respond

    request = request_text.encode()
    taken: list[bool] = []

    def recording(cycle: Any, status: int, head: bytes, body: bytes) -> bool:
        taken.append(respond(cycle, status, head, body))
        return taken[-1]

    monkeypatch.setattr(FastCycle, "respond", recording)
    through, writes, closed = exchange(EAGER, frozen_emulator_app(), request)
    assert any(taken) == responded and (writes == 1 or not responded)
    monkeypatch.setattr(FastCycle, "respond", lambda *args: False)  # the ASGI messages every time
    assert exchange(EAGER, frozen_emulator_app(), request) == (through, writes, closed)
    stock = exchange(HttpToolsProtocol, frozen_emulator_app(), request)  # and as stock uvicorn
    assert stock[::2] == (through, closed)


def test_the_responder_writes_nothing_once_a_start_was_sent() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": JSON})
        assert not scope["emulator.responder"](200, b"content-length: 2\r\n", b"no")
        await send({"type": "http.response.body", "body": BODY})

    ours, writes, closed = exchange(BoundedHttpTools, app, GET)
    assert writes == 1 and ours.endswith(BODY) and not closed
    assert ours == exchange(HttpToolsProtocol, answering(200, JSON, [(BODY, False)]), GET)[0]


def test_the_responder_leaves_a_server_header_it_cannot_vouch_for_to_uvicorn() -> None:
    from emulator.server import _default_lines

    assert _default_lines([(b"server", b"uvicorn")]) == b"server: uvicorn\r\n"
    assert _default_lines([(b"X-Team", b"a")]) == b"x-team: a\r\n"
    assert _default_lines([(b"connection", b"close")]) is None
    assert _default_lines([(b"x-bad", b"a\r\nb")]) is None
    assert _default_lines([(b"bad name", b"a")]) is None


def test_the_shortcut_runs_the_inner_app_under_the_eager_prefixes_only() -> None:
    ran: list[str] = []

    def named(name: str) -> App:
        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            ran.append(name)
            await answering(200, JSON, [(BODY, False)])(scope, receive, send)

        return app

    outer, inner = named("outer"), named("inner")
    shortcut = protocol(("/api/v1",), (outer, inner))
    assert exchange(shortcut, outer, GET)[0].endswith(BODY)
    assert exchange(shortcut, outer, GET.replace(b"/api/v1/balance", b"/_emulator/health"))[0].endswith(BODY)
    other = named("another app")  # an app the shortcut is not for: run as it is
    assert exchange(shortcut, other, GET)[0].endswith(BODY)
    assert ran == ["inner", "outer", "another app"]


def test_a_message_event_wakes_its_waiters_as_asyncio_event_does() -> None:
    from emulator.server import MessageEvent

    async def run() -> None:
        event = MessageEvent()
        assert not event.is_set()
        first = asyncio.ensure_future(event.wait())
        second = asyncio.ensure_future(event.wait())
        gone = asyncio.ensure_future(event.wait())
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.gather(gone, return_exceptions=True)
        assert not first.done() and event._waiters is not None and len(event._waiters) == 2
        event.set()
        assert await first and await second and event.is_set() and event._waiters == []
        assert await event.wait()  # set: at once
        event.clear()
        third = asyncio.ensure_future(event.wait())
        await asyncio.sleep(0)
        assert not third.done()
        event.set()
        assert await third

    asyncio.run(run())


def test_the_cycle_is_uvicorns_own_made_as_a_fast_cycle() -> None:
    from emulator.server import FastCycle, MessageEvent

    cycles: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        cycles.append(send.__self__)
        await answering(200, JSON, [(BODY, False)])(scope, receive, send)

    exchange(BoundedHttpTools, app, GET)
    (cycle,) = cycles
    assert type(cycle) is FastCycle and type(cycle.message_event) is MessageEvent
    assert "send" not in vars(cycle) and "respond" not in vars(cycle)


def test_a_body_that_arrived_with_its_head_is_taken_from_the_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    """A whole POST in one read: the pipeline reads the body from the scope
    (core/http.py ARRIVED_BODY), not through `receive`, with the same limit (64 KiB)."""
    from emulator.core import http as http_mod

    def no_receive(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the body was read through receive")

    monkeypatch.setattr("emulator.core.pipeline.read_body", no_receive)
    head = f"POST /api/v1/otp/orders HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {XD_DEMO_KEY}\r\n"
    for body, status, says in [
        (b'{"serviceId": "00000000-0000-4000-8000-000000000001", "priceOptionId": '
         b'"00000000-0000-4000-8000-000000000011"}', b"201", b'"success":true'),
        (b'{"serviceId": "' + b"x" * http_mod.MAX_BODY + b'"}', b"400", b"64 KiB"),
        (b"[1]", b"400", b"JSON object"),
    ]:
        request = (head + f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        answer, writes, closed = exchange(EAGER, frozen_emulator_app(), request + body)
        assert answer.split(b" ", 2)[1] == status and says in answer, answer
        assert writes == 1 and not closed
