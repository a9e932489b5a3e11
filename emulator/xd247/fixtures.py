"""Reads 247xd's part of a fixtures document into fresh state objects.

Fixtures are data (`emulator/data/default.json`); this turns them into accounts, keys and a
catalog, refusing a malformed document with the path of the first bad field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from emulator.core import validate as v
from emulator.core.auth import KeySpec, key_specs
from emulator.core.clock import US_PER_S, seconds_to_us
from emulator.core.errors import FieldError
from emulator.core.money import coins as coin_number
from emulator.core.money import to_hundredths
from emulator.core.validate import INT64_MAX

from .catalog import OtpService, PremiumService, PriceOption, SocialOption, SocialService
from .errors import KEY_RE, KEY_SHAPE

DEFAULT_OTP_EXPIRY_S = 20 * 60  # SPEC: 20 minutes after creation (inferred default)
# Delays and expiries are added to the clock and rendered as dates: keep them bounded.
MAX_SECONDS = 100 * 366 * 86_400
CREDENTIAL_FIELDS = ("email", "username", "password", "pin", "profile")
# Coins are served as JSON numbers (doubles): up to 15 significant digits every amount of
# hundredths is exact, so an account holds at most 9,999,999,999,999.99 coins, counting
# what its orders could still refund (Xd247Backend.refundable).
MAX_COINS = 10**15 - 1  # hundredths
# Catalog prices and stock (fixtures, the state document, the control plane's PATCH).
MAX_ITEM_PRICE = 100_000_000_00  # 100,000,000 coins, in hundredths
MAX_STOCK = 1_000_000_000


@dataclass(slots=True)
class AccountSpec:
    id: str
    coins: int
    banned: bool
    label: str
    keys: list[KeySpec]


@dataclass(slots=True)
class Xd247Fixtures:
    accounts: list[AccountSpec] = field(default_factory=list)
    otp: list[OtpService] = field(default_factory=list)
    social: list[SocialService] = field(default_factory=list)
    premium: list[PremiumService] = field(default_factory=list)
    # Magic social links: link -> (outcome, deliveredPercent); see _magic_links.
    magic_links: dict[str, tuple[str, int]] = field(default_factory=dict)


def _coins(obj: dict[str, Any], name: str, path: str, high: int = MAX_COINS) -> int:
    try:
        amount = to_hundredths(v.need(obj, name, path))
    except ValueError as exc:
        raise FieldError(path + name, str(exc)) from None
    if amount > high:
        raise FieldError(path + name, f"must be at most {coin_number(high)}")
    return amount


def _seconds(obj: dict[str, Any], name: str, path: str, default: float | None) -> int | None:
    if name not in obj:
        return None if default is None else seconds_to_us(default)
    if obj[name] is None:
        return None
    seconds = v.number(obj, name, path, low=0)
    if seconds > MAX_SECONDS:
        raise FieldError(path + name, f"must be at most {MAX_SECONDS} (100 years)")
    return seconds_to_us(seconds)


PHONE_PATTERN_RE = re.compile(r"[0-9][0-9#]{3,14}")


def _phone_pattern(obj: dict[str, Any], where: str) -> str:
    """Digits and # (one random digit each), starting with a digit: a number is kept as
    an integer and shown zero-padded to the pattern's length."""
    if "phonePattern" not in obj:
        return "08########"
    pattern = v.string(obj, "phonePattern", where)
    if PHONE_PATTERN_RE.fullmatch(pattern) is None:
        raise FieldError(where + "phonePattern", "must be 4 to 15 digits or #, starting with a digit")
    return pattern


MAGIC_OUTCOMES = ("cancelled", "partial")


def _magic_links(doc: dict[str, Any], path: str) -> dict[str, tuple[str, int]]:
    """Social order links that end unhappily by themselves (Stripe's test cards): an order
    to a "cancelled" link is cancelled at the instant it would start, nothing delivered; one
    to a "partial" link delivers at its option's rate until deliveredPercent of the quantity
    (rounded down) is delivered, and ends partial at that instant. Matched exactly."""
    links: dict[str, tuple[str, int]] = {}
    for where, raw in v.items(doc, "magicLinks", path):
        link = v.string(raw, "link", where, max_len=2048)
        problem = v.http_url_problem(link)
        if problem is not None:
            raise FieldError(where + "link", problem)
        if link in links:
            raise FieldError(where + "link", f"{link} is listed twice")
        outcome = v.string(raw, "outcome", where)
        if outcome not in MAGIC_OUTCOMES:
            raise FieldError(where + "outcome", 'must be "cancelled" or "partial"')
        percent = 0
        if outcome == "partial":
            percent = v.integer(raw, "deliveredPercent", where, low=0, high=99)
        links[link] = (outcome, percent)
    return links


