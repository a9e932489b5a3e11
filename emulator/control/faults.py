"""POST/GET/DELETE /_emulator/faults: errors, delays and dropped connections per route."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.core import validate as v
from emulator.core.asgi import Surface
from emulator.core.errors import FieldError

from .common import body, emulator_of, invalid, json, not_found, route

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
CODE_RE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
MAX_LATENCY_MS = 60_000
MAX_TIMES = 1_000_000_000
# Error statuses only: a 1xx is not a final response, and a 2xx/3xx fault would have to
# invent a success body.
LOWEST_STATUS, HIGHEST_STATUS = 400, 599


def _read(reader, *args, **kwargs):  # type: ignore[no-untyped-def]
    try:
        return reader(*args, **kwargs)
    except FieldError as exc:
        raise invalid(exc) from None


def _surface(data: dict[str, Any], surfaces: tuple[Surface, ...]) -> Surface:
    name = _read(v.string, data, "api", max_len=32)
    for surface in surfaces:
        if surface.name == name:
            return surface
    names = ", ".join(s.name for s in surfaces)
    raise invalid(FieldError("api", f"must be one of {names}"))


def _templates(surface: Surface) -> dict[str, list[str]]:
    methods: dict[str, list[str]] = {}
    for entry in surface.router.routes:
        methods.setdefault(entry.template, []).append(entry.method)
    return methods


def parse(data: dict[str, Any], surfaces: tuple[Surface, ...]) -> dict[str, Any]:
    """The fields of a fault, validated; null counts as not given."""
    surface = _surface(data, surfaces)
    templates = _templates(surface)
    path = None
    if v.optional(data, "path"):
        path = _read(v.string, data, "path", max_len=500)
        if path not in templates:
            listed = ", ".join(templates)
            raise invalid(FieldError("path", f"must be one of the {surface.name} route templates: {listed}"))
    method = None
    if v.optional(data, "method"):
        method = _read(v.string, data, "method", max_len=16).upper()
        allowed = templates[path] if path is not None else METHODS
        if method not in allowed:
            where = f" on {path}" if path is not None else ""
            raise invalid(FieldError("method", f"must be one of {', '.join(allowed)}{where}"))
    status = None
    if v.optional(data, "status"):
        status = _read(v.integer, data, "status", low=LOWEST_STATUS, high=HIGHEST_STATUS)
    code = None
    if v.optional(data, "code"):
        code = _read(v.string, data, "code", max_len=64)
        if CODE_RE.fullmatch(code) is None:
            raise invalid(FieldError("code", "must be upper-case letters, digits and _ (like NOT_FOUND)"))
    message = _read(v.string, data, "message", max_len=1000) if v.optional(data, "message") else None
    latency = 0
    if v.optional(data, "latencyMs"):
        latency = _read(v.integer, data, "latencyMs", low=0, high=MAX_LATENCY_MS)
    drop = _read(v.boolean, data, "drop") if v.optional(data, "drop") else False
    times = _read(v.integer, data, "times", low=1, high=MAX_TIMES) if v.optional(data, "times") else None
    probability = 1.0
    if v.optional(data, "probability"):
        probability = _read(v.number, data, "probability", low=0)
        if probability > 1:
            raise invalid(FieldError("probability", "must be at most 1"))
    if drop and status is not None:
        raise invalid(FieldError("drop", "excludes status (a dropped connection has no response)"))
    for name, value in (("code", code), ("message", message)):
        if value is not None and status is None:
            raise invalid(FieldError(name, "needs a status"))
    if status is None and not drop and latency == 0:
        raise invalid(FieldError("status", "is required unless the fault drops (drop) or delays (latencyMs)"))
    if status is not None and code is None:
        code = surface.fault_error(status, None, None, 1).code
    return {
        "api": surface.name,
        "method": method,
        "path": path,
        "status": status,
        "code": code,
        "message": message,
        "latency_ms": latency,
        "drop": drop,
        "times": times,
        "probability": float(probability),
    }


async def create(request: Request) -> Response:
    emu = emulator_of(request)
    fields = parse(await body(request, allow_empty=False), emu.surfaces)
    with emu.lock:
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
