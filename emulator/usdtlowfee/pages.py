"""An account's orders read back: by status, and one page at a time, newest first.

A page costs the page, not the account's history: it slices the row indexes that
fulfilment keeps ascending.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from .energy import STATUSES
from .fulfilment import Fulfilment
from .orders import EnergyOrder

T = TypeVar("T")


def newest_first(items: Sequence[T], offset: int, limit: int, low: int = 0) -> Sequence[T]:
    """One page of `items[low:]` (ascending), newest first: costs the page, not the list."""
    high = len(items) - offset
    if high <= low:
        return []
    return items[max(low, high - limit) : high][::-1]


class OrderPages(Fulfilment):
    """Reads over the rows Fulfilment keeps; Account holds the fields."""

    __slots__ = ()

    @property
    def orders(self) -> list[EnergyOrder]:
        """Every order, ascending id (a new list of handles: for tests and tools)."""
        book = self.book
        return [EnergyOrder(book, row) for row in self.rows]

    @property
    def due(self) -> list[EnergyOrder]:
        """The orders still waiting for their natural move, ascending id."""
        book = self.book
        return [EnergyOrder(book, row) for row in self.rows_with("processing")]

    def rows_with(self, status: str) -> Sequence[int]:
        """The account's rows in `status`, ascending."""
        if status == "processing":
            if self.late:
                return sorted([*self.queue[self.head :], *self.late])
            return self.queue[self.head :]
        return self.terminal[STATUSES.index(status)]

    def with_status(self, status: str) -> list[EnergyOrder]:
        """The account's orders in `status`, ascending id (new handles)."""
        book = self.book
        return [EnergyOrder(book, row) for row in self.rows_with(status)]

    def page(self, offset: int, limit: int, status: str | None) -> tuple[Sequence[int], int]:
        """One page of rows, newest first, and the total matching: costs the page, not the history."""
        if status is None:
            return newest_first(self.rows, offset, limit), len(self.rows)
        if status == "processing":
            if not self.late:
                return newest_first(self.queue, offset, limit, self.head), len(self.queue) - self.head
            return self._processing_page(offset, limit), self.processing
        items = self.terminal[STATUSES.index(status)]
        return newest_first(items, offset, limit), len(items)

    def _processing_page(self, offset: int, limit: int) -> list[int]:
        """Newest first from `queue[head:]` and `late` merged: walks offset + limit rows of
        the processing ones (as a walk of one list would)."""
        queue, low, late = self.queue, self.head, self.late
        i, j = len(queue) - 1, len(late) - 1
        page: list[int] = []
        if offset >= self.processing:
            return page
        while len(page) < limit and (i >= low or j >= 0):
            if j < 0 or (i >= low and queue[i] > late[j]):
                row = queue[i]
                i -= 1
            else:
                row = late[j]
                j -= 1
            if offset:
                offset -= 1
            else:
                page.append(row)
        return page
