"""API keys (exact match, expiry, revocation) and reading the Authorization header."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from emulator.core.auth import AuthScheme, KeyRing, export_keys, restore_keys
from emulator.core.clock import Clock
from emulator.core.errors import FieldError

KEY = "247xd_" + "a1" * 20


@dataclass
class _Account:
    id: str
    clock: Clock | None = None


ACCOUNT = _Account("acct-1")
ACCOUNTS = {"acct-1": ACCOUNT}
SCHEME = AuthScheme("Bearer", r"247xd_[A-Za-z0-9]{40}")


def header(value: str) -> list[tuple[bytes, bytes]]:
    return [(b"content-type", b"application/json"), (b"authorization", value.encode("latin-1"))]


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_scheme_matches_case_insensitively(scheme: str) -> None:
    assert SCHEME.key_from(header(f"{scheme} {KEY}")) == KEY


def test_surrounding_whitespace_is_ignored() -> None:
    assert SCHEME.key_from(header(f"  Bearer   {KEY}  ")) == KEY


@pytest.mark.parametrize(
    "value",
    [
        "",
        "Bearer",
        "Bearer ",
        KEY,  # no scheme
        f"Basic {KEY}",
        f"ApiKey {KEY}",
        f"Bearer {KEY[:-1]}",  # 39 characters
        f"Bearer {KEY}0",  # 41 characters
        f"Bearer {KEY.upper()}",  # prefix must stay 247xd_
        f"Bearer {KEY[:-1]}!",
        f"Bearer {KEY} extra",
        f"Bearer-{KEY}",
    ],
)
def test_malformed_headers_give_no_key(value: str) -> None:
    assert SCHEME.key_from(header(value)) is None


def test_no_authorization_header_gives_no_key() -> None:
    assert SCHEME.key_from([(b"accept", b"*/*")]) is None


@pytest.mark.parametrize(
    "values",
    [
        [b"Basic x", f"Bearer {KEY}".encode()],
        [f"Bearer {KEY}".encode(), b"Basic x"],
        [f"Bearer {KEY}".encode(), f"Bearer {KEY}".encode()],
    ],
)
def test_more_than_one_authorization_header_gives_no_key(values: list[bytes]) -> None:
    headers = [(b"accept", b"*/*"), *((b"authorization", value) for value in values)]
    assert SCHEME.key_from(headers) is None
    assert SCHEME.key_from([(b"authorization", f"Bearer {KEY}".encode())]) == KEY


def test_keys_resolve_exactly_to_their_account() -> None:
    ring = KeyRing()
    ring.add(KEY, "acct-1")
    assert ring.resolve(KEY, ACCOUNTS, Clock(0, frozen=True)) is ACCOUNT
    assert ring.resolve(KEY.upper(), ACCOUNTS, Clock(0, frozen=True)) is None
    assert ring.resolve(KEY[:-1] + "0", ACCOUNTS, Clock(0, frozen=True)) is None


def test_a_key_expires_at_its_instant_not_after() -> None:
    ring = KeyRing()
    ring.add(KEY, "acct-1", expires_us=1_000)
    assert ring.resolve(KEY, ACCOUNTS, Clock(999, frozen=True)) is ACCOUNT
    assert ring.resolve(KEY, ACCOUNTS, Clock(1_000, frozen=True)) is None


def test_a_key_expires_on_its_accounts_own_clock() -> None:
    ring = KeyRing()
    ring.add(KEY, "acct-1", expires_us=1_000)
    own = _Account("acct-1", Clock(500, frozen=True))
    assert ring.resolve(KEY, {"acct-1": own}, Clock(5_000, frozen=True)) is own
    own.clock = Clock(1_000, frozen=True)
    assert ring.resolve(KEY, {"acct-1": own}, Clock(0, frozen=True)) is None


def test_a_key_of_an_account_that_is_gone_resolves_to_nothing() -> None:
    ring = KeyRing()
    ring.add(KEY, "acct-2")
    assert ring.resolve(KEY, ACCOUNTS, Clock(0, frozen=True)) is None


def test_a_revoked_key_resolves_to_nothing() -> None:
    ring = KeyRing()
    ring.add(KEY, "acct-1").revoked = True
    assert ring.resolve(KEY, ACCOUNTS, Clock(0, frozen=True)) is None


def test_one_account_may_hold_many_keys() -> None:
    ring = KeyRing()
    other = "247xd_" + "b2" * 20
    ring.add(KEY, "acct-1")
    ring.add(other, "acct-1")
    ring.add("247xd_" + "c3" * 20, "acct-2")
    assert sorted(r.key for r in ring.keys_of("acct-1")) == sorted([KEY, other])


def test_live_keys_are_those_that_resolve_in_issue_order() -> None:
    ring = KeyRing()
    keys = ["247xd_" + c * 40 for c in "abcd"]
    ring.add(keys[0], "acct-1")
    ring.add(keys[1], "acct-2", expires_us=1_000)
    ring.add(keys[2], "acct-1").revoked = True
    ring.add(keys[3], "acct-2")
    accounts = {"acct-1": _Account("acct-1"), "acct-2": _Account("acct-2")}
    assert [r.key for r in ring.live(accounts, Clock(999, frozen=True))] == [keys[0], keys[1], keys[3]]
    assert [r.key for r in ring.live(accounts, Clock(1_000, frozen=True))] == [keys[0], keys[3]]


def test_exported_keys_restore_to_the_same_ring() -> None:
    ring = KeyRing()
    ring.add(KEY, "acct-1", expires_us=1_736_937_000_000_000)
    ring.add("247xd_" + "b2" * 20, "acct-2").revoked = True
    doc = {"keys": export_keys(ring)}
    assert doc["keys"][0] == {
        "key": KEY, "accountId": "acct-1", "expiresAt": "2025-01-15T10:30:00.000000Z", "revoked": False
    }
    again = KeyRing()
    restore_keys(doc, "", again, {"acct-1": 1, "acct-2": 2}, re.compile(r"247xd_[a-z0-9]{40}"), "a key")
    assert again.records == ring.records
    with pytest.raises(FieldError, match="names no account"):
        restore_keys(doc, "", KeyRing(), {"acct-1": 1}, re.compile(r"247xd_[a-z0-9]{40}"), "a key")
