"""Control plane for 247xd: accounts and forced order transitions."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.core import validate as v
from emulator.core.errors import FieldError
from emulator.core.money import coins, to_hundredths
from emulator.core.statemachine import TransitionError
from emulator.xd247.models import Account

from .common import ControlError, body, emulator_of, invalid, json, not_found


def account_view(account: Account) -> dict[str, object]:
    return {
        "accountId": account.id,
        "coins": coins(account.coins),
        "banned": account.banned,
        "label": account.label,
    }


def _coins(data: dict[str, object]) -> int:
    try:
        return to_hundredths(data["coins"])
    except ValueError as exc:
        raise invalid(FieldError("coins", str(exc))) from None


def _flag(data: dict[str, object], name: str) -> bool:
    try:
        return v.boolean(data, name)
    except FieldError as exc:
        raise invalid(exc) from None


async def create_account(request: Request) -> Response:
    data = await body(request)
    amount = _coins(data) if "coins" in data else 0
    banned = _flag(data, "banned") if "banned" in data else False
    label = data.get("label", "")
    if not isinstance(label, str) or len(label) > 200:
        raise invalid(FieldError("label", "must be a string of at most 200 characters"))
    emu = emulator_of(request)
    with emu.lock:
        account, key = emu.xd247.create_account(amount, banned, label)
    return json({**account_view(account), "apiKey": key}, 201)


async def patch_account(request: Request) -> Response:
    data = await body(request)
    amount = _coins(data) if "coins" in data else None
    banned = _flag(data, "banned") if "banned" in data else None
    emu = emulator_of(request)
    with emu.lock:
        account = emu.xd247.accounts.get(request.path_params["accountId"])
        if account is None:
            raise not_found("account")
        if amount is not None:
            account.coins = amount
        if banned is not None:
            account.banned = banned
        return json(account_view(account))


async def transition(request: Request) -> Response:
    data = await body(request, allow_empty=False)
    try:
        target = v.string(data, "to", max_len=32)
    except FieldError as exc:
        raise invalid(exc) from None
    extra: dict[str, object] = {k: data[k] for k in ("otpCode", "delivered") if k in data}
    emu = emulator_of(request)
    with emu.lock:
        try:
            order = emu.xd247.force(request.path_params["orderId"], target, extra)
        except KeyError:
            raise not_found("order") from None
        except TransitionError as exc:
            allowed = list(emu.xd247.orders[request.path_params["orderId"]].machine.allowed(exc.current))
            raise ControlError(
                409, "CONFLICT", f"cannot move a {exc.current} order to {target}; allowed: {allowed}"
            ) from None
        except ValueError as exc:
            raise ControlError(400, "VALIDATION_ERROR", str(exc)) from None
        return json(emu.xd247.view(order))


routes = [
    Route("/_emulator/247xd/accounts", create_account, methods=["POST"]),
    Route("/_emulator/247xd/accounts/{accountId}", patch_account, methods=["PATCH"]),
    Route("/_emulator/247xd/orders/{orderId}/transition", transition, methods=["POST"]),
]
