"""Reads USDTLowFee's part of a fixtures document into fresh state specs.

Fixtures are data (`emulator/data/default.json`); this turns them into accounts, keys, saved
addresses, the price table, the fulfilment delay and the documented failing inputs,
refusing a malformed document with the path of the first bad field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from emulator.core import validate as v
from emulator.core.auth import KeySpec, key_specs
from emulator.core.clock import parse_iso, seconds_to_us
from emulator.core.errors import FieldError
from emulator.core.validate import INT64_MAX

from . import tron
from .energy import DURATIONS
from .errors import KEY_RE, KEY_SHAPE

EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# Seed, GET /v1/energy/orders/:id example: completedAt is 5 s after createdAt.
DEFAULT_DELAY_S = 5
MAX_DELAY_S = 366 * 86_400
# Sun for 65000 energy per durationHours (SPEC, inferred); 1 hour reproduces the seed
# example (65000 energy for 1 hour = 3,000,000 sun).
DEFAULT_PRICES = {1: 3_000_000, 24: 4_500_000, 72: 12_000_000, 168: 26_000_000, 336: 50_000_000,
                  720: 100_000_000}
MAX_PRICE_SUN = 10**10  # keeps every order price far inside int64 and exact as priceTrx
# A wallet's totalSun (balanceSun + frozenSun) is an int64: a balance is bounded together
# with what its processing orders hold, since a failing order gives its price back.
MAX_TOTAL_SUN = INT64_MAX
# Saved addresses' usageCount stops counting here (an int64, as every count in the document).
MAX_USAGE_COUNT = INT64_MAX
DEFAULT_FAILURE = "the receiving account cannot take delegated energy"


@dataclass(slots=True)
class AddressSpec:
    id: int
    tron_address: str
    label: str
    is_default: bool
    usage_count: int
    last_used_us: int | None
    created_us: int


@dataclass(slots=True)
class AccountSpec:
    id: str
    user_id: int
    email: str
    email_verified: bool
    created_us: int
    balance_sun: int
    disabled: bool
    label: str
    keys: list[KeySpec]
    addresses: list[AddressSpec]


@dataclass(slots=True)
class UsdtLowFeeFixtures:
    accounts: list[AccountSpec] = field(default_factory=list)
    prices: dict[int, int] = field(default_factory=lambda: dict(DEFAULT_PRICES))
    fulfilment_delay_us: int = seconds_to_us(DEFAULT_DELAY_S)
    failing: dict[str, str] = field(default_factory=dict)  # tronAddress -> failure reason
    slow: dict[str, int] = field(default_factory=dict)  # tronAddress -> its own fulfilment delay


def _instant(obj: dict[str, Any], name: str, path: str) -> int:
    try:
        return parse_iso(v.need(obj, name, path))
    except ValueError as exc:
        raise FieldError(path + name, str(exc)) from None


def _flag(obj: dict[str, Any], name: str, path: str, default: bool) -> bool:
    return v.boolean(obj, name, path) if name in obj else default


def address_of(obj: dict[str, Any], name: str, path: str) -> str:
    return tron.address_field(obj, name, path, tron.INVALID)


def _addresses(raw: dict[str, Any], where: str, created_us: int) -> list[AddressSpec]:
    out = []
    for awhere, araw in v.items(raw, "addresses", where):
        out.append(
            AddressSpec(
                id=v.integer(araw, "id", awhere, low=1, high=INT64_MAX),
                tron_address=address_of(araw, "tronAddress", awhere),
                label=v.string(araw, "label", awhere, max_len=64),
                is_default=_flag(araw, "isDefault", awhere, False),
                usage_count=(
                    v.integer(araw, "usageCount", awhere, low=0, high=MAX_USAGE_COUNT)
                    if "usageCount" in araw
                    else 0
                ),
                last_used_us=_instant(araw, "lastUsedAt", awhere) if v.optional(araw, "lastUsedAt") else None,
                created_us=_instant(araw, "createdAt", awhere) if "createdAt" in araw else created_us,
            )
        )
    v.unique([a.tron_address for a in out], where + "addresses")
    if sum(a.is_default for a in out) > 1:
        raise FieldError(where + "addresses", "at most one address may be the default")
    return out


def _prices(doc: dict[str, Any], path: str) -> dict[int, int]:
    if "prices" not in doc:
        return dict(DEFAULT_PRICES)
    prices: dict[int, int] = {}
    for where, raw in v.items(doc, "prices", path):
        hours = v.integer(raw, "durationHours", where)
        if hours not in DURATIONS:
            raise FieldError(where + "durationHours", f"must be one of {', '.join(map(str, DURATIONS))}")
        if hours in prices:
            raise FieldError(where + "durationHours", f"{hours} is listed twice")
        prices[hours] = v.integer(raw, "priceSun", where, low=0, high=MAX_PRICE_SUN)
    missing = [h for h in DURATIONS if h not in prices]
    if missing:
        raise FieldError(path + "prices", f"must price every duration; missing {missing}")
    return {h: prices[h] for h in DURATIONS}


def price_table(doc: dict[str, Any], path: str = "") -> dict[int, int]:
    """`{"prices": [...]}` with every duration priced (the control plane's PUT): required."""
    v.list_of(doc, "prices", path)
    return _prices(doc, path)


def parse(doc: dict[str, Any], path: str = "usdtlowfee.") -> UsdtLowFeeFixtures:
    out = UsdtLowFeeFixtures(prices=_prices(doc, path))
    if "fulfilmentDelaySeconds" in doc:
        delay = v.number(doc, "fulfilmentDelaySeconds", path, low=0)
        if delay > MAX_DELAY_S:
            raise FieldError(path + "fulfilmentDelaySeconds", f"must be at most {MAX_DELAY_S}")
        out.fulfilment_delay_us = seconds_to_us(delay)
    for where, raw in v.items(doc, "failingAddresses", path):
        address = address_of(raw, "tronAddress", where)
        if address in out.failing:
            raise FieldError(where + "tronAddress", f"{address} is listed twice")
        reason = v.string(raw, "reason", where, max_len=200) if "reason" in raw else DEFAULT_FAILURE
        out.failing[address] = reason
    for where, raw in v.items(doc, "slowAddresses", path):
        address = address_of(raw, "tronAddress", where)
        if address in out.slow:
            raise FieldError(where + "tronAddress", f"{address} is listed twice")
        delay = v.number(raw, "delaySeconds", where, low=0)
        if delay > MAX_DELAY_S:
            raise FieldError(where + "delaySeconds", f"must be at most {MAX_DELAY_S}")
        out.slow[address] = seconds_to_us(delay)
    for where, raw in v.items(doc, "accounts", path):
        email = v.string(raw, "email", where, max_len=254)
        if EMAIL_RE.fullmatch(email) is None:
            raise FieldError(where + "email", "must be an email address")
        created = _instant(raw, "createdAt", where)
        out.accounts.append(
            AccountSpec(
                id=v.string(raw, "id", where, max_len=64),
                user_id=v.integer(raw, "userId", where, low=1, high=INT64_MAX),
                email=email,
                email_verified=_flag(raw, "emailVerified", where, True),
                created_us=created,
                balance_sun=v.integer(raw, "balanceSun", where, low=0, high=MAX_TOTAL_SUN),
                disabled=_flag(raw, "disabled", where, False),
                label=v.string(raw, "label", where, max_len=200) if v.optional(raw, "label") else "",
                keys=key_specs(raw, where, KEY_RE, KEY_SHAPE),
                addresses=_addresses(raw, where, created),
            )
        )
    v.unique([a.id for a in out.accounts], path + "accounts[].id")
    v.unique([a.user_id for a in out.accounts], path + "accounts[].userId")
    v.unique([k.key for a in out.accounts for k in a.keys], path + "accounts[].keys")
    v.unique([x.id for a in out.accounts for x in a.addresses], path + "accounts[].addresses[].id")
    return out
