"""The two APIs as the HTTP layer serves them: each one's dialect, route table, backend
and rate limit. The app factory builds a request pipeline per entry; the control plane
and the state document read the same table (names, prefixes, route templates)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from emulator.config import Config
from emulator.core.dialect import Dialect
from emulator.core.faults import FaultTarget
from emulator.core.pipeline import Backend
from emulator.core.routing import Router
from emulator.runtime import Domain, Emulator
from emulator.usdtlowfee import dialect as usdtlowfee_dialect
from emulator.usdtlowfee import routes as usdtlowfee_routes
from emulator.xd247 import dialect as xd247_dialect
from emulator.xd247 import routes as xd247_routes


@dataclass(frozen=True, slots=True)
class Api:
    dialect: Dialect
    router: Router
    backend: Callable[[Domain], Backend]
    rate_limit: Callable[[Config], int]

    @property
    def name(self) -> str:
        return self.dialect.name

    @property
    def prefix(self) -> str:
        return self.dialect.prefix

    def fault_target(self) -> FaultTarget:
        return FaultTarget(self.dialect.name, self.router.methods(), self.dialect.fault_error)


APIS = (
    Api(xd247_dialect.DIALECT, xd247_routes.ROUTER, lambda d: d.xd247, lambda c: c.rate_limit_247xd),
    Api(
        usdtlowfee_dialect.DIALECT,
        usdtlowfee_routes.ROUTER,
        lambda d: d.usdtlowfee,
        lambda c: c.rate_limit_usdtlowfee,
    ),
)
FAULT_TARGETS = tuple(api.fault_target() for api in APIS)


def prefixes() -> dict[str, str]:
    return {api.name: api.prefix for api in APIS}


def banner(emu: Emulator, url: str) -> str:
    """What `emulator serve` prints: where each API is and the keys ready to use."""
    lines = [f"emulator listening on {url}  (seed {emu.ids.seed})"]
    ready = (emu.xd247.ready_keys(), emu.usdtlowfee.ready_keys())
    for api, keys in zip(APIS, ready, strict=True):
        lines.append(f"  {api.name:<11} {url}{api.prefix}")
        for account_id, holds, key in keys:
            lines.append(f"      {key}   {account_id} ({holds})")
    lines.append(f"  {'dashboard':<11} {url}/  (the control plane's pages)")
    lines.append(f"  {'control':<11} {url}/_emulator  (health: {url}/_emulator/health)")
    return "\n".join(lines)
