"""POST/GET/DELETE /_emulator/faults: errors, delays and dropped connections per route."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.apis import FAULT_TARGETS
from emulator.core import faults
from emulator.core.errors import FieldError

from .common import backend_of, body, emulator_of, invalid, json, not_found, route


async def create(request: Request) -> Response:
    emu = emulator_of(request)
    try:
        fields = faults.parse(await body(request, allow_empty=False), FAULT_TARGETS)
    except FieldError as exc:
        raise invalid(exc) from None
    with emu.lock:
        account_id = fields["account_id"]
        # Only an account that exists now: a typo would otherwise never match, silently.
        if account_id is not None and account_id not in backend_of(emu, fields["api"]).accounts:
            raise invalid(FieldError("accountId", f"must name an existing {fields['api']} account"))
        fault = emu.faults.add(**fields)
        return json(fault.view(), 201)


async def list_all(request: Request) -> Response:
    emu = emulator_of(request)
    with emu.lock:
        return json({"faults": [fault.view() for fault in emu.faults.all()]})


async def delete_all(request: Request) -> Response:
    emu = emulator_of(request)
    with emu.lock:
        emu.faults.clear()
    return Response(status_code=204)


async def delete_one(request: Request) -> Response:
    emu = emulator_of(request)
    with emu.lock:
        if not emu.faults.remove(request.path_params["faultId"]):
            raise not_found("fault")
    return Response(status_code=204)


routes = [
    route("/_emulator/faults", GET=list_all, POST=create, DELETE=delete_all),
    Route("/_emulator/faults/{faultId}", delete_one, methods=["DELETE"]),
]
