"""Plain-JSON helpers for the control plane: bodies in, `{"error": {...}}` out."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from emulator.core.asgi import MAX_BODY
from emulator.core.errors import FieldError
from emulator.runtime import Emulator


class ControlError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


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
    if not raw.strip():
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
