"""Control plane for API keys, both APIs: issue another key, revoke one, set its expiry.

The owner's view: keys are shown whole here (only the journal redacts them). A key
expires by its account's clock (its own test clock, else the emulator's).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.core.auth import KeyRecord
from emulator.core.clock import instant_field
from emulator.core.errors import FieldError

from .common import ControlError, backend_of, body, emulator_of, invalid, json, key_view, not_found, route


def _expires_at(data: dict[str, Any]) -> int | None:
    value = data.get("expiresAt")
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(FieldError("expiresAt", "must be an ISO 8601 date-time string or null"))
    try:
        return instant_field(data, "expiresAt", "")  # as late as the state document accepts
    except FieldError as exc:
        raise invalid(exc) from None


async def create_key(request: Request) -> Response:
    emu = emulator_of(request)
    backend_of(emu, request.path_params["api"])  # an unknown API is 404 whatever the body
    expires = _expires_at(await body(request))
    with emu.lock:
        backend = backend_of(emu, request.path_params["api"])
        account = backend.accounts.get(request.path_params["accountId"])
        if account is None:
            raise not_found("account")
        key = backend.new_key()
        while key in backend.keys.records:  # pragma: no cover - 160 random bits
            key = backend.new_key()
        return json(key_view(backend.keys.add(key, account.id, expires)), 201)


def _record(request: Request) -> KeyRecord:
    backend = backend_of(emulator_of(request), request.path_params["api"])
    record = backend.keys.records.get(request.path_params["apiKey"])
    if record is None:
        raise not_found("key")
    return record


async def revoke_key(request: Request) -> Response:
    """Revoked for good (a revoked key is 401 from then on); revoking again is a no-op."""
    emu = emulator_of(request)
    with emu.lock:
        _record(request).revoked = True
    return Response(status_code=204)


async def patch_key(request: Request) -> Response:
    emu = emulator_of(request)
    backend_of(emu, request.path_params["api"])
    data = await body(request)
    change = "expiresAt" in data
    expires = _expires_at(data) if change else None
    with emu.lock:
        record = _record(request)
        if change:
            if record.revoked:
                raise ControlError(409, "CONFLICT", "the key is revoked for good; issue another with POST "
                                   f"/_emulator/{request.path_params['api']}/accounts/{{accountId}}/keys")
            record.expires_us = expires
        return json(key_view(record))


routes = [
    Route("/_emulator/{api}/accounts/{accountId}/keys", create_key, methods=["POST"]),
    route("/_emulator/{api}/keys/{apiKey}", PATCH=patch_key, DELETE=revoke_key),
]
