"""GET /_emulator/events: the event log (emulator/core/events.py) as Server-Sent Events,
or as a JSON list with `format=json`. The control plane's, not part of either vendor's API."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from emulator.apis import prefixes
from emulator.core.errors import FieldError
from emulator.core.events import Event, render

from .common import emulator_of, invalid, json, route

HEARTBEAT_S = 15.0  # real seconds between SSE comments on a quiet stream
BATCH = 500  # events per read of the log, so one slow reader never holds the lock long
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
_ID = re.compile(r"[0-9]{1,18}")
_ACCOUNT = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _id(text: str, name: str) -> int:
    if _ID.fullmatch(text) is None:
        raise invalid(FieldError(name, "must be an event id (an integer, 0 or more)"))
    return int(text)


def _filters(request: Request) -> tuple[str | None, str | None]:
    query = request.query_params
    api = query.get("api")
    names = prefixes()
    if api is not None and api not in names:
        raise invalid(FieldError("api", f"must be one of {', '.join(names)}"))
    account_id = query.get("accountId")
    if account_id is not None and _ACCOUNT.fullmatch(account_id) is None:
        raise invalid(FieldError("accountId", "must be an account id (letters, digits, _ and -)"))
    return api, account_id


def sse(event: Event) -> bytes:
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event[0], event[4].encode(), orjson.dumps(render(event)))


async def events(request: Request) -> Response:
    emu = emulator_of(request)
    query = request.query_params
    api, account_id = _filters(request)
    fmt = query.get("format", "sse")
    if fmt not in ("sse", "json"):
        raise invalid(FieldError("format", 'must be "sse" or "json"'))
    log = emu.events
    # Where to resume: the first of these given, each checked. For the stream the header
    # first (a browser's EventSource reconnects to the same URL, the header saying how far
    # it got); for the JSON form `after`, its own parameter.
    given_ids = [
        ("Last-Event-ID", request.headers.get("last-event-id")),
        ("lastEventId", query.get("lastEventId")),
        ("after", query.get("after")),
    ]
    start = None
    for name, given in reversed(given_ids) if fmt == "json" else given_ids:
        if given is not None:
            value = _id(given, name)
            start = value if start is None else start
    if fmt == "json":
        after = start or 0
        limit = _id(query["limit"], "limit") if "limit" in query else DEFAULT_LIMIT
        if not 1 <= limit <= MAX_LIMIT:
            raise invalid(FieldError("limit", f"must be an integer from 1 to {MAX_LIMIT}"))
        with emu.lock:
            found, last = log.since(after, api, account_id, limit)
        return json({"events": [render(event) for event in found], "last": last})
    headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
    if request.method == "HEAD":
        return Response(media_type="text/event-stream", headers=headers)
    loop = asyncio.get_running_loop()
    woken = asyncio.Event()

    def wake() -> None:  # from the emitter's thread, lock held
        # A closed loop (an in-process test client gone mid-stream) has nobody to wake.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(woken.set)
    with emu.lock:
        cursor = log.last if start is None else start

    async def stream() -> AsyncIterator[bytes]:
        nonlocal cursor
        with emu.lock:  # here, not before: only a stream that runs has a subscriber to drop
            subscriber = log.subscribe(wake)
        try:
            yield b"retry: 1000\n: connected\n\n"
            while True:
                subscriber.pending = False
                woken.clear()
                with emu.lock:
                    found, cursor = log.since(cursor, api, account_id, BATCH)
                if found:
                    yield b"".join(sse(event) for event in found)
                    if len(found) == BATCH:
                        continue  # more may be waiting already
                try:
                    await asyncio.wait_for(woken.wait(), HEARTBEAT_S)
                except TimeoutError:
                    yield b": heartbeat\n\n"
        finally:
            with emu.lock:
                log.unsubscribe(subscriber)

    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


routes = [route("/_emulator/events", GET=events)]
