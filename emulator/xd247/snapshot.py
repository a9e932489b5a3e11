"""247xd's part of the state document (GET/PUT /_emulator/state, the state file).

The section is a fixtures document (emulator/xd247/fixtures.py reads it: accounts,
catalog with current prices and stock, magic links) plus what fixtures never hold:
every key (in issue order), accounts' own clocks and every order with the fields that
continue it exactly. `restore` builds a new backend and never touches a live one.
"""

from __future__ import annotations

from array import array
from typing import Any

from emulator.core import snapshot as core_columns
from emulator.core import validate as v
from emulator.core.auth import export_keys, restore_keys
from emulator.core.clock import LATEST_US, Clock, instant_field, iso_us
from emulator.core.clock import us_to_seconds as _seconds
from emulator.core.errors import FieldError
from emulator.core.ids import IdSource
from emulator.core.money import coins, to_hundredths
from emulator.core.snapshot import IntColumn
from emulator.core.validate import INT64_MAX

from . import fixtures
from .account import Account
from .catalog import CatalogItem, PremiumService, PriceOption, SocialOption
from .errors import KEY_RE, KEY_SHAPE
from .ledger import OTP_KIND, PREMIUM_KIND, SOCIAL_KIND, OrderBook, SocialDelivery
from .orders import NOT_REFUNDED, VIEWS, OtpOrder
from .service import OTP_CODE_RE, Xd247Backend

KINDS = ("otp", "social", "premium")
_SOCIAL_FIELDS = (
    "link",
    "quantity",
    "startCount",
    "startAt",
    "perMinute",
    "deliveredFinal",
    "outcome",
    "stopAt",
)


def _clock(clock: Clock | None) -> dict[str, object] | None:
    return None if clock is None else clock.snapshot()


def export(backend: Xd247Backend, columns: bool = False) -> dict[str, Any]:
    """The section; `columns`: the orders in the state file's columnar form (_columns)."""
    book = backend.orders
    orders: list[dict[str, Any]] = []
    for n in range(0 if columns else len(book)):
        kind = book.kind[n]
        order: dict[str, Any] = {
            "orderId": backend.ids.order_uuid(n),
            "kind": KINDS[kind],
            "accountId": book.accounts[book.account[n]].id,
            "itemId": book.item_of(n).id,
            "price": coins(book.price[n]),
            "status": book.view(n).status,
            "createdAt": iso_us(book.created[n]),
            "updatedAt": iso_us(book.updated[n]),
            "refundedAmount": None if book.refunded[n] == NOT_REFUNDED else coins(book.refunded[n]),
        }
        if kind == OTP_KIND:
            order["phone"] = book.phone[n]
            order["otpCode"] = book.codes.get(n)  # a code forced by the control plane, else derived
        elif kind == SOCIAL_KIND:
            order.update(_delivery_doc(book.deliveries[n]))
        else:
            order["credentials"] = dict(book.credentials[n])
        orders.append(order)
    return {
        "accounts": [
            {
                "id": a.id,
                "coins": coins(a.coins),
                "banned": a.banned,
                **({"label": a.label} if a.label else {}),
                "clock": _clock(a.clock),
            }
            for a in backend.account_list
        ],
        "keys": export_keys(backend.keys),
        "otpServices": [
            {
                "id": s.id,
                "name": s.name,
                "expiresInSeconds": _seconds(s.expires_us),
                "priceOptions": [
                    {
                        "id": o.id,
                        "name": o.name,
                        "price": coins(o.price),
                        "stock": o.stock,
                        "smsDelaySeconds": None if o.sms_delay_us is None else _seconds(o.sms_delay_us),
                        "phonePattern": o.phone_pattern,
                    }
                    for o in s.price_options
                ],
            }
            for s in backend.otp_services
        ],
        "socialServices": [
            {
                "id": s.id,
                "name": s.name,
                "platform": s.platform,
                "options": [
                    {
                        "id": o.id,
                        "name": o.name,
                        "pricePer1000": coins(o.price_per_1000),
                        "min": o.min,
                        "max": o.max,
                        "startDelaySeconds": _seconds(o.start_delay_us),
                        "deliveryPerMinute": o.per_minute,
                    }
                    for o in s.options
                ],
            }
            for s in backend.social_services
        ],
        "premiumServices": [
            {
                "id": s.id,
                "name": s.name,
                "price": coins(s.price),
                "stock": s.stock,
                "durationDays": s.duration_days,
                "credentials": list(s.credential_fields),
            }
            for s in backend.premium_services
        ],
        "magicLinks": [
            {"link": link, "outcome": outcome, "deliveredPercent": percent}
            for link, (outcome, percent) in backend.magic_links.items()
        ],
        "orders": _columns(book) if columns else orders,
    }


