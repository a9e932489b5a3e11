"""USDTLowFee's part of the state document (GET/PUT /_emulator/state, the state file).

The section is a fixtures document (emulator/usdtlowfee/fixtures.py reads it: accounts
with their saved addresses, prices, fulfilment delay, failing and slow inputs) plus what
fixtures never hold: every key (in issue order), accounts' own clocks, every energy order,
the snowflake generator's last id (users, orders and addresses share it). `restore` builds a new
backend and never touches a live one.
"""

from __future__ import annotations

import re
from array import array
from heapq import heapify
from typing import Any

from emulator.core import snapshot as core_columns
from emulator.core import validate as v
from emulator.core.auth import export_keys, restore_keys
from emulator.core.clock import LATEST_US, US_PER_S, Clock, instant_field, iso_us
from emulator.core.clock import us_to_seconds as _seconds
from emulator.core.errors import FieldError
from emulator.core.ids import IdSource
from emulator.core.snapshot import HexColumn, IntColumn
from emulator.core.validate import INT64_MAX

from . import fixtures as fixtures_mod
from . import tron
from .energy import DURATIONS, FAILED, MAX_ENERGY, MIN_ENERGY, PROCESSING, STATUSES
from .errors import KEY_RE, KEY_SHAPE
from .ledger import TXID_BYTES, OrderBook
from .orders import EnergyOrder
from .service import UsdtLowFeeBackend

TXID_RE = re.compile(r"[0-9a-f]{64}")
HEX_RE = re.compile(r"[0-9a-f]*")


def export(backend: UsdtLowFeeBackend, columns: bool = False) -> dict[str, Any]:
    """The section; `columns`: the orders in the state file's columnar form (_columns)."""
    book = backend.book
    orders: list[dict[str, Any]] = []
    for row in range(0 if columns else len(book.ids)):
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
        "orders": _columns(book) if columns else orders,
        "lastId": backend.snowflake.flake.last,
    }


def _columns(book: OrderBook) -> dict[str, Any]:
    """Every order in columns (docs/state.md, "Orders in columns"): a list per field, a
    row per order, the tables its numbers index, the sparse fields as [row, value] pairs.
    The columns are the book's own arrays, read as the document is encoded
    (core/snapshot.json_parts): encode it while the book cannot change."""
    delay = book.delay_us
    created = book.created
    return {
        "form": "columns",
        "count": len(book.ids),
        "accounts": [a.id for a in book.accounts],
        "addresses": list(book.addresses),
        "statuses": list(STATUSES),
        "id": IntColumn(book.ids),
        "account": IntColumn(book.account),
        "address": IntColumn(book.address),
        "energyValue": IntColumn(book.energy),
        "durationHours": IntColumn(book.hours),
        "priceSun": IntColumn(book.price),
        "createdUs": IntColumn(created),
        "status": IntColumn(book.status),
        "txids": HexColumn(book.txids, TXID_BYTES),
        # Terminal rows that did not move at createdUs + the fulfilment delay.
        "movedUs": [[row, at] for row, at in sorted(book.moved_at.items()) if at != created[row] + delay],
        "failureReasons": [[row, reason] for row, reason in sorted(book.reasons.items())],
        "plannedFailures": [[row, reason] for row, reason in sorted(book.planned.items())],
        "delaysUs": [[row, us] for row, us in sorted(book.delays.items())],
    }


def restore(doc: object, clock: Clock, ids: IdSource, path: str = "usdtlowfee.") -> UsdtLowFeeBackend:
    """A new backend from `export()`'s section; FieldError names the first bad field."""
    if not isinstance(doc, dict):
        raise FieldError(path.rstrip("."), "must be an object")
    for name in ("accounts", "keys", "prices"):
        v.list_of(doc, name, path)
    columnar = isinstance(doc.get("orders"), dict)
    if not columnar:
        v.list_of(doc, "orders", path)
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
    if columnar:
        _restore_columns(backend, doc["orders"], path + "orders.", last_id)
    else:
        _restore_rows(backend, doc, path, last_id)
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


def _restore_rows(backend: UsdtLowFeeBackend, doc: dict[str, Any], path: str, last_id: int) -> None:
    """The orders from the rows form (GET /_emulator/state's), field by field."""
    book = backend.book
    for account in backend.accounts.values():
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


