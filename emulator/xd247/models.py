"""247xd state and its transitions. No HTTP here: a test can drive it directly."""

from __future__ import annotations

import random
from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from emulator.core.clock import US_PER_S, Clock, iso_ms
from emulator.core.money import coins
from emulator.core.statemachine import StateMachine

if TYPE_CHECKING:
    from emulator.core.ids import IdSource

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
    service_id: str = ""
    expires_us: int = 0  # how long its orders wait for their SMS (the service's setting)
    number: int = -1  # its place in the order book's item list

    def phone_number(self, rng: random.Random) -> int:
        """A number of the pattern (each # a digit) from Faker's seeded generator, as an
        integer (shown zero-padded to the pattern's length). One draw, not Faker's
        per-character numerify: this is on the order path."""
        pattern = self.phone_pattern
        hashes = pattern.count("#")
        draw = rng.randrange(10**hashes)
        if pattern.endswith("#" * hashes):
            return int(pattern[: len(pattern) - hashes] or "0") * 10**hashes + draw
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


@dataclass(slots=True)
class Account:
    id: str
    coins: int  # hundredths
    banned: bool = False
    label: str = ""
    clock: Clock | None = None  # its own test clock, else the emulator's
    number: int = -1  # its place in the order book's account list
    orders: array[int] = field(default_factory=lambda: array("I"))  # order numbers, oldest first


OTP_KIND, SOCIAL_KIND, PREMIUM_KIND = 0, 1, 2
NOT_REFUNDED = -1


@dataclass(slots=True)
class SocialExtra:
    link: str
    quantity: int
    start_count: int
    start_us: int
    per_minute: int | None
    delivered_final: int | None = None  # fixed once delivery stops
    # A magic link's outcome (fixtures' magicLinks): "cancelled" at the start instant, or
    # "partial" the instant `stop_at` units are delivered.
    outcome: str | None = None
    stop_at: int = 0


class OrderBook(Mapping[str, "Order"]):
    """Every 247xd order, as parallel arrays: about 50 bytes an order, so a server holding
    100,000 orders stays small. Orders are numbered in creation order; the uuid a client
    sees is a seeded, reversible scramble of that number (IdSource.order_uuid), so no id
    string or dict entry is kept per order. Order objects are short-lived views."""

    def __init__(self, ids: IdSource, accounts: list[Account], items: list[Any]) -> None:
        self.ids = ids
        self.accounts = accounts  # by Account.number
        self.catalog = items  # catalog items by their number
        self.kind = bytearray()
        self.account = array("I")
        self.item = array("I")
        self.price = array("q")
        self.created = array("q")
        self.updated = array("q")
        self.status = bytearray()  # index into the kind's machine.statuses
        self.refunded = array("q")
        self.phone = array("Q")  # OTP: the phone number's digits
        self.extra: dict[int, Any] = {}  # social: SocialExtra; premium: credentials; OTP: a forced code

    def add(self, kind: int, account: Account, item: Any, price: int, now_us: int, phone: int = 0) -> int:
        n = len(self.kind)
        self.kind.append(kind)
        self.account.append(account.number)
        self.item.append(item.number)
        self.price.append(price)
        self.created.append(now_us)
        self.updated.append(now_us)
        self.status.append(0)  # every machine's initial status comes first
        self.refunded.append(NOT_REFUNDED)
        self.phone.append(phone)
        account.orders.append(n)
        return n

    def view(self, n: int) -> Order:
        return _VIEWS[self.kind[n]](self, n)

    def number_of(self, order_id: str) -> int | None:
        n = self.ids.order_number(order_id)
        return n if n is not None and n < len(self.kind) else None

    # Mapping by the uuid the API shows
    def __getitem__(self, order_id: str) -> Order:
        n = self.number_of(order_id)
        if n is None:
            raise KeyError(order_id)
        return self.view(n)

    def __iter__(self) -> Iterator[str]:
        return (self.ids.order_uuid(n) for n in range(len(self.kind)))

    def __len__(self) -> int:
        return len(self.kind)

    def __contains__(self, order_id: object) -> bool:
        return isinstance(order_id, str) and self.number_of(order_id) is not None


