"""USDTLowFee state and its transitions. No HTTP here: a test can drive it directly.

An account is a user with a wallet (`balanceSun` available, `frozenSun` held by orders
still processing), its energy orders and its saved addresses. Money is integer sun.

Energy orders are rows of one `OrderBook` per backend, a column per field, not an object
each: an order costs about 90 bytes and nothing for the cyclic GC to walk, so a server
holding hundreds of thousands of them stays small and free of collection pauses.
`EnergyOrder` is a handle (book, row) for the domain API; the list path renders rows.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, insort
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from heapq import heappop, heappush
from typing import Any

from emulator.core.clock import Clock, iso_s
from emulator.core.statemachine import StateMachine

SUN_PER_TRX = 1_000_000
# Seed: energyValue minimum 32000; SPEC (inferred): at most 100,000,000.
MIN_ENERGY = 32_000
MAX_ENERGY = 100_000_000
# Seed: the valid durationHours.
DURATIONS = (1, 24, 72, 168, 336, 720)
# The price table gives the price of this much energy per duration (SPEC, inferred).
PRICE_UNIT_ENERGY = 65_000
ORDER_TYPES = ("manual",)

# SPEC: processing -> completed | failed; both terminal.
ENERGY = StateMachine(
    "energy",
    "processing",
    {"processing": ("completed", "failed"), "completed": (), "failed": ()},
)
STATUSES = ENERGY.statuses
# A row's status is its index in STATUSES (one byte).
PROCESSING, COMPLETED, FAILED = (STATUSES.index(s) for s in ("processing", "completed", "failed"))
# `canTransitionTo` for each status, read once from the table. Shared by every view and
# serialised as is: never written to.
_CAN = {status: list(ENERGY.allowed(status)) for status in STATUSES}
_CAN_PROCESSING, _CAN_COMPLETED, _CAN_FAILED = _CAN["processing"], _CAN["completed"], _CAN["failed"]

DEFAULT_FAILURE = "failed by the control plane"
TXID_BYTES = 32  # a txid is 64 hex digits, kept as 32 bytes
VIEW_CACHE = 1024  # terminal views kept rendered (about 1.5 KB each)
VIEW_HOT = 100  # of an account's newest orders (the largest page)


def trx(sun: int) -> float:
    """Sun to the JSON number the vendor shows as priceTrx (3000000 -> 3.0).

    `sun / 10**6` is the double nearest the exact decimal and, for any amount this API
    can hold (< 10**15 sun), its shortest repr is that decimal, so the text is exact.
    """
    return sun / SUN_PER_TRX


def trx_text(sun: int) -> str:
    """Sun as exact TRX text for people (banner): 97000000 -> '97 TRX', 5 -> '0.000005 TRX'."""
    whole, frac = divmod(sun, SUN_PER_TRX)
    text = f"{whole:,}" if not frac else f"{whole:,}.{frac:06d}".rstrip("0")
    return text + " TRX"


_ISO: dict[int, str] = {}


def iso(us: int) -> str:
    """iso_s, cached per second: a page of orders renders four instants each, and orders
    made together share their seconds."""
    second = us // 1_000_000
    text = _ISO.get(second)
    if text is None:
        if len(_ISO) >= 8192:
            _ISO.clear()
        text = _ISO[second] = iso_s(us)
    return text


def newest_first(items: Sequence[Any], offset: int, limit: int, low: int = 0) -> Sequence[Any]:
    """One page of `items[low:]` (ascending), newest first: costs the page, not the list."""
    high = len(items) - offset
    if high <= low:
        return []
    return items[max(low, high - limit) : high][::-1]


class OrderBook:
    """Every energy order of a backend, one column per field; a row per order.

    Rows are appended at creation, so ascending row = ascending id (ids are snowflakes
    issued in order) and an id is found by bisection. Only rare facts are kept sparse:
    the reason of a failed order, the planned failure of a failing input, and the instant
    of a move that was not the natural one (forced by the control plane).
    """

    __slots__ = (
        "delay_us", "accounts", "ids", "account", "address", "energy", "hours", "price", "created",
        "status", "txids", "addresses", "address_row", "planned", "reasons", "moved_at", "views",
        "delays",
    )

    def __init__(self, delay_us: int) -> None:
        # Every order comes due this long after its creation (constant for the backend).
        self.delay_us = delay_us
        self.accounts: list[Account] = []  # by Account.slot
        self.ids = array("q")
        self.account = array("I")  # Account.slot
        self.address = array("I")  # index into `addresses`
        self.energy = array("I")
        self.hours = array("H")
        self.price = array("q")
        self.created = array("q")
        self.status = bytearray()  # index into STATUSES
        self.txids = bytearray()  # TXID_BYTES per row
        # Each distinct tronAddress once.
        self.addresses: list[str] = []
        self.address_row: dict[str, int] = {}
        self.planned: dict[int, str] = {}  # row -> the fixtures' reason, for a failing input
        self.reasons: dict[int, str] = {}  # row -> failureReason, once failed
        self.moved_at: dict[int, int] = {}  # row -> instant of a move not at created + delay_us
        self.delays: dict[int, int] = {}  # row -> its own fulfilment delay (a slow input)
        # The views of recently read terminal rows among their account's newest (they never
        # change again): clients poll the newest page; this serves it without rendering it.
        self.views: dict[int, dict[str, Any]] = {}

    def add(
        self,
        order_id: int,
        slot: int,
        tron_address: str,
        energy_value: int,
        duration_hours: int,
        price_sun: int,
        created_us: int,
        txid: str,
        planned_failure: str | None,
        delay_us: int | None = None,
    ) -> int:
        ids = self.ids
        row = len(ids)
        assert not row or ids[-1] < order_id, "ids are issued in ascending order"
        address = self.address_row.get(tron_address)
        if address is None:
            address = self.address_row[tron_address] = len(self.addresses)
            self.addresses.append(tron_address)
        txid_bytes = bytes.fromhex(txid)
        assert len(txid_bytes) == TXID_BYTES
        ids.append(order_id)
        self.account.append(slot)
        self.address.append(address)
        self.energy.append(energy_value)
        self.hours.append(duration_hours)
        self.price.append(price_sun)
        self.created.append(created_us)
        self.status.append(PROCESSING)
        self.txids += txid_bytes
        if planned_failure is not None:
            self.planned[row] = planned_failure
        if delay_us is not None:
            self.delays[row] = delay_us
        return row

    def find(self, order_id: int) -> int | None:
        ids = self.ids
        row = bisect_left(ids, order_id)
        return row if row < len(ids) and ids[row] == order_id else None

    def due_us(self, row: int) -> int:
        return self.created[row] + self.delays.get(row, self.delay_us)

    def moved_us(self, row: int) -> int:
        """When a terminal row took its status."""
        at = self.moved_at.get(row)
        return self.created[row] + self.delay_us if at is None else at

    def txid(self, row: int) -> str:
        start = row * TXID_BYTES
        return self.txids[start : start + TXID_BYTES].hex()

    def view(self, row: int) -> dict[str, Any]:
        """The order as the API shows it. A terminal row's view is shared between readers:
        it is serialised as is and never written to."""
        cached = self.views.get(row)
        if cached is not None:
            return cached
        # Seed, POST/GET /v1/energy/orders: these fields in this order; `txid` and
        # `completedAt` once completed; `failureReason` (inferred) once failed.
        status = self.status[row]
        price = self.price[row]
        created = self.created[row]
        created_at = _ISO.get(created // 1_000_000) or iso(created)
        if status == PROCESSING:
            return {
                "id": self.ids[row],
                "userId": self.accounts[self.account[row]].user_id,
                "tronAddress": self.addresses[self.address[row]],
                "energyValue": self.energy[row],
                "durationHours": self.hours[row],
                "priceSun": price,
                "priceTrx": price / SUN_PER_TRX,
                "orderType": "manual",
                "status": "processing",
                "createdAt": created_at,
                "updatedAt": created_at,
                "statusUpdatedAt": created_at,
                "canTransitionTo": _CAN_PROCESSING,
            }
        at = self.moved_at.get(row)
        if at is None:
            at = created + self.delay_us
        moved_at = _ISO.get(at // 1_000_000) or iso(at)
        if status == COMPLETED:
            start = row * TXID_BYTES
            data = {
                "id": self.ids[row],
                "userId": self.accounts[self.account[row]].user_id,
                "tronAddress": self.addresses[self.address[row]],
                "energyValue": self.energy[row],
                "durationHours": self.hours[row],
                "priceSun": price,
                "priceTrx": price / SUN_PER_TRX,
                "orderType": "manual",
                "status": "completed",
                "txid": self.txids[start : start + TXID_BYTES].hex(),
                "createdAt": created_at,
                "completedAt": moved_at,
                "updatedAt": moved_at,
                "statusUpdatedAt": moved_at,
                "canTransitionTo": _CAN_COMPLETED,
            }
        else:
            data = {
                "id": self.ids[row],
                "userId": self.accounts[self.account[row]].user_id,
                "tronAddress": self.addresses[self.address[row]],
                "energyValue": self.energy[row],
                "durationHours": self.hours[row],
                "priceSun": price,
                "priceTrx": price / SUN_PER_TRX,
                "orderType": "manual",
                "status": "failed",
                "createdAt": created_at,
                "failureReason": self.reasons[row],
                "updatedAt": moved_at,
                "statusUpdatedAt": moved_at,
                "canTransitionTo": _CAN_FAILED,
            }
        # Only an account's newest orders are kept: a client walking its whole history
        # would only churn the cache.
        rows = self.accounts[self.account[row]].rows
        if len(rows) <= VIEW_HOT or row >= rows[-VIEW_HOT]:
            views = self.views
            if len(views) >= VIEW_CACHE:
                views.clear()  # cheaper than evicting one by one; the hot pages come back at once
            views[row] = data
        return data


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


@dataclass(slots=True, eq=False)
class Address:
    id: int
    account_id: str
    tron_address: str
    label: str
    created_us: int
    is_default: bool = False
    usage_count: int = 0
    last_used_us: int | None = None

    def view(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "tronAddress": self.tron_address,
            "label": self.label,
            "isDefault": self.is_default,
            "usageCount": self.usage_count,
        }
        if self.last_used_us is not None:  # absent until first use (seed, create example)
            data["lastUsedAt"] = iso_s(self.last_used_us)
        data["createdAt"] = iso_s(self.created_us)
        return data


@dataclass(slots=True, eq=False)
class Account:
    """A user and their wallet. `id` is the control plane's opaque accountId."""

    id: str
    user_id: int
    email: str
    email_verified: bool
    created_us: int
    balance_sun: int
    book: OrderBook = field(repr=False)  # the backend's; this account's orders are rows of it
    frozen_sun: int = 0
    disabled: bool = False
    label: str = ""
    clock: Clock | None = None  # its own test clock, else the emulator's
    slot: int = -1  # this account's index in book.accounts
    # Its order rows, ascending (= creation order = id order), and the terminal ones again
    # by status (they never leave). Each order costs 4 bytes here, twice.
    rows: array[int] = field(default_factory=lambda: array("I"), repr=False)
    terminal: dict[int, array[int]] = field(
        default_factory=lambda: {COMPLETED: array("I"), FAILED: array("I")}, repr=False
    )
    # The processing ones: `queue[head:]` ascending, entered at creation and settled from
    # the head (for these creation order is due order); and, apart, the few that would break
    # that order (a slow input's own delay, a wall clock stepping back): `late` ascending,
    # settled through the heap `late_due` of (due, row). A forced move takes its row out of
    # either (its heap entry is skipped when popped).
    queue: array[int] = field(default_factory=lambda: array("I"), repr=False)
    head: int = 0
    late: array[int] = field(default_factory=lambda: array("I"), repr=False)
    late_due: list[tuple[int, int]] = field(default_factory=list, repr=False)
    addresses: dict[int, Address] = field(default_factory=dict)  # ascending id
    address_by_tron: dict[str, Address] = field(default_factory=dict)
    default_address: Address | None = None

    def __post_init__(self) -> None:
        if self.slot < 0:
            self.slot = len(self.book.accounts)
            self.book.accounts.append(self)

    @property
    def total_sun(self) -> int:
        return self.balance_sun + self.frozen_sun

    def wallet(self) -> dict[str, int]:
        return {"balanceSun": self.balance_sun, "frozenSun": self.frozen_sun, "totalSun": self.total_sun}

    def me(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "email": self.email,
            "emailVerified": self.email_verified,
            "createdAt": iso_s(self.created_us),
        }

    # --- orders -----------------------------------------------------------------------
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

    @property
    def processing(self) -> int:
        """How many orders are processing."""
        return len(self.queue) - self.head + len(self.late)

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

    # --- addresses --------------------------------------------------------------------
    def add_address(self, address: Address) -> None:
        assert address.tron_address not in self.address_by_tron
        self.addresses[address.id] = address
        self.address_by_tron[address.tron_address] = address
        if address.is_default:
            address.is_default = False
            self.make_default(address)

    def make_default(self, address: Address) -> None:
        """At most one default per user: setting one clears the other."""
        current = self.default_address
        if current is not None and current is not address:
            current.is_default = False
        address.is_default = True
        self.default_address = address

    def remove_address(self, address: Address) -> None:
        del self.addresses[address.id]
        del self.address_by_tron[address.tron_address]
        if self.default_address is address:
            self.default_address = None

    def record_use(self, tron_address: str, at_us: int) -> None:
        """An energy order to a saved address: one more use, last used now."""
        address = self.address_by_tron.get(tron_address)
        if address is not None:
            address.usage_count += 1
            address.last_used_us = at_us
