"""How USDTLowFee writes sun and instants: priceTrx numbers, TRX text, cached ISO seconds."""

from __future__ import annotations

from emulator.core.clock import iso_s

SUN_PER_TRX = 1_000_000


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


# Read directly by the order views (a dict lookup before the call): the hot path.
ISO_CACHE: dict[int, str] = {}


def iso(us: int) -> str:
    """iso_s, cached per second: a page of orders renders four instants each, and orders
    made together share their seconds."""
    second = us // 1_000_000
    text = ISO_CACHE.get(second)
    if text is None:
        if len(ISO_CACHE) >= 8192:
            ISO_CACHE.clear()
        text = ISO_CACHE[second] = iso_s(us)
    return text
