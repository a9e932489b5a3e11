"""Every 247xd order, kept columnar: one array per field, a row per order.

About 50 bytes an order, so a server holding 100,000 orders stays small. Orders are
numbered in creation order; the uuid a client sees is a seeded, reversible scramble of
that number (IdSource.order_uuid), so no id string or dict entry is kept per order.
What only some kinds have is kept sparse, one typed dict each. Order objects
(emulator/xd247/orders.py) are short-lived views of a row.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from emulator.core.events import EventLog

from .account import Account
from .catalog import CatalogItem, PremiumService, PriceOption, SocialOption
from .orders import NOT_REFUNDED, VIEWS, Order

if TYPE_CHECKING:
    from emulator.core.ids import IdSource

OTP_KIND, SOCIAL_KIND, PREMIUM_KIND = 0, 1, 2  # a row's kind: its index in VIEWS


@dataclass(slots=True)
class SocialDelivery:
    """How a social order delivers: what was ordered, from when, at what rate."""

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


class OrderBook(Mapping[str, Order]):
    """The rows, and a mapping by the uuid the API shows (values are fresh views)."""

    def __init__(
        self,
        ids: IdSource,
        accounts: list[Account],
        price_options: list[PriceOption],
        social_options: list[SocialOption],
        premium: list[PremiumService],
    ) -> None:
        self.ids = ids
        # One bound method for the book's life: the event log keeps it with each event of
        # an order (emulator/core/events.py), not a new one each time.
        self.order_uuid = ids.order_uuid
        self.accounts = accounts  # by Account.number
        # A row's `item` indexes its kind's list (the item's `number`).
        self.price_options = price_options
        self.social_options = social_options
        self.premium = premium
        self.kind = bytearray()
        self.account = array("I")
        self.item = array("I")
        self.price = array("q")
        self.created = array("q")
        self.updated = array("q")
        self.status = bytearray()  # index into the kind's machine.statuses
        self.refunded = array("q")
        self.phone = array("Q")  # OTP: the phone number's digits
        self.deliveries: dict[int, SocialDelivery] = {}  # every social order's
        self.credentials: dict[int, dict[str, str]] = {}  # every premium order's
        self.codes: dict[int, str] = {}  # OTP codes forced by the control plane (else derived)
        self.events = EventLog()  # the emulator's, once installed (emulator/runtime.py)

    def add(
        self, kind: int, account: Account, item: CatalogItem, price: int, now_us: int, phone: int = 0
    ) -> int:
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

    def item_of(self, n: int) -> CatalogItem:
        items: tuple[list[PriceOption], list[SocialOption], list[PremiumService]] = (
            self.price_options,
            self.social_options,
            self.premium,
        )
        return items[self.kind[n]][self.item[n]]

    def catalog(self) -> list[CatalogItem]:
        """Every orderable item."""
        return [*self.price_options, *self.social_options, *self.premium]

    def view(self, n: int) -> Order:
        return VIEWS[self.kind[n]](self, n)

    def number_of(self, order_id: str) -> int | None:
        n = self.ids.order_number(order_id)
        return n if n is not None and n < len(self.kind) else None

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
