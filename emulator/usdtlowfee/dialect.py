"""USDTLowFee's dialect: `/v1`, `Authorization: ApiKey ak_live_...`, the `data` / `error`
envelopes (seed and its auth page) and its error words (errors.py)."""

from __future__ import annotations

from typing import Any

import orjson

from emulator.core.auth import AuthScheme
from emulator.core.dialect import Dialect
from emulator.core.errors import ApiError

from . import errors
from .account import Account


def _ok(data: Any) -> bytes:
    return orjson.dumps({"data": data})


def _error(error: ApiError) -> bytes:
    return orjson.dumps({"error": {"code": error.code, "message": error.message}})


def _refusal(account: Account) -> ApiError | None:
    return errors.forbidden() if account.disabled else None


def _endpoint_not_found() -> ApiError:
    return errors.not_found("Endpoint")


def _forbidden_host() -> ApiError:
    return errors.UsdtLowFeeError(403, "FORBIDDEN", "This Host is not allowed (see --allowed-hosts)")


DIALECT = Dialect(
    name="usdtlowfee",
    prefix="/v1",
    scheme=AuthScheme("ApiKey", errors.KEY_PATTERN),
    render_ok=_ok,
    render_error=_error,
    refusal=_refusal,
    not_found=_endpoint_not_found,
    method_not_allowed=errors.method_not_allowed,
    unauthorized=errors.unauthorized,
    rate_limited=errors.rate_limited,
    bad_request=errors.bad_request,
    invalid_field=errors.from_field_error,
    internal_error=errors.internal,
    fault_error=errors.fault,
    forbidden_host=_forbidden_host,
)
