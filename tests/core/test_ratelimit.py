"""Fixed windows aligned to the clock's minute."""

from __future__ import annotations

from emulator.core.clock import US_PER_S
from emulator.core.ratelimit import RateLimiter

MINUTE = 60 * US_PER_S
T0 = 1_736_937_000 * US_PER_S  # 10:30:00, a minute boundary


def test_the_limit_is_counted_down_then_refused() -> None:
    limiter = RateLimiter(3)
    assert limiter.hit("a", T0) == (True, 2, 1_736_937_060)
    assert limiter.hit("a", T0 + 1) == (True, 1, 1_736_937_060)
    assert limiter.hit("a", T0 + 2) == (True, 0, 1_736_937_060)
    assert limiter.hit("a", T0 + 3) == (False, 0, 1_736_937_060)
    assert limiter.hit("a", T0 + 4) == (False, 0, 1_736_937_060)


def test_a_new_minute_opens_a_new_window() -> None:
    limiter = RateLimiter(1)
    assert limiter.hit("a", T0 + MINUTE - 1)[0]
    assert not limiter.hit("a", T0 + MINUTE - 1)[0]
    allowed, remaining, reset = limiter.hit("a", T0 + MINUTE)
    assert (allowed, remaining, reset) == (True, 0, 1_736_937_120)


def test_windows_are_aligned_to_the_minute_not_the_first_request() -> None:
    limiter = RateLimiter(5)
    _, _, reset = limiter.hit("a", T0 + 59 * US_PER_S)
    assert reset == 1_736_937_060


def test_buckets_are_independent() -> None:
    limiter = RateLimiter(1)
    assert limiter.hit("a", T0)[0]
    assert limiter.hit("b", T0)[0]
    assert not limiter.hit("a", T0)[0]


def test_peek_reports_without_counting() -> None:
    limiter = RateLimiter(2)
    assert limiter.peek("a", T0) == (2, 1_736_937_060)
    limiter.hit("a", T0)
    assert limiter.peek("a", T0) == (1, 1_736_937_060)
    assert limiter.peek("a", T0) == (1, 1_736_937_060)
    assert limiter.peek("a", T0 + MINUTE) == (2, 1_736_937_120)


def test_forget_drops_a_bucket() -> None:
    limiter = RateLimiter(1)
    limiter.hit("a", T0)
    limiter.forget("a")
    limiter.forget("never-seen")
    assert limiter.hit("a", T0)[0]


def test_the_window_length_is_configurable() -> None:
    limiter = RateLimiter(1, window_s=10)
    assert limiter.hit("a", T0)[2] == 1_736_937_010
    assert not limiter.hit("a", T0 + 9 * US_PER_S)[0]
    assert limiter.hit("a", T0 + 10 * US_PER_S)[0]
