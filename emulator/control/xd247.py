"""Control plane for 247xd: accounts and forced order transitions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.core import validate as v
from emulator.core.errors import FieldError, LimitError
from emulator.core.money import coins, to_hundredths
from emulator.xd247.account import Account
from emulator.xd247.fixtures import MAX_COINS, MAX_ITEM_PRICE, MAX_STOCK

from .common import (
    account_reads,
    body,
    emulator_of,
    forced,
    invalid,
    json,
    not_found,
    over_limit,
    own_clock,
    read,
    route,
    wants_own_clock,
)


def account_view(account: Account) -> dict[str, object]:
    return {
        "accountId": account.id,
        "coins": coins(account.coins),
        "banned": account.banned,
        "label": account.label,
        "clock": "global" if account.clock is None else "own",
    }


list_accounts, get_account = account_reads(lambda emu: emu.xd247, lambda _, account: account_view(account))


def _coins(data: dict[str, object]) -> int:
    try:
        amount = to_hundredths(data["coins"])
    except ValueError as exc:
        raise invalid(FieldError("coins", str(exc))) from None
    if amount > MAX_COINS:
        raise invalid(FieldError("coins", f"must be at most {coins(MAX_COINS)}"))
    return amount


async def create_account(request: Request) -> Response:
    data = await body(request)
    amount = _coins(data) if "coins" in data else 0
    banned = read(v.boolean, data, "banned") if "banned" in data else False
    label = data.get("label", "")
    if not isinstance(label, str) or len(label) > 200:
        raise invalid(FieldError("label", "must be a string of at most 200 characters"))
    own = wants_own_clock(data)
    emu = emulator_of(request)
    with emu.lock:
        account, key = emu.xd247.create_account(amount, banned, label, own_clock(emu) if own else None)
    return json({**account_view(account), "apiKey": key}, 201)


async def patch_account(request: Request) -> Response:
    data = await body(request)
    amount = _coins(data) if "coins" in data else None
    banned = read(v.boolean, data, "banned") if "banned" in data else None
    emu = emulator_of(request)
    with emu.lock:
        account = emu.xd247.accounts.get(request.path_params["accountId"])
        if account is None:
            raise not_found("account")
        if amount is not None:
            try:
                emu.xd247.set_coins(account, amount)
            except LimitError as exc:
                raise over_limit(exc) from None
        if banned is not None:
            account.banned = banned
        return json(account_view(account))


async def transition(request: Request) -> Response:
    data = await body(request, allow_empty=False)
    target = read(v.string, data, "to", max_len=32)
    extra: dict[str, object] = {k: data[k] for k in ("otpCode", "delivered") if k in data}
    emu = emulator_of(request)
    with emu.lock:
        order_id = request.path_params["orderId"]
        try:
            order = forced(
                lambda: emu.xd247.force(order_id, target, extra),
                target,
                lambda status: emu.xd247.orders[order_id].machine.allowed(status),
            )
        except KeyError:
            raise not_found("order") from None
        return json(emu.xd247.view(order))


async def patch_catalog_item(request: Request) -> Response:
    """Price and stock of a price option, social option (price = pricePer1000) or premium
    service; answers the item as the API's catalog shows it."""
    data = await body(request)
    price = None
    if "price" in data:
        try:
            price = to_hundredths(data["price"])
        except ValueError as exc:
            raise invalid(FieldError("price", str(exc))) from None
        if price > MAX_ITEM_PRICE:
            raise invalid(FieldError("price", f"must be at most {coins(MAX_ITEM_PRICE)}"))
    stock = None
    if "stock" in data:
        stock = read(v.integer, data, "stock", low=0, high=MAX_STOCK)
    item_id = request.path_params["itemId"].lower()  # uuids match case-insensitively, as in the API
    emu = emulator_of(request)
    with emu.lock:
        item = emu.xd247.catalog_item(item_id)
        if item is None:
            raise not_found("price option, social option or premium service")
        try:
            return json(emu.xd247.patch_item(item, price, stock))
        except ValueError as exc:
            raise invalid(exc) from None


routes = [
    route("/_emulator/247xd/accounts", GET=list_accounts, POST=create_account),
    route("/_emulator/247xd/accounts/{accountId}", GET=get_account, PATCH=patch_account),
    Route("/_emulator/247xd/orders/{orderId}/transition", transition, methods=["POST"]),
    Route("/_emulator/247xd/catalog/{itemId}", patch_catalog_item, methods=["PATCH"]),
]
