"""Fixed-window rate limiting on the emulator clock (windows aligned to its minute)."""

from __future__ import annotations

from .clock import US_PER_S


class RateLimiter:
    __slots__ = ("limit", "window_us", "_buckets")

    def __init__(self, limit: int, window_s: int = 60) -> None:
        self.limit = limit
        self.window_us = window_s * US_PER_S
        # bucket key -> [window index, requests counted in it]
        self._buckets: dict[object, list[int]] = {}

    def hit(self, key: object, now_us: int) -> tuple[bool, int, int]:
        """Count one request. Returns (allowed, remaining, window reset in unix seconds)."""
        window = now_us // self.window_us
        bucket = self._buckets.get(key)
        if bucket is None or bucket[0] != window:
            bucket = [window, 0]
            self._buckets[key] = bucket
        allowed = bucket[1] < self.limit
        if allowed:
            bucket[1] += 1
        reset = (window + 1) * self.window_us // US_PER_S
        return allowed, self.limit - bucket[1], reset

    def peek(self, key: object, now_us: int) -> tuple[int, int]:
        """(remaining, reset) without counting."""
        window = now_us // self.window_us
        bucket = self._buckets.get(key)
        used = bucket[1] if bucket is not None and bucket[0] == window else 0
        return self.limit - used, (window + 1) * self.window_us // US_PER_S

    def forget(self, key: object) -> None:
        self._buckets.pop(key, None)
