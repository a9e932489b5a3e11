"""USDTLowFee's part of the state document (GET/PUT /_emulator/state, the state file).

The section is a fixtures document (emulator/usdtlowfee/fixtures.py reads it: accounts
with their saved addresses, prices, fulfilment delay, failing and slow inputs) plus what
fixtures never hold: every key (in issue order), accounts' own clocks, every energy order,
the snowflake generator's last id (users, orders and addresses share it). `restore` builds a new
backend and never touches a live one.
"""

from __future__ import annotations

import re
from typing import Any

from emulator.core import validate as v
from emulator.core.auth import export_keys, restore_keys
from emulator.core.clock import US_PER_S, Clock, instant_field, iso_us
from emulator.core.clock import us_to_seconds as _seconds
from emulator.core.errors import FieldError
from emulator.core.ids import IdSource
from emulator.core.validate import INT64_MAX

from . import fixtures as fixtures_mod
from . import tron
from .energy import DURATIONS, MAX_ENERGY, MIN_ENERGY, STATUSES
from .errors import KEY_RE, KEY_SHAPE
from .orders import EnergyOrder
from .service import UsdtLowFeeBackend

TXID_RE = re.compile(r"[0-9a-f]{64}")


def export(backend: UsdtLowFeeBackend) -> dict[str, Any]:
    book = backend.book
    orders = []
    for row in range(len(book.ids)):
        status = STATUSES[book.status[row]]
        order: dict[str, Any] = {
            "id": book.ids[row],
            "accountId": book.accounts[book.account[row]].id,
            "tronAddress": book.addresses[book.address[row]],
            "energyValue": book.energy[row],
            "durationHours": book.hours[row],
            "priceSun": book.price[row],
            "createdAt": iso_us(book.created[row]),
            "txid": book.txid(row),
            "status": status,
            "movedAt": None if status == "processing" else iso_us(book.moved_us(row)),
            "failureReason": book.reasons.get(row),
            "plannedFailure": book.planned.get(row),
            "delayUs": book.delays.get(row),
        }
        orders.append(order)
    accounts = []
    for a in backend.accounts.values():
        accounts.append(
            {
                "id": a.id,
                "userId": a.user_id,
                "email": a.email,
                "emailVerified": a.email_verified,
                "createdAt": iso_us(a.created_us),
                "balanceSun": a.balance_sun,  # available; frozen follows from the processing orders
                "disabled": a.disabled,
                **({"label": a.label} if a.label else {}),
                "addresses": [
                    {
                        "id": x.id,
                        "tronAddress": x.tron_address,
                        "label": x.label,
                        "isDefault": x.is_default,
                        "usageCount": x.usage_count,
                        "lastUsedAt": None if x.last_used_us is None else iso_us(x.last_used_us),
                        "createdAt": iso_us(x.created_us),
                    }
                    for x in a.addresses.values()
                ],
                "clock": None if a.clock is None else a.clock.snapshot(),
            }
        )
    return {
        "accounts": accounts,
        "keys": export_keys(backend.keys),
        "prices": [{"durationHours": hours, "priceSun": sun} for hours, sun in backend.prices.items()],
        "fulfilmentDelaySeconds": _seconds(backend.delay_us),
        "failingAddresses": [{"tronAddress": a, "reason": r} for a, r in backend.failing.items()],
        "slowAddresses": [{"tronAddress": a, "delaySeconds": _seconds(d)} for a, d in backend.slow.items()],
        "orders": orders,
        "lastId": backend.snowflake.flake.last,
    }


