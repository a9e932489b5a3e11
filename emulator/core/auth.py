"""API keys: issue, expire, revoke, resolve. The scheme and key shape are the API's."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from . import validate
from .clock import Clock, clock_of, instant_field, iso_us
from .errors import FieldError
from .head import Head
from .types import Caller

A = TypeVar("A", bound=Caller)


@dataclass(slots=True)
class KeyRecord:
    key: str
    account_id: str
    expires_us: int | None = None
    revoked: bool = False


class KeyRing:
    """Keys match exactly; one account may hold many keys."""

    __slots__ = ("records",)

    def __init__(self) -> None:
        self.records: dict[str, KeyRecord] = {}

    def add(self, key: str, account_id: str, expires_us: int | None = None) -> KeyRecord:
        record = KeyRecord(key, account_id, expires_us)
        self.records[key] = record
        return record

    def resolve(self, key: str, accounts: Mapping[str, A], clock: Clock) -> A | None:
        """The account a key stands for; None when the key is unknown, revoked, or expired
        on the account's own clock (else `clock`), or its account is gone."""
        record = self.records.get(key)
        if record is None or record.revoked:
            return None
        account = accounts.get(record.account_id)
        if account is None:
            return None
        if record.expires_us is not None and clock_of(account, clock).now_us() >= record.expires_us:
            return None
        return account

    def live(self, accounts: Mapping[str, A], clock: Clock) -> list[KeyRecord]:
        """The keys that resolve now, each on its account's clock, in issue order."""
        return [r for r in self.records.values() if self.resolve(r.key, accounts, clock) is not None]

    def keys_of(self, account_id: str) -> list[KeyRecord]:
        return [r for r in self.records.values() if r.account_id == account_id]

    def by_account(self) -> dict[str, list[KeyRecord]]:
        """Every key grouped by account id, each group in issue order (one pass)."""
        grouped: dict[str, list[KeyRecord]] = {}
        for record in self.records.values():
            grouped.setdefault(record.account_id, []).append(record)
        return grouped


class AuthScheme:
    """Reads `Authorization: <scheme> <key>`; the scheme matches case-insensitively
    (RFC 9110), the key must have the API's shape."""

    __slots__ = ("scheme", "pattern")

    def __init__(self, scheme: str, key_pattern: str) -> None:
        self.scheme = scheme.lower()
        self.pattern = re.compile(key_pattern)

    def key_from(self, headers: list[tuple[bytes, bytes]]) -> str | None:
        """The key, or None: no Authorization header, a malformed one, or more than one
        (ambiguous: which one a proxy or the vendor would honour is unknown, so neither)."""
        return self.key_of(Head(headers))

    def key_of(self, head: Head) -> str | None:
        """As key_from, read once per distinct header list (core/head.py)."""
        keys = head.keys
        try:
            return keys[self]
        except KeyError:
            pass
        key = None
        found = head.authorization
        if found is not None:
            scheme, _, key = found.decode("latin-1").strip().partition(" ")
            key = key.strip()
            if scheme.lower() != self.scheme or self.pattern.fullmatch(key) is None:
                key = None
        keys[self] = key
        return key


@dataclass(slots=True)
class KeySpec:
    """A key as a fixtures or state document gives it."""

    key: str
    expires_us: int | None = None
    revoked: bool = False


def key_specs(obj: dict[str, Any], path: str, pattern: re.Pattern[str], shape: str) -> list[KeySpec]:
    """The `keys` list of an account in a document, each checked against the API's shape."""
    out = []
    for where, raw in validate.objects(obj, "keys", path, required=False):
        key = validate.string(raw, "key", where)
        if pattern.fullmatch(key) is None:
            raise FieldError(where + "key", f"must be {shape}")
        expires = instant_field(raw, "expiresAt", where) if validate.optional(raw, "expiresAt") else None
        revoked = validate.boolean(raw, "revoked", where) if "revoked" in raw else False
        out.append(KeySpec(key, expires, revoked))
    return out


def restore_keys(
    doc: dict[str, Any],
    path: str,
    ring: KeyRing,
    accounts: Mapping[str, Any],
    pattern: re.Pattern[str],
    shape: str,
) -> None:
    """A state document's `keys` list (in issue order, across accounts) into `ring`."""
    for where, raw in validate.objects(doc, "keys", path):
        key = validate.string(raw, "key", where)
        if pattern.fullmatch(key) is None:
            raise FieldError(where + "key", f"must be {shape}")
        if key in ring.records:
            raise FieldError(where + "key", "is listed twice")
        owner = validate.string(raw, "accountId", where, max_len=64)
        if owner not in accounts:
            raise FieldError(where + "accountId", f"names no account ({owner})")
        expires = instant_field(raw, "expiresAt", where) if validate.optional(raw, "expiresAt") else None
        record = ring.add(key, owner, expires)
        record.revoked = validate.boolean(raw, "revoked", where) if "revoked" in raw else False


def export_keys(ring: KeyRing) -> list[dict[str, Any]]:
    """A state document's `keys` list: every key in issue order (what restore_keys reads)."""
    return [
        {
            "key": r.key,
            "accountId": r.account_id,
            "expiresAt": None if r.expires_us is None else iso_us(r.expires_us),
            "revoked": r.revoked,
        }
        for r in ring.records.values()
    ]
