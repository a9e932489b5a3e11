"""The seeded id source and the snowflake ids."""

from __future__ import annotations

import re
import uuid
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.core.ids import IdSource, Snowflake, UuidCodec


def test_the_same_seed_gives_the_same_values_in_the_same_order() -> None:
    a, b = IdSource(42), IdSource(42)
    first = [a.uuid(), a.hex(40), a.digits(6), a.randint(0, 50_000), a.faker.numerify("08########")]
    second = [b.uuid(), b.hex(40), b.digits(6), b.randint(0, 50_000), b.faker.numerify("08########")]
    assert first == second


def test_different_seeds_give_different_values() -> None:
    assert IdSource(1).uuid() != IdSource(2).uuid()


def test_no_seed_picks_a_random_one_and_reports_it() -> None:
    source = IdSource()
    assert isinstance(source.seed, int)
    assert IdSource(source.seed).uuid() == IdSource(source.seed).uuid()


def test_uuids_are_version_4_lowercase_strings() -> None:
    source = IdSource(1)
    for _ in range(50):
        text = source.uuid()
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert str(parsed) == text


def test_hex_has_the_requested_length_even_with_leading_zeros() -> None:
    source = IdSource(3)
    for length in (1, 16, 40):
        for _ in range(50):
            assert re.fullmatch(f"[0-9a-f]{{{length}}}", source.hex(length))


def test_digits_are_decimal_of_the_requested_length() -> None:
    source = IdSource(3)
    assert all(re.fullmatch(r"[0-9]{6}", source.digits(6)) for _ in range(50))


def test_randint_stays_in_its_closed_range() -> None:
    source = IdSource(5)
    values = {source.randint(1, 3) for _ in range(200)}
    assert values == {1, 2, 3}


def test_faker_is_seeded_so_when_it_is_first_used_does_not_matter() -> None:
    early = IdSource(9)
    early_value = early.faker.free_email()
    late = IdSource(9)
    late.uuid()  # the id stream is used first; faker has its own seeded stream
    assert late.faker.free_email() == early_value


def test_snowflakes_carry_the_millisecond_worker_sequence_and_a_low_one_bit() -> None:
    flake = Snowflake(epoch_ms=1_000, worker=3)
    first = flake.next(now_us=5_000_000)  # 5000 ms -> 4000 ms after the epoch
    second = flake.next(now_us=5_000_999)  # the same millisecond
    assert [v >> 22 for v in (first, second)] == [4_000, 4_000]
    assert [(v >> 12) & 0x3FF for v in (first, second)] == [3, 3]
    assert [(v >> 1) & 0x7FF for v in (first, second)] == [0, 1]
    assert first & 1 == second & 1 == 1
    assert flake.at(5_000_000, 1) == second


def test_snowflakes_strictly_increase_within_one_millisecond() -> None:
    flake = Snowflake(epoch_ms=0)
    values = [flake.next(1_700_000_000_000_000) for _ in range(5000)]  # past the 11-bit sequence
    assert values == sorted(set(values))
    assert all(v & 1 for v in values)


def test_snowflakes_strictly_increase_when_the_clock_repeats_an_instant() -> None:
    flake = Snowflake(epoch_ms=0)
    late = flake.next(2_000_000_000_000_000)
    earlier_instant = flake.next(1_000_000_000_000_000)
    assert earlier_instant > late and earlier_instant & 1


def test_snowflakes_are_larger_than_2_to_the_53_for_present_day_instants() -> None:
    flake = Snowflake(epoch_ms=1_288_834_974_657)  # Twitter's epoch
    assert flake.next(1_736_937_000_000_000) > 2**53


def test_a_floor_keeps_every_id_above_it_and_odd() -> None:
    flake = Snowflake(epoch_ms=0, floor=2**53)  # an even floor: the first id is the odd one after it
    assert [flake.next(0), flake.next(0)] == [2**53 + 1, 2**53 + 3]
    assert Snowflake(epoch_ms=0, last=2**60 + 1, floor=2**53).next(0) == 2**60 + 3


_CLOCK_MOVES = st.lists(
    st.one_of(
        st.just(0),  # the clock stands still
        st.integers(min_value=1, max_value=1_000),  # under a millisecond
        st.integers(min_value=1_000, max_value=10**12),  # forward, up to ~11 days
        st.integers(min_value=-(10**12), max_value=-1),  # backwards
    ),
    min_size=1,
    max_size=300,
)


@given(_CLOCK_MOVES, st.integers(min_value=0, max_value=0x3FF))
def test_snowflakes_are_odd_and_strictly_increasing_whatever_the_clock_does(
    moves: list[int], worker: int
) -> None:
    flake = Snowflake(epoch_ms=1_577_836_800_000, worker=worker, floor=2**53)
    now = 1_736_937_000_000_000
    values = []
    for move in moves:
        now += move
        values.append(flake.next(now))
    assert all(a < b for a, b in pairwise(values))
    assert all(v > 2**53 and v & 1 and float(v) != v for v in values)


@given(st.integers(min_value=0, max_value=2**41 - 1), st.integers(min_value=0, max_value=0x7FF))
def test_an_id_issued_on_time_keeps_its_millisecond_in_the_top_bits(ms: int, sequence: int) -> None:
    flake = Snowflake(epoch_ms=0, worker=1)
    value = flake.at(ms * 1000, sequence)
    assert value >> 22 == ms and value < 2**63


def test_the_worker_number_is_kept_to_ten_bits() -> None:
    assert Snowflake(0, worker=0x7FF).worker == 0x3FF


# --- order uuids: a seeded bijection, so orders need no id string ------------------------
@given(st.integers(min_value=0, max_value=2**64 - 1), st.integers(min_value=0, max_value=2**32))
def test_an_order_uuid_is_a_v4_uuid_that_decodes_back_to_its_number(number: int, seed: int) -> None:
    ids = IdSource(seed)
    text = ids.order_uuid(number)
    parsed = uuid.UUID(text)
    assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == text
    assert ids.order_number(text) == number
    assert ids.order_number(text.upper()) == number


def test_order_uuids_depend_on_the_seed_and_never_repeat() -> None:
    first, second = IdSource(1), IdSource(2)
    made = {first.order_uuid(n) for n in range(5000)}
    assert len(made) == 5000
    assert first.order_uuid(0) != second.order_uuid(0)
    assert IdSource(1).order_uuid(42) == first.order_uuid(42)


@pytest.mark.parametrize(
    "text",
    [
        "00000000-0000-4000-8000-000000000001",  # a uuid this codec never made (number > 2^64)
        "fca61293-461f-4d93-8ce6-66ad169b5f0",  # short
        "fca61293x461f-4d93-8ce6-66ad169b5f07",
        "fca61293-461f-1d93-8ce6-66ad169b5f07",  # version 1
        "zzzzzzzz-461f-4d93-8ce6-66ad169b5f07",
        "",
    ],
)
def test_strings_that_are_not_order_uuids_decode_to_nothing(text: str) -> None:
    assert IdSource(7).order_number(text) is None


def test_the_codec_scramble_is_a_bijection_on_its_122_bits() -> None:
    codec = UuidCodec(3, "test")
    for x in (0, 1, 2**61, 2**122 - 1, 123456789):
        assert codec.unscramble(codec.scramble(x)) == x


def test_otp_codes_are_six_digits_fixed_by_seed_and_number() -> None:
    ids = IdSource(9)
    codes = [ids.otp_code(n) for n in range(200)]
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert codes == [IdSource(9).otp_code(n) for n in range(200)]
    assert len(set(codes)) > 190
