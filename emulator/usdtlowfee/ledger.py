"""Every energy order of a backend, kept columnar: one array per field, a row per order.

An order costs about 90 bytes and nothing for the cyclic GC to walk, so a server holding
hundreds of thousands of them stays small and free of collection pauses (100,000 orders
fit in about 53 MB). The book also renders a row as the API shows it, and keeps the
views of recently read terminal rows (they never change again).
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from typing import TYPE_CHECKING, Any

from emulator.core.events import EventLog

from .energy import COMPLETED, ENERGY, PROCESSING, STATUSES
from .format import ISO_CACHE, SUN_PER_TRX, iso

if TYPE_CHECKING:
    from .account import Account

# `canTransitionTo` for each status, read once from the table. Shared by every view and
# serialised as is: never written to.
_CAN = {status: list(ENERGY.allowed(status)) for status in STATUSES}
_CAN_PROCESSING, _CAN_COMPLETED, _CAN_FAILED = _CAN["processing"], _CAN["completed"], _CAN["failed"]

# Bound by assignment, not import: CPython 3.11+ compiles a method call on an imported
# name without LOAD_METHOD, and views call `_ISO.get` twice per row.
_ISO = ISO_CACHE
TXID_BYTES = 32  # a txid is 64 hex digits, kept as 32 bytes
VIEW_CACHE = 1024  # terminal views kept rendered (about 1.5 KB each)
VIEW_HOT = 100  # of an account's newest orders (the largest page)


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
        "delays", "events",
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
        self.events = EventLog()  # the emulator's, once installed (emulator/runtime.py)

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
