"""A 247xd account: its coins (integer hundredths) and its orders' numbers."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from emulator.core.clock import Clock


@dataclass(slots=True)
class Account:
    id: str
    coins: int  # hundredths
    banned: bool = False
    label: str = ""
    clock: Clock | None = None  # its own test clock, else the emulator's
    number: int = -1  # its place in the order book's account list
    orders: array[int] = field(default_factory=lambda: array("I"))  # order numbers, oldest first
