"""The emulator clock: frozen, resumed, advanced, set; instants and their two formats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.core import clock as clock_mod
from emulator.core.clock import (
    LATEST_US,
    US_PER_S,
    Clock,
    ClockError,
    iso_ms,
    iso_s,
    parse_iso,
    seconds_to_us,
    us_to_seconds,
    wall_us,
)

START_US = 1_736_937_000 * US_PER_S  # 2025-01-15T10:30:00Z


def test_a_frozen_clock_stays_at_its_start() -> None:
    clock = Clock(START_US, frozen=True)
    assert clock.frozen
    assert clock.now_us() == START_US
    assert clock.now_us() == START_US


def test_an_unfrozen_clock_starting_now_follows_real_time(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = [10_000 * US_PER_S * 1000]
    monkeypatch.setattr(clock_mod.time, "time_ns", lambda: fake[0])
    clock = Clock()
    assert clock.now_us() == fake[0] // 1000
    fake[0] += 5 * US_PER_S * 1000  # five real seconds
    assert clock.now_us() == fake[0] // 1000


def test_a_clock_with_a_start_runs_on_from_it_at_real_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = [50_000 * US_PER_S * 1000]
    monkeypatch.setattr(clock_mod.time, "time_ns", lambda: fake[0])
    clock = Clock(START_US)
    assert clock.now_us() == START_US
    fake[0] += 2_500_000_000  # 2.5 real seconds in ns
    assert clock.now_us() == START_US + 2_500_000


def test_advance_moves_a_frozen_clock_by_exact_microseconds() -> None:
    clock = Clock(START_US, frozen=True)
    clock.advance(1)
    clock.advance(seconds_to_us(1.5))
    assert clock.now_us() == START_US + 1_500_001
    assert clock.frozen


def test_advance_moves_a_running_clock_too(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = [1_000 * US_PER_S * 1000]
    monkeypatch.setattr(clock_mod.time, "time_ns", lambda: fake[0])
    clock = Clock(START_US)
    clock.advance(60 * US_PER_S)
    assert clock.now_us() == START_US + 60 * US_PER_S
    assert not clock.frozen


def test_advance_refuses_negative_steps_and_keeps_the_time() -> None:
    clock = Clock(START_US, frozen=True)
    with pytest.raises(ClockError):
        clock.advance(-1)
    assert clock.now_us() == START_US


def test_advance_by_zero_is_allowed() -> None:
    clock = Clock(START_US, frozen=True)
    clock.advance(0)
    assert clock.now_us() == START_US


def test_set_moves_forward_and_to_the_same_instant() -> None:
    clock = Clock(START_US, frozen=True)
    clock.set(START_US)
    assert clock.now_us() == START_US
    clock.set(START_US + 7 * US_PER_S)
    assert clock.now_us() == START_US + 7 * US_PER_S


def test_set_never_goes_backwards() -> None:
    clock = Clock(START_US, frozen=True)
    with pytest.raises(ClockError, match="backwards"):
        clock.set(START_US - 1)
    assert clock.now_us() == START_US


def test_the_clock_is_never_moved_past_its_latest_instant() -> None:
    clock = Clock(START_US, frozen=True)
    with pytest.raises(ClockError):
        clock.advance(LATEST_US - START_US + 1)
    with pytest.raises(ClockError):
        clock.set(LATEST_US + 1)
    assert clock.now_us() == START_US
    clock.set(LATEST_US)
    assert iso_ms(clock.now_us()) == "9000-01-01T00:00:00.000Z"


def test_freeze_stops_time_and_resume_flows_on_from_the_frozen_instant(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = [1_000 * US_PER_S * 1000]
    monkeypatch.setattr(clock_mod.time, "time_ns", lambda: fake[0])
    clock = Clock(START_US)
    clock.freeze()
    fake[0] += 3600 * US_PER_S * 1000  # an hour of real time passes while frozen
    assert clock.now_us() == START_US
    clock.resume()
    assert not clock.frozen
    assert clock.now_us() == START_US  # not START + 1 h
    fake[0] += US_PER_S * 1000
    assert clock.now_us() == START_US + US_PER_S


def test_freeze_and_resume_are_idempotent() -> None:
    clock = Clock(START_US, frozen=True)
    clock.freeze()
    assert clock.now_us() == START_US
    clock.resume()
    clock.resume()
    assert not clock.frozen
    assert clock.now_us() >= START_US


def test_export_shows_the_instant_and_whether_frozen() -> None:
    clock = Clock(START_US, frozen=True)
    assert clock.export() == {"now": "2025-01-15T10:30:00.000Z", "frozen": True}


def test_wall_us_is_real_time_in_microseconds() -> None:
    assert abs(wall_us() - Clock().now_us()) < 60 * US_PER_S


def test_iso_ms_is_the_247xd_format_with_milliseconds() -> None:
    assert iso_ms(START_US) == "2025-01-15T10:30:00.000Z"
    assert iso_ms(START_US + 1_234_567) == "2025-01-15T10:30:01.234Z"
    assert iso_ms(START_US + 999) == "2025-01-15T10:30:00.000Z"  # truncated, not rounded up


def test_iso_s_is_the_usdtlowfee_format_without_fractions() -> None:
    assert iso_s(START_US) == "2025-01-15T10:30:00Z"
    assert iso_s(START_US + 999_999) == "2025-01-15T10:30:00Z"


def test_years_before_1000_are_zero_padded() -> None:
    early = parse_iso("0999-03-04T05:06:07Z")
    assert iso_ms(early) == "0999-03-04T05:06:07.000Z"
    assert iso_s(early) == "0999-03-04T05:06:07Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-15T10:30:00Z", START_US),
        ("2025-01-15T10:30:00z", START_US),
        ("2025-01-15T10:30:00.000Z", START_US),
        ("2025-01-15T10:30:00+00:00", START_US),
        ("2025-01-15T17:30:00+07:00", START_US),
        ("2025-01-15T10:30:00", START_US),  # naive -> UTC
        ("2025-01-15T10:30:00.000001Z", START_US + 1),
        ("1970-01-01T00:00:00Z", 0),
    ],
)
def test_parse_iso_reads_instants_with_zones(text: str, expected: int) -> None:
    assert parse_iso(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "yesterday",
        "2025-13-01T00:00:00Z",
        "10:30",
        "9999-12-31T23:59:59-01:00",
        "0001-01-01T00:00:00+01:00",
    ],
)
def test_parse_iso_refuses_what_is_not_a_representable_instant(text: str) -> None:
    with pytest.raises(ValueError):
        parse_iso(text)


@pytest.mark.parametrize("value", [None, 123, 1.5, ["2025-01-15T10:30:00Z"]])
def test_parse_iso_refuses_non_strings(value: object) -> None:
    with pytest.raises(ValueError):
        parse_iso(value)  # type: ignore[arg-type]


def test_parse_iso_and_iso_ms_round_trip_to_the_millisecond() -> None:
    us = START_US + 123_000
    assert parse_iso(iso_ms(us)) == us


def test_seconds_to_us_rounds_to_the_nearest_microsecond() -> None:
    assert seconds_to_us(1) == US_PER_S
    assert seconds_to_us(0.5) == 500_000
    assert seconds_to_us(1e-6) == 1
    assert seconds_to_us(0.0000004) == 0
    assert seconds_to_us(0.1 + 0.2) == 300_000


def test_seconds_to_us_refuses_amounts_beyond_floats() -> None:
    with pytest.raises(ValueError):
        seconds_to_us(1e305)


@given(st.integers(min_value=parse_iso("0001-01-01T00:00:00Z"), max_value=LATEST_US))
def test_fast_iso_formatting_matches_datetime_for_any_instant(us: int) -> None:
    dt = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
    assert iso_ms(us) == f"{dt.year:04d}-{dt:%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"
    assert iso_s(us) == f"{dt.year:04d}-{dt:%m-%dT%H:%M:%S}Z"


@given(st.integers(min_value=0, max_value=LATEST_US - 2 * US_PER_S), st.lists(st.integers(0, 1_999_999)))
def test_iso_ms_reusing_the_last_second_renders_each_instant_as_alone(base: int, offsets: list[int]) -> None:
    """iso_ms keeps the second it rendered last: instants within it, and the seconds
    around it, in any order, come out as each would with nothing kept."""
    for us in (base + offset for offset in offsets):
        dt = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
        assert iso_ms(us) == f"{dt.year:04d}-{dt:%m-%dT%H:%M:%S}.{dt.microsecond // 1000:03d}Z"


def test_us_to_seconds_is_whole_when_it_can_be_and_exact_otherwise() -> None:
    assert us_to_seconds(5 * US_PER_S) == 5 and isinstance(us_to_seconds(5 * US_PER_S), int)
    assert us_to_seconds(0) == 0
    assert us_to_seconds(1_250_000) == 1.25
    assert us_to_seconds(1) == 0.000001


@given(st.integers(min_value=0, max_value=100 * 366 * 86_400 * US_PER_S))
def test_us_to_seconds_round_trips_through_seconds_to_us(us: int) -> None:
    assert seconds_to_us(us_to_seconds(us)) == us
