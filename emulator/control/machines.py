"""GET /_emulator/machines: the order state machines, as the tables the APIs enforce.

The same `StateMachine` objects that `canTransitionTo`, the client actions and the forced
transitions read; a dashboard or a test can list statuses and moves without copying them.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulator.core.statemachine import StateMachine
from emulator.usdtlowfee.energy import ENERGY
from emulator.xd247.lifecycles import OTP, PREMIUM, SOCIAL

from .common import json

MACHINES: tuple[tuple[str, str, StateMachine], ...] = (
    ("247xd", "otp", OTP),
    ("247xd", "social", SOCIAL),
    ("247xd", "premium", PREMIUM),
    ("usdtlowfee", "energy", ENERGY),
)


def machine_view(api: str, kind: str, machine: StateMachine) -> dict[str, object]:
    return {
        "api": api,
        "kind": kind,
        "initial": machine.initial,
        "statuses": list(machine.statuses),
        "transitions": {status: list(machine.allowed(status)) for status in machine.statuses},
    }


_BODY = {"machines": [machine_view(*entry) for entry in MACHINES]}


async def machines(request: Request) -> Response:
    return json(_BODY)


routes = [Route("/_emulator/machines", machines, methods=["GET"])]
