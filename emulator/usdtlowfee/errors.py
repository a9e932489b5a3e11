"""USDTLowFee's error codes and English messages.

SPEC (inferred) codes: 400 VALIDATION_ERROR, 400 BAD_REQUEST, 401 UNAUTHORIZED,
403 FORBIDDEN, 403 INSUFFICIENT_BALANCE, 404 NOT_FOUND, 405 METHOD_NOT_ALLOWED,
409 CONFLICT, 429 RATE_LIMITED, 500 INTERNAL_ERROR. No other codes.
"""

from __future__ import annotations

from emulator.core.errors import ApiError, FieldError

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
