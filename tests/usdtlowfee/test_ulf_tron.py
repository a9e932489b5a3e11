"""TRON address validation (base58check, version 0x41) and the snowflake ids."""

from __future__ import annotations

import base58
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.core.errors import FieldError
from emulator.usdtlowfee import tron

from .support import COLD, EXCHANGE, FAILING, FAILING_2, MAIN_WALLET, OTHER, USDT_CONTRACT

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


@pytest.mark.parametrize("address", [USDT_CONTRACT, MAIN_WALLET, EXCHANGE, COLD, OTHER, FAILING, FAILING_2])
def test_known_addresses_are_valid(address: str) -> None:
    assert tron.is_address(address)


@pytest.mark.parametrize(
    "text",
    ["", "T", "TYour1Address2Here3...", USDT_CONTRACT[:-1], USDT_CONTRACT + "a", USDT_CONTRACT.lower(),
     "A" + USDT_CONTRACT[1:], USDT_CONTRACT.replace("R", "0", 1), USDT_CONTRACT.replace("7", "l", 1),
     "TkCVWggMFzU36H12Rkc7mLMkuCKqFKMbkP",  # valid base58check, version 0x42
     base58.b58encode(b"\x41" + bytes(24)).decode(),  # no valid checksum
     "0x" + "0" * 40, " " + USDT_CONTRACT[1:], USDT_CONTRACT[:20] + "é" * 14],
)
def test_invalid_texts(text: str) -> None:
    assert not tron.is_address(text)


@given(st.binary(min_size=20, max_size=20))
def test_any_20_bytes_make_a_valid_address(account: bytes) -> None:
    address = tron.address_from_bytes(account)
    assert len(address) == 34 and address[0] == "T"
    assert tron.is_address(address)
    assert base58.b58decode_check(address) == b"\x41" + account


@given(st.binary(min_size=20, max_size=20), st.integers(1, 33), st.sampled_from(ALPHABET))
def test_changing_one_character_breaks_the_checksum(account: bytes, position: int, char: str) -> None:
    address = tron.address_from_bytes(account)
    changed = address[:position] + char + address[position + 1 :]
    if changed != address:
        assert not tron.is_address(changed)


@given(st.text(max_size=40))
def test_arbitrary_text_never_raises(text: str) -> None:
    assert tron.is_address(text) in (True, False)


def test_address_from_bytes_needs_20_bytes() -> None:
    with pytest.raises(ValueError):
        tron.address_from_bytes(b"\x00" * 19)


def test_snowflake_ids_are_floored_and_increasing() -> None:
    ids = tron.SnowflakeIds()
    seen = [ids.next(0) for _ in range(5)]  # an instant before the epoch
    assert seen[0] == 2**53 + 1 and seen == sorted(set(seen))
    assert ids.next(tron.LAST_US * 10) <= 2**63 - 1


def test_an_address_field_is_read_with_the_reason_its_caller_gives() -> None:
    assert tron.address_field({"a": MAIN_WALLET}, "a") == MAIN_WALLET
    with pytest.raises(FieldError) as request:
        tron.address_field({"a": MAIN_WALLET[:-1]}, "a", "data.")
    assert (request.value.field, request.value.reason) == ("data.a", tron.INVALID_SPELLED_OUT)
    with pytest.raises(FieldError) as document:
        tron.address_field({"a": "T" * 34}, "a", "doc.", tron.INVALID)
    assert document.value.reason == "must be a valid TRON address"
    with pytest.raises(FieldError, match="must be a string"):
        tron.address_field({"a": 7}, "a")
    with pytest.raises(FieldError, match="required"):
        tron.address_field({}, "a")
