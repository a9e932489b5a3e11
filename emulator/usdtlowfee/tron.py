"""TRON specifics: address validation and the snowflake epoch of USDTLowFee's ids.

A TRON address (base58check) is 34 characters, starts with `T`, and decodes to 21 bytes
whose first is the mainnet version byte 0x41, followed by a valid 4-byte checksum. The
checksum is verified with the `base58` library, not hand-rolled code.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import base58

from emulator.core import validate as v
from emulator.core.errors import FieldError
from emulator.core.ids import Snowflake

ADDRESS_VERSION = 0x41
# The base58 alphabet (no 0, O, I, l); a cheap shape check before any decoding.
_SHAPE = re.compile(r"T[1-9A-HJ-NP-Za-km-z]{33}")

# *(inferred)* The vendor does not publish its snowflake epoch; 2020-01-01T00:00:00Z keeps
# ids issued at any later instant far above 2^53 (a month after the epoch already is).
EPOCH_MS = 1_577_836_800_000
SNOWFLAKE_WORKER = 1
# Ids never go below this, whatever the clock says: every id stays larger than 2^53.
ID_FLOOR = 2**53


@lru_cache(maxsize=4096)
def is_address(text: str) -> bool:
    if _SHAPE.fullmatch(text) is None:
        return False
    try:
        payload = base58.b58decode_check(text)
    except ValueError:
        return False
    return len(payload) == 21 and payload[0] == ADDRESS_VERSION


INVALID = "must be a valid TRON address"
# Requests get the shape spelled out; documents (fixtures, state) the short reason.
INVALID_SPELLED_OUT = INVALID + " (34 characters, starting with T, valid base58check checksum)"


def address_field(obj: dict[str, Any], name: str, path: str = "", reason: str = INVALID_SPELLED_OUT) -> str:
    """A TRON address field of a body or document; FieldError names the field."""
    value = v.need(obj, name, path)
    if not isinstance(value, str):
        raise FieldError(path + name, "must be a string")
    if not is_address(value):
        raise FieldError(path + name, reason)
    return value


def address_from_bytes(account: bytes) -> str:
    """The base58check address of a 20-byte account (for tests and fixtures)."""
    if len(account) != 20:
        raise ValueError("a TRON account is 20 bytes")
    return base58.b58encode_check(bytes([ADDRESS_VERSION]) + account).decode("ascii")


# 41 bits of milliseconds run out in 2089; the emulator clock may go further (year
# 9000), so later instants saturate there: ids stay int64 and strictly increasing.
LAST_US = (EPOCH_MS + 2**41 - 1) * 1000


class SnowflakeIds:
    """The id generator of users and orders: strictly increasing, odd, above 2^53 and
    above `last` (docs/ids.md)."""

    __slots__ = ("flake",)

    def __init__(self, last: int = ID_FLOOR) -> None:
        self.flake = Snowflake(EPOCH_MS, SNOWFLAKE_WORKER, last, floor=ID_FLOOR)

    def next(self, now_us: int) -> int:
        return self.flake.next(min(now_us, LAST_US))


def snowflake_at(ms: int, sequence: int = 0) -> int:
    """The id a snowflake issued at `ms` (unix milliseconds) would have (fixture helper)."""
    return Snowflake(EPOCH_MS, SNOWFLAKE_WORKER).at(ms * 1000, sequence)
