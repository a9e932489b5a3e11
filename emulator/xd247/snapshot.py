"""247xd's part of the state document (GET/PUT /_emulator/state, the state file).

The section is a fixtures document (emulator/xd247/fixtures.py reads it: accounts,
catalog with current prices and stock, magic links) plus what fixtures never hold:
every key (in issue order), accounts' own clocks and every order with the fields that
continue it exactly. `restore` builds a new backend and never touches a live one.
"""

from __future__ import annotations

from typing import Any

from emulator.core import validate as v
from emulator.core.auth import export_keys, restore_keys
from emulator.core.clock import Clock, instant_field, iso_us
from emulator.core.clock import us_to_seconds as _seconds
from emulator.core.errors import FieldError
from emulator.core.ids import IdSource
from emulator.core.money import coins, to_hundredths
from emulator.core.validate import INT64_MAX

from . import fixtures
from .account import Account
from .catalog import CatalogItem, PremiumService, PriceOption, SocialOption
from .errors import KEY_RE, KEY_SHAPE
from .ledger import OTP_KIND, SOCIAL_KIND, SocialDelivery
from .orders import NOT_REFUNDED, OtpOrder
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


def export(backend: Xd247Backend) -> dict[str, Any]:
    book = backend.orders
    orders = []
    for n in range(len(book)):
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
            delivery = book.deliveries[n]
            order.update(
                link=delivery.link,
                quantity=delivery.quantity,
                startCount=delivery.start_count,
                startAt=iso_us(delivery.start_us),
                perMinute=delivery.per_minute,
                deliveredFinal=delivery.delivered_final,
                outcome=delivery.outcome,
                stopAt=delivery.stop_at,
            )
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
        "orders": orders,
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
    for name in ("accounts", "keys", "orders"):
        v.list_of(doc, name, path)
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
        missing = [f for f in _SOCIAL_FIELDS if f not in raw]
        if missing:
            raise FieldError(where + missing[0], "is required")
        quantity = v.integer(raw, "quantity", where, low=1, high=INT64_MAX)
        link = v.string(raw, "link", where, max_len=2048)
        per_minute = (
            v.integer(raw, "perMinute", where, low=1, high=INT64_MAX)
            if v.optional(raw, "perMinute")
            else None
        )
        delivered = (
            v.integer(raw, "deliveredFinal", where, low=0, high=quantity)
            if v.optional(raw, "deliveredFinal")
            else None
        )
        outcome = v.string(raw, "outcome", where) if v.optional(raw, "outcome") else None
        if outcome is not None and outcome not in fixtures.MAGIC_OUTCOMES:
            raise FieldError(where + "outcome", 'must be "cancelled", "partial" or null')
        book.deliveries[n] = SocialDelivery(
            link=link,
            quantity=quantity,
            start_count=v.integer(raw, "startCount", where, low=0, high=INT64_MAX),
            start_us=instant_field(raw, "startAt", where),
            per_minute=per_minute,
            delivered_final=delivered,
            outcome=outcome,
            stop_at=v.integer(raw, "stopAt", where, low=0, high=quantity),
        )
    else:
        credentials = v.obj_of(raw, "credentials", where)
        if not all(isinstance(value, str) for value in credentials.values()):
            raise FieldError(where + "credentials", "must map names to strings")
        book.credentials[n] = dict(credentials)
