"""GET/PUT /_emulator/state: the whole state as one JSON document (emulator/state.py)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator import state as state_mod
from emulator.apis import FAULT_TARGETS
from emulator.core.http import BODY_TIMEOUT_S

from .common import ControlError, emulator_of, json


def too_large(limit: int) -> ControlError:
    return ControlError(
        413,
        "PAYLOAD_TOO_LARGE",
        f"the state document is larger than {limit} bytes (--max-state-body / EMULATOR_MAX_STATE_BODY)",
    )


async def state(request: Request) -> Response:
    emu = emulator_of(request)
    if request.method == "GET":
        with emu.lock:
            data = state_mod.dumps(emu)
        return Response(data, media_type="application/json")
    # A state document holds every order: far above the 64 KiB of an ordinary body, so it
    # has its own limit (Config.max_state_body), checked before and while reading.
    limit = emu.config.max_state_body
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdecimal() and int(declared) > limit:
        raise too_large(limit)
    size = 0
    chunks: list[bytes] = []
    loop = asyncio.get_running_loop()
    try:  # a large document may take long: each chunk, not the whole, must come in time
        async with asyncio.timeout(BODY_TIMEOUT_S) as deadline:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                chunks.append(chunk)
                deadline.reschedule(loop.time() + BODY_TIMEOUT_S)
    except TimeoutError:
        raise ControlError(
            408, "REQUEST_TIMEOUT", f"no part of the body arrived within {BODY_TIMEOUT_S:g} s",
            [(b"connection", b"close")],
        ) from None
    raw = b"".join(chunks)
    if not raw:
        raise ControlError(400, "BAD_REQUEST", "a JSON object body is required")
    try:
        state_mod.load(raw, emu, FAULT_TARGETS)
    except state_mod.StateError as exc:
        raise ControlError(400, "VALIDATION_ERROR", str(exc)) from None
    return json({"status": "loaded"})


routes = [Route("/_emulator/state", state, methods=["GET", "PUT"])]
