"""USDTLowFee's error codes and English messages.

SPEC (inferred) codes: 400 VALIDATION_ERROR, 400 BAD_REQUEST, 401 UNAUTHORIZED,
403 FORBIDDEN, 403 INSUFFICIENT_BALANCE, 404 NOT_FOUND, 405 METHOD_NOT_ALLOWED,
409 CONFLICT, 429 RATE_LIMITED, 500 INTERNAL_ERROR. No other codes.
"""

from __future__ import annotations

import re

from emulator.core.errors import ApiError, FieldError

# SPEC (inferred): an API key is ak_live_ and 32 letters or digits (the emulator issues hex).
KEY_PREFIX = "ak_live_"
KEY_PATTERN = KEY_PREFIX + "[A-Za-z0-9]{32}"
KEY_RE = re.compile(KEY_PATTERN)
KEY_SHAPE = "ak_live_ followed by 32 letters or digits"

CODES = (
    "VALIDATION_ERROR",
    "BAD_REQUEST",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "INSUFFICIENT_BALANCE",
    "NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "CONFLICT",
    "RATE_LIMITED",
    "INTERNAL_ERROR",
)


class UsdtLowFeeError(ApiError):
    pass


def validation(field: str, reason: str) -> UsdtLowFeeError:
    # "data.energyValue must be at least 32000": the field first, then what is wrong.
    return UsdtLowFeeError(400, "VALIDATION_ERROR", f"{field} {reason}")


def from_field_error(error: FieldError) -> UsdtLowFeeError:
    return validation(error.field, error.reason)


def bad_request(detail: str) -> UsdtLowFeeError:
    return UsdtLowFeeError(400, "BAD_REQUEST", f"Bad request: {detail}")


def unauthorized() -> UsdtLowFeeError:
    return UsdtLowFeeError(
        401,
        "UNAUTHORIZED",
        "Missing, invalid, expired or revoked API key (expected Authorization: ApiKey ak_live_...)",
    )


def forbidden() -> UsdtLowFeeError:
    return UsdtLowFeeError(403, "FORBIDDEN", "This account is disabled")


def insufficient_balance(price_sun: int, balance_sun: int) -> UsdtLowFeeError:
    return UsdtLowFeeError(
        403,
        "INSUFFICIENT_BALANCE",
        f"Insufficient balance: the order costs {price_sun} sun, the available balance is {balance_sun} sun",
    )


def not_found(what: str = "Resource") -> UsdtLowFeeError:
    return UsdtLowFeeError(404, "NOT_FOUND", f"{what} not found")


def conflict(message: str) -> UsdtLowFeeError:
    return UsdtLowFeeError(409, "CONFLICT", message)


def method_not_allowed(allowed: list[str]) -> UsdtLowFeeError:
    joined = ", ".join(allowed)
    return UsdtLowFeeError(
        405,
        "METHOD_NOT_ALLOWED",
        f"Method not allowed on this path; allowed: {joined}",
        [(b"allow", joined.encode())],
    )


def rate_limited(retry_after: int) -> UsdtLowFeeError:
    return UsdtLowFeeError(
        429,
        "RATE_LIMITED",
        f"Too many requests; retry after {retry_after} seconds",
        [(b"retry-after", str(retry_after).encode())],
    )


def internal() -> UsdtLowFeeError:
    return UsdtLowFeeError(500, "INTERNAL_ERROR", "Internal error")


# An injected fault's code when none is given: the table's code for the status.
_FAULT_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    429: "RATE_LIMITED",
}
_FAULT_MESSAGES = {
    "VALIDATION_ERROR": "Validation failed",
    "BAD_REQUEST": "Bad request",
    "INSUFFICIENT_BALANCE": "Insufficient balance",
    "NOT_FOUND": "Resource not found",
    "METHOD_NOT_ALLOWED": "Method not allowed on this path",
    "CONFLICT": "Conflict",
    "INTERNAL_ERROR": "Internal error",
}


def fault(status: int, code: str | None, message: str | None, retry_after: int) -> UsdtLowFeeError:
    """An error injected by a fault (control plane): 5xx -> INTERNAL_ERROR, a 4xx not in
    the table -> BAD_REQUEST; the message is the one the API uses for the code."""
    if code is None:
        code = "INTERNAL_ERROR" if status >= 500 else _FAULT_CODES.get(status, "BAD_REQUEST")
    if message is None:
        if code == "UNAUTHORIZED":
            message = unauthorized().message
        elif code == "FORBIDDEN":
            message = forbidden().message
        elif code == "RATE_LIMITED":
            message = rate_limited(retry_after).message
        else:
            fallback = "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST"
            message = _FAULT_MESSAGES.get(code) or _FAULT_MESSAGES[fallback]
    return UsdtLowFeeError(status, code, message)
