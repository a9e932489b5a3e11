"""What the 247xd tests share: the fixture keys and test items, and a few checks."""

from __future__ import annotations

import re
from typing import Any

from emulator.runtime import Emulator

# Fixed keys of emulator/data/default.json.
DEMO = "247xd_3769736d6939931e6de10def20d9a2483134d0c1"  # xd-demo, 500 coins
RICH = "247xd_b8dea7c360f5addabe9d6dd532d8fadd55d62b2a"  # xd-rich, 100000 coins
EMPTY = "247xd_61719260dbc78752e901ec2fa4bbfa5f1d408c3c"  # xd-empty, 0 coins
BANNED = "247xd_38e12c9ac1d5d5752efca96dbf52af7507ce09b6"  # xd-banned
EXPIRED = "247xd_1dc9eef8072c66a7ba858b9ff62b1c5803e98dc9"  # xd-old-keys, expired 2024-01-01
REVOKED = "247xd_fc204a6d15e1470dcc3ed1a18b074344edd409bd"  # xd-old-keys, revoked

# The test items with memorable ids.
OTP_TEST_SERVICE = "00000000-0000-4000-8000-000000000001"
OTP_NEVER = "00000000-0000-4000-8000-000000000011"  # the SMS never arrives, 5.00
OTP_AT_ONCE = "00000000-0000-4000-8000-000000000012"  # the SMS arrives at once, 5.00
OTP_SOLD_OUT = "00000000-0000-4000-8000-000000000013"  # stock 0
SOCIAL_TEST_SERVICE = "00000000-0000-4000-8000-000000000002"
SOCIAL_NEVER = "00000000-0000-4000-8000-000000000021"  # starts at once, never delivers
SOCIAL_FAST = "00000000-0000-4000-8000-000000000022"  # starts at once, 1000 per minute
PREMIUM_SOLD_OUT = "c4f13c75-7f3a-4986-a23b-6fe3b05d8811"  # HBO GO, stock 0

# Ordinary catalog items.
LINE = "9c5ba46f-3555-40ce-a771-ef4ff4b39d80"
LINE_AIS = "5932b247-0569-4069-9688-867975502818"  # 15.00, SMS after 57 s, stock 281
FB_LIKES = "50371bb9-f952-4916-b02b-cb89b962367f"  # 35.00 per 1000, 50..20000, starts after 30 s
TIKTOK_VIEWS = "19bbd482-557a-4468-b769-6951810779ad"  # 5.00 per 1000, 500..1000000
CHATGPT = "3d436fd9-a3d0-432c-bcf3-cad13ad53f6d"  # 250.00, stock 10
NETFLIX = "a1724606-ddc1-4bbd-b225-d523fffc171f"  # 99.00, email/password/profile/pin

UNKNOWN_UUID = "12345678-1234-4234-8234-123456789abc"

START = "2025-01-15T10:30:00Z"
START_UNIX = 1736937000

VENDOR_CODES = {
    "VALIDATION_ERROR": 400,
    "BAD_REQUEST": 400,
    "UNAUTHORIZED": 401,
    "ACCOUNT_BANNED": 403,
    "NOT_FOUND": 404,
    "RATE_LIMITED": 429,
    "INTERNAL_ERROR": 500,
}

ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def auth(key: str, scheme: str = "Bearer") -> dict[str, str]:
    return {"Authorization": f"{scheme} {key}"}


def assert_error(response: Any, status: int, code: str) -> str:
    """The 247xd error envelope, exactly; returns the message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"success", "error"}
    assert body["success"] is False
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    message = body["error"]["message"]
    assert isinstance(message, str) and message
    return message


def assert_rate_headers(response: Any, limit: int = 60) -> None:
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    remaining = int(response.headers["X-RateLimit-Remaining"])
    assert 0 <= remaining <= limit
    reset = int(response.headers["X-RateLimit-Reset"])
    assert reset % 60 == 0


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"success", "data"} and body["success"] is True
    return body["data"]


def snapshot(emu: Emulator) -> tuple[Any, ...]:
    """Everything a failed request must leave alone: coins, stock, orders."""
    backend = emu.xd247
    return (
        tuple(sorted((a.id, a.coins, len(a.orders)) for a in backend.accounts.values())),
        tuple((o.id, o.stock) for _, o in backend.price_options.values()),
        tuple((s.id, s.stock) for s in backend.premium.values()),
        len(backend.orders),
        tuple(
            (o.id, o.status, o.updated_us, getattr(o, "refunded_amount", None))
            for o in backend.orders.values()
        ),
    )


def account_of(emu: Emulator, key: str) -> Any:
    return emu.xd247.accounts[emu.xd247.keys.records[key].account_id]