def _columns(book: OrderBook) -> dict[str, Any]:
    """Every order in columns, the state file's snapshot form (docs/state.md, "Orders in
    columns"): a list per field with a row per order, in order, plus the tables its
    numbers index and the sparse fields as [row, value] pairs. It loads in milliseconds
    per 10,000 orders where the rows take about 40 µs an order. The columns are the
    book's own arrays, read a slice at a time as the document is encoded
    (core/snapshot.json_parts): encode it while the book cannot change."""
    return {
        "form": "columns",
        "count": len(book),
        "accounts": [a.id for a in book.accounts],
        "items": [[o.id for o in book.price_options], [o.id for o in book.social_options],
                  [s.id for s in book.premium]],
        "statuses": [list(view.machine.statuses) for view in VIEWS],
        "kind": IntColumn(book.kind),
        "account": IntColumn(book.account),
        "item": IntColumn(book.item),
        "price": IntColumn(book.price),
        "status": IntColumn(book.status),
        "createdUs": IntColumn(book.created),
        "updatedUs": IntColumn(book.updated),
        "refunded": IntColumn(book.refunded),
        "phone": IntColumn(book.phone),
        "otpCodes": [[n, code] for n, code in sorted(book.codes.items())],
        "deliveries": [[n, _delivery_doc(d)] for n, d in sorted(book.deliveries.items())],
        "credentials": [[n, dict(c)] for n, c in sorted(book.credentials.items())],
    }


def _delivery_doc(delivery: SocialDelivery) -> dict[str, Any]:
    return {
        "link": delivery.link,
        "quantity": delivery.quantity,
        "startCount": delivery.start_count,
        "startAt": iso_us(delivery.start_us),
        "perMinute": delivery.per_minute,
        "deliveredFinal": delivery.delivered_final,
        "outcome": delivery.outcome,
        "stopAt": delivery.stop_at,
    }


def _money(obj: dict[str, Any], name: str, path: str) -> int:
    try:
        amount = to_hundredths(v.need(obj, name, path))
    except ValueError as exc:
        raise FieldError(path + name, str(exc)) from None
    if amount > fixtures.MAX_COINS:  # an order's price was paid from coins
        raise FieldError(path + name, f"must be at most {coins(fixtures.MAX_COINS)}")
    return amount


def restore(doc: object, clock: Clock, ids: IdSource, path: str = "247xd.") -> Xd247Backend:
    """A new backend from `export()`'s section; FieldError names the first bad field."""
    if not isinstance(doc, dict):
        raise FieldError(path.rstrip("."), "must be an object")
    for name in ("accounts", "keys"):
        v.list_of(doc, name, path)
    columnar = isinstance(doc.get("orders"), dict)
    if not columnar:
        v.list_of(doc, "orders", path)
    parsed = fixtures.parse(doc, path)
    # Keys come from their own list (issue order across accounts), not from the accounts'.
    for spec in parsed.accounts:
        spec.keys = []
    backend = Xd247Backend(parsed, clock, ids)
    for where, raw in v.objects(doc, "accounts", path):
        account = backend.accounts[raw["id"]]
        if raw.get("clock") is not None:
            account.clock = Clock.restore(raw["clock"], where + "clock.")
    restore_keys(doc, path, backend.keys, backend.accounts, KEY_RE, KEY_SHAPE)
    if columnar:
        _restore_columns(backend, doc["orders"], path + "orders.")
    else:
        items = {item.id: item for item in backend.orders.catalog()}
        for n, (where, raw) in enumerate(v.objects(doc, "orders", path)):
            _restore_order(backend, items, n, where, raw)
    # What the live checks keep (Xd247Backend.set_coins): no refund can pass MAX_COINS.
    for where, raw in v.objects(doc, "accounts", path):
        account = backend.accounts[raw["id"]]
        pending = backend.refundable(account)
        if account.coins + pending > fixtures.MAX_COINS:
            raise FieldError(
                where + "coins",
                f"must be at most {coins(max(fixtures.MAX_COINS - pending, 0))}: its orders could still"
                f" refund {coins(pending)} and coins must stay at most {coins(fixtures.MAX_COINS)}",
            )
    return backend


