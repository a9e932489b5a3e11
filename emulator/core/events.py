"""The event log: what happened to orders and balances, in order, for the control plane's
event stream (`GET /_emulator/events`). Not part of either vendor's API.

The backends emit (lock held) on every order creation, every transition (natural, when a
due move is applied; forced by the control plane; fired by a clock advance) and every
balance change. An emit is a tuple appended to a bounded deque and, only when someone
listens, one flag check per subscriber: nothing grows with the number of listeners'
backlogs, because a subscriber holds no queue of its own, only its place in the log. One
that falls behind by more than the log keeps is told so by a `gap` event.

Ids are integers, ascending, never reused while the process runs (a reset keeps counting
and is itself an event), so a client resumes from the last id it saw.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import islice
from typing import Any

from .clock import iso_ms

DEFAULT_SIZE = 10_000
# An event: (id, at_us, api, account_id, kind, cause, data).
Event = tuple[int, int, str, str, str, str, dict[str, Any]]

CREATED, TRANSITION, BALANCE, RESET, GAP = "order.created", "order.transition", "balance", "reset", "gap"
NATURAL, FORCED, ADVANCE, CONTROL, REQUEST = "natural", "forced", "advance", "control", "request"


class Later:
    """A field rendered when the event is read, not when it is emitted: a 247xd order's
    uuid costs microseconds to derive, more than the rest of an emit."""

    __slots__ = ("make", "arg")

    def __init__(self, make: Callable[[int], object], arg: int) -> None:
        self.make = make
        self.arg = arg

    def __call__(self) -> object:
        return self.make(self.arg)


def fields(data: dict[str, Any]) -> dict[str, Any]:
    """An event's data with its Later fields rendered."""
    return {name: value() if isinstance(value, Later) else value for name, value in data.items()}


class Subscriber:
    """One listener: woken (from any thread) when something new is emitted."""

    __slots__ = ("wake", "pending")

    def __init__(self, wake: Callable[[], object]) -> None:
        self.wake = wake  # thread-safe; sets the listener's asyncio.Event, say
        self.pending = False  # woken and not yet read: further emits need not wake again

    def notify(self) -> None:
        if not self.pending:
            self.pending = True
            self.wake()


class EventLog:
    """The last `size` events and the subscribers waiting for more. Callers hold the
    emulator lock (emitters and readers alike)."""

    __slots__ = ("buffer", "next_id", "subscribers", "cause", "capture")

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.buffer: deque[Event] = deque(maxlen=size)
        self.next_id = 1
        self.subscribers: list[Subscriber] = []
        # Why a natural move happens now: applied by a read, or fired by a clock advance.
        self.cause = NATURAL
        # While a clock advance runs: the transitions it fires, for its answer.
        self.capture: list[Event] | None = None

    @property
    def size(self) -> int:
        return self.buffer.maxlen or 0

    @property
    def last(self) -> int:
        """The id of the newest event, 0 before any."""
        return self.next_id - 1

    def emit(
        self, api: str, account_id: str, kind: str, data: dict[str, Any], at_us: int, cause: str = ""
    ) -> None:
        event = (self.next_id, at_us, api, account_id, kind, cause, data)
        self.next_id += 1
        self.buffer.append(event)
        if self.capture is not None and kind == TRANSITION:
            self.capture.append(event)
        for subscriber in self.subscribers:
            subscriber.notify()

    def transition(
        self, api: str, account_id: str, order_id: object, old: str, new: str, at_us: int, cause: str = ""
    ) -> None:
        data = {"orderId": order_id, "from": old, "to": new}
        self.emit(api, account_id, TRANSITION, data, at_us, cause or self.cause)

    @contextmanager
    def advancing(self) -> Iterator[list[Event]]:
        """Natural moves in this block are a clock advance's: marked so, and collected."""
        fired: list[Event] = []
        self.cause, self.capture = ADVANCE, fired
        try:
            yield fired
        finally:
            self.cause, self.capture = NATURAL, None

    def since(
        self, after: int, api: str | None = None, account_id: str | None = None, limit: int | None = None
    ) -> tuple[list[Event], int]:
        """Events after id `after` that match, oldest first, with a leading `gap` event when
        some of them are no longer kept; and the id to resume from (the last one looked at)."""
        buffer = self.buffer
        if after > self.last:  # an id of an earlier run: everything kept is news
            after = 0
        if not buffer or after == self.last:
            return [], self.last
        first = buffer[0][0]
        found: list[Event] = []
        if after + 1 < first:
            lost = {"from": after + 1, "to": first - 1, "missed": first - 1 - after}
            found.append((first - 1, buffer[0][1], "", "", GAP, "", lost))
        start = max(after + 1 - first, 0)
        cursor = after
        for event in islice(buffer, start, None):
            cursor = event[0]
            if (api is None or event[2] == api or not event[2]) and (
                account_id is None or event[3] == account_id or not event[3]
            ):
                found.append(event)
                if limit is not None and len(found) >= limit:
                    break
        return found, cursor

    def subscribe(self, wake: Callable[[], object]) -> Subscriber:
        subscriber = Subscriber(wake)
        self.subscribers.append(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber in self.subscribers:
            self.subscribers.remove(subscriber)


def render(event: Event) -> dict[str, Any]:
    """An event as the control plane shows it."""
    event_id, at_us, api, account_id, kind, cause, data = event
    shown: dict[str, Any] = {"id": event_id, "kind": kind, "at": iso_ms(at_us)}
    if api:
        shown["api"] = api
    if account_id:
        shown["accountId"] = account_id
    if cause:
        shown["cause"] = cause
    shown.update(fields(data))
    return shown
