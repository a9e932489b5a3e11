"""The request path of an API, as plain ASGI: one pipeline, configured by the API's dialect.

Order of checks (SPEC "Order of checks"): route, then auth, then rate limit, then the
body, then the business rules. No Request objects, no per-request middleware
instances: one function call per request down to a synchronous handler, and one
response tail for every outcome (served, refused, faulted, dropped).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from time import perf_counter_ns  # durationMs is real elapsed time, not the emulator clock's
from typing import Any, Protocol

from .access import LOGGED, AccessLog
from .auth import KeyRing
from .clock import US_PER_S, Clock, clock_of
from .dialect import Dialect
from .durability import NotDurable, WriteLog
from .errors import ApiError, FieldError, plain_error
from .faults import Fault, FaultRegistry, drop_connection
from .head import SCOPE_KEY, Head, head_of
from .http import (
    MAX_HEADER_BYTES,
    RESPONDER,
    BodyError,
    Responder,
    arrived_body,
    date_header,
    date_line,
    parse_json_object,
    read_body,
    read_body_quietly,
)
from .journal import Journal
from .ratelimit import ClientAddress, RateLimiter
from .routing import Call, Match, Route, Router, template_of
from .types import ASGIApp, Caller, Headers, Message, Receive, Scope, Send

log = logging.getLogger("emulator")

_JSON = (b"content-type", b"application/json")
_NOSNIFF = (b"x-content-type-options", b"nosniff")
# Content-Length headers of the common sizes (most answers), made once.
_LENGTHS = [(b"content-length", str(n).encode()) for n in range(1024)]
# The same as header lines, for a server's Responder (core/http.py).
_JSON_LINE = b"content-type: application/json\r\n"
_NOSNIFF_LINE = b"x-content-type-options: nosniff\r\n"
_LENGTH_LINES = [b"content-length: %d\r\n" % n for n in range(1024)]


class Backend(Protocol):
    """What the pipeline reads of an API's backend: its keys, accounts and clock."""

    @property
    def keys(self) -> KeyRing: ...

    @property
    def accounts(self) -> Mapping[str, Caller]: ...

    @property
    def clock(self) -> Clock: ...


