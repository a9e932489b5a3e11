"""Errors every surface raises. Each API renders them in its own envelope."""

from __future__ import annotations

import orjson


def plain_error(code: str, message: str) -> bytes:
    """The control plane's envelope, `{"error": {"code", "message"}}`: its own answers, and
    refusals made before a request reaches any API (host, size, cross-site, durability)."""
    return orjson.dumps({"error": {"code": code, "message": message}})


class ApiError(Exception):
    """An error response: HTTP status, the vendor's code, a message naming the problem."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or []


class FieldError(ValueError):
    """A field is missing, mistyped or out of range; each API words it its own way."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class LimitError(FieldError):
    """A write that would take a field past the bound the state document accepts (a
    balance, a count, an id sequence): refused before anything changes, so that every
    state the emulator can reach exports, imports and loads (docs/state.md, Limits)."""
