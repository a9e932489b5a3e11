"""Faults injected per route (WireMock's and LocalStack's chaos): an error in the API's own
envelope, a delay, or a connection closed with no response.

A fault names an API, optionally a method and a route template; it matches a request
after routing and before auth. The registry is consulted only while `active` is true,
so with no faults the request path pays one attribute check.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


@dataclass(slots=True)
class Fault:
    id: str
    api: str
    method: str | None = None
    path: str | None = None  # a route template relative to the API's prefix
    status: int | None = None
    code: str | None = None
    message: str | None = None  # None: the API's own message for the code
    latency_ms: int = 0
    drop: bool = False
    times: int | None = None
    probability: float = 1.0
    injected: int = 0

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.injected >= self.times

    def view(self) -> dict[str, Any]:
        return {
            "faultId": self.id,
            "api": self.api,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "latencyMs": self.latency_ms,
            "drop": self.drop,
            "times": self.times,
            "probability": self.probability,
            "injected": self.injected,
        }


class FaultRegistry:
    """The faults in force. Callers hold the emulator lock around every method.

    An exhausted fault (`times` reached) stays listed, with its `injected` count, and
    injects nothing more; DELETE removes it.
    """

    __slots__ = ("active", "_faults", "_rng", "_next")

    def __init__(self, seed: int = 0) -> None:
        self.active = False
        self._faults: dict[str, Fault] = {}
        # Its own random source, seeded from the emulator seed: drawing for `probability`
        # never shifts the ids, codes and numbers the APIs generate.
        self._rng = random.Random(f"faults:{seed}")
        self._next = 1

    def add(self, **fields: Any) -> Fault:
        fault = Fault(id=f"fault-{self._next}", **fields)
        self._next += 1
        self._faults[fault.id] = fault
        self._refresh()
        return fault

    def get(self, fault_id: str) -> Fault | None:
        return self._faults.get(fault_id)

    def remove(self, fault_id: str) -> bool:
        found = self._faults.pop(fault_id, None) is not None
        self._refresh()
        return found

    def clear(self) -> None:
        self._faults.clear()
        self._refresh()

    def all(self) -> list[Fault]:
        return list(self._faults.values())

    def snapshot(self) -> dict[str, Any]:
        """For the state document: the faults, the next id and the probability draws' position."""
        version, internal, gauss = self._rng.getstate()
        return {
            "next": self._next,
            "random": [version, list(internal), gauss],
            "faults": [fault.view() for fault in self._faults.values()],
        }

    def restore(self, faults: list[Fault], next_id: int, rng: random.Random) -> None:
        """Put validated faults back (emulator/state.py checks them)."""
        self._faults = {fault.id: fault for fault in faults}
        self._next = next_id
        self._rng = rng
        self._refresh()

    def pick(self, api: str, method: str, template: str | None) -> Fault | None:
        """The fault to inject into this request, counted as injected, or None.

        The newest matching fault whose probability draw succeeds wins (WireMock: the
        most recently added stub wins); at most one fault per request. A fault without
        a path matches every request of its API, unrouted ones included.
        """
        for fault in reversed(self._faults.values()):
            if fault.api != api or fault.exhausted:
                continue
            if fault.method is not None and fault.method != method:
                continue
            if fault.path is not None and fault.path != template:
                continue
            chance = fault.probability
            # Certain and impossible faults draw nothing, so they leave the sequence alone.
            if chance < 1 and (chance <= 0 or self._rng.random() >= chance):
                continue
            fault.injected += 1
            if fault.exhausted:
                self._refresh()
            return fault
        return None

    def _refresh(self) -> None:
        self.active = any(not fault.exhausted for fault in self._faults.values())


class ConnectionDropped(ConnectionError):
    """A `drop` fault, in-process: there is no socket to close, so the client (the test
    client, httpx's ASGITransport) gets this exception instead of a response."""


async def drop_connection(receive: Receive) -> None:
    """Close the client's connection without a byte of response.

    ASGI has no message for that, and uvicorn answers 500 to an app that returns or
    raises without responding, unless the client is gone. So, served by uvicorn (whose
    `receive` is a method of the request cycle that holds the transport), close the
    transport and wait for uvicorn to see the disconnect; after that it sends nothing.
    Anywhere else, raise ConnectionDropped.
    """
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    close = getattr(transport, "close", None)
    if close is None:
        raise ConnectionDropped("the emulator closed the connection without a response (drop fault)")
    close()
    while (await receive())["type"] != "http.disconnect":
        pass
