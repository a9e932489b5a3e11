"""One energy order as the domain sees it: a handle on a ledger row, and the index by id.

Handles read the book and hold nothing themselves: the list path renders rows directly,
handles serve the single-order reads, the control plane and tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .energy import COMPLETED, PROCESSING, STATUSES
from .ledger import OrderBook

if TYPE_CHECKING:
    from .account import Account


class EnergyOrder:
    """A handle on one row of an OrderBook: reads the book, holds nothing itself."""

    __slots__ = ("book", "row")

    def __init__(self, book: OrderBook, row: int) -> None:
        self.book = book
        self.row = row

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EnergyOrder) and other.book is self.book and other.row == self.row

    def __hash__(self) -> int:
        return hash((id(self.book), self.row))

    def __repr__(self) -> str:
        return f"EnergyOrder(id={self.id}, status={self.status!r})"

    def view(self) -> dict[str, Any]:
        return self.book.view(self.row)

    @property
    def id(self) -> int:
        return self.book.ids[self.row]

    @property
    def account(self) -> Account:
        return self.book.accounts[self.book.account[self.row]]

    @property
    def account_id(self) -> str:
        return self.account.id

    @property
    def user_id(self) -> int:
        return self.account.user_id

    @property
    def tron_address(self) -> str:
        return self.book.addresses[self.book.address[self.row]]

    @property
    def energy_value(self) -> int:
        return self.book.energy[self.row]

    @property
    def duration_hours(self) -> int:
        return self.book.hours[self.row]

    @property
    def price_sun(self) -> int:
        return self.book.price[self.row]

    @property
    def order_type(self) -> str:
        return "manual"

    @property
    def status(self) -> str:
        return STATUSES[self.book.status[self.row]]

    @property
    def txid(self) -> str:
        return self.book.txid(self.row)

    @property
    def created_us(self) -> int:
        return self.book.created[self.row]

    @property
    def due_us(self) -> int:
        """When the natural move (completed, or failed for a failing input) comes due."""
        return self.book.due_us(self.row)

    @property
    def updated_us(self) -> int:
        if self.book.status[self.row] == PROCESSING:
            return self.created_us
        return self.book.moved_us(self.row)

    status_updated_us = updated_us

    @property
    def completed_us(self) -> int | None:
        return self.book.moved_us(self.row) if self.book.status[self.row] == COMPLETED else None

    @property
    def planned_failure(self) -> str | None:
        """The fixtures' reason when this input fails."""
        return self.book.planned.get(self.row)

    @property
    def failure_reason(self) -> str | None:
        return self.book.reasons.get(self.row)


class OrderIndex(Mapping[int, EnergyOrder]):
    """Every order of a backend by id (a read-only mapping over the book)."""

    __slots__ = ("book",)

    def __init__(self, book: OrderBook) -> None:
        self.book = book

    def __getitem__(self, order_id: int) -> EnergyOrder:
        row = self.book.find(order_id) if isinstance(order_id, int) else None
        if row is None:
            raise KeyError(order_id)
        return EnergyOrder(self.book, row)

    def __contains__(self, order_id: object) -> bool:
        return isinstance(order_id, int) and self.book.find(order_id) is not None

    def __iter__(self) -> Iterator[int]:
        return iter(self.book.ids)

    def __len__(self) -> int:
        return len(self.book.ids)