def restore(doc: object, clock: Clock, ids: IdSource, path: str = "usdtlowfee.") -> UsdtLowFeeBackend:
    """A new backend from `export()`'s section; FieldError names the first bad field."""
    if not isinstance(doc, dict):
        raise FieldError(path.rstrip("."), "must be an object")
    for name in ("accounts", "keys", "orders", "prices"):
        v.list_of(doc, name, path)
    fixtures = fixtures_mod.parse(doc, path)
    for spec in fixtures.accounts:
        spec.keys = []  # keys come from their own list, in issue order across accounts
    backend = UsdtLowFeeBackend(fixtures, clock, ids)
    accounts = [(where, backend.accounts[raw["id"]], raw) for where, raw in v.objects(doc, "accounts", path)]
    for where, account, raw in accounts:
        if raw.get("clock") is not None:
            account.clock = Clock.restore(raw["clock"], where + "clock.")
    restore_keys(doc, path, backend.keys, backend.accounts, KEY_RE, KEY_SHAPE)
    last_id = v.integer(doc, "lastId", path, low=0, high=INT64_MAX)
    book = backend.book
    for _, account, _ in accounts:
        account.balance_sun = INT64_MAX * 2**20  # every order's price is frozen again below
    moves: list[tuple[EnergyOrder, str, int, str | None]] = []
    for where, raw in v.objects(doc, "orders", path):
        order_id = v.integer(raw, "id", where, low=1, high=INT64_MAX)
        if book.ids and order_id <= book.ids[-1]:
            raise FieldError(where + "id", "must be larger than the order before it (ascending ids)")
        if order_id > last_id:
            raise FieldError(where + "id", f"must not be after {path}lastId")
        account_id = v.string(raw, "accountId", where, max_len=64)
        owner = backend.accounts.get(account_id)
        if owner is None:
            raise FieldError(where + "accountId", f"names no account ({account_id})")
        address = fixtures_mod.address_of(raw, "tronAddress", where)
        energy = v.integer(raw, "energyValue", where, low=MIN_ENERGY, high=MAX_ENERGY)
        hours = v.integer(raw, "durationHours", where)
        if hours not in DURATIONS:
            raise FieldError(where + "durationHours", f"must be one of {', '.join(map(str, DURATIONS))}")
        price = v.integer(raw, "priceSun", where, low=0, high=INT64_MAX)
        created = instant_field(raw, "createdAt", where)
        txid = v.string(raw, "txid", where)
        if TXID_RE.fullmatch(txid) is None:
            raise FieldError(where + "txid", "must be 64 lower-case hex digits")
        status = v.string(raw, "status", where)
        if status not in STATUSES:
            raise FieldError(where + "status", f"must be one of {', '.join(STATUSES)}")
        planned = (
            v.string(raw, "plannedFailure", where, max_len=200) if v.optional(raw, "plannedFailure") else None
        )
        delay = None
        if v.optional(raw, "delayUs"):
            delay = v.integer(raw, "delayUs", where, low=0, high=fixtures_mod.MAX_DELAY_S * US_PER_S)
        reason = None
        moved = 0
        if status != "processing":
            moved = instant_field(raw, "movedAt", where)
            if status == "failed":
                reason = v.string(raw, "failureReason", where, max_len=200)
        row = book.add(order_id, owner.slot, address, energy, hours, price, created, txid, planned, delay)
        owner.add_order(row)
        if status != "processing":
            moves.append((EnergyOrder(book, row), status, moved, reason))
    # After every order is in: a move takes its row out of the processing ones.
    for order, target, at, reason in moves:
        order.account.move(order, target, at, reason)
    for where, account, raw in accounts:
        # What the live checks keep (UsdtLowFeeBackend.set_balance): totalSun is an int64.
        balance = v.integer(raw, "balanceSun", where, low=0, high=INT64_MAX)
        room = fixtures_mod.MAX_TOTAL_SUN - account.frozen_sun
        if balance > room:
            raise FieldError(
                where + "balanceSun",
                f"must be at most {max(room, 0)}: with the {account.frozen_sun} sun its processing orders"
                f" hold (frozenSun) totalSun must stay at most {fixtures_mod.MAX_TOTAL_SUN}",
            )
        account.balance_sun = balance
    supplied = [a.user_id for a in backend.accounts.values()]
    supplied += [x for a in backend.accounts.values() for x in a.addresses]
    if supplied and max(supplied) > last_id:
        raise FieldError(path + "lastId", "must be at least every userId, address id and order id")
    backend.snowflake = tron.SnowflakeIds(last_id)
    return backend
