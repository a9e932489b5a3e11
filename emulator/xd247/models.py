"""247xd state and its transitions. No HTTP here: a test can drive it directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulator.core.clock import US_PER_S, Clock, iso_ms
from emulator.core.money import coins
from emulator.core.statemachine import StateMachine

# SPEC, 247xd OTP numbers (inferred table).
OTP = StateMachine(
    "otp",
    "waiting_sms",
    {
        "waiting_sms": ("completed", "cancelled", "expired"),
        "completed": (),
        "cancelled": ("refunded",),
        "expired": ("refunded",),
        "refunded": (),
    },
)

# SPEC, 247xd social boosters (inferred): pending -> processing -> completed,
# processing -> partial, pending/processing -> cancelled, cancelled/partial -> refunded.
SOCIAL = StateMachine(
    "social",
    "pending",
    {
        "pending": ("processing", "cancelled"),
        "processing": ("completed", "partial", "cancelled"),
        "completed": (),
        "partial": ("refunded",),
        "cancelled": ("refunded",),
        "refunded": (),
    },
)

# Premium accounts are delivered at once (seed section 8): one terminal status.
PREMIUM = StateMachine("premium", "completed", {"completed": ()})

MINUTE_US = 60 * US_PER_S


@dataclass(slots=True)
class PriceOption:
    id: str
    name: str
    price: int  # hundredths of a coin
    stock: int
    sms_delay_us: int | None  # None: the SMS never arrives
    phone_pattern: str = "08########"

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

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "price": coins(self.price),
            "stock": self.stock,
            "durationDays": self.duration_days,
        }


@dataclass(slots=True)
class Account:
    id: str
    coins: int  # hundredths
    banned: bool = False
    label: str = ""
    clock: Clock | None = None  # its own test clock, else the emulator's
    order_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class OtpOrder:
    id: str
    account_id: str
    service_id: str
    price_option_id: str
    phone_number: str
    price: int
    created_us: int
    expires_us: int
    sms_us: int | None
    otp_code: str
    status: str = "waiting_sms"
    updated_us: int = 0
    refunded_amount: int | None = None

    kind = "otp"
    machine = OTP

    def settle(self, now_us: int) -> None:
        """Apply the moves that came due by `now_us`, each at the instant it was due."""
        if self.status != "waiting_sms":
            return
        sms = self.sms_us
        if sms is not None and sms < self.expires_us and now_us >= sms:
            self.status, self.updated_us = "completed", sms
        elif now_us >= self.expires_us:
            self.status, self.updated_us = "expired", self.expires_us

    def refund_amount(self) -> int:
        return self.price

    def created_view(self) -> dict[str, Any]:
        # Seed section 6, POST /otp/orders response: exactly these fields.
        return {
            "orderId": self.id,
            "phoneNumber": self.phone_number,
            "status": self.status,
            "price": coins(self.price),
            "expiresAt": iso_ms(self.expires_us),
        }

    def view(self, now_us: int) -> dict[str, Any]:
        data = {
            "orderId": self.id,
            "serviceId": self.service_id,
            "priceOptionId": self.price_option_id,
            "phoneNumber": self.phone_number,
            "status": self.status,
            "price": coins(self.price),
            "otpCode": self.otp_code if self.status == "completed" else None,
            "expiresAt": iso_ms(self.expires_us),
            "createdAt": iso_ms(self.created_us),
            "updatedAt": iso_ms(self.updated_us),
        }
        if self.refunded_amount is not None:
            data["refundedAmount"] = coins(self.refunded_amount)
        return data


@dataclass(slots=True)
class SocialOrder:
    id: str
    account_id: str
    service_id: str
    option_id: str
    link: str
    quantity: int
    price: int
    start_count: int
    created_us: int
    start_us: int
    per_minute: int | None
    status: str = "pending"
    updated_us: int = 0
    delivered_final: int | None = None  # fixed once delivery stops
    refunded_amount: int | None = None

    kind = "social"
    machine = SOCIAL

    def completes_us(self) -> int | None:
        if not self.per_minute:
            return None
        # The first instant at which start + elapsed * rate covers the whole quantity.
        return self.start_us + -(-self.quantity * MINUTE_US // self.per_minute)

    def delivered(self, now_us: int) -> int:
        if self.delivered_final is not None:
            return self.delivered_final
        if self.status == "pending" or not self.per_minute or now_us <= self.start_us:
            return 0
        return min(self.quantity, (now_us - self.start_us) * self.per_minute // MINUTE_US)

    def settle(self, now_us: int) -> None:
        if self.status == "pending" and now_us >= self.start_us:
            self.status, self.updated_us = "processing", self.start_us
        if self.status == "processing":
            done = self.completes_us()
            if done is not None and now_us >= done:
                self.status, self.updated_us = "completed", done
                self.delivered_final = self.quantity

    def refund_amount(self) -> int:
        if self.status == "partial":
            undelivered = self.quantity - (self.delivered_final or 0)
            return self.price * undelivered // self.quantity  # shares round down (SPEC)
        return self.price

    def created_view(self) -> dict[str, Any]:
        # Seed section 7, POST /social/orders response.
        return {"orderId": self.id, "status": self.status, "price": coins(self.price)}

    def view(self, now_us: int) -> dict[str, Any]:
        delivered = self.delivered(now_us)
        data = {
            "orderId": self.id,
            "serviceId": self.service_id,
            "optionId": self.option_id,
            "link": self.link,
            "quantity": self.quantity,
            "status": self.status,
            "price": coins(self.price),
            "startCount": self.start_count,
            "delivered": delivered,
            "remains": self.quantity - delivered,
            "createdAt": iso_ms(self.created_us),
            "updatedAt": iso_ms(self.updated_us),
        }
        if self.refunded_amount is not None:
            data["refundedAmount"] = coins(self.refunded_amount)
        return data


@dataclass(slots=True)
class PremiumOrder:
    id: str
    account_id: str
    service_id: str
    price: int
    credentials: dict[str, str]
    created_us: int
    status: str = "completed"
    updated_us: int = 0

    kind = "premium"
    machine = PREMIUM

    def settle(self, now_us: int) -> None:
        return None

    def created_view(self) -> dict[str, Any]:
        # Seed section 8, POST /premium/orders response.
        return {"orderId": self.id, "credentials": dict(self.credentials), "price": coins(self.price)}

    def view(self, now_us: int) -> dict[str, Any]:
        return {
            "orderId": self.id,
            "serviceId": self.service_id,
            "status": self.status,
            "credentials": dict(self.credentials),
            "price": coins(self.price),
            "createdAt": iso_ms(self.created_us),
        }


Order = OtpOrder | SocialOrder | PremiumOrder
