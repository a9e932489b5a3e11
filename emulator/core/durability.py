"""What the request pipeline asks of durable state (emulator/durable.py implements it):
record a write before it is applied, then wait until it is as durable as configured."""

from __future__ import annotations

from typing import Any, Protocol


class NotDurable(Exception):
    """The write could not be recorded: nothing was applied; the API answers its 5xx."""


class WriteLog(Protocol):
    # True when a write's response must wait for `acknowledged` (an fsync mode).
    syncing: bool

    def before_write(
        self, api: str, account_id: str, method: str, path: str, query: bytes, body: dict[str, Any] | None
    ) -> int:
        """Record one API write (caller holds the emulator lock) and pin the wall clock to
        the instant recorded, until `after_write`. Returns a ticket for `acknowledged`;
        raises NotDurable with nothing recorded or pinned."""
        ...

    def after_write(self) -> None:
        """The write is applied (or refused): the wall clock runs again."""
        ...

    def fault_pick(self, api: str, method: str, template: str | None, account_id: str | None = None) -> None:
        """Record a fault draw (it moves the faults' random source and counts); never raises."""
        ...

    async def acknowledged(self, ticket: int) -> None:
        """Returns once the write of `ticket` is on disk as the fsync mode requires."""
        ...
