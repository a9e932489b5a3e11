"""The running emulator: the domain (one clock, one id source, the two backends, the
faults) and the journal, and nothing of HTTP.

The HTTP server and an in-process test act on this same object; the app factory
(`emulator.app`) builds the request pipelines from it, and the state document
(`emulator.state`) describes exactly its `Domain`. `reset()` re-creates the backends
from the fixtures, as moto re-creates its backends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from emulator import fixtures as fixtures_mod
from emulator.config import Config
from emulator.core.clock import Clock
from emulator.core.durability import WriteLog
from emulator.core.faults import FaultRegistry
from emulator.core.ids import IdSource
from emulator.core.journal import Journal, Redactor
from emulator.usdtlowfee.errors import KEY_PATTERN as USDTLOWFEE_KEY
from emulator.usdtlowfee.service import UsdtLowFeeBackend
from emulator.xd247.errors import KEY_PATTERN as XD247_KEY
from emulator.xd247.service import Xd247Backend


@dataclass(slots=True)
class Domain:
    """Everything a state document describes: built and checked, then put in use whole."""

    clock: Clock
    ids: IdSource
    xd247: Xd247Backend
    usdtlowfee: UsdtLowFeeBackend
    faults: FaultRegistry


class Emulator:
    def __init__(self, config: Config | None = None, fixtures: fixtures_mod.Fixtures | None = None):
        self.config = config or Config()
        self.fixtures = fixtures or fixtures_mod.load(self.config.fixtures)
        # Guards every read-modify-write of state: requests served from other threads
        # (test clients, the control plane) never interleave inside one.
        self.lock = threading.Lock()
        # The state file's write-ahead log (emulator/durable.py): every write is recorded
        # there before it is applied. None without a state file: nothing touches the disk.
        self.write_log: WriteLog | None = None
        # Told (lock held) whenever a new domain is put in use: the app rebuilds its
        # request pipelines on it.
        self._listeners: list[Callable[[Domain], None]] = []
        keys = Redactor((XD247_KEY, USDTLOWFEE_KEY))
        self.journal = Journal(self.config.journal_size, keys)
        self.domain = self._fresh()

    def _fresh(self) -> Domain:
        clock = Clock(self.config.clock_start_us, frozen=self.config.clock_frozen)
        ids = IdSource(self.config.seed)
        return Domain(
            clock,
            ids,
            Xd247Backend(self.fixtures.xd247(), clock, ids),
            UsdtLowFeeBackend(self.fixtures.usdtlowfee(), clock, ids),
            FaultRegistry(ids.seed),
        )

    # The domain's parts, for the control plane and tests.
    @property
    def clock(self) -> Clock:
        return self.domain.clock

    @property
    def ids(self) -> IdSource:
        return self.domain.ids

    @property
    def xd247(self) -> Xd247Backend:
        return self.domain.xd247

    @property
    def usdtlowfee(self) -> UsdtLowFeeBackend:
        return self.domain.usdtlowfee

    @property
    def faults(self) -> FaultRegistry:
        return self.domain.faults

    def on_install(self, listener: Callable[[Domain], None]) -> None:
        self._listeners.append(listener)

    def install(self, domain: Domain) -> None:
        """Put this domain in use (a reset, fixtures, or an imported state document, which
        keeps the journal). The caller holds the lock."""
        self.domain = domain
        for listener in self._listeners:
            listener(domain)

    def reset(self) -> None:
        """The fixtures' state again: fixed keys, fresh clock, same seed; faults and the
        journal start empty."""
        with self.lock:
            self.install(self._fresh())
            self.journal.clear()

    def load_fixtures(self, fixtures: fixtures_mod.Fixtures) -> None:
        with self.lock:
            self.fixtures = fixtures
            self.install(self._fresh())
            self.journal.clear()
