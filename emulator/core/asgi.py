"""The request path of an API surface, as plain ASGI.

Order of checks (SPEC "Order of checks"): route, then auth, then rate limit, then the
body, then the business rules. No Request objects, no per-request middleware
instances: one function call per request down to a synchronous handler.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from email.utils import formatdate
from time import perf_counter_ns  # durationMs is real elapsed time, not the emulator clock's
from typing import Any

import orjson

from .auth import AuthScheme, KeyRing
from .clock import US_PER_S, Clock
from .errors import ApiError, FieldError
from .faults import Fault, FaultRegistry, drop_connection
from .journal import Journal
from .ratelimit import RateLimiter
from .routing import Call, Router

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 64 * 1024
log = logging.getLogger("emulator")
# One line per API request at info level (emulator/logs.py formats it as text or JSON).
access = logging.getLogger("emulator.access")
_INFO = logging.INFO

_JSON = (b"content-type", b"application/json")
_date: tuple[int, tuple[bytes, bytes]] = (-1, (b"date", b""))  # formatted once a second, swapped whole


def date_header(now_us: int) -> tuple[bytes, bytes]:
    """`Date` at an instant of the emulator clock (SPEC "HTTP details": `X-RateLimit-Reset - Date`
    is the true wait, also when the clock is frozen or advanced)."""
    global _date
    second = now_us // US_PER_S
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


def content_type_is_json(headers: list[tuple[bytes, bytes]]) -> bool:
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


class Surface:
    """One API under one prefix. Subclasses give the envelope, the words and the accounts."""

    name = ""
    prefix = ""
    # Inert until the Emulator attaches its own (shared by both surfaces).
    faults = FaultRegistry()
    journal = Journal(0)
    # The state file's hook (emulator/state.py): None unless `serve --state-file`.
    after_write: Callable[[], None] | None = None

    def __init__(
        self,
        router: Router,
        scheme: AuthScheme,
        keys: KeyRing,
        limiter: RateLimiter,
        clock: Clock,
        lock: threading.Lock,
        accounts: Mapping[str, Any],
    ) -> None:
        self.accounts = accounts  # account id -> an account with `.id` and `.clock`
        self.router = router
        self.scheme = scheme
        self.keys = keys
        self.limiter = limiter
        self.clock = clock
        self.lock = lock
        self._limit_header = (b"x-ratelimit-limit", str(limiter.limit).encode())

    # --- what each API supplies -------------------------------------------------------
    def account(self, account_id: str) -> Any:
        return self.accounts.get(account_id)

    def clock_of(self, account: Any) -> Clock:
        """The account's own test clock, if it has one, else the emulator's."""
        if account is None or account.clock is None:
            return self.clock
        return account.clock  # type: ignore[no-any-return]

    def refusal(self, account: Any) -> ApiError | None:
        """An error for an account that may not call (banned, disabled), else None."""
        return None

    def render_ok(self, data: Any) -> bytes:
        raise NotImplementedError

    def render_error(self, error: ApiError) -> bytes:
        raise NotImplementedError

    def not_found(self) -> ApiError:
        raise NotImplementedError

    def method_not_allowed(self, allowed: list[str]) -> ApiError:
        raise NotImplementedError

    def unauthorized(self) -> ApiError:
        raise NotImplementedError

    def rate_limited(self, retry_after: int) -> ApiError:
        raise NotImplementedError

    def bad_request(self, reason: str) -> ApiError:
        raise NotImplementedError

    def invalid_field(self, error: FieldError) -> ApiError:
        raise NotImplementedError

    def internal_error(self) -> ApiError:
        raise NotImplementedError

    def fault_error(self, status: int, code: str | None, message: str | None, retry_after: int) -> ApiError:
        """An injected error: the code defaults from the status in the API's own table,
        the message from the code."""
        raise NotImplementedError

    # --- the request path -------------------------------------------------------------
    def identify(self, headers: list[tuple[bytes, bytes]], now_us: int) -> tuple[Any, ApiError | None]:
        key = self.scheme.key_from(headers)
        if key is None:
            return None, self.unauthorized()
        record = self.keys.records.get(key)
        if record is None or record.revoked:
            return None, self.unauthorized()
        account = self.account(record.account_id)
        if account is None:
            return None, self.unauthorized()
        if record.expires_us is not None and self.clock_of(account).now_us() >= record.expires_us:
            return None, self.unauthorized()
        return account, self.refusal(account)

    def caller(self, scope: Scope, now_us: int) -> tuple[Any, ApiError | None, int, object]:
        """Who is calling: (account or None, the auth error if any, now on the caller's
        clock, the rate-limit bucket: the account, or the client address without a key)."""
        account, auth_error = self.identify(scope["headers"], now_us)
        if account is not None:
            return account, auth_error, self.clock_of(account).now_us(), account.id
        client = scope.get("client")
        return None, auth_error, now_us, ("address", client[0] if client else "")

    async def handle(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        started = perf_counter_ns()
        fault_id: str | None = None
        if self.faults.active:
            served, fault_id = await self._fault(scope, receive, send, path, started)
            if served:
                return
        headers = scope["headers"]
        status = 500
        extra: list[tuple[bytes, bytes]] = []
        raw = b""
        read = False
        with self.lock:
            at = self.clock.now_us()
            account, auth_error, now, bucket = self.caller(scope, at)
            found = self.router.match(path)
            route = found[0].get(scope["method"]) if found is not None else None
            error: ApiError | None
            if route is None:
                remaining, reset = self.limiter.peek(bucket, now)
                error = self.not_found() if found is None else self.method_not_allowed(list(found[0]))
            else:
                allowed, remaining, reset = self.limiter.hit(bucket, now)
                if auth_error is not None:
                    error = auth_error
                elif not allowed:
                    error = self.rate_limited(_retry_after(reset, now))
                else:
                    error = None
        body: dict[str, Any] | None = None
        if error is None and route is not None and route.body:
            try:
                if not content_type_is_json(headers):
                    raise BodyError("Content-Type must be application/json")
                read = True
                raw = await read_body(receive)
                body = parse_json_object(raw)
            except BodyError as exc:
                error = self.bad_request(str(exc))
        if error is None and route is not None and found is not None:
            try:
                with self.lock:
                    now = self.clock_of(account).now_us()
                    status, data = route.handler(Call(account, found[1], now, body, scope["query_string"]))
                    if self.after_write is not None and scope["method"] != "GET":
                        self.after_write()  # durable before it is acknowledged
                payload = b"" if data is None else self.render_ok(data)
            except ApiError as exc:
                error = exc
            except FieldError as exc:
                error = self.invalid_field(exc)
            except Exception:
                log.exception("unhandled error on %s %s", scope["method"], scope["path"])
                error = self.internal_error()
        if error is not None:
            status = error.status
            payload = self.render_error(error)
            extra = error.headers
            if not read and self.journal.size:
                raw = await read_body_quietly(receive)
        response_headers = [
            _JSON,
            (b"content-length", str(len(payload)).encode()),
            self._limit_header,
            (b"x-ratelimit-remaining", str(max(0, remaining)).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
            date_header(now),
            *extra,
        ]
        if status == 204:
            response_headers = response_headers[2:]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})
        if self.journal.size:
            template = route.template if route is not None else self._template(found)
            self.journal.record(
                at, self.name, scope, template, raw, status, payload, perf_counter_ns() - started, fault_id
            )
        if access.isEnabledFor(_INFO):  # a dict lookup when info is off: nothing is built
            self._log(scope, status, started, fault_id)

    def _log(self, scope: Scope, status: int | None, started: int, fault_id: str | None) -> None:
        """The request's line: the key redacted to its scheme and last 4 characters
        (`Bearer ****d0c1`), and any key in the path too."""
        redactor = self.journal.redactor
        path: str = scope["path"]
        if "_" in path:
            path = redactor.text(path)
        key = "-"
        for name, value in scope["headers"]:
            if name == b"authorization":
                key = redactor.credentials(value).decode("latin-1")
                break
        duration_ms = round((perf_counter_ns() - started) / 1_000_000, 3)
        method = scope["method"]
        shown = "dropped" if status is None else status
        access.info(
            "%s %s %s %.1fms %s",
            method, path, shown, duration_ms, key,
            extra={
                "api": self.name, "method": method, "path": path, "status": status,
                "durationMs": duration_ms, "key": key, "faultId": fault_id,
            },
        )

    @staticmethod
    def _template(found: tuple[dict[str, Any], dict[str, str]] | None) -> str | None:
        """The route template a path matched (whatever the method), None if it matched none."""
        return None if found is None else next(iter(found[0].values())).template

    async def _fault(
        self, scope: Scope, receive: Receive, send: Send, path: str, started: int
    ) -> tuple[bool, str | None]:
        """Inject the fault this request draws, if any. Returns (served, faultId): served
        is False when there is none or it only delays (the request is then served as
        usual). A served fault changes no state and is not counted by the rate limiter."""
        found = self.router.match(path)
        template = self._template(found)
        with self.lock:
            at = self.clock.now_us()
            fault: Fault | None = self.faults.pick(self.name, scope["method"], template)
        if fault is None:
            return False, None
        if fault.latency_ms:
            await asyncio.sleep(fault.latency_ms / 1000)  # real time: the one place the server waits
        if fault.status is None and not fault.drop:
            return False, fault.id
        raw = await read_body_quietly(receive) if self.journal.size else b""
        if fault.drop:
            if self.journal.size:
                self.journal.record(
                    at, self.name, scope, template, raw, None, None, perf_counter_ns() - started, fault.id
                )
            if access.isEnabledFor(_INFO):
                self._log(scope, None, started, fault.id)
            await drop_connection(receive)
            return True, fault.id
        with self.lock:
            _, _, now, bucket = self.caller(scope, self.clock.now_us())
            remaining, reset = self.limiter.peek(bucket, now)
        status = fault.status
        assert status is not None
        retry_after = _retry_after(reset, now)
        error = self.fault_error(status, fault.code, fault.message, retry_after)
        payload = self.render_error(error)
        extra = list(error.headers)
        names = {name for name, _ in extra}
        if status == 429:
            remaining = 0  # as a real 429 would say; the limiter itself counted nothing
            if b"retry-after" not in names:
                extra.append((b"retry-after", str(retry_after).encode()))
        if status == 405 and found is not None and b"allow" not in names:
            extra.append((b"allow", ", ".join(found[0]).encode()))
        response_headers = [
            _JSON,
            (b"content-length", str(len(payload)).encode()),
            self._limit_header,
            (b"x-ratelimit-remaining", str(max(0, remaining)).encode()),
            (b"x-ratelimit-reset", str(reset).encode()),
            date_header(now),
            *extra,
        ]
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})
        if self.journal.size:
            self.journal.record(
                at, self.name, scope, template, raw, status, payload, perf_counter_ns() - started, fault.id
            )
        if access.isEnabledFor(_INFO):
            self._log(scope, status, started, fault.id)
        return True, fault.id


def _retry_after(reset_s: int, now_us: int) -> int:
    """Whole seconds until the window resets, at least 1."""
    return max(1, -(-(reset_s * US_PER_S - now_us) // US_PER_S))


class Gateway:
    """ASGI middleware: requests under an API prefix go to its surface; the rest (the
    control plane) fall through to the wrapped Starlette app."""

    def __init__(self, app: ASGIApp, surfaces: Callable[[], tuple[Surface, ...]]) -> None:
        self.app = app
        self.surfaces = surfaces

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            for surface in self.surfaces():
                prefix = surface.prefix
                if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
                    await surface.handle(scope, receive, send, path[len(prefix) :] or "/")
                    return

            async def dated(message: Message) -> None:
                # The server's own Date is off (cli.py: an API's Date is its emulator clock's);
                # the control plane and the dashboard keep a real-time one.
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers", []))
                    if not any(name.lower() == b"date" for name, _ in headers):
                        headers.append(date_header(time.time_ns() // 1000))
                    message = {**message, "headers": headers}
                await send(message)

            await self.app(scope, receive, dated)
            return
        await self.app(scope, receive, send)


async def exchange(
    app: ASGIApp, scope: Scope, body: bytes = b""
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """One request through an ASGI app in the calling task: (status, headers, body).

    The request body is received once; after it, `receive` waits until the response is
    complete and then reports the disconnect, as a server does: a response that streams
    while listening for a disconnect (Starlette's FileResponse) gets the whole way out.
    A status of 0 means the app answered nothing (it dropped the connection).
    """
    status = 0
    headers: list[tuple[bytes, bytes]] = []
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
