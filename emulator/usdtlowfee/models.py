"""USDTLowFee state and its transitions. No HTTP here: a test can drive it directly.

An account is a user with a wallet (`balanceSun` available, `frozenSun` held by orders
still processing), its energy orders and its saved addresses. Money is integer sun.
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass, field
from heapq import heappop, heappush
from itertools import islice
from operator import attrgetter
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
# `canTransitionTo` for each status, read once from the table (never written to).
_CAN = {status: list(ENERGY.allowed(status)) for status in STATUSES}

DEFAULT_FAILURE = "failed by the control plane"
_ID = attrgetter("id")


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


@dataclass(slots=True, eq=False)
class EnergyOrder:
    id: int
    user_id: int
    account_id: str
    tron_address: str
    energy_value: int
    duration_hours: int
    price_sun: int
    created_us: int
    due_us: int  # when the natural move (completed, or failed for a failing input) comes due
    txid: str  # drawn at creation so it does not depend on when the order is read
    planned_failure: str | None = None  # the fixtures' reason when this input fails
    order_type: str = "manual"
    status: str = "processing"
    updated_us: int = 0
    status_updated_us: int = 0
    completed_us: int | None = None
    failure_reason: str | None = None

    def view(self) -> dict[str, Any]:
        # Seed, POST/GET /v1/energy/orders: these fields in this order; `txid` and
        # `completedAt` once completed; `failureReason` (inferred) once failed.
        data: dict[str, Any] = {
            "id": self.id,
            "userId": self.user_id,
            "tronAddress": self.tron_address,
            "energyValue": self.energy_value,
            "durationHours": self.duration_hours,
            "priceSun": self.price_sun,
            "priceTrx": trx(self.price_sun),
            "orderType": self.order_type,
            "status": self.status,
        }
        if self.status == "completed":
            data["txid"] = self.txid
        data["createdAt"] = iso_s(self.created_us)
        if self.completed_us is not None:
            data["completedAt"] = iso_s(self.completed_us)
        if self.failure_reason is not None:
            data["failureReason"] = self.failure_reason
        data["updatedAt"] = iso_s(self.updated_us)
        data["statusUpdatedAt"] = iso_s(self.status_updated_us)
        data["canTransitionTo"] = _CAN[self.status]
        return data


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


def newest_first(items: list[Any], offset: int, limit: int) -> list[Any]:
    """One page of an ascending list, newest first: costs the page, not the list."""
    high = len(items) - offset
    if high <= 0:
        return []
    return items[max(0, high - limit) : high][::-1]


@dataclass(slots=True, eq=False)
class Account:
    """A user and their wallet. `id` is the control plane's opaque accountId."""

    id: str
    user_id: int
    email: str
    email_verified: bool
    created_us: int
    balance_sun: int
    frozen_sun: int = 0
    disabled: bool = False
    label: str = ""
    clock: Clock | None = None  # its own test clock, else the emulator's
    # Every order, ascending id (= creation order), and the same split by status: the
    # processing ones in a dict (ids only ever enter it in ascending order, at creation, and
    # leave it from anywhere in O(1)), the terminal ones in ascending lists (they never leave).
    orders: list[EnergyOrder] = field(default_factory=list)
    processing: dict[int, EnergyOrder] = field(default_factory=dict)
    terminal: dict[str, list[EnergyOrder]] = field(
        default_factory=lambda: {status: [] for status in STATUSES if ENERGY.is_terminal(status)}
    )
    # (due instant, id, order) for the orders still processing: settling pops only
    # what is due, never scans the account's orders.
    due: list[tuple[int, int, EnergyOrder]] = field(default_factory=list)
    addresses: dict[int, Address] = field(default_factory=dict)  # ascending id
    address_by_tron: dict[str, Address] = field(default_factory=dict)
    default_address: Address | None = None

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
    def add_order(self, order: EnergyOrder) -> None:
        """A new processing order: its price moves from balance to frozen."""
        assert order.status == "processing" and order.price_sun <= self.balance_sun
        self.balance_sun -= order.price_sun
        self.frozen_sun += order.price_sun
        assert not self.orders or self.orders[-1].id < order.id, "ids are issued in ascending order"
        self.orders.append(order)
        self.processing[order.id] = order
        heappush(self.due, (order.due_us, order.id, order))

    def settle(self, now_us: int) -> None:
        """Apply the natural moves due by `now_us`, each at the instant it was due."""
        due = self.due
        while due and due[0][0] <= now_us:
            at, _, order = heappop(due)
            if order.status != "processing":  # moved by the control plane meanwhile
                continue
            if order.planned_failure is None:
                self.move(order, "completed", at)
            else:
                self.move(order, "failed", at, order.planned_failure)

    def move(self, order: EnergyOrder, target: str, at_us: int, reason: str | None = None) -> None:
        """One move of the table with its side effects, exactly once."""
        ENERGY.check(order.status, target)
        if target == "completed":
            self.frozen_sun -= order.price_sun  # spent
            order.completed_us = at_us
        elif target == "failed":
            self.frozen_sun -= order.price_sun  # back to the balance
            self.balance_sun += order.price_sun
            order.failure_reason = reason or order.planned_failure or DEFAULT_FAILURE
        del self.processing[order.id]  # the only non-terminal status
        insort(self.terminal[target], order, key=_ID)  # natural moves land at (or near) the end
        order.status = target
        order.updated_us = order.status_updated_us = at_us

    def with_status(self, status: str) -> list[EnergyOrder]:
        """The account's orders in `status`, ascending id (copies the processing ones)."""
        if status == "processing":
            return list(self.processing.values())
        return list(self.terminal[status])

    def page(self, offset: int, limit: int, status: str | None) -> tuple[list[EnergyOrder], int]:
        """One page, newest first, and the total matching: costs the page, not the history."""
        if status is None:
            return newest_first(self.orders, offset, limit), len(self.orders)
        if status == "processing":
            running = self.processing
            if offset >= len(running):
                return [], len(running)
            # Walks offset + limit entries from the newest end of a set bounded by what
            # was created within one fulfilment delay.
            return list(islice(reversed(running.values()), offset, offset + limit)), len(running)
        items = self.terminal[status]
        return newest_first(items, offset, limit), len(items)

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