class Pipeline:
    """One API under its prefix. Everything it uses comes through the constructor."""

    __slots__ = (
        "dialect", "router", "backend", "limiter", "lock", "faults", "journal", "log", "access",
        "_limit_header", "_reset_header", "_limit_line", "_reset_line",
    )

    def __init__(
        self,
        dialect: Dialect,
        router: Router,
        backend: Backend,
        limiter: RateLimiter,
        lock: threading.Lock,
        faults: FaultRegistry,
        journal: Journal,
        log: WriteLog | None,
        access: AccessLog | None = LOGGED,
    ) -> None:
        self.dialect = dialect
        self.router = router
        self.backend = backend
        self.limiter = limiter
        self.lock = lock
        self.faults = faults
        self.journal = journal
        # The state file's write-ahead log (emulator/durable.py), None without one: each
        # write is recorded before it is applied, so a write that cannot be recorded
        # changes nothing and answers the API's 5xx.
        self.log = log
        # One line per request (core/access.py); None: no access log at all.
        self.access = access
        self._limit_header = (b"x-ratelimit-limit", str(limiter.limit).encode())
        self._reset_header = (-1, (b"x-ratelimit-reset", b""))  # (reset, its header): once a window
        self._limit_line = b"x-ratelimit-limit: %d\r\n" % limiter.limit
        self._reset_line = (-1, b"")  # (reset, its header line)

    def caller(self, scope: Scope, head: Head | None = None) -> tuple[Any, ApiError | None, int, object]:
        """Who is calling: (account or None, the auth error if any, now on the caller's
        clock, the rate-limit bucket: the account, or the client address without a key).
        The caller holds the lock."""
        dialect = self.dialect
        clock = self.backend.clock
        key = dialect.scheme.key_of(head_of(scope) if head is None else head)
        account = None if key is None else self.backend.keys.resolve(key, self.backend.accounts, clock)
        if account is None:
            client = scope.get("client")
            return None, dialect.unauthorized(), clock.now_us(), ClientAddress(client[0] if client else "")
        return account, dialect.refusal(account), clock_of(account, clock).now_us(), account.id

    async def __call__(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        started = perf_counter_ns()
        found = None if _slash_in_segment(scope) else self.router.match(path)
        # HEAD is GET without the body (RFC 9110 9.3.2): the GET route, its faults, its
        # rate-limit count; only the tail leaves the body out.
        method: str = scope["method"]
        if method == "HEAD":
            method = "GET"
        fault: Fault | None = None
        if self.faults.active:
            fault = await self._draw(scope, method, found)
            if fault is not None and fault.phase == "before" and (fault.status is not None or fault.drop):
                await self._serve_fault(scope, receive, send, found, fault, started)
                return
        dialect = self.dialect
        head = scope.get(SCOPE_KEY) or head_of(scope)  # the Gateway found it: no call
        status: int | None = 500
        payload = b""
        extra: Headers = []
        raw = b""
        read = False
        ticket = 0
        with self.lock:
            at = self.backend.clock.now_us()
            account, auth_error, now, bucket = self.caller(scope, head)
            route: Route | None = found[0].get(method) if found is not None else None
            error: ApiError | None
            if route is None:
                remaining, reset = self.limiter.peek(bucket, now)
                error = dialect.not_found() if found is None else dialect.method_not_allowed(_allow(found))
            else:
                allowed, remaining, reset = self.limiter.hit(bucket, now)
                if auth_error is not None:
                    error = auth_error
                elif not allowed:
                    error = dialect.rate_limited(_retry_after(reset, now))
                else:
                    error = None
                    if not route.body:  # served under the same hold of the lock
                        status, payload, error, ticket, now = self._serve(
                            scope, path, method, account, found, route, None, now
                        )
        if error is None and route is not None and route.body:
            body: dict[str, Any] | None = None
            try:
                if not head.json:
                    raise BodyError("Content-Type must be application/json")
                read = True
                arrived = arrived_body(scope)
                raw = await read_body(receive) if arrived is None else arrived
                body = parse_json_object(raw)
            except BodyError as exc:
                error = dialect.bad_request(str(exc))
                if exc.status != 400:  # 408: the body stalled; the connection is closed
                    error.status = exc.status
                    error.headers = [(b"connection", b"close")]
            if error is None:
                with self.lock:
                    now = clock_of(account, self.backend.clock).now_us()
                    status, payload, error, ticket, now = self._serve(
                        scope, path, method, account, found, route, body, now
                    )
        durable = self.log
        if error is not None:
            status = error.status
            payload = dialect.render_error(error)
            extra = error.headers
            if not read and self.journal.size:
                raw = await read_body_quietly(receive)
        if ticket and durable.syncing:  # type: ignore[union-attr]
            await durable.acknowledged(ticket)  # type: ignore[union-attr]
        withheld: tuple[int | None, bytes] | None = None
        if fault is not None and fault.phase == "after":
            # Served and committed above; now the client gets the fault instead of the answer.
            withheld = (status, payload)
            if fault.latency_ms:
                await asyncio.sleep(fault.latency_ms / 1000)  # real time, as for a "before" delay
            if fault.drop:
                status, payload, extra = None, b"", []
            elif fault.status is not None:
                status, payload, extra, remaining = self._fault_answer(found, fault, remaining, reset, now)
        template = route.template if route is not None else template_of(found)
        if self._written(scope, status, payload, remaining, reset, now, extra):
            self._record(
                scope, started, at, now, template, raw, status, payload, extra, fault,
                None if account is None else account.id, withheld,
            )
            return
        await self._respond(
            scope, receive, send, started, at, now, template, raw, status, payload, remaining, reset,
            extra, fault, None if account is None else account.id, withheld,
        )

    def _serve(
        self, scope: Scope, path: str, method: str, account: Any, found: Match | None, route: Route,
        body: dict[str, Any] | None, now: int,
    ) -> tuple[int | None, bytes, ApiError | None, int, int]:
        """The route's handler at `now` (the caller's clock), with the lock held: (status,
        payload, error, the state file's ticket, the instant it ran at). A write is
        recorded in the state file's log before it is applied, and then runs at the
        instant the log holds. A route without a body runs under the same hold of the lock
        as its key and rate-limit checks."""
        dialect = self.dialect
        durable = self.log
        ticket = 0
        assert found is not None
        try:
            if durable is not None and method != "GET":
                ticket = durable.before_write(
                    dialect.name, account.id, scope["method"], path, scope["query_string"], body
                )
                # The instant the log recorded (the wall clock is pinned to it until
                # after_write): a replay runs the write at the same instant.
                now = clock_of(account, self.backend.clock).now_us()
            try:
                call = Call(account, found[1], now, body, scope["query_string"])
                status, data = route.handler(self.backend, call)
            finally:
                if ticket:
                    durable.after_write()  # type: ignore[union-attr]
            return status, b"" if data is None else dialect.render_ok(data), None, ticket, now
        except NotDurable:
            return 500, b"", dialect.internal_error(), ticket, now  # said once on stderr by the log
        except ApiError as exc:
            return 500, b"", exc, ticket, now
        except FieldError as exc:
            return 500, b"", dialect.invalid_field(exc), ticket, now
        except Exception:
            shown = self.journal.redactor.path(scope["path"])
            log.exception("unhandled error on %s %s", scope["method"], shown)
            return 500, b"", dialect.internal_error(), ticket, now

    def _written(
        self, scope: Scope, status: int | None, payload: bytes, remaining: int, reset: int, now: int,
        extra: Headers,
    ) -> bool:
        """The answer written through the server's `Responder` (core/http.py), if it offers
        one and takes it: the same header lines as `_send`'s, as bytes, in one call. False
        (nothing written) for the ASGI messages instead: no responder, a dropped
        connection, headers of an error's own (a Connection among them, maybe)."""
        responder: Responder | None = scope.get(RESPONDER)
        if responder is None or status is None or extra:
            return False
        reset_line = self._reset_line
        if reset_line[0] != reset:
            reset_line = self._reset_line = (reset, b"x-ratelimit-reset: %d\r\n" % reset)
        size = len(payload)
        rate = (self._limit_line, b"x-ratelimit-remaining: %d\r\n" % max(0, remaining), reset_line[1])
        head = b"".join(
            (*rate, date_line(now), _NOSNIFF_LINE) if status == 204 else (
                _JSON_LINE, _LENGTH_LINES[size] if size < 1024 else b"content-length: %d\r\n" % size,
                *rate, date_line(now), _NOSNIFF_LINE,
            )
        )
        return responder(status, head, payload)

    async def _respond(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        started: int,
        at: int,
        now: int,
        template: str | None,
        raw: bytes,
        status: int | None,
        payload: bytes,
        remaining: int,
        reset: int,
        extra: Headers,
        fault: Fault | None,
        account_id: str | None,
        withheld: tuple[int | None, bytes] | None = None,
    ) -> None:
        """The tail of an answer the server's Responder did not write (`_written`) or that
        was never offered one (an injected fault's): the ASGI messages (or the drop when
        status is None), then journal and log. `now` is the caller's clock (the account's
        own, else the emulator's): the Date it shows. `withheld`: the real answer an
        `after` fault replaced, for the journal."""
        if status is not None:
            await self._send(scope, send, status, payload, remaining, reset, now, extra)
        self._record(
            scope, started, at, now, template, raw, status, payload, extra, fault, account_id, withheld
        )
        if status is None:
            await drop_connection(receive)

    async def _send(
        self, scope: Scope, send: Send, status: int, payload: bytes, remaining: int, reset: int, now: int,
        extra: Headers,
    ) -> None:
        """The answer as two ASGI messages."""
        size = len(payload)
        reset_header = self._reset_header
        if reset_header[0] != reset:
            reset_header = self._reset_header = (reset, (b"x-ratelimit-reset", str(reset).encode()))
        headers = [
            _JSON,
            _LENGTHS[size] if size < 1024 else (b"content-length", str(size).encode()),
            self._limit_header,
            (b"x-ratelimit-remaining", str(max(0, remaining)).encode()),
            reset_header[1],
            date_header(now),
            _NOSNIFF,
            *extra,
        ]
        if status == 204:
            headers = headers[2:]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if scope["method"] == "HEAD":
            payload = b""  # the headers (Content-Length too) are GET's; the body is not sent
        await send({"type": "http.response.body", "body": payload})

    def _record(
        self,
        scope: Scope,
        started: int,
        at: int,
        now: int,
        template: str | None,
        raw: bytes,
        status: int | None,
        payload: bytes,
        extra: Headers,
        fault: Fault | None,
        account_id: str | None,
        withheld: tuple[int | None, bytes] | None,
    ) -> None:
        """The journal's entry and the access log's line, once the answer is out."""
        fault_id = None if fault is None else fault.id
        elapsed = perf_counter_ns() - started
        journal = self.journal
        redactor = journal.redactor
        # Any key in the path redacted, for both.
        shown_path = redactor.path(scope["path"])
        if journal.size:
            if status is not None and scope["method"] == "HEAD":
                payload = b""  # what was sent: the headers only
            retry_after = None
            if status == 429:
                for name, value in extra:
                    if name == b"retry-after":
                        retry_after = int(value)
            journal.record(
                at, self.dialect.name, scope, template, raw, status, payload if status is not None else None,
                elapsed, fault_id, account_id, now, None if fault is None else fault.phase, withheld,
                retry_after, shown_path,
            )
        access = self.access
        if access is not None and (access.always or access.enabled()):  # nothing is built when it is off
            # The key redacted to its scheme and last 4 characters (`Bearer ****d0c1`).
            head = scope.get(SCOPE_KEY) or head_of(scope)
            key = head.shown
            if key is None:
                sent = head.any_authorization
                key = head.shown = "-" if sent is None else redactor.credentials(sent).decode("latin-1")
            access.write(
                self.dialect.name, scope["method"], shown_path, status, elapsed / 1_000_000, key, fault_id
            )

    async def _draw(self, scope: Scope, method: str, found: Match | None) -> Fault | None:
        """The fault this request draws, if any; a "before" latency is waited out here. With a
        fault naming an account in force, the key is resolved first (a request without a
        valid key has no account, so never matches one). The draw is logged for the state
        file: it moves the faults' random source and counts."""
        template = template_of(found)
        with self.lock:
            account_id = None
            if self.faults.by_account:
                account = self.caller(scope)[0]
                account_id = None if account is None else account.id
            if self.log is not None:
                self.log.fault_pick(self.dialect.name, method, template, account_id)
            fault = self.faults.pick(self.dialect.name, method, template, account_id)
        if fault is not None and fault.latency_ms and fault.phase == "before":
            await asyncio.sleep(fault.latency_ms / 1000)  # real time: the one place the server waits
        return fault

    async def _serve_fault(
        self, scope: Scope, receive: Receive, send: Send, found: Match | None, fault: Fault, started: int
    ) -> None:
        """An injected error or a dropped connection. It changes no state and is not
        counted by the rate limiter."""
        raw = await read_body_quietly(receive) if self.journal.size else b""
        with self.lock:
            at = self.backend.clock.now_us()
            account, _, now, bucket = self.caller(scope)
            remaining, reset = self.limiter.peek(bucket, now)
        status = fault.status
        payload = b""
        extra: Headers = []
        if status is not None:
            status, payload, extra, remaining = self._fault_answer(found, fault, remaining, reset, now)
        await self._respond(
            scope, receive, send, started, at, now, template_of(found), raw, status, payload, remaining,
            reset, extra, fault, None if account is None else account.id,
        )

    def _fault_answer(
        self, found: Match | None, fault: Fault, remaining: int, reset: int, now: int
    ) -> tuple[int, bytes, Headers, int]:
        """A fault's error in the API's envelope: (status, body, headers, remaining)."""
        status = fault.status
        assert status is not None
        retry_after = _retry_after(reset, now)
        error = self.dialect.fault_error(status, fault.code, fault.message, retry_after)
        payload = self.dialect.render_error(error)
        extra = list(error.headers)
        names = {name for name, _ in extra}
        if status == 429:
            remaining = 0  # as a real 429 would say; the limiter itself counted nothing
            if b"retry-after" not in names:
                extra.append((b"retry-after", str(retry_after).encode()))
        if status == 405 and found is not None and b"allow" not in names:
            extra.append((b"allow", ", ".join(_allow(found)).encode()))
        return status, payload, extra, remaining


def _allow(found: Match) -> list[str]:
    """The path's methods for a 405's Allow, HEAD beside GET."""
    methods = list(found[0])
    if "GET" in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")
    return methods


def _slash_in_segment(scope: Scope) -> bool:
    """A `%2F` in the path as sent: the server decoded it into `scope["path"]`, but it is
    data within one segment, not a separator. No route has a segment (an id) holding a
    slash, so such a path matches none: 404."""
    raw: bytes | None = scope.get("raw_path")
    # `find`, not `in`: see Redactor.data.
    return raw is not None and raw.find(b"%2") >= 0 and raw.lower().find(b"%2f") >= 0


def _retry_after(reset_s: int, now_us: int) -> int:
    """Whole seconds until the window resets, at least 1."""
    return max(1, -(-(reset_s * US_PER_S - now_us) // US_PER_S))


class Gateway:
    """ASGI middleware: requests under an API prefix go to its pipeline; the rest (the
    control plane, the dashboard) fall through to the wrapped app, dated by `now` (the
    emulator clock: the server's own wall-clock Date is off)."""

    def __init__(
        self, app: ASGIApp, pipelines: Callable[[], tuple[Pipeline, ...]], now: Callable[[], int]
    ) -> None:
        self.app = app
        self.pipelines = pipelines
        self.now = now

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine of its own: the awaitable of what runs next (see HostGuard).
        if scope["type"] == "http":
            path: str = scope["path"]
            target = len(scope.get("raw_path") or b"") + len(scope.get("query_string", b""))
            too_large = target + (scope.get(SCOPE_KEY) or head_of(scope)).size > MAX_HEADER_BYTES
            for pipeline in self.pipelines():
                prefix = pipeline.dialect.prefix
                if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
                    if too_large:
                        return self._too_large(send, pipeline.dialect)
                    return pipeline(scope, receive, send, path[len(prefix) :] or "/")
            if too_large:
                return self._too_large(send, None)
            return self._dated(scope, receive, send)
        return self.app(scope, receive, send)

    async def _dated(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The wrapped app, its answer dated by the emulator clock."""
        head = scope["method"] == "HEAD"

        async def dated(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"date"]
                headers.append(date_header(self.now()))
                message = {**message, "headers": headers}
            elif head and message.get("body"):
                # Starlette's responses send GET's body to HEAD too; uvicorn would drop
                # it, an in-process client would not.
                message = {**message, "body": b""}
            await send(message)

        await self.app(scope, receive, dated)

    async def _too_large(self, send: Send, dialect: Dialect | None) -> None:
        """431 in the surface's envelope (the API's, else the control plane's), before
        anything else runs; not journaled (its headers are what is too large to keep)."""
        message = f"the request headers are larger than {MAX_HEADER_BYTES // 1024} KiB"
        if dialect is None:
            payload = plain_error("BAD_REQUEST", message)
        else:
            error = dialect.bad_request(message)
            error.status = 431
            payload = dialect.render_error(error)
        headers = [
            _JSON, (b"content-length", str(len(payload)).encode()), date_header(self.now()),
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": 431, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
