"""Saved TRON addresses: one address as the API shows it, and an account's address book."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from emulator.core.clock import iso_s

from .fixtures import MAX_USAGE_COUNT


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


class AddressBook:
    """An account's saved addresses, by id (ascending) and by tronAddress, with at most
    one default; Account holds the fields."""

    # No slots of its own (Account's dataclass makes them); hidden from mypy, which would
    # otherwise refuse assignments to the fields declared below.
    if not TYPE_CHECKING:
        __slots__ = ()

    addresses: dict[int, Address]
    address_by_tron: dict[str, Address]
    default_address: Address | None

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
            if address.usage_count < MAX_USAGE_COUNT:  # saturates: an order is never refused for it
                address.usage_count += 1
            address.last_used_us = at_us
