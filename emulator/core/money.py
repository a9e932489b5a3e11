"""Exact money: 247xd coins as integer hundredths, USDTLowFee as integer sun.

Floats appear only at the edges: parsing a JSON number in, rendering one out.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def to_hundredths(value: object) -> int:
    """A JSON number with at most 2 decimals to integer hundredths (>= 0)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    try:
        exact = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError("must be a finite number") from None
    if not exact.is_finite():
        raise ValueError("must be a finite number")
    scaled = exact * 100
    if scaled != scaled.to_integral_value():
        raise ValueError("must have at most 2 decimals")
    if scaled < 0:
        raise ValueError("must not be negative")
    return int(scaled)


def coins(hundredths: int) -> float:
    """Hundredths to the JSON number the vendor shows (`500.0`, `15.5`).

    `h / 100` is the double nearest the exact decimal, and its shortest repr is that
    decimal, so the rendered text is exact.
    """
    return hundredths / 100


def div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up (both >= 0)."""
    return (2 * numerator + denominator) // (2 * denominator)


def div_ceil(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def share_down(amount: int, part: int, whole: int) -> int:
    """amount × part / whole rounded down: refunds never over-credit."""
    return amount * part // whole
