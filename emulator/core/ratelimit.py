"""Fixed-window rate limiting on the emulator clock (windows aligned to its minute)."""

from __future__ import annotations

from typing import NamedTuple

from .clock import US_PER_S


class ClientAddress(NamedTuple):
    """A caller without a valid key, counted by its client address. Addresses are
    unbounded (any client, any number), so their counts live in one dict for the current
    window, replaced whole when the window moves: O(1), no scan, and a million addresses
    cost nothing once their minute has passed. They are always on the emulator clock."""

    host: str


class RateLimiter:
    __slots__ = ("limit", "window_us", "_buckets", "_window", "_addresses")

    def __init__(self, limit: int, window_s: int = 60) -> None:
        self.limit = limit
        self.window_us = window_s * US_PER_S
        # account key -> [window index, requests counted in it]. Accounts are bounded
        # (created through fixtures and the control plane) and may each be on a clock of
        # their own, so each keeps its own window.
        self._buckets: dict[object, list[int]] = {}
        self._window = -1  # the window `_addresses` counts
        self._addresses: dict[ClientAddress, int] = {}

    def hit(self, key: object, now_us: int) -> tuple[bool, int, int]:
        """Count one request. Returns (allowed, remaining, window reset in unix seconds)."""
        window = now_us // self.window_us
        reset = (window + 1) * self.window_us // US_PER_S
        if type(key) is ClientAddress:
            if window != self._window:  # the window moved: every address's count ends with it
                self._window = window
                self._addresses = {}
            counts = self._addresses
            used = counts.get(key, 0)
            allowed = used < self.limit
            if allowed:
                used += 1
                counts[key] = used
            return allowed, self.limit - used, reset
        bucket = self._buckets.get(key)
        if bucket is None or bucket[0] != window:
            bucket = [window, 0]
            self._buckets[key] = bucket
        allowed = bucket[1] < self.limit
        if allowed:
            bucket[1] += 1
        return allowed, self.limit - bucket[1], reset

    def peek(self, key: object, now_us: int) -> tuple[int, int]:
        """(remaining, reset) without counting."""
        window = now_us // self.window_us
        if type(key) is ClientAddress:
            used = self._addresses.get(key, 0) if window == self._window else 0
        else:
            bucket = self._buckets.get(key)
            used = bucket[1] if bucket is not None and bucket[0] == window else 0
        return self.limit - used, (window + 1) * self.window_us // US_PER_S

    def forget(self, key: object) -> None:
        self._buckets.pop(key, None)
