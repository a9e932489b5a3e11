"""GET /_emulator/orders: the orders of both APIs, newest first, for a person or a dashboard.

Each account's orders are kept in creation order, and an account's clock never goes back,
so each account is a stream sorted by creation instant; the streams (of both APIs) are
merged lazily, newest first, and reading stops one past the limit. Ties at one instant:
the later-created first within an API; 247xd before USDTLowFee between the two (nothing
records which came first across the APIs).

Every order read is settled first (its due moves, at its account's clock), so a status
filter sees the status the API would show now.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.core.clock import clock_of, iso_ms
from emulator.core.errors import FieldError
from emulator.core.money import coins
from emulator.core.statemachine import StateMachine
from emulator.runtime import Emulator
from emulator.usdtlowfee.account import Account as UlfAccount
from emulator.usdtlowfee.energy import ENERGY
from emulator.usdtlowfee.orders import EnergyOrder
from emulator.xd247.account import Account as XdAccount
from emulator.xd247.lifecycles import OTP, PREMIUM, SOCIAL

from .common import emulator_of, invalid, json

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_ACCOUNT_ID = 200
APIS = ("247xd", "usdtlowfee")
KINDS = ("otp", "social", "premium", "energy")
# Every status of the order state machines, each once (OTP's order first, then the others').
ORDER_STATUSES = tuple(dict.fromkeys(s for m in (OTP, SOCIAL, PREMIUM, ENERGY) for s in m.statuses))
# A 247xd order's kind by the order book's kind byte (OTP_KIND, SOCIAL_KIND, PREMIUM_KIND).
_XD_KINDS = ("otp", "social", "premium")
_XD_MACHINES = dict(zip(_XD_KINDS, (OTP, SOCIAL, PREMIUM), strict=True))
_ULF_MACHINES = {"energy": ENERGY}
# Merge keys are (created instant, tie, number): at one instant 247xd (1) before USDTLowFee (0).
_XD_TIE, _ULF_TIE = 1, 0
_INT = re.compile(r"[0-9]{1,7}")


class Query:
    """The validated query parameters (every one optional)."""

    __slots__ = ("api", "account_id", "status", "kind", "limit")

    def __init__(self, params: Any) -> None:
        self.api: str | None = params.get("api")
        if self.api is not None and self.api not in APIS:
            raise invalid(FieldError("api", f"must be one of {', '.join(APIS)}"))
        self.account_id: str | None = params.get("accountId")
        if self.account_id is not None and not 1 <= len(self.account_id) <= MAX_ACCOUNT_ID:
            raise invalid(FieldError("accountId", f"must be 1 to {MAX_ACCOUNT_ID} characters"))
        self.status: str | None = params.get("status")
        if self.status is not None and self.status not in ORDER_STATUSES:
            raise invalid(FieldError("status", f"must be one of {', '.join(ORDER_STATUSES)}"))
        self.kind: str | None = params.get("kind")
        if self.kind is not None and self.kind not in KINDS:
            raise invalid(FieldError("kind", f"must be one of {', '.join(KINDS)}"))
        limit = params.get("limit")
        self.limit = DEFAULT_LIMIT
        if limit is not None:
            if _INT.fullmatch(limit) is None or not 1 <= int(limit) <= MAX_LIMIT:
                raise invalid(FieldError("limit", f"must be an integer from 1 to {MAX_LIMIT}"))
            self.limit = int(limit)

    def wants(self, api: str, machines: dict[str, StateMachine]) -> bool:
        """Whether an API (its kinds and their machines) can hold a matching order at all."""
        if self.api is not None and self.api != api:
            return False
        if self.kind is not None:
            if self.kind not in machines:
                return False
            machines = {self.kind: machines[self.kind]}
        return self.status is None or any(self.status in m.table for m in machines.values())


# --- 247xd --------------------------------------------------------------------------------


def _xd_accounts(emu: Emulator, query: Query) -> list[XdAccount]:
    backend = emu.xd247
    if query.account_id is None:
        return backend.account_list
    account = backend.accounts.get(query.account_id)
    return [] if account is None else [account]


def _xd_stream(
    emu: Emulator, account: XdAccount, now_us: int, query: Query
) -> Iterator[tuple[int, int, int]]:
    """The account's matching orders, newest first; with a status filter each is settled at
    `now_us` (the account's clock) before its status is read."""
    book = emu.xd247.orders
    kind = None if query.kind is None else _XD_KINDS.index(query.kind)
    status = query.status
    created = book.created
    for n in reversed(account.orders):
        if kind is not None and book.kind[n] != kind:
            continue
        if status is not None:
            order = book.view(n)
            if status not in order.machine.table:
                continue
            order.settle(now_us)
            if order.status != status:
                continue
        yield created[n], _XD_TIE, n


def _xd_item(emu: Emulator, n: int, nows: dict[str, int]) -> dict[str, Any]:
    order = emu.xd247.orders.view(n)
    account_id = order.account_id
    now_us = nows[account_id]
    order.settle(now_us)  # as Xd247Backend.view: the API's GET, at the account's clock
    view = order.view(now_us)
    status = order.status
    item: dict[str, Any] = {
        "api": "247xd",
        "orderId": order.id,
        "accountId": account_id,
        "kind": order.kind,
        "status": status,
        "canTransitionTo": list(order.machine.allowed(status)),
        "price": coins(order.price),
        "priceUnit": "coins",
        "createdAt": iso_ms(order.created_us),
        "updatedAt": iso_ms(order.updated_us),
    }
    if order.kind == "otp":
        item["otpCode"] = view["otpCode"]
    item["order"] = view
    return item


# --- USDTLowFee ---------------------------------------------------------------------------


def _ulf_accounts(emu: Emulator, query: Query) -> list[UlfAccount]:
    backend = emu.usdtlowfee
    if query.account_id is None:
        accounts = list(backend.accounts.values())
    else:
        account = backend.accounts.get(query.account_id)
        accounts = [] if account is None else [account]
    for account in accounts:  # every order involved at its current status, before filtering
        account.settle(clock_of(account, backend.clock).now_us())
    return accounts


def _ulf_stream(emu: Emulator, account: UlfAccount, query: Query) -> Iterator[tuple[int, int, int]]:
    """The account's matching orders, newest first (the account is settled already)."""
    created = emu.usdtlowfee.book.created
    rows = account.rows if query.status is None else account.rows_with(query.status)
    for row in reversed(rows):
        yield created[row], _ULF_TIE, row


def _ulf_item(emu: Emulator, row: int) -> dict[str, Any]:
    order = EnergyOrder(emu.usdtlowfee.book, row)
    status = order.status
    return {
        "api": "usdtlowfee",
        "orderId": str(order.id),
        "accountId": order.account_id,
        "kind": "energy",
        "status": status,
        "canTransitionTo": list(ENERGY.allowed(status)),
        "price": order.price_sun,
        "priceUnit": "sun",
        "createdAt": iso_ms(order.created_us),
        "updatedAt": iso_ms(order.updated_us),
        "txid": order.txid if status == "completed" else None,
        "order": order.view(),  # the API's GET (the account was settled by _ulf_accounts)
    }


# --- the endpoint -------------------------------------------------------------------------


def select(emu: Emulator, query: Query) -> tuple[list[dict[str, Any]], bool]:
    """The page of items, newest first, and whether more match. Callers hold the lock."""
    streams: list[Iterator[tuple[int, int, int]]] = []
    nows: dict[str, int] = {}  # 247xd: each account's instant, read once for the whole answer
    if query.wants("247xd", _XD_MACHINES):
        for account in _xd_accounts(emu, query):
            if account.orders:
                nows[account.id] = clock_of(account, emu.xd247.clock).now_us()
                streams.append(_xd_stream(emu, account, nows[account.id], query))
    if query.wants("usdtlowfee", _ULF_MACHINES):
        streams += [_ulf_stream(emu, a, query) for a in _ulf_accounts(emu, query) if a.rows]
    merged = heapq.merge(*streams, reverse=True)
    chosen = list(itertools.islice(merged, query.limit + 1))
    more = len(chosen) > query.limit
    items = [
        _xd_item(emu, number, nows) if tie == _XD_TIE else _ulf_item(emu, number)
        for _, tie, number in chosen[: query.limit]
    ]
    return items, more


async def orders(request: Request) -> Response:
    query = Query(request.query_params)
    emu = emulator_of(request)
    with emu.lock:
        items, more = select(emu, query)
        return json({"orders": items, "hasMore": more})


routes = [Route("/_emulator/orders", orders, methods=["GET"])]
