"""247xd's error codes and Thai messages (seed section 9: the only codes it uses).

SPEC (inferred): an invalid field -> VALIDATION_ERROR; malformed JSON, insufficient
coins, out of stock, an action the order's status forbids -> BAD_REQUEST; a wrong
method -> 405 with code BAD_REQUEST.
"""

from __future__ import annotations

import re

from emulator.core.errors import ApiError, FieldError

# An API key: 247xd_ and 40 letters or digits (the emulator issues hex).
KEY_PREFIX = "247xd_"
KEY_PATTERN = KEY_PREFIX + "[A-Za-z0-9]{40}"
KEY_RE = re.compile(KEY_PATTERN)
KEY_SHAPE = "247xd_ followed by 40 letters or digits"

# Seed section 9, word for word where it gives them.
MESSAGES = {
    "VALIDATION_ERROR": "ข้อมูลที่ส่งมาไม่ถูกต้อง",
    "BAD_REQUEST": "คำขอไม่ถูกต้อง",
    "UNAUTHORIZED": "API Key ไม่ถูกต้องหรือไม่ได้ระบุ",
    "ACCOUNT_BANNED": "บัญชีถูกระงับ",
    "NOT_FOUND": "ไม่พบรายการ",
    "RATE_LIMITED": "ส่งคำขอมากเกินไป",
    "INTERNAL_ERROR": "ข้อผิดพลาดภายในระบบ",
}

# Field problems in Thai, keyed by the reasons emulator.core.validate gives.
_REASONS = {
    "is required": "จำเป็นต้องระบุ",
    "must be a string": "ต้องเป็นข้อความ",
    "must be an integer": "ต้องเป็นจำนวนเต็ม",
    "must be a number": "ต้องเป็นตัวเลข",
    "must be a uuid": "ต้องเป็น uuid",
    "must be true or false": "ต้องเป็น true หรือ false",
    "must be an http(s) URL": "ต้องเป็น URL แบบ http(s)",
}


class Xd247Error(ApiError):
    pass


def validation(field: str, reason: str) -> Xd247Error:
    thai = _REASONS.get(reason, reason)
    return Xd247Error(400, "VALIDATION_ERROR", f"{MESSAGES['VALIDATION_ERROR']}: {field} {thai}")


def from_field_error(error: FieldError) -> Xd247Error:
    return validation(error.field, error.reason)


def bad_request(detail: str | None = None) -> Xd247Error:
    message = MESSAGES["BAD_REQUEST"] if detail is None else f"{MESSAGES['BAD_REQUEST']}: {detail}"
    return Xd247Error(400, "BAD_REQUEST", message)


def insufficient_coins() -> Xd247Error:
    return bad_request("เหรียญไม่เพียงพอ")


def out_of_stock() -> Xd247Error:
    return bad_request("สินค้าหมด")


def status_forbids(action: str, status: str) -> Xd247Error:
    return bad_request(f"ไม่สามารถ{action}คำสั่งซื้อที่มีสถานะ {status}")


def not_found() -> Xd247Error:
    return Xd247Error(404, "NOT_FOUND", MESSAGES["NOT_FOUND"])


def unauthorized() -> Xd247Error:
    return Xd247Error(401, "UNAUTHORIZED", MESSAGES["UNAUTHORIZED"])


def banned() -> Xd247Error:
    return Xd247Error(403, "ACCOUNT_BANNED", MESSAGES["ACCOUNT_BANNED"])


def rate_limited(retry_after: int) -> Xd247Error:
    return Xd247Error(
        429, "RATE_LIMITED", MESSAGES["RATE_LIMITED"], [(b"retry-after", str(retry_after).encode())]
    )


def method_not_allowed(allowed: list[str]) -> Xd247Error:
    return Xd247Error(
        405,
        "BAD_REQUEST",
        f"{MESSAGES['BAD_REQUEST']}: ไม่รองรับเมธอดนี้",
        [(b"allow", ", ".join(allowed).encode())],
    )


def internal() -> Xd247Error:
    return Xd247Error(500, "INTERNAL_ERROR", MESSAGES["INTERNAL_ERROR"])


# An injected fault's code when none is given: the vendor table's code for the status.
_FAULT_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "ACCOUNT_BANNED",
    404: "NOT_FOUND",
    405: "BAD_REQUEST",  # 247xd's wrong-method code (SPEC, inferred)
    429: "RATE_LIMITED",
}


def fault(status: int, code: str | None, message: str | None) -> Xd247Error:
    """An error injected by a fault (control plane): 5xx -> INTERNAL_ERROR, a 4xx not in
    the table -> BAD_REQUEST; the message is the table's for the code."""
    if code is None:
        code = "INTERNAL_ERROR" if status >= 500 else _FAULT_CODES.get(status, "BAD_REQUEST")
    if message is None:
        message = MESSAGES.get(code) or MESSAGES["INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST"]
    return Xd247Error(status, code, message)
