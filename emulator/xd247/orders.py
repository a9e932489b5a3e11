"""247xd orders as the domain sees them: short-lived views of a ledger row, one class
per kind, each with its settle (the moves that come due by themselves), its refund and
its two renderings (the creation response and the read)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator.core.clock import US_PER_S, iso_ms
from emulator.core.money import coins
from emulator.core.statemachine import StateMachine

from .catalog import PremiumService, PriceOption, SocialOption
from .lifecycles import OTP, PREMIUM, SOCIAL

if TYPE_CHECKING:
    from .ledger import OrderBook, SocialDelivery

MINUTE_US = 60 * US_PER_S
NOT_REFUNDED = -1  # a row's `refunded` until it is refunded


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

    def _stamped(self, data: dict[str, Any]) -> dict[str, Any]:
        """A read's closing fields (seed sections 6 and 7): the dates, then any refund."""
        data["createdAt"] = iso_ms(self.created_us)
        data["updatedAt"] = iso_ms(self.updated_us)
        refunded = self.book.refunded[self.n]
        if refunded != NOT_REFUNDED:
            data["refundedAmount"] = coins(refunded)
        return data

    def _move_to(self, status: str, at_us: int) -> None:
        """A natural move (one that came due by itself), at the instant it was due."""
        old = self.status
        self.status = status
        self.book.updated[self.n] = at_us
        book = self.book
        book.events.transition("247xd", self.account_id, self.n, old, status, at_us, "", book.order_uuid)

    def due_us(self) -> int | None:
        """When this order's next natural move comes due; None if it has none."""
        return None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _OrderView) and other.book is self.book and other.n == self.n

    def __hash__(self) -> int:
        return hash((id(self.book), self.n))


class OtpOrder(_OrderView):
    __slots__ = ()
    kind = "otp"
    machine = OTP

    @property
    def item(self) -> PriceOption:
        return self.book.price_options[self.book.item[self.n]]

    @property
    def service_id(self) -> str:
        return self.item.service_id

    @property
    def price_option_id(self) -> str:
        return self.item.id

    @property
    def phone_number(self) -> str:
        return str(self.book.phone[self.n]).zfill(len(self.item.phone_pattern))

    @property
    def expires_us(self) -> int:
        return self.book.created[self.n] + self.item.expires_us

    @property
    def sms_us(self) -> int | None:
        delay = self.item.sms_delay_us
        return None if delay is None else self.book.created[self.n] + delay

    @property
    def otp_code(self) -> str:
        forced = self.book.codes.get(self.n)
        return forced if forced is not None else self.book.ids.otp_code(self.n)

    @otp_code.setter
    def otp_code(self, value: str) -> None:
        self.book.codes[self.n] = value

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

    def due_us(self) -> int | None:
        if self.book.status[self.n] != 0:
            return None
        expires = self.expires_us
        sms = self.sms_us
        return sms if sms is not None and sms < expires else expires

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
        }
        return self._stamped(data)


class SocialOrder(_OrderView):
    __slots__ = ()
    kind = "social"
    machine = SOCIAL

    @property
    def item(self) -> SocialOption:
        return self.book.social_options[self.book.item[self.n]]

    @property
    def delivery(self) -> SocialDelivery:
        return self.book.deliveries[self.n]

    @property
    def service_id(self) -> str:
        return self.item.service_id

    @property
    def option_id(self) -> str:
        return self.item.id

    @property
    def quantity(self) -> int:
        return self.delivery.quantity

    @property
    def start_us(self) -> int:
        return self.delivery.start_us

    @property
    def per_minute(self) -> int | None:
        return self.delivery.per_minute

    @property
    def delivered_final(self) -> int | None:
        return self.delivery.delivered_final

    def completes_us(self) -> int | None:
        delivery = self.delivery
        if not delivery.per_minute:
            return None
        # The first instant at which start + elapsed * rate covers the whole quantity.
        return delivery.start_us + -(-delivery.quantity * MINUTE_US // delivery.per_minute)

    def stops_us(self) -> int | None:
        """When a magic partial link stops delivery: the first instant `stop_at` is delivered."""
        delivery = self.delivery
        if not delivery.per_minute:
            return None
        return delivery.start_us + -(-delivery.stop_at * MINUTE_US // delivery.per_minute)

    def delivered(self, now_us: int) -> int:
        delivery = self.delivery
        if delivery.delivered_final is not None:
            return delivery.delivered_final
        if self.status == "pending" or not delivery.per_minute or now_us <= delivery.start_us:
            return 0
        return min(delivery.quantity, (now_us - delivery.start_us) * delivery.per_minute // MINUTE_US)

    def settle(self, now_us: int) -> None:
        delivery = self.delivery
        if self.status == "pending" and now_us >= delivery.start_us:
            if delivery.outcome == "cancelled":
                self._move_to("cancelled", delivery.start_us)
                delivery.delivered_final = 0
                return
            self._move_to("processing", delivery.start_us)
        if self.status == "processing":
            if delivery.outcome == "partial":
                stop = self.stops_us()
                if stop is not None and now_us >= stop:
                    self._move_to("partial", stop)
                    delivery.delivered_final = delivery.stop_at
                return
            done = self.completes_us()
            if done is not None and now_us >= done:
                self._move_to("completed", done)
                delivery.delivered_final = delivery.quantity

    def due_us(self) -> int | None:
        status = self.status
        if status == "pending":
            return self.delivery.start_us
        if status == "processing":
            return self.stops_us() if self.delivery.outcome == "partial" else self.completes_us()
        return None

    def refund_amount(self) -> int:
        delivery = self.delivery
        if self.status == "partial":
            undelivered = delivery.quantity - (delivery.delivered_final or 0)
            return self.price * undelivered // delivery.quantity  # shares round down (SPEC)
        return self.price

    def created_view(self) -> dict[str, Any]:
        # Seed section 7, POST /social/orders response.
        return {"orderId": self.id, "status": self.status, "price": coins(self.price)}

    def view(self, now_us: int) -> dict[str, Any]:
        delivery = self.delivery
        delivered = self.delivered(now_us)
        data = {
            "orderId": self.id,
            "serviceId": self.service_id,
            "optionId": self.option_id,
            "link": delivery.link,
            "quantity": delivery.quantity,
            "status": self.status,
            "price": coins(self.price),
            "startCount": delivery.start_count,
            "delivered": delivered,
            "remains": delivery.quantity - delivered,
        }
        return self._stamped(data)


class PremiumOrder(_OrderView):
    __slots__ = ()
    kind = "premium"
    machine = PREMIUM

    @property
    def item(self) -> PremiumService:
        return self.book.premium[self.book.item[self.n]]

    @property
    def service_id(self) -> str:
        return self.item.id

    @property
    def credentials(self) -> dict[str, str]:
        return self.book.credentials[self.n]

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
# By a row's kind (ledger.OTP_KIND, SOCIAL_KIND, PREMIUM_KIND).
VIEWS: tuple[type[Order], ...] = (OtpOrder, SocialOrder, PremiumOrder)
