"""The event log: what happened to orders and balances, in order, for the control plane's
event stream (`GET /_emulator/events`). Not part of either vendor's API.

The backends emit (lock held) on every order creation, every transition (natural, when a
due move is applied; forced by the control plane; fired by a clock advance) and every
balance change. An emit stores into the slots of a bounded ring (EventLog) and, only
when someone listens, does one flag check per subscriber: nothing grows with the number
of listeners' backlogs, because a subscriber holds no queue of its own, only its place in the log. One
that falls behind by more than the log keeps is told so by a `gap` event.

Ids are integers, ascending, never reused while the process runs (a reset keeps counting
and is itself an event), so a client resumes from the last id it saw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    emulator lock (emitters and readers alike).

    Kept in columns, a list per field used as a ring, not as a tuple an event: an emit
    stores into list slots and allocates nothing the cyclic collector tracks (an event's
    data holds only strings and numbers; a 247xd order's uuid is rendered from its number
    when read, by the book's `uuid` function kept in a column of its own). A tuple, a dict
    and a Later an event, kept for 10,000 events, were each a young object that the
    collector never got to while the log turned over (each event pushed out freed an old
    one, so the count that starts a collection stood still); the first collection after
    that, set off by a burst of new connections, walked some 30,000 objects and stalled
    the server 5 to 13 ms, and passed them on to the older generations' passes."""

    __slots__ = ("_size", "_at", "_api", "_account", "_kind", "_cause", "_data", "_uuid",
                 "next_id", "subscribers", "cause", "capture")

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._size = size
        # Event `id` is at index (id - 1) % size; the lists grow to `size`, then wrap.
        self._at: list[int] = []
        self._api: list[str] = []
        self._account: list[str] = []
        self._kind: list[str] = []
        self._cause: list[str] = []
        self._data: list[dict[str, Any]] = []
        self._uuid: list[Callable[[int], object] | None] = []
        self.next_id = 1
        self.subscribers: list[Subscriber] = []
        # Why a natural move happens now: applied by a read, or fired by a clock advance.
        self.cause = NATURAL
        # While a clock advance runs: the transitions it fires, for its answer.
        self.capture: list[Event] | None = None

    @property
    def size(self) -> int:
        return self._size

    @property
    def last(self) -> int:
        """The id of the newest event, 0 before any."""
        return self.next_id - 1

    @property
    def kept(self) -> int:
        """How many events the log holds now."""
        return len(self._at)

    def emit(
        self, api: str, account_id: str, kind: str, data: dict[str, Any], at_us: int, cause: str = "",
        uuid: Callable[[int], object] | None = None,
    ) -> None:
        """`uuid`: data["orderId"] is an order number, shown as uuid(number) when read."""
        event_id = self.next_id
        self.next_id = event_id + 1
        if len(self._at) < self._size:
            self._at.append(at_us)
            self._api.append(api)
            self._account.append(account_id)
            self._kind.append(kind)
            self._cause.append(cause)
            self._data.append(data)
            self._uuid.append(uuid)
        else:
            i = (event_id - 1) % self._size
            self._at[i] = at_us
            self._api[i] = api
            self._account[i] = account_id
            self._kind[i] = kind
            self._cause[i] = cause
            self._data[i] = data
            self._uuid[i] = uuid
        if self.capture is not None and kind == TRANSITION:
            self.capture.append(self._event(event_id))
        for subscriber in self.subscribers:
            subscriber.notify()

    def _event(self, event_id: int) -> Event:
        i = (event_id - 1) % self._size
        data = self._data[i]
        uuid = self._uuid[i]
        if uuid is not None:
            data = {**data, "orderId": Later(uuid, data["orderId"])}
        return (event_id, self._at[i], self._api[i], self._account[i], self._kind[i], self._cause[i], data)

    def transition(
        self, api: str, account_id: str, order_id: object, old: str, new: str, at_us: int, cause: str = "",
        uuid: Callable[[int], object] | None = None,
    ) -> None:
        data = {"orderId": order_id, "from": old, "to": new}
        self.emit(api, account_id, TRANSITION, data, at_us, cause or self.cause, uuid)

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
        last = self.last
        if after > last:  # an id of an earlier run: everything kept is news
            after = 0
        if not self._at or after == last:
            return [], last
        first = self.next_id - len(self._at)
        found: list[Event] = []
        if after + 1 < first:
            lost = {"from": after + 1, "to": first - 1, "missed": first - 1 - after}
            found.append((first - 1, self._at[(first - 1) % self._size], "", "", GAP, "", lost))
        cursor = after
        size, apis, accounts = self._size, self._api, self._account
        for event_id in range(max(after + 1, first), last + 1):
            cursor = event_id
            i = (event_id - 1) % size
            if (api is None or apis[i] == api or not apis[i]) and (
                account_id is None or accounts[i] == account_id or not accounts[i]
            ):
                found.append(self._event(event_id))
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
