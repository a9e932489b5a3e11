"""247xd's dialect: `/api/v1`, `Authorization: Bearer 247xd_...`, the `success` envelope
(seed sections 2 and 9) and its error words (errors.py)."""

from __future__ import annotations

from typing import Any

import orjson

from emulator.core.auth import AuthScheme
from emulator.core.dialect import Dialect
from emulator.core.errors import ApiError

from . import errors
from .account import Account


def _ok(data: Any) -> bytes:
    return orjson.dumps({"success": True, "data": data})


def _error(error: ApiError) -> bytes:
    return orjson.dumps({"success": False, "error": {"code": error.code, "message": error.message}})


def _refusal(account: Account) -> ApiError | None:
    return errors.banned() if account.banned else None


def _fault(status: int, code: str | None, message: str | None, retry_after: int) -> ApiError:
    return errors.fault(status, code, message)


DIALECT = Dialect(
    name="247xd",
    prefix="/api/v1",
    scheme=AuthScheme("Bearer", errors.KEY_PATTERN),
    render_ok=_ok,
    render_error=_error,
    refusal=_refusal,
    not_found=errors.not_found,
    method_not_allowed=errors.method_not_allowed,
    unauthorized=errors.unauthorized,
    rate_limited=errors.rate_limited,
    bad_request=errors.bad_request,
    invalid_field=errors.from_field_error,
    internal_error=errors.internal,
    fault_error=_fault,
)
