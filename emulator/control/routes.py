"""Control plane routes shared by both APIs: health, reset, fixtures, the clock."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator import __version__
from emulator import fixtures as fixtures_mod
from emulator.apis import prefixes
from emulator.core import validate as v
from emulator.core.clock import LATEST_US, Clock, ClockError, iso_ms, parse_iso, seconds_to_us
from emulator.core.errors import FieldError
from emulator.core.events import Event, fields
from emulator.runtime import Account, Emulator

from . import events, faults, journal, keys, machines, orders, specs, usdtlowfee, verdicts, xd247
from . import state as state_routes
from .common import ControlError, backend_of, body, emulator_of, error, invalid, json, not_found, read


async def health(request: Request) -> Response:
    emu = emulator_of(request)
    return json(
        {
            "status": "ok",
            "version": __version__,
            "seed": emu.ids.seed,
            "apis": prefixes(),
            "clock": emu.clock.export(),
        }
    )


async def reset(request: Request) -> Response:
    emulator_of(request).reset()
    return json({"status": "reset"})


async def load_fixtures(request: Request) -> Response:
    doc = await body(request, allow_empty=False)
    try:
        loaded = fixtures_mod.from_document(doc)
    except fixtures_mod.FixturesError as exc:
        raise ControlError(400, "VALIDATION_ERROR", str(exc)) from None
    emulator_of(request).load_fixtures(loaded)
    return json({"status": "loaded"})


def clock_body_seconds(data: dict[str, object]) -> int:
    try:
        return seconds_to_us(v.number(data, "seconds", low=0))
    except ValueError as exc:
        raise invalid(exc if isinstance(exc, FieldError) else FieldError("seconds", str(exc))) from None


def clock_body_instant(data: dict[str, object]) -> int:
    try:
        target = parse_iso(v.string(data, "now"))
    except (FieldError, ValueError) as exc:
        raise invalid(exc if isinstance(exc, FieldError) else FieldError("now", str(exc))) from None
    if target > LATEST_US:
        raise invalid(FieldError("now", f"must not be after {iso_ms(LATEST_US)}"))
    return target


UNTIL = ("next", "settled")
DEFAULT_SETTLE_S = 86_400


def fired_view(event: Event) -> dict[str, object]:
    _, at_us, api, account_id, _, _, data = event
    return {"api": api, "accountId": account_id, **fields(data), "at": iso_ms(at_us)}


def advance_until(emu: Emulator, data: dict[str, object], clock: Clock, account: Account | None) -> Response:
    """An advance `{"until": "next"}` or `{"until": "settled", "maxSeconds": N}`."""
    until = read(v.string, data, "until", max_len=16)
    if until not in UNTIL:
        raise invalid(FieldError("until", 'must be "next" or "settled"'))
    if "seconds" in data:
        raise invalid(FieldError("seconds", "cannot be given with until"))
    max_us = 0
    if until == "settled":
        try:
            max_s = v.number(data, "maxSeconds", low=0) if "maxSeconds" in data else DEFAULT_SETTLE_S
            max_us = seconds_to_us(max_s)
        except ValueError as exc:
            field = exc if isinstance(exc, FieldError) else FieldError("maxSeconds", str(exc))
            raise invalid(field) from None
    elif "maxSeconds" in data:
        raise invalid(FieldError("maxSeconds", 'is only for until "settled"'))
    with emu.lock:
        fired = emu.advance_until(until, max_us, account)
        return json({**clock.export(), "fired": [fired_view(event) for event in fired]})


async def drive_clock(
    request: Request, clock: Clock, action: str, account: Account | None = None
) -> Response:
    """advance / set / freeze / resume, for the emulator clock or an account's own."""
    data = await body(request, allow_empty=action in ("freeze", "resume"))
    emu = emulator_of(request)
    if action == "advance" and "until" in data:
        return advance_until(emu, data, clock, account)
    if action == "advance":
        step = clock_body_seconds(data)
        try:
            with emu.lock:
                clock.advance(step)
        except ClockError as exc:  # it would pass LATEST_US
            raise invalid(FieldError("seconds", str(exc))) from None
    elif action == "set":
        target = clock_body_instant(data)
        try:
            with emu.lock:
                clock.set(target)
        except ClockError as exc:
            raise ControlError(409, "CONFLICT", f"{exc}; POST /_emulator/reset goes back") from None
    else:
        with emu.lock:
            clock.freeze() if action == "freeze" else clock.resume()
    return json(clock.export())


async def clock_get(request: Request) -> Response:
    return json(emulator_of(request).clock.export())


async def clock_action(request: Request) -> Response:
    action = request.url.path.rsplit("/", 1)[1]
    return await drive_clock(request, emulator_of(request).clock, action)


def account_clock(request: Request) -> Clock:
    clock = account_with_clock(request).clock
    assert clock is not None  # account_with_clock answers 409 otherwise
    return clock


def account_with_clock(request: Request) -> Account:
    """`{api}`'s account `{accountId}` with a test clock; 409 for one on the emulator clock."""
    emu = emulator_of(request)
    account = backend_of(emu, request.path_params["api"]).accounts.get(request.path_params["accountId"])
    if account is None:
        raise not_found("account")
    if account.clock is None:
        raise ControlError(
            409,
            "CONFLICT",
            f"account {account.id} runs on the emulator clock (/_emulator/clock); only an account "
            'created with {"clock": "own"} has a clock of its own',
        )
    return account


async def account_clock_get(request: Request) -> Response:
    with emulator_of(request).lock:
        return json(account_clock(request).export())


async def account_clock_action(request: Request) -> Response:
    action = request.url.path.rsplit("/", 1)[1]
    account = account_with_clock(request)
    assert account.clock is not None
    return await drive_clock(request, account.clock, action, account)


async def control_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ControlError)
    response = error(exc.status, exc.code, exc.message)
    for name, value in exc.headers:  # e.g. `connection: close` after a stalled body
        response.headers[name.decode("latin-1")] = value.decode("latin-1")
    return response


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        response = error(405, "METHOD_NOT_ALLOWED", "method not allowed on this path")
        if exc.headers:
            response.headers.update(exc.headers)
        return response
    if exc.status_code == 404:
        return error(404, "NOT_FOUND", f"no control endpoint at {request.url.path}")
    return error(exc.status_code, "BAD_REQUEST", str(exc.detail))


routes = [
    Route("/_emulator/health", health, methods=["GET"]),
    Route("/_emulator/reset", reset, methods=["POST"]),
    Route("/_emulator/fixtures", load_fixtures, methods=["POST"]),
    Route("/_emulator/clock", clock_get, methods=["GET"]),
    *[
        Route(f"/_emulator/clock/{action}", clock_action, methods=["POST"])
        for action in ("advance", "set", "freeze", "resume")
    ],
    *xd247.routes,
    *usdtlowfee.routes,
    *keys.routes,
    *orders.routes,
    *machines.routes,
    Route("/_emulator/{api}/accounts/{accountId}/clock", account_clock_get, methods=["GET"]),
    *[
        Route("/_emulator/{api}/accounts/{accountId}/clock/" + action, account_clock_action, methods=["POST"])
        for action in ("advance", "set", "freeze", "resume")
    ],
    *specs.routes,
    *faults.routes,
    *journal.routes,
    *verdicts.routes,
    *events.routes,
    *state_routes.routes,
]

exception_handlers = {ControlError: control_error, HTTPException: http_error}