class _OrderView:
    __slots__ = ("book", "n")
    kind = ""
    machine: StateMachine

    def __init__(self, book: OrderBook, n: int) -> None:
        self.book = book
        self.n = n

    @property
    def id(self) -> str:
        return self.book.ids.order_uuid(self.n)

    @property
    def account_id(self) -> str:
        return self.book.accounts[self.book.account[self.n]].id

    @property
    def item(self) -> Any:
        return self.book.catalog[self.book.item[self.n]]

    @property
    def status(self) -> str:
        return self.machine.statuses[self.book.status[self.n]]

    @status.setter
    def status(self, value: str) -> None:
        self.book.status[self.n] = self.machine.statuses.index(value)

    @property
    def price(self) -> int:
        return self.book.price[self.n]

    @property
    def created_us(self) -> int:
        return self.book.created[self.n]

    @property
    def updated_us(self) -> int:
        return self.book.updated[self.n]

    @updated_us.setter
    def updated_us(self, value: int) -> None:
        self.book.updated[self.n] = value

    @property
    def refunded_amount(self) -> int | None:
        amount = self.book.refunded[self.n]
        return None if amount == NOT_REFUNDED else amount

    @refunded_amount.setter
    def refunded_amount(self, value: int) -> None:
        self.book.refunded[self.n] = value

    def _move_to(self, status: str, at_us: int) -> None:
        self.status = status
        self.book.updated[self.n] = at_us

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _OrderView) and other.book is self.book and other.n == self.n

    def __hash__(self) -> int:
        return hash((id(self.book), self.n))


class OtpOrder(_OrderView):
    __slots__ = ()
    kind = "otp"
    machine = OTP

    @property
    def service_id(self) -> str:
        return self.item.service_id  # type: ignore[no-any-return]

    @property
    def price_option_id(self) -> str:
        return self.item.id  # type: ignore[no-any-return]

    @property
    def phone_number(self) -> str:
        return str(self.book.phone[self.n]).zfill(len(self.item.phone_pattern))

    @property
    def expires_us(self) -> int:
        return self.book.created[self.n] + self.item.expires_us  # type: ignore[no-any-return]

    @property
    def sms_us(self) -> int | None:
        delay = self.item.sms_delay_us
        return None if delay is None else self.book.created[self.n] + delay

    @property
    def otp_code(self) -> str:
        forced = self.book.extra.get(self.n)
        return forced if forced is not None else self.book.ids.otp_code(self.n)

    @otp_code.setter
    def otp_code(self, value: str) -> None:
        self.book.extra[self.n] = value

    def settle(self, now_us: int) -> None:
        """Apply the moves that came due by `now_us`, each at the instant it was due."""
        if self.book.status[self.n] != 0:  # only waiting_sms moves by itself
            return
        expires = self.expires_us
        sms = self.sms_us
        if sms is not None and sms < expires and now_us >= sms:
            self._move_to("completed", sms)
        elif now_us >= expires:
            self._move_to("expired", expires)

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
        status = self.status
        data = {
            "orderId": self.id,
            "serviceId": self.service_id,
            "priceOptionId": self.price_option_id,
            "phoneNumber": self.phone_number,
            "status": status,
            "price": coins(self.price),
            "otpCode": self.otp_code if status == "completed" else None,
            "expiresAt": iso_ms(self.expires_us),
            "createdAt": iso_ms(self.created_us),
            "updatedAt": iso_ms(self.updated_us),
        }
        refunded = self.refunded_amount
        if refunded is not None:
            data["refundedAmount"] = coins(refunded)
        return data