def parse(doc: dict[str, Any], path: str = "247xd.") -> Xd247Fixtures:
    out = Xd247Fixtures()
    for where, raw in v.items(doc, "accounts", path):
        keys = key_specs(raw, where, KEY_RE, KEY_SHAPE)
        out.accounts.append(
            AccountSpec(
                id=v.string(raw, "id", where, max_len=64),
                coins=_coins(raw, "coins", where),
                banned=v.boolean(raw, "banned", where) if "banned" in raw else False,
                label=v.string(raw, "label", where) if v.optional(raw, "label") else "",
                keys=keys,
            )
        )
    for where, raw in v.items(doc, "otpServices", path):
        expiry = _seconds(raw, "expiresInSeconds", where, DEFAULT_OTP_EXPIRY_S)
        service_expiry = expiry if expiry is not None else DEFAULT_OTP_EXPIRY_S * US_PER_S
        service_id = v.uuid_string(raw, "id", where)
        options = [
            PriceOption(
                id=v.uuid_string(o, "id", ow),
                name=v.string(o, "name", ow),
                price=_coins(o, "price", ow, MAX_ITEM_PRICE),
                stock=v.integer(o, "stock", ow, low=0, high=MAX_STOCK),
                sms_delay_us=_seconds(o, "smsDelaySeconds", ow, 30),
                phone_pattern=_phone_pattern(o, ow),
                service_id=service_id,
                expires_us=service_expiry,
            )
            for ow, o in v.items(raw, "priceOptions", where)
        ]
        out.otp.append(
            OtpService(
                id=service_id,
                name=v.string(raw, "name", where),
                expires_us=service_expiry,
                price_options=options,
            )
        )
    for where, raw in v.items(doc, "socialServices", path):
        social_id = v.uuid_string(raw, "id", where)
        social_options: list[SocialOption] = []
        for ow, o in v.items(raw, "options", where):
            low = v.integer(o, "min", ow, low=1, high=INT64_MAX)
            high = v.integer(o, "max", ow, low=low, high=INT64_MAX)
            per_minute = None if o.get("deliveryPerMinute") is None else v.integer(
                o, "deliveryPerMinute", ow, low=1, high=INT64_MAX
            )
            social_options.append(
                SocialOption(
                    id=v.uuid_string(o, "id", ow),
                    name=v.string(o, "name", ow),
                    price_per_1000=_coins(o, "pricePer1000", ow, MAX_ITEM_PRICE),
                    min=low,
                    max=high,
                    start_delay_us=_seconds(o, "startDelaySeconds", ow, 60) or 0,
                    per_minute=per_minute,
                    service_id=social_id,
                )
            )
        out.social.append(
            SocialService(
                id=social_id,
                name=v.string(raw, "name", where),
                platform=v.string(raw, "platform", where),
                options=social_options,
            )
        )
    for where, raw in v.items(doc, "premiumServices", path):
        fields: tuple[str, ...] = ("email", "password")
        if "credentials" in raw:
            listed = v.list_of(raw, "credentials", where)
            if not listed or any(f not in CREDENTIAL_FIELDS for f in listed):
                raise FieldError(where + "credentials", f"must list some of {list(CREDENTIAL_FIELDS)}")
            fields = tuple(listed)
        out.premium.append(
            PremiumService(
                id=v.uuid_string(raw, "id", where),
                name=v.string(raw, "name", where),
                price=_coins(raw, "price", where, MAX_ITEM_PRICE),
                stock=v.integer(raw, "stock", where, low=0, high=MAX_STOCK),
                duration_days=v.integer(raw, "durationDays", where, low=1, high=INT64_MAX),
                credential_fields=fields,
            )
        )
    out.magic_links = _magic_links(doc, path)
    v.unique([a.id for a in out.accounts], path + "accounts", noun="id ")
    v.unique([k.key for a in out.accounts for k in a.keys], path + "accounts[].keys", noun="id ")
    v.unique(
        [s.id for s in out.otp]
        + [o.id for s in out.otp for o in s.price_options]
        + [s.id for s in out.social]
        + [o.id for s in out.social for o in s.options]
        + [s.id for s in out.premium],
        path + "catalog",
        noun="id ",
    )
    return out