def _restore_order(
    backend: Xd247Backend, items: dict[str, CatalogItem], n: int, where: str, raw: dict[str, Any]
) -> None:
    book = backend.orders
    order_id = v.string(raw, "orderId", where, max_len=36)
    if order_id.lower() != backend.ids.order_uuid(n):
        # The uuid is the seed's scramble of the order's place: a list reordered, cut, or
        # taken from another seed would give orders new ids.
        raise FieldError(where + "orderId", f"must be {backend.ids.order_uuid(n)} (order {n} with this seed)")
    kind_name = v.string(raw, "kind", where)
    if kind_name not in KINDS:
        raise FieldError(where + "kind", f"must be one of {', '.join(KINDS)}")
    kind = KINDS.index(kind_name)
    account_id = v.string(raw, "accountId", where, max_len=64)
    account: Account | None = backend.accounts.get(account_id)
    if account is None:
        raise FieldError(where + "accountId", f"names no account ({account_id})")
    item = items.get(v.string(raw, "itemId", where).lower())
    wanted = (PriceOption, SocialOption, PremiumService)[kind]
    if item is None or not isinstance(item, wanted):
        raise FieldError(where + "itemId", f"names no {kind_name} catalog item")
    price = _money(raw, "price", where)
    created = instant_field(raw, "createdAt", where)
    updated = instant_field(raw, "updatedAt", where)
    status = v.string(raw, "status", where)
    phone = 0
    if isinstance(item, PriceOption):
        phone = v.integer(raw, "phone", where, low=0, high=10 ** len(item.phone_pattern) - 1)
    n = book.add(kind, account, item, price, created, phone)
    view = book.view(n)
    if status not in view.machine.statuses:
        raise FieldError(where + "status", f"must be one of {', '.join(view.machine.statuses)}")
    book.status[n] = view.machine.statuses.index(status)
    book.updated[n] = updated
    if v.optional(raw, "refundedAmount"):
        book.refunded[n] = _money(raw, "refundedAmount", where)
    if kind == OTP_KIND:
        if v.optional(raw, "otpCode"):
            code = v.string(raw, "otpCode", where, max_len=8)
            if OTP_CODE_RE.fullmatch(code) is None:
                raise FieldError(where + "otpCode", "must be a string of 4 to 8 digits")
            assert isinstance(view, OtpOrder)
            view.otp_code = code
    elif kind == SOCIAL_KIND:
        book.deliveries[n] = _delivery(raw, where)
    else:
        book.credentials[n] = _credentials(raw, where)


def _credentials(raw: dict[str, Any], where: str) -> dict[str, str]:
    credentials = v.obj_of(raw, "credentials", where)
    if not all(isinstance(value, str) for value in credentials.values()):
        raise FieldError(where + "credentials", "must map names to strings")
    return dict(credentials)


def _delivery(raw: dict[str, Any], where: str) -> SocialDelivery:
    missing = [f for f in _SOCIAL_FIELDS if f not in raw]
    if missing:
        raise FieldError(where + missing[0], "is required")
    quantity = v.integer(raw, "quantity", where, low=1, high=INT64_MAX)
    link = v.string(raw, "link", where, max_len=2048)
    per_minute = (
        v.integer(raw, "perMinute", where, low=1, high=INT64_MAX) if v.optional(raw, "perMinute") else None
    )
    delivered = (
        v.integer(raw, "deliveredFinal", where, low=0, high=quantity)
        if v.optional(raw, "deliveredFinal")
        else None
    )
    outcome = v.string(raw, "outcome", where) if v.optional(raw, "outcome") else None
    if outcome is not None and outcome not in fixtures.MAGIC_OUTCOMES:
        raise FieldError(where + "outcome", 'must be "cancelled", "partial" or null')
    return SocialDelivery(
        link=link,
        quantity=quantity,
        start_count=v.integer(raw, "startCount", where, low=0, high=INT64_MAX),
        start_us=instant_field(raw, "startAt", where),
        per_minute=per_minute,
        delivered_final=delivered,
        outcome=outcome,
        stop_at=v.integer(raw, "stopAt", where, low=0, high=quantity),
    )


