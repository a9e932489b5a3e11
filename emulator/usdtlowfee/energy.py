"""What an energy order may be: the seed's limits and durations, and its status table."""

from __future__ import annotations

from emulator.core.statemachine import StateMachine

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

DEFAULT_FAILURE = "failed by the control plane"
