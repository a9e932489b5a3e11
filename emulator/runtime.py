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
from emulator.core.clock import LATEST_US, Clock
from emulator.core.durability import WriteLog
from emulator.core.events import RESET, Event, EventLog
from emulator.core.faults import FaultRegistry
from emulator.core.ids import IdSource
from emulator.core.journal import Journal, Redactor
from emulator.usdtlowfee.account import Account as UsdtLowFeeAccount
from emulator.usdtlowfee.errors import KEY_PATTERN as USDTLOWFEE_KEY
from emulator.usdtlowfee.service import UsdtLowFeeBackend
from emulator.xd247.account import Account as Xd247Account
from emulator.xd247.errors import KEY_PATTERN as XD247_KEY
from emulator.xd247.service import Xd247Backend

Account = Xd247Account | UsdtLowFeeAccount
# `until: "settled"` stops after this many steps (each applies at least one move).
MAX_SETTLE_STEPS = 1_000_000


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
        # Like the journal, not part of the state document; it outlives every domain so
        # that event ids keep ascending across resets (a resuming client misses nothing).
        self.events = EventLog()
        self.domain = self._fresh()
        self._attach(self.domain)

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

    def _attach(self, domain: Domain) -> None:
        domain.xd247.events = self.events
        domain.usdtlowfee.events = self.events

    def install(self, domain: Domain, why: str = "reset") -> None:
        """Put this domain in use (a reset, fixtures, or an imported state document, which
        keeps the journal). The caller holds the lock."""
        self._attach(domain)
        self.domain = domain
        self.events.emit("", "", RESET, {"reason": why}, domain.clock.now_us())
        for listener in self._listeners:
            listener(domain)

    def use_write_log(self, log: WriteLog | None) -> None:
        """Route every write through `log` (the state file's): the pipelines are rebuilt on
        it, the domain stays as it is. The caller holds the lock."""
        self.write_log = log
        for listener in self._listeners:
            listener(self.domain)

    def advance_until(self, until: str, max_us: int = 0, account: Account | None = None) -> list[Event]:
        """Move the emulator clock (or `account`'s own) to the next natural move and apply
        it (`until="next"`), or repeatedly so until none is due within `max_us` of the
        current instant (`"settled"`). Moves already due but not yet applied by a read
        fire first, at their own instants, without moving the clock. Returns the
        transitions that fired, by instant. The caller holds the lock."""
        domain = self.domain
        if account is None:
            clock = domain.clock
            scopes: list[tuple[Xd247Backend | UsdtLowFeeBackend, Account | None]] = [
                (domain.xd247, None), (domain.usdtlowfee, None)
            ]
        else:
            assert account.clock is not None, "an account on the emulator clock moves with it"
            clock = account.clock
            backend = domain.xd247 if isinstance(account, Xd247Account) else domain.usdtlowfee
            scopes = [(backend, account)]

        def next_due() -> int | None:
            dues = [d for b, a in scopes if (d := b.next_due(a)) is not None]  # type: ignore[arg-type]
            return min(dues, default=None)

        with self.events.advancing() as fired:
            for _ in range(1 if until == "next" else MAX_SETTLE_STEPS):
                now = clock.now_us()
                due = next_due()
                if due is None or due > LATEST_US or (until != "next" and due > now + max_us):
                    break
                if due > now:
                    clock.set(due)
                for backend, scope in scopes:
                    backend.settle_until(max(due, now), scope)  # type: ignore[arg-type]
        return sorted(fired, key=lambda event: event[1])

    def reset(self) -> None:
        """The fixtures' state again: fixed keys, fresh clock, same seed; faults and the
        journal start empty."""
        with self.lock:
            self.install(self._fresh())
            self.journal.clear()

    def load_fixtures(self, fixtures: fixtures_mod.Fixtures) -> None:
        with self.lock:
            self.fixtures = fixtures
            self.install(self._fresh(), "fixtures")
            self.journal.clear()