def _restore_columns(backend: Xd247Backend, cols: object, path: str) -> None:
    """The orders from their columnar form (_columns): each column is checked as a whole
    (types, bounds, the tables it indexes), then becomes the book's array as it is."""
    cols = core_columns.form(cols, path)
    book = backend.orders
    count = v.integer(cols, "count", path, low=0, high=2**32 - 1)
    accounts = v.list_of(cols, "accounts", path)
    tables = v.list_of(cols, "items", path)
    statuses = v.list_of(cols, "statuses", path)
    kinds_items = (book.price_options, book.social_options, book.premium)
    if len(tables) != len(KINDS) or len(statuses) != len(KINDS):
        raise FieldError(path + "items", f"must list the items and the statuses of the {len(KINDS)} kinds")
    kind = core_columns.ints(cols, "kind", path, count, 0, len(KINDS) - 1)
    account = core_columns.ints(cols, "account", path, count, 0, len(accounts) - 1)
    item = core_columns.ints(cols, "item", path, count, 0, 2**32 - 1)
    status = core_columns.ints(cols, "status", path, count, 0, 255)
    price = core_columns.ints(cols, "price", path, count, 0, fixtures.MAX_COINS)
    created = core_columns.ints(cols, "createdUs", path, count, -(2**62), LATEST_US)
    updated = core_columns.ints(cols, "updatedUs", path, count, -(2**62), LATEST_US)
    refunded = core_columns.ints(cols, "refunded", path, count, NOT_REFUNDED, fixtures.MAX_COINS)
    phone = core_columns.ints(cols, "phone", path, count, 0, 2**64 - 1)
    # The tables: names to this backend's numbers (the same order as exported, normally).
    numbers = []
    for i, account_id in enumerate(accounts):
        holder = backend.accounts.get(account_id) if isinstance(account_id, str) else None
        if holder is None:
            raise FieldError(f"{path}accounts[{i}]", f"names no account ({account_id})")
        numbers.append(holder.number)
    items: list[list[int]] = []
    machines: list[list[int]] = []
    for k, (table, names) in enumerate(zip(tables, statuses, strict=True)):
        by_id = {x.id: x.number for x in kinds_items[k]}
        if not isinstance(table, list) or not all(isinstance(x, str) and x.lower() in by_id for x in table):
            raise FieldError(f"{path}items[{k}]", f"must list {KINDS[k]} catalog items")
        items.append([by_id[x.lower()] for x in table])
        machine = VIEWS[k].machine.statuses
        if not isinstance(names, list) or not all(isinstance(x, str) and x in machine for x in names):
            raise FieldError(f"{path}statuses[{k}]", f"must list {KINDS[k]} statuses ({', '.join(machine)})")
        machines.append([machine.index(x) for x in names])
    for k, i in set(zip(kind, item, strict=True)):
        if i >= len(items[k]):
            bad = next(n for n in range(count) if kind[n] == k and item[n] == i)
            raise FieldError(f"{path}item[{bad}]", f"names no {KINDS[k]} catalog item")
    for k, i in set(zip(kind, status, strict=True)):
        if i >= len(machines[k]):
            bad = next(n for n in range(count) if kind[n] == k and status[n] == i)
            raise FieldError(f"{path}status[{bad}]", f"must index {path}statuses[{k}]")
    # Phones: an OTP order's fits its price option's pattern; the other kinds have none.
    bounds = [[10 ** len(book.price_options[x].phone_pattern) - 1 for x in items[0]], [0] * len(items[1]),
              [0] * len(items[2])]
    for n, (k, i, number) in enumerate(zip(kind, item, phone, strict=True)):
        if number > bounds[k][i]:
            raise FieldError(f"{path}phone[{n}]", f"must be at most {bounds[k][i]}")

    def mapped(col: list[int], tables: list[list[int]]) -> list[int]:
        if all(t == list(range(len(t))) for t in tables):
            return col  # the tables are this backend's own order
        return [tables[k][x] for k, x in zip(kind, col, strict=True)]

    rows: tuple[set[int], set[int], set[int]] = (set(), set(), set())
    for n, k in enumerate(kind):
        rows[k].add(n)
    codes = {}
    for where, n, code in core_columns.pairs(cols, "otpCodes", path, rows[OTP_KIND]):
        if not isinstance(code, str) or OTP_CODE_RE.fullmatch(code) is None:
            raise FieldError(where, "must be [row, a string of 4 to 8 digits]")
        codes[n] = code
    deliveries = {n: _delivery(raw if isinstance(raw, dict) else {}, where + ".")
                  for where, n, raw in core_columns.pairs(cols, "deliveries", path, rows[SOCIAL_KIND])}
    credentials = {n: _credentials({"credentials": raw}, where + ".")
                   for where, n, raw in core_columns.pairs(cols, "credentials", path, rows[PREMIUM_KIND])}
    sparse = (("deliveries", SOCIAL_KIND, deliveries), ("credentials", PREMIUM_KIND, credentials))
    for name, k, given in sparse:
        if len(given) != len(rows[k]):
            missing = min(rows[k] - set(given))
            raise FieldError(path + name, f"must hold row {missing} (every {KINDS[k]} order has one)")
    account_numbers = [numbers[a] for a in account] if numbers != list(range(len(numbers))) else account
    book.kind = bytearray(kind)
    book.account = array("I", account_numbers)
    book.item = array("I", mapped(item, items))
    book.price = array("q", price)
    book.created = array("q", created)
    book.updated = array("q", updated)
    book.status = bytearray(mapped(status, machines))
    book.refunded = array("q", refunded)
    book.phone = array("Q", phone)
    book.codes = codes
    book.deliveries = deliveries
    book.credentials = credentials
    owned: list[list[int]] = [[] for _ in book.accounts]
    for n, a in enumerate(account_numbers):
        owned[a].append(n)
    for holder, orders in zip(book.accounts, owned, strict=True):
        holder.orders = array("I", orders)