class SocialOrder(_OrderView):
    __slots__ = ()
    kind = "social"
    machine = SOCIAL

    @property
    def extra(self) -> SocialExtra:
        return self.book.extra[self.n]  # type: ignore[no-any-return]

    @property
    def service_id(self) -> str:
        return self.item.service_id  # type: ignore[no-any-return]

    @property
    def option_id(self) -> str:
        return self.item.id  # type: ignore[no-any-return]

    @property
    def quantity(self) -> int:
        return self.extra.quantity

    @property
    def start_us(self) -> int:
        return self.extra.start_us

    @property
    def per_minute(self) -> int | None:
        return self.extra.per_minute

    @property
    def delivered_final(self) -> int | None:
        return self.extra.delivered_final

    def completes_us(self) -> int | None:
        extra = self.extra
        if not extra.per_minute:
            return None
        # The first instant at which start + elapsed * rate covers the whole quantity.
        return extra.start_us + -(-extra.quantity * MINUTE_US // extra.per_minute)

    def stops_us(self) -> int | None:
        """When a magic partial link stops delivery: the first instant `stop_at` is delivered."""
        extra = self.extra
        if not extra.per_minute:
            return None
        return extra.start_us + -(-extra.stop_at * MINUTE_US // extra.per_minute)

    def delivered(self, now_us: int) -> int:
        extra = self.extra
        if extra.delivered_final is not None:
            return extra.delivered_final
        if self.status == "pending" or not extra.per_minute or now_us <= extra.start_us:
            return 0
        return min(extra.quantity, (now_us - extra.start_us) * extra.per_minute // MINUTE_US)

    def settle(self, now_us: int) -> None:
        extra = self.extra
        if self.status == "pending" and now_us >= extra.start_us:
            if extra.outcome == "cancelled":
                self._move_to("cancelled", extra.start_us)
                extra.delivered_final = 0
                return
            self._move_to("processing", extra.start_us)
        if self.status == "processing":
            if extra.outcome == "partial":
                stop = self.stops_us()
                if stop is not None and now_us >= stop:
                    self._move_to("partial", stop)
                    extra.delivered_final = extra.stop_at
                return
            done = self.completes_us()
            if done is not None and now_us >= done:
                self._move_to("completed", done)
                extra.delivered_final = extra.quantity

    def refund_amount(self) -> int:
        extra = self.extra
        if self.status == "partial":
            undelivered = extra.quantity - (extra.delivered_final or 0)
            return self.price * undelivered // extra.quantity  # shares round down (SPEC)
        return self.price

    def created_view(self) -> dict[str, Any]:
        # Seed section 7, POST /social/orders response.
        return {"orderId": self.id, "status": self.status, "price": coins(self.price)}

    def view(self, now_us: int) -> dict[str, Any]:
        extra = self.extra
        delivered = self.delivered(now_us)
        data = {
            "orderId": self.id,
            "serviceId": self.service_id,
            "optionId": self.option_id,
            "link": extra.link,
            "quantity": extra.quantity,
            "status": self.status,
            "price": coins(self.price),
            "startCount": extra.start_count,
            "delivered": delivered,
            "remains": extra.quantity - delivered,
            "createdAt": iso_ms(self.created_us),
            "updatedAt": iso_ms(self.updated_us),
        }
        refunded = self.refunded_amount
        if refunded is not None:
            data["refundedAmount"] = coins(refunded)
        return data


class PremiumOrder(_OrderView):
    __slots__ = ()
    kind = "premium"
    machine = PREMIUM

    @property
    def service_id(self) -> str:
        return self.item.id  # type: ignore[no-any-return]

    @property
    def credentials(self) -> dict[str, str]:
        return self.book.extra[self.n]  # type: ignore[no-any-return]

    def settle(self, now_us: int) -> None:
        return None

    def refund_amount(self) -> int:
        return self.price

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
_VIEWS: tuple[type[Order], ...] = (OtpOrder, SocialOrder, PremiumOrder)
