"""Exact money: hundredths in, JSON numbers out, half-up prices, refunds rounded down."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.core.money import coins, div_ceil, div_half_up, share_down, to_hundredths


@pytest.mark.parametrize(
    ("value", "expected"),
    [(500, 50_000), (500.0, 50_000), (15.5, 1_550), (14.99, 1_499), (0, 0), (0.01, 1), (-0.0, 0), (0.29, 29)],
)
def test_to_hundredths_is_exact_for_two_decimals(value: float, expected: int) -> None:
    assert to_hundredths(value) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (True, "number"),
        ("15.5", "number"),
        (None, "number"),
        (1.005, "2 decimals"),
        (0.1 + 0.2, "2 decimals"),
        (-1, "negative"),
        (-0.01, "negative"),
        (float("inf"), "finite"),
        (float("nan"), "finite"),
    ],
)
def test_to_hundredths_refuses_what_is_not_an_amount(value: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        to_hundredths(value)


def test_coins_renders_the_vendors_json_numbers() -> None:
    assert coins(50_000) == 500.0
    assert coins(1_550) == 15.5
    assert repr(coins(1_499)) == "14.99"
    assert repr(coins(7)) == "0.07"


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**13))
def test_coins_and_to_hundredths_round_trip_exactly(hundredths: int) -> None:
    assert to_hundredths(coins(hundredths)) == hundredths


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (1785, 10, 179),
        (1784, 10, 178),
        (1775, 10, 178),
        (5, 10, 1),
        (4, 10, 0),
        (0, 7, 0),
        (250_500, 1000, 251),
    ],
)
def test_div_half_up_rounds_halves_up(numerator: int, denominator: int, expected: int) -> None:
    assert div_half_up(numerator, denominator) == expected


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=10**6))
@settings(max_examples=200, deadline=None)
def test_div_half_up_is_never_more_than_half_a_unit_off(numerator: int, denominator: int) -> None:
    result = div_half_up(numerator, denominator)
    # |result - n/d| <= 1/2, and exact halves go up
    assert 2 * abs(result * denominator - numerator) <= denominator
    if 2 * (numerator % denominator) == denominator:
        assert result * denominator > numerator


def test_div_ceil_rounds_up() -> None:
    assert div_ceil(10, 5) == 2
    assert div_ceil(11, 5) == 3
    assert div_ceil(0, 5) == 0


def test_share_down_never_over_credits() -> None:
    assert share_down(179, 1, 51) == 3  # 3.51 -> 3
    assert share_down(100, 1, 3) == 33
    assert share_down(100, 3, 3) == 100
    assert share_down(100, 0, 3) == 0


@given(st.integers(0, 10**9), st.integers(1, 10**6), st.data())
@settings(max_examples=200, deadline=None)
def test_share_down_is_at_most_the_exact_share(amount: int, whole: int, data: st.DataObject) -> None:
    part = data.draw(st.integers(0, whole))
    share = share_down(amount, part, whole)
    assert share * whole <= amount * part < (share + 1) * whole
