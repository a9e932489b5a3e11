"""Plain-JSON helpers for the control plane: bodies in, `{"error": {...}}` out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.core.clock import Clock
from emulator.core.errors import ApiError, FieldError
from emulator.core.http import MAX_BODY
from emulator.runtime import Emulator
from emulator.usdtlowfee.service import UsdtLowFeeBackend
from emulator.xd247.service import Xd247Backend


class ControlError(ApiError):
    """An error of the control plane, in its plain envelope `{"error": {code, message}}`."""


def json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


def error(status: int, code: str, message: str) -> Response:
    return json({"error": {"code": code, "message": message}}, status)


def invalid(exc: FieldError | ValueError) -> ControlError:
    if isinstance(exc, FieldError):
        return ControlError(400, "VALIDATION_ERROR", f"{exc.field} {exc.reason}")
    return ControlError(400, "VALIDATION_ERROR", str(exc))


def not_found(what: str) -> ControlError:
    return ControlError(404, "NOT_FOUND", f"{what} not found")


async def body(request: Request, *, allow_empty: bool = True) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ControlError(400, "BAD_REQUEST", "the body is larger than 64 KiB")
    if not raw:  # no body; whitespace alone is not JSON (as on the API surfaces)
        if allow_empty:
            return {}
        raise ControlError(400, "BAD_REQUEST", "a JSON object body is required")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ControlError(400, "BAD_REQUEST", "the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ControlError(400, "BAD_REQUEST", "the body must be a JSON object")
    return value


def emulator_of(request: Request) -> Emulator:
    return request.app.state.emulator  # type: ignore[no-any-return]


def backend_of(emu: Emulator, api: str) -> Xd247Backend | UsdtLowFeeBackend:
    """The backend a `{api}` path segment names."""
    if api == "247xd":
        return emu.xd247
    if api == "usdtlowfee":
        return emu.usdtlowfee
    raise ControlError(404, "NOT_FOUND", f"no API {api[:40]!r}: expected 247xd or usdtlowfee")


def wants_own_clock(data: dict[str, Any]) -> bool:
    """An account's `clock`: "own" (a test clock of its own) or "global" (the default)."""
    choice = data.get("clock", "global")
    if choice == "global":
        return False
    if choice == "own":
        return True
    raise invalid(FieldError("clock", 'must be "own" or "global"'))


def own_clock(emu: Emulator) -> Clock:
    """A test clock for one account: frozen at the emulator's instant, then independent of it."""
    return Clock(emu.clock.now_us(), frozen=True)


Handler = Callable[[Request], Awaitable[Response]]


def route(path: str, **handlers: Handler) -> Route:
    """One route for several methods, each with its own handler (`GET=..., POST=...`): one
    route, so that a method it lacks gets a 405 whose Allow lists them all. HEAD, which
    Starlette adds beside GET, is answered by the GET handler."""

    async def dispatch(request: Request) -> Response:
        # HEAD reaches here only on a route with GET (Starlette adds it there alone).
        return await (handlers.get(request.method) or handlers["GET"])(request)

    return Route(path, dispatch, methods=list(handlers))
