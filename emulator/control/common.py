"""Plain-JSON helpers for the control plane: bodies in, `{"error": {...}}` out."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.apis import prefixes
from emulator.core.auth import KeyRecord
from emulator.core.clock import Clock, iso_ms
from emulator.core.errors import ApiError, FieldError, LimitError, plain_error
from emulator.core.http import BODY_TIMEOUT_S, MAX_BODY
from emulator.core.statemachine import TransitionError
from emulator.runtime import Emulator
from emulator.usdtlowfee.service import UsdtLowFeeBackend
from emulator.xd247.service import Xd247Backend


class ControlError(ApiError):
    """An error of the control plane, in its plain envelope `{"error": {code, message}}`."""


def json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


def error(status: int, code: str, message: str) -> Response:
    return Response(plain_error(code, message), status, media_type="application/json")


def invalid(exc: FieldError | ValueError) -> ControlError:
    if isinstance(exc, FieldError):
        return ControlError(400, "VALIDATION_ERROR", f"{exc.field} {exc.reason}")
    return ControlError(400, "VALIDATION_ERROR", str(exc))


def over_limit(exc: LimitError) -> ControlError:
    """A write that would take a balance, count or id sequence past what the state
    document accepts: 409, naming the field, nothing changed."""
    return ControlError(409, "CONFLICT", f"{exc.field} {exc.reason}")


def not_found(what: str) -> ControlError:
    return ControlError(404, "NOT_FOUND", f"{what} not found")


def api_and_account(query: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The `api` and `accountId` filters of a control-plane GET, checked (400 naming them)."""
    names = prefixes()
    api = query.get("api")
    if api is not None and api not in names:
        raise invalid(FieldError("api", f"must be one of {', '.join(names)}"))
    account_id = query.get("accountId")
    if account_id is not None and not 1 <= len(account_id) <= 64:
        raise invalid(FieldError("accountId", "must be 1 to 64 characters"))
    return api, account_id


P = ParamSpec("P")
T = TypeVar("T")


def read(reader: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """A field read with one of core.validate's readers; its FieldError becomes a 400."""
    try:
        return reader(*args, **kwargs)
    except FieldError as exc:
        raise invalid(exc) from None


def forced(move: Callable[[], T], target: str, allowed: Callable[[str], Iterable[str]]) -> T:
    """A forced transition: a move the order's table forbids is a 409 that lists the
    allowed ones; a bad extra field (otpCode, delivered, reason) a 400."""
    try:
        return move()
    except TransitionError as exc:
        moves = list(allowed(exc.current))
        raise ControlError(
            409, "CONFLICT", f"cannot move a {exc.current} order to {target}; allowed: {moves}"
        ) from None
    except LimitError as exc:
        raise over_limit(exc) from None
    except ValueError as exc:
        raise ControlError(400, "VALIDATION_ERROR", str(exc)) from None


def key_view(record: KeyRecord) -> dict[str, Any]:
    return {
        "apiKey": record.key,
        "accountId": record.account_id,
        "expiresAt": None if record.expires_us is None else iso_ms(record.expires_us),
        "revoked": record.revoked,
    }


def owner_view(view: dict[str, object], keys: Iterable[KeyRecord]) -> dict[str, object]:
    """The owner's view of an account: its view with its keys (whole) in issue order."""
    return {**view, "keys": [key_view(record) for record in keys]}


async def body(request: Request, *, allow_empty: bool = True) -> dict[str, Any]:
    try:
        async with asyncio.timeout(BODY_TIMEOUT_S):
            raw = await request.body()
    except TimeoutError:
        raise ControlError(
            408, "REQUEST_TIMEOUT", f"the body did not arrive within {BODY_TIMEOUT_S:g} s",
            [(b"connection", b"close")],
        ) from None
    if len(raw) > MAX_BODY:
        raise ControlError(400, "BAD_REQUEST", "the body is larger than 64 KiB")
    if not raw:  # no body; whitespace alone is not JSON (as on the API surfaces)
        if allow_empty:
            return {}
        raise ControlError(400, "BAD_REQUEST", "a JSON object body is required")
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ControlError(400, "BAD_REQUEST", "the body is not valid JSON") from None
    if not isinstance(value, dict):
        raise ControlError(400, "BAD_REQUEST", "the body must be a JSON object")
    return value


def emulator_of(request: Request) -> Emulator:
    emu: Emulator = request.app.state.emulator
    return emu


def backend_of(emu: Emulator, api: str) -> Xd247Backend | UsdtLowFeeBackend:
    """The backend a `{api}` path segment names."""
    if api == "247xd":
        return emu.xd247
    if api == "usdtlowfee":
        return emu.usdtlowfee
    raise ControlError(404, "NOT_FOUND", f"no API {api[:40]!r}: expected 247xd or usdtlowfee")


def wants_own_clock(data: dict[str, Any]) -> bool:
    """An account's `clock`: "own" (a test clock of its own) or "global" (the default)."""
    choice = data.get("clock", "global")
    if choice == "global":
        return False
    if choice == "own":
        return True
    raise invalid(FieldError("clock", 'must be "own" or "global"'))


def own_clock(emu: Emulator) -> Clock:
    """A test clock for one account: frozen at the emulator's instant, then independent of it."""
    return Clock(emu.clock.now_us(), frozen=True)


Handler = Callable[[Request], Awaitable[Response]]


def account_reads(
    backend_of: Callable[[Emulator], Any], view: Callable[[Any, Any], dict[str, object]]
) -> tuple[Handler, Handler]:
    """GET /{api}/accounts and /{api}/accounts/{accountId} for one API: every account in
    creation order (the fixtures' first), or one, each as `view(backend, account)` gives
    it (settled to now, where the API settles) with its keys."""

    async def list_accounts(request: Request) -> Response:
        emu = emulator_of(request)
        with emu.lock:
            backend = backend_of(emu)
            keys = backend.keys.by_account()
            listed = [owner_view(view(backend, a), keys.get(a.id, [])) for a in backend.accounts.values()]
            return json({"accounts": listed})

    async def get_account(request: Request) -> Response:
        emu = emulator_of(request)
        with emu.lock:
            backend = backend_of(emu)
            account = backend.accounts.get(request.path_params["accountId"])
            if account is None:
                raise not_found("account")
            return json(owner_view(view(backend, account), backend.keys.keys_of(account.id)))

    return list_accounts, get_account


def route(path: str, **handlers: Handler) -> Route:
    """One route for several methods, each with its own handler (`GET=..., POST=...`): one
    route, so that a method it lacks gets a 405 whose Allow lists them all. HEAD, which
    Starlette adds beside GET, is answered by the GET handler."""

    async def dispatch(request: Request) -> Response:
        # HEAD reaches here only on a route with GET (Starlette adds it there alone).
        return await (handlers.get(request.method) or handlers["GET"])(request)

    return Route(path, dispatch, methods=list(handlers))
