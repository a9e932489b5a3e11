"""The status tables of 247xd's three kinds of order (SPEC, inferred where the seed is silent)."""

from __future__ import annotations

from emulator.core.statemachine import StateMachine

# SPEC, 247xd OTP numbers (inferred table).
OTP = StateMachine(
    "otp",
    "waiting_sms",
    {
        "waiting_sms": ("completed", "cancelled", "expired"),
        "completed": (),
        "cancelled": ("refunded",),
        "expired": ("refunded",),
        "refunded": (),
    },
)

# SPEC, 247xd social boosters (inferred): pending -> processing -> completed,
# processing -> partial, pending/processing -> cancelled, cancelled/partial -> refunded.
SOCIAL = StateMachine(
    "social",
    "pending",
    {
        "pending": ("processing", "cancelled"),
        "processing": ("completed", "partial", "cancelled"),
        "completed": (),
        "partial": ("refunded",),
        "cancelled": ("refunded",),
        "refunded": (),
    },
)

# Premium accounts are delivered at once (seed section 8): one terminal status.
PREMIUM = StateMachine("premium", "completed", {"completed": ()})
