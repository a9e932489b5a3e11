"""The emulator clock: the only place that reads the wall clock.

Time is kept as integer microseconds since the Unix epoch so that advancing by
fractions of a second stays exact and comparisons never meet float rounding.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .errors import FieldError

if TYPE_CHECKING:
    from .types import Caller

US_PER_S = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Instants must stay renderable as dates (datetime ends at year 9999). The clock is not
# moved past LATEST_US, which leaves centuries of room for expiries and delays after it.
_LOWEST = datetime.min.replace(tzinfo=UTC)
_HIGHEST = datetime.max.replace(tzinfo=UTC)
LATEST_US = (datetime(9000, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


# Durable state pins the wall clock to a write's recorded instant while it is applied,
# live and on replay, so that the write sees the same instant both times (emulator/durable.py).
_pinned = 0


def wall_us() -> int:
    return _pinned or time.time_ns() // 1000


def pin_wall(us: int) -> None:
    """Every clock reads `us` as the wall-clock instant until `pin_wall(0)`. Only durable
    state calls it, with the emulator lock held."""
    global _pinned
    _pinned = us


class ClockError(ValueError):
    """A move the clock refuses (backwards, negative)."""


class Clock:
    """Follows real time from `start_us`; can be frozen, resumed, advanced and set."""

    __slots__ = ("_offset", "_frozen_at")

    def __init__(self, start_us: int | None = None, *, frozen: bool = False) -> None:
        real = wall_us()
        self._offset = 0 if start_us is None else start_us - real
        self._frozen_at: int | None = real + self._offset if frozen else None

    def now_us(self) -> int:
        frozen = self._frozen_at
        if frozen is not None:
            return frozen
        return (_pinned or time.time_ns() // 1000) + self._offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self) -> None:
        if self._frozen_at is None:
            self._frozen_at = self.now_us()

    def resume(self) -> None:
        if self._frozen_at is not None:
            # Time flows on from the frozen instant, not from where real time got to.
            self._offset = self._frozen_at - wall_us()
            self._frozen_at = None

    def advance(self, us: int) -> None:
        if us < 0:
            raise ClockError("the clock only moves forward")
        if self.now_us() + us > LATEST_US:
            raise ClockError(f"the clock cannot go past {iso_ms(LATEST_US)}")
        if self._frozen_at is not None:
            self._frozen_at += us
        else:
            self._offset += us

    def set(self, target_us: int) -> None:
        now = self.now_us()
        if target_us < now:
            raise ClockError(f"cannot set the clock backwards (now {iso_ms(now)})")
        self.advance(target_us - now)

    def export(self) -> dict[str, object]:
        return {"now": iso_ms(self.now_us()), "frozen": self.frozen}

    def snapshot(self) -> dict[str, object]:
        """For the state document: the instant to the microsecond, and for a running clock
        the wall-clock instant it was read at, so that it runs on at the same offset."""
        if self._frozen_at is not None:
            return {"now": iso_us(self._frozen_at), "frozen": True}
        real = wall_us()
        return {"now": iso_us(real + self._offset), "frozen": False, "wall": iso_us(real)}

    @classmethod
    def restore(cls, doc: object, path: str) -> Clock:
        """A clock from `snapshot()`; a running one without `wall` runs on from `now`."""
        if not isinstance(doc, dict):
            raise FieldError(path.rstrip("."), "must be an object")
        frozen = doc.get("frozen")
        if not isinstance(frozen, bool):
            raise FieldError(path + "frozen", "must be true or false")
        now = instant_field(doc, "now", path)
        clock = cls(now, frozen=frozen)
        if not frozen and doc.get("wall") is not None:
            clock._offset = now - instant_field(doc, "wall", path)
        return clock


def clock_of(account: Caller | None, clock: Clock) -> Clock:
    """The account's own test clock, if it has one, else `clock` (the emulator's)."""
    if account is None or account.clock is None:
        return clock
    return account.clock


def instant_field(doc: dict[str, Any], name: str, path: str) -> int:
    """A document's ISO 8601 field as epoch microseconds, no later than LATEST_US;
    FieldError names the field."""
    value = doc.get(name)
    try:
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 date-time string")
        us = parse_iso(value)
    except ValueError as exc:
        raise FieldError(path + name, str(exc)) from None
    if us > LATEST_US:
        raise FieldError(path + name, f"must not be after {iso_ms(LATEST_US)}")
    return us


def to_datetime(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


_DATES: dict[int, str] = {}


def _date(day: int) -> str:
    """`YYYY-MM-DD` of a day since the epoch, cached: timestamps are rendered on every read
    of every order, and most of them fall on a handful of days."""
    text = _DATES.get(day)
    if text is None:
        dt = _EPOCH + timedelta(days=day)
        text = f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}"
        if len(_DATES) >= 4096:
            _DATES.clear()
        _DATES[day] = text
    return text


# `.000Z` to `.999Z`, and the last second iso_ms rendered with its text up to the dot:
# the timestamps of one request (created, expires, updated) mostly share it.
_MILLIS = [f".{milli:03d}Z" for milli in range(1000)]
_last_second: tuple[int, str] = (0, "1970-01-01T00:00:00")


def iso_ms(us: int) -> str:
    """`2024-01-01T00:20:00.000Z` — 247xd's format (seed section 6)."""
    global _last_second
    seconds, milli = divmod(us // 1000, 1000)
    last = _last_second
    if last[0] != seconds:
        day, rest = divmod(seconds, 86_400)
        hour, rest = divmod(rest, 3600)
        minute, second = divmod(rest, 60)
        last = _last_second = (seconds, f"{_date(day)}T{hour:02d}:{minute:02d}:{second:02d}")
    return last[1] + _MILLIS[milli]


def iso_us(us: int) -> str:
    """`2024-01-01T00:20:00.000001Z`: exact to the microsecond (the state document)."""
    return f"{iso_s(us)[:-1]}.{us % US_PER_S:06d}Z"


def iso_s(us: int) -> str:
    """`2025-01-15T10:30:00Z` — USDTLowFee's format (seed, general rules)."""
    day, rest = divmod(us // US_PER_S, 86_400)
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    return f"{_date(day)}T{hour:02d}:{minute:02d}:{second:02d}Z"


def parse_iso(text: str) -> int:
    """An ISO 8601 instant with a zone (or naive, taken as UTC) to epoch microseconds."""
    if not isinstance(text, str) or not text:
        raise ValueError("must be an ISO 8601 date-time string")
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date-time") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    if not _LOWEST <= dt <= _HIGHEST:
        raise ValueError(f"{text!r} is outside the years 1 to 9999 in UTC")
    delta = dt - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * US_PER_S + delta.microseconds


def seconds_to_us(seconds: float | int) -> int:
    """Seconds (fractions allowed) to whole microseconds, rounding to the nearest."""
    scaled = seconds * US_PER_S
    if scaled in (float("inf"), float("-inf")) or scaled != scaled:
        raise ValueError("is too large")
    return round(scaled)


def us_to_seconds(us: int) -> int | float:
    """Microseconds as the seconds a document shows: whole when they are, else fractional."""
    whole, rest = divmod(us, US_PER_S)
    return whole if not rest else us / US_PER_S
