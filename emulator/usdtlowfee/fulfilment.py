"""How an account's energy orders move by themselves, and the money each move moves.

A new order's price moves from the balance to frozen; when it comes due it completes
(spent) or, for a failing input, fails (back to the balance). Moves are applied lazily,
each at the instant it was due, when something reads the account.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, insort
from heapq import heappop, heappush
from typing import TYPE_CHECKING, Any

from emulator.core.events import BALANCE, CREATED, FORCED, REQUEST

from .energy import COMPLETED, DEFAULT_FAILURE, ENERGY, FAILED, PROCESSING, STATUSES
from .ledger import OrderBook
from .orders import EnergyOrder

API = "usdtlowfee"


class Fulfilment:
    """The order rows of one account and their schedule; Account holds the fields.

    `rows`: every row, ascending (= creation order = id order); `terminal`: the terminal
    ones again by status (they never leave). The processing ones: `queue[head:]` ascending,
    entered at creation and settled from the head (for these creation order is due order);
    and, apart, the few that would break that order (a slow input's own delay, a wall clock
    stepping back): `late` ascending, settled through the heap `late_due` of (due, row). A
    forced move takes its row out of either (its heap entry is skipped when popped).
    """

    # No slots of its own (Account's dataclass makes them); hidden from mypy, which would
    # otherwise refuse assignments to the fields declared below.
    if not TYPE_CHECKING:
        __slots__ = ()

    id: str
    book: OrderBook
    slot: int
    balance_sun: int
    frozen_sun: int
    rows: array[int]
    terminal: dict[int, array[int]]
    queue: array[int]
    head: int
    late: array[int]
    late_due: list[tuple[int, int]]

    @property
    def processing(self) -> int:
        """How many orders are processing."""
        return len(self.queue) - self.head + len(self.late)

    def balance_changed(self, at_us: int, cause: str, order_id: int | None = None) -> None:
        balance, frozen = self.balance_sun, self.frozen_sun
        data: dict[str, Any] = {"balanceSun": balance, "frozenSun": frozen, "totalSun": balance + frozen}
        if order_id is not None:
            data["orderId"] = order_id
        self.book.events.emit(API, self.id, BALANCE, data, at_us, cause)

    def next_due(self) -> int | None:
        """When this account's next natural move comes due (perhaps past, not yet applied):
        the head of the queue or of the heap (stale heap entries dropped on the way)."""
        book = self.book
        due = None
        if self.head < len(self.queue):
            due = book.created[self.queue[self.head]] + book.delay_us
        late_due = self.late_due
        status = book.status
        while late_due and status[late_due[0][1]] != PROCESSING:
            heappop(late_due)  # moved by the control plane meanwhile
        if late_due and (due is None or late_due[0][0] < due):
            due = late_due[0][0]
        return due

    def add_order(self, row: int) -> None:
        """A new processing order: its price moves from balance to frozen."""
        book = self.book
        price = book.price[row]
        assert book.status[row] == PROCESSING and price <= self.balance_sun
        assert book.account[row] == self.slot
        self.balance_sun -= price
        self.frozen_sun += price
        self.rows.append(row)
        queue = self.queue
        if (book.delays and row in book.delays) or (
            len(queue) > self.head and book.created[queue[-1]] > book.created[row]
        ):
            self.late.append(row)  # rows only grow: stays ascending
            heappush(self.late_due, (book.due_us(row), row))
        else:
            queue.append(row)
        created = {"orderId": book.ids[row], "type": "energy", "status": "processing"}
        book.events.emit(API, self.id, CREATED, created, book.created[row])
        self.balance_changed(book.created[row], REQUEST, book.ids[row])

    def settle(self, now_us: int) -> None:
        """Apply the natural moves due by `now_us`, each at the instant it was due."""
        queue = self.queue
        head = self.head
        if head < len(queue):
            created = self.book.created
            cutoff = now_us - self.book.delay_us  # due (created + delay) <= now
            if created[queue[head]] <= cutoff:
                end = len(queue)
                while head < end and created[queue[head]] <= cutoff:
                    self._natural(queue[head])
                    head += 1
                if head == end:
                    del queue[:]
                    head = 0
                elif head > 1024 and 2 * head > end:
                    del queue[:head]
                    head = 0
                self.head = head
        late_due = self.late_due
        if late_due and late_due[0][0] <= now_us:
            status = self.book.status
            late = self.late
            while late_due and late_due[0][0] <= now_us:
                row = heappop(late_due)[1]
                if status[row] == PROCESSING:  # else moved by the control plane meanwhile
                    del late[bisect_left(late, row)]
                    self._natural(row)

    def _natural(self, row: int) -> None:
        """The natural move of a processing row (queue bookkeeping is the caller's)."""
        book = self.book
        price = book.price[row]
        self.frozen_sun -= price
        planned = book.planned.get(row) if book.planned else None
        if planned is None:
            status = COMPLETED  # spent
        else:
            status = FAILED  # back to the balance
            self.balance_sun += price
            book.reasons[row] = planned
        book.status[row] = status
        if book.delays and row in book.delays:  # not at created + delay_us, which views assume
            book.moved_at[row] = book.due_us(row)
        events = book.events
        at = book.due_us(row)
        events.transition(API, self.id, book.ids[row], "processing", STATUSES[status], at)
        self.balance_changed(at, events.cause, book.ids[row])
        done = self.terminal[status]
        if not done or done[-1] < row:
            done.append(row)
        else:  # a newer order got there first (forced, or a late one's turn)
            insort(done, row)

    def move(self, order: EnergyOrder, target: str, at_us: int, reason: str | None = None) -> None:
        """One move of the table with its side effects, exactly once."""
        ENERGY.check(order.status, target)
        book = self.book
        row = order.row
        price = book.price[row]
        if target == "completed":
            self.frozen_sun -= price  # spent
        elif target == "failed":
            self.frozen_sun -= price  # back to the balance
            self.balance_sun += price
            book.reasons[row] = reason or book.planned.get(row) or DEFAULT_FAILURE
        # Out of the processing ones (the only non-terminal status), into its status.
        queue = self.queue
        position = bisect_left(queue, row, self.head)
        if position < len(queue) and queue[position] == row:
            del queue[position]
        else:
            late = self.late
            position = bisect_left(late, row)
            assert late[position] == row
            del late[position]
        status = STATUSES.index(target)
        book.status[row] = status
        insort(self.terminal[status], row)
        if at_us != book.created[row] + book.delay_us:  # else the views' default is right
            book.moved_at[row] = at_us
        book.events.transition(API, self.id, book.ids[row], "processing", target, at_us, FORCED)
        self.balance_changed(at_us, FORCED, book.ids[row])
