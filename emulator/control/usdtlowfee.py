"""Control plane for USDTLowFee: accounts and forced energy-order transitions."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.core import validate as v
from emulator.core.clock import clock_of
from emulator.core.errors import FieldError, LimitError
from emulator.usdtlowfee.account import Account
from emulator.usdtlowfee.energy import ENERGY
from emulator.usdtlowfee.fixtures import EMAIL_RE, MAX_TOTAL_SUN, price_table
from emulator.usdtlowfee.service import UsdtLowFeeBackend

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

_ORDER_ID = re.compile(r"[1-9][0-9]{0,18}")


def account_view(account: Account) -> dict[str, object]:
    return {
        "accountId": account.id,
        "userId": account.user_id,
        "email": account.email,
        "emailVerified": account.email_verified,
        "balanceSun": account.balance_sun,
        "frozenSun": account.frozen_sun,
        "totalSun": account.total_sun,
        "disabled": account.disabled,
        "label": account.label,
        "clock": "global" if account.clock is None else "own",
    }


def _settled_view(backend: UsdtLowFeeBackend, account: Account) -> dict[str, object]:
    """The wallet as of now: due fulfilments settle first."""
    account.settle(clock_of(account, backend.clock).now_us())
    return account_view(account)


list_accounts, get_account = account_reads(lambda emu: emu.usdtlowfee, _settled_view)


def _email(data: dict[str, object]) -> str:
    email = read(v.string, data, "email", max_len=254)
    if EMAIL_RE.fullmatch(email) is None:
        raise invalid(FieldError("email", "must be an email address"))
    return str(email)


async def create_account(request: Request) -> Response:
    data = await body(request)
    balance = read(v.integer, data, "balanceSun", low=0, high=MAX_TOTAL_SUN) if "balanceSun" in data else 0
    email = _email(data) if "email" in data else None
    disabled = read(v.boolean, data, "disabled") if "disabled" in data else False
    verified = read(v.boolean, data, "emailVerified") if "emailVerified" in data else True
    label = read(v.string, data, "label", min_len=0, max_len=200) if "label" in data else ""
    own = wants_own_clock(data)
    emu = emulator_of(request)
    with emu.lock:
        clock = own_clock(emu) if own else None
        try:
            account, key = emu.usdtlowfee.create_account(balance, email, disabled, verified, label, clock)
        except LimitError as exc:
            raise over_limit(LimitError("usdtlowfee." + exc.field, exc.reason)) from None
        return json({**account_view(account), "apiKey": key}, 201)


async def patch_account(request: Request) -> Response:
    data = await body(request)
    balance = read(v.integer, data, "balanceSun", low=0, high=MAX_TOTAL_SUN) if "balanceSun" in data else None
    disabled = read(v.boolean, data, "disabled") if "disabled" in data else None
    emu = emulator_of(request)
    with emu.lock:
        account = emu.usdtlowfee.accounts.get(request.path_params["accountId"])
        if account is None:
            raise not_found("account")
        if balance is not None:
            try:
                emu.usdtlowfee.set_balance(account, balance)
            except LimitError as exc:
                raise over_limit(exc) from None
        else:
            account.settle(clock_of(account, emu.usdtlowfee.clock).now_us())
        if disabled is not None:
            account.disabled = disabled
        return json(account_view(account))


async def transition(request: Request) -> Response:
    data = await body(request, allow_empty=False)
    target = read(v.string, data, "to", max_len=32)
    reason = read(v.string, data, "reason", max_len=200) if v.optional(data, "reason") else None
    text = request.path_params["orderId"]
    emu = emulator_of(request)
    with emu.lock:
        backend = emu.usdtlowfee
        order_id = int(text) if _ORDER_ID.fullmatch(text) else None
        if order_id is None or order_id not in backend.orders:
            raise not_found("order")
        order = forced(lambda: backend.force(order_id, target, reason), target, ENERGY.allowed)
        return json(backend.view(order))


def _prices_view(prices: dict[int, int]) -> dict[str, object]:
    return {"prices": [{"durationHours": hours, "priceSun": sun} for hours, sun in prices.items()]}


async def prices(request: Request) -> Response:
    """The price table (sun for 65000 energy per durationHours). PUT replaces it whole,
    validated as the fixtures' `prices`, all or nothing; orders keep the price they were made at."""
    emu = emulator_of(request)
    if request.method == "GET":
        with emu.lock:
            return json(_prices_view(emu.usdtlowfee.prices))
    table = read(price_table, await body(request, allow_empty=False))
    with emu.lock:
        emu.usdtlowfee.prices = table
        return json(_prices_view(table))


routes = [
    route("/_emulator/usdtlowfee/accounts", GET=list_accounts, POST=create_account),
    route("/_emulator/usdtlowfee/accounts/{accountId}", GET=get_account, PATCH=patch_account),
    Route("/_emulator/usdtlowfee/orders/{orderId}/transition", transition, methods=["POST"]),
    Route("/_emulator/usdtlowfee/prices", prices, methods=["GET", "PUT"]),
]
