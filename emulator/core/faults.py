"""Faults injected per route (WireMock's and LocalStack's chaos): an error in the API's own
envelope, a delay, or a connection closed with no response.

A fault names an API, optionally a method, a route template and an account; it matches a
request after routing and before auth (an account fault: once the key is resolved). Its
phase says when it strikes: `before` instead of serving, `after` once the request was
served and committed (the pipeline replaces the answer and journals the one withheld).
The registry is consulted only while `active` is true, so with no faults the request path
pays one attribute check.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import validate as v
from .errors import ApiError, FieldError
from .types import Receive

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
CODE_RE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
MAX_LATENCY_MS = 60_000
MAX_TIMES = 1_000_000_000
# Error statuses only: a 1xx is not a final response, and a 2xx/3xx fault would have to
# invent a success body.
LOWEST_STATUS, HIGHEST_STATUS = 400, 599
PHASES = ("before", "after")


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
    phase: str = "before"  # "after": the request is served (and committed), then its answer replaced
    account_id: str | None = None  # only this account's requests (resolved from their key)
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
            "phase": self.phase,
            "accountId": self.account_id,
            "injected": self.injected,
        }


@dataclass(frozen=True, slots=True)
class FaultTarget:
    """An API as a fault names it: its route templates (each with its methods) and the
    error it injects for a status (code and message defaulted by the API's own table)."""

    api: str
    templates: dict[str, list[str]]
    error: Callable[[int, str | None, str | None, int], ApiError]


def _target(data: dict[str, Any], targets: Sequence[FaultTarget]) -> FaultTarget:
    name = v.string(data, "api", max_len=32)
    for target in targets:
        if target.api == name:
            return target
    raise FieldError("api", f"must be one of {', '.join(t.api for t in targets)}")


def parse(data: dict[str, Any], targets: Sequence[FaultTarget]) -> dict[str, Any]:
    """The fields of a fault (control plane body, state document), validated: FieldError
    names the first bad one. null counts as not given."""
    target = _target(data, targets)
    templates = target.templates
    path = None
    if v.optional(data, "path"):
        path = v.string(data, "path", max_len=500)
        if path not in templates:
            listed = ", ".join(templates)
            raise FieldError("path", f"must be one of the {target.api} route templates: {listed}")
    method = None
    if v.optional(data, "method"):
        method = v.string(data, "method", max_len=16).upper()
        allowed = templates[path] if path is not None else METHODS
        if method not in allowed:
            where = f" on {path}" if path is not None else ""
            raise FieldError("method", f"must be one of {', '.join(allowed)}{where}")
    status = None
    if v.optional(data, "status"):
        status = v.integer(data, "status", low=LOWEST_STATUS, high=HIGHEST_STATUS)
    code = None
    if v.optional(data, "code"):
        code = v.string(data, "code", max_len=64)
        if CODE_RE.fullmatch(code) is None:
            raise FieldError("code", "must be upper-case letters, digits and _ (like NOT_FOUND)")
    message = v.string(data, "message", max_len=1000) if v.optional(data, "message") else None
    latency = v.integer(data, "latencyMs", low=0, high=MAX_LATENCY_MS) if v.optional(data, "latencyMs") else 0
    drop = v.boolean(data, "drop") if v.optional(data, "drop") else False
    times = v.integer(data, "times", low=1, high=MAX_TIMES) if v.optional(data, "times") else None
    probability = 1.0
    if v.optional(data, "probability"):
        probability = v.number(data, "probability", low=0)
        if probability > 1:
            raise FieldError("probability", "must be at most 1")
    phase = "before"
    if v.optional(data, "phase"):
        phase = v.string(data, "phase", max_len=16)
        if phase not in PHASES:
            raise FieldError("phase", f"must be one of {', '.join(PHASES)}")
    account_id = v.string(data, "accountId", max_len=64) if v.optional(data, "accountId") else None
    if drop and status is not None:
        raise FieldError("drop", "excludes status (a dropped connection has no response)")
    for name, value in (("code", code), ("message", message)):
        if value is not None and status is None:
            raise FieldError(name, "needs a status")
    if status is None and not drop and latency == 0:
        raise FieldError("status", "is required unless the fault drops (drop) or delays (latencyMs)")
    if status is not None and code is None:
        code = target.error(status, None, None, 1).code
    return {
        "api": target.api,
        "method": method,
        "path": path,
        "status": status,
        "code": code,
        "message": message,
        "latency_ms": latency,
        "drop": drop,
        "times": times,
        "probability": float(probability),
        "phase": phase,
        "account_id": account_id,
    }


class FaultRegistry:
    """The faults in force. Callers hold the emulator lock around every method.

    An exhausted fault (`times` reached) stays listed, with its `injected` count, and
    injects nothing more; DELETE removes it.
    """

    __slots__ = ("active", "by_account", "_faults", "_rng", "_next")

    def __init__(self, seed: int = 0) -> None:
        self.active = False
        # True while an active fault names an account: only then does the pipeline resolve
        # the key before picking.
        self.by_account = False
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

    def pick(
        self, api: str, method: str, template: str | None, account_id: str | None = None
    ) -> Fault | None:
        """The fault to inject into this request, counted as injected, or None.

        The newest matching fault whose probability draw succeeds wins (WireMock: the
        most recently added stub wins); at most one fault per request. A fault without
        a path matches every request of its API, unrouted ones included. A fault naming an
        account matches only requests whose key resolved to it (`account_id`).
        """
        for fault in reversed(self._faults.values()):
            if fault.api != api or fault.exhausted:
                continue
            if fault.method is not None and fault.method != method:
                continue
            if fault.path is not None and fault.path != template:
                continue
            if fault.account_id is not None and fault.account_id != account_id:
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
        live = [fault for fault in self._faults.values() if not fault.exhausted]
        self.active = bool(live)
        self.by_account = any(fault.account_id is not None for fault in live)


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
