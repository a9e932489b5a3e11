"""The running emulator: one clock, one id source, the backends and their surfaces.

The HTTP server and an in-process test act on this same object. `reset()` re-creates
the backends from the fixtures, as moto re-creates its backends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from emulator import fixtures as fixtures_mod
from emulator.config import Config
from emulator.core.asgi import Surface
from emulator.core.clock import Clock
from emulator.core.faults import FaultRegistry
from emulator.core.ids import IdSource
from emulator.core.journal import Journal, Redactor
from emulator.usdtlowfee.routes import UsdtLowFeeSurface
from emulator.usdtlowfee.service import UsdtLowFeeBackend
from emulator.xd247.routes import Xd247Surface
from emulator.xd247.service import Xd247Backend


class Emulator:
    def __init__(self, config: Config | None = None, fixtures: fixtures_mod.Fixtures | None = None):
        self.config = config or Config()
        self.fixtures = fixtures or fixtures_mod.load(self.config.fixtures)
        # Guards every read-modify-write of state: requests served from other threads
        # (test clients, the control plane) never interleave inside one.
        self.lock = threading.Lock()
        # Runs (lock held) after every acknowledged write, before its response: the state
        # file's hook (emulator/state.py), None without one, so nothing touches the disk.
        self.after_write: Callable[[], None] | None = None
        self._build()

    def _build(self) -> None:
        clock = Clock(self.config.clock_start_us, frozen=self.config.clock_frozen)
        ids = IdSource(self.config.seed)
        xd247 = Xd247Backend(self.fixtures.xd247(), clock, ids)
        usdtlowfee = UsdtLowFeeBackend(self.fixtures.usdtlowfee(), clock, ids)
        # Faults and the journal start empty with every reset (and fixtures load).
        self.install(clock, ids, xd247, usdtlowfee, FaultRegistry(ids.seed), new_journal=True)

    def install(
        self,
        clock: Clock,
        ids: IdSource,
        xd247: Xd247Backend,
        usdtlowfee: UsdtLowFeeBackend,
        faults: FaultRegistry,
        new_journal: bool = False,
    ) -> None:
        """Put this state in use (a reset, or an imported state document, which keeps the
        journal). The caller holds the lock, except while the emulator is being built."""
        self.clock = clock
        self.ids = ids
        self.xd247 = xd247
        self.usdtlowfee = usdtlowfee
        self.surfaces: tuple[Surface, ...] = (
            Xd247Surface(self.xd247, self.config.rate_limit_247xd, self.lock),
            UsdtLowFeeSurface(self.usdtlowfee, self.config.rate_limit_usdtlowfee, self.lock),
        )
        self.faults = faults
        if new_journal:
            self.journal = Journal(
                self.config.journal_size, Redactor(s.scheme.pattern.pattern for s in self.surfaces)
            )
        for surface in self.surfaces:
            surface.faults = self.faults
            surface.journal = self.journal
            surface.after_write = self.after_write

    def attach_after_write(self, hook: Callable[[], None] | None) -> None:
        with self.lock:
            self.after_write = hook
            for surface in self.surfaces:
                surface.after_write = hook

    def reset(self) -> None:
        """The fixtures' state again: fixed keys, fresh clock, same seed."""
        with self.lock:
            self._build()

    def load_fixtures(self, fixtures: fixtures_mod.Fixtures) -> None:
        with self.lock:
            self.fixtures = fixtures
            self._build()

    def banner(self, url: str) -> str:
        """What `emulator serve` prints: where each API is and the keys ready to use."""
        lines = [f"emulator listening on {url}  (seed {self.ids.seed})"]
        ready = (self.xd247.ready_keys(), self.usdtlowfee.ready_keys())
        for surface, keys in zip(self.surfaces, ready, strict=True):
            lines.append(f"  {surface.name:<11} {url}{surface.prefix}")
            for account_id, holds, key in keys:
                lines.append(f"      {key}   {account_id} ({holds})")
        lines.append(f"  {'dashboard':<11} {url}/  (the control plane's pages)")
        lines.append(f"  {'control':<11} {url}/_emulator  (health: {url}/_emulator/health)")
        return "\n".join(lines)