def _restore_columns(backend: UsdtLowFeeBackend, cols: object, path: str, last_id: int) -> None:
    """The orders from their columnar form (_columns): each column checked as a whole,
    then the book's arrays and each account's bookkeeping built as the rows form's
    `add_order` then `move` would build them (the tests compare the two)."""
    cols = core_columns.form(cols, path)
    book = backend.book
    count = v.integer(cols, "count", path, low=0, high=2**32 - 1)
    owners = []
    for i, account_id in enumerate(v.list_of(cols, "accounts", path)):
        owner = backend.accounts.get(account_id) if isinstance(account_id, str) else None
        if owner is None:
            raise FieldError(f"{path}accounts[{i}]", f"names no account ({account_id})")
        owners.append(owner)
    addresses = v.list_of(cols, "addresses", path)
    for i, address in enumerate(addresses):
        fixtures_mod.address_of({f"addresses[{i}]": address}, f"addresses[{i}]", path)
    if len(set(addresses)) != len(addresses):
        raise FieldError(path + "addresses", "must list each tronAddress once")
    names = v.list_of(cols, "statuses", path)
    if not all(isinstance(name, str) and name in STATUSES for name in names):
        raise FieldError(path + "statuses", f"must list statuses ({', '.join(STATUSES)})")
    ids = core_columns.ints(cols, "id", path, count, 1, last_id)
    if any(a >= b for a, b in zip(ids, ids[1:], strict=False)):
        bad = next(n for n in range(1, count) if ids[n - 1] >= ids[n])
        raise FieldError(f"{path}id[{bad}]", "must be larger than the order before it (ascending ids)")
    account = core_columns.ints(cols, "account", path, count, 0, len(owners) - 1)
    address = core_columns.ints(cols, "address", path, count, 0, len(addresses) - 1)
    energy = core_columns.ints(cols, "energyValue", path, count, MIN_ENERGY, MAX_ENERGY)
    hours = core_columns.ints(cols, "durationHours", path, count, min(DURATIONS), max(DURATIONS))
    if not set(hours) <= set(DURATIONS):
        bad = next(n for n in range(count) if hours[n] not in DURATIONS)
        raise FieldError(f"{path}durationHours[{bad}]", f"must be one of {', '.join(map(str, DURATIONS))}")
    price = core_columns.ints(cols, "priceSun", path, count, 0, INT64_MAX)
    created = core_columns.ints(cols, "createdUs", path, count, -(2**62), LATEST_US)
    table = [STATUSES.index(name) for name in names]
    status = [table[x] for x in core_columns.ints(cols, "status", path, count, 0, len(table) - 1)]
    txids = cols.get("txids")
    if not isinstance(txids, str) or len(txids) != 2 * TXID_BYTES * count or HEX_RE.fullmatch(txids) is None:
        raise FieldError(path + "txids", f"must be {2 * TXID_BYTES} lower-case hex digits for each order")
    terminal = {n for n in range(count) if status[n] != PROCESSING}
    failed = {n for n in terminal if status[n] == FAILED}
    texts: dict[str, dict[int, str]] = {}
    for name, rows in (("failureReasons", failed), ("plannedFailures", range(count))):
        texts[name] = {}
        for where, n, text in core_columns.pairs(cols, name, path, rows):
            if not isinstance(text, str) or not 1 <= len(text) <= 200:
                raise FieldError(where, "must be [row, a string of 1 to 200 characters]")
            texts[name][n] = text
    if len(texts["failureReasons"]) != len(failed):
        missing = min(failed - set(texts["failureReasons"]))
        raise FieldError(path + "failureReasons", f"must hold row {missing} (every failed order has one)")
    delays = {}
    longest = fixtures_mod.MAX_DELAY_S * US_PER_S
    for where, n, us in core_columns.pairs(cols, "delaysUs", path, range(count)):
        if type(us) is not int or not 0 <= us <= longest:
            raise FieldError(where, f"must be [row, an integer from 0 to {longest}]")
        delays[n] = us
    moved = {}
    for where, n, us in core_columns.pairs(cols, "movedUs", path, terminal):
        if type(us) is not int or not -(2**62) <= us <= LATEST_US:
            raise FieldError(where, "must be [row, epoch microseconds]")
        moved[n] = us
    book.ids = array("q", ids)
    book.account = array("I", [owners[a].slot for a in account])
    book.addresses = list(addresses)
    book.address_row = {a: i for i, a in enumerate(addresses)}
    book.address = array("I", address)
    book.energy = array("I", energy)
    book.hours = array("H", hours)
    book.price = array("q", price)
    book.created = array("q", created)
    book.status = bytearray(status)
    book.txids = bytearray.fromhex(txids)
    book.reasons = texts["failureReasons"]
    book.planned = texts["plannedFailures"]
    book.delays = delays
    delay = book.delay_us
    book.moved_at = {n: at for n, at in moved.items() if at != created[n] + delay}
    # Each account as add_order (every row, in order), then move (each terminal one) make it.
    for n in range(count):
        owner = owners[account[n]]
        owner.rows.append(n)
        queue = owner.queue
        if n in delays or (queue and created[queue[-1]] > created[n]):
            owner.late.append(n)
            owner.late_due.append((created[n] + delays.get(n, delay), n))
        else:
            queue.append(n)
        if status[n] == PROCESSING:
            owner.frozen_sun += price[n]
        else:
            owner.terminal[status[n]].append(n)
    for owner in owners:
        heapify(owner.late_due)
        if terminal:
            owner.queue = array("I", [n for n in owner.queue if status[n] == PROCESSING])
            owner.late = array("I", [n for n in owner.late if status[n] == PROCESSING])
