"""A USDTLowFee account: a user, their wallet, their energy orders and saved addresses.

Money is integer sun: `balanceSun` available, `frozenSun` held by orders still processing.
The fields live here, in one place the state codec reads; what the account does is in
the mixins, by concern: fulfilment (orders moving and the money they move), pages
(reading orders back) and the address book.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

from emulator.core.clock import Clock, iso_s

from .addresses import Address, AddressBook
from .energy import COMPLETED, FAILED
from .ledger import OrderBook
from .pages import OrderPages


@dataclass(slots=True, eq=False)
class Account(OrderPages, AddressBook):
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
    # Each order costs 4 bytes in `rows`, and 4 more in `terminal` or the processing ones
    # (see Fulfilment).
    rows: array[int] = field(default_factory=lambda: array("I"), repr=False)
    terminal: dict[int, array[int]] = field(
        default_factory=lambda: {COMPLETED: array("I"), FAILED: array("I")}, repr=False
    )
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
