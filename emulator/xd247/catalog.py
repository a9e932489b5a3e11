"""247xd's catalog: what can be ordered, at what price and stock, and how it behaves.

OTP services hold price options, social services hold options, premium services are
ordered directly. Each orderable item knows its service and its place (`number`) in its
kind's list in the order book, so an order row keeps a 4-byte index, not a reference.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from emulator.core.money import coins


@dataclass(slots=True)
class PriceOption:
    id: str
    name: str
    price: int  # hundredths of a coin
    stock: int
    sms_delay_us: int | None  # None: the SMS never arrives
    phone_pattern: str = "08########"
    service_id: str = ""
    expires_us: int = 0  # how long its orders wait for their SMS (the service's setting)
    number: int = -1  # its place in its kind's list in the order book

    def phone_number(self, rng: random.Random) -> int:
        """A number of the pattern (each # a digit) from Faker's seeded generator, as an
        integer (shown zero-padded to the pattern's length). One draw, not Faker's
        per-character numerify: this is on the order path."""
        pattern = self.phone_pattern
        hashes = pattern.count("#")
        scale: int = 10**hashes
        draw = rng.randrange(scale)
        if pattern.endswith("#" * hashes):
            return int(pattern[: len(pattern) - hashes] or "0") * scale + draw
        digits = iter(f"{draw:0{hashes}d}")
        return int("".join(next(digits) if c == "#" else c for c in pattern))

    def view(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "price": coins(self.price), "stock": self.stock}


@dataclass(slots=True)
class OtpService:
    id: str
    name: str
    expires_us: int  # how long an order waits for its SMS
    price_options: list[PriceOption]

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "priceOptions": [option.view() for option in self.price_options],
        }


@dataclass(slots=True)
class SocialOption:
    id: str
    name: str
    price_per_1000: int  # hundredths
    min: int
    max: int
    start_delay_us: int
    per_minute: int | None  # None: delivery never progresses
    service_id: str = ""
    number: int = -1

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "pricePer1000": coins(self.price_per_1000),
            "min": self.min,
            "max": self.max,
        }


@dataclass(slots=True)
class SocialService:
    id: str
    name: str
    platform: str
    options: list[SocialOption]

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "platform": self.platform,
            "options": [option.view() for option in self.options],
        }


@dataclass(slots=True)
class PremiumService:
    id: str
    name: str
    price: int
    stock: int
    duration_days: int
    credential_fields: tuple[str, ...]
    number: int = -1

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "price": coins(self.price),
            "stock": self.stock,
            "durationDays": self.duration_days,
        }


# What has a price: an order's item.
CatalogItem = PriceOption | SocialOption | PremiumService
