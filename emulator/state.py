"""The whole emulator's state as one JSON document, and the state file that keeps it.

`GET /_emulator/state` answers `export()`; `PUT /_emulator/state` and `serve --state-file`
read a document with `parse()`, which builds new objects and touches nothing live, then
`Emulator.install` swaps them in: all or nothing. The journal is not part of the state.

Durability (`--state-file PATH`): after every acknowledged write (an API request other
than GET answered below 400, a control-plane request other than GET/HEAD answered below
400) and before its response is sent, the whole document is written to PATH.tmp, flushed
to disk, renamed over PATH and the directory flushed. A crash leaves either the old or
the new document, never a torn one. Clock time passing is not a write: a running clock is
saved with the wall-clock instant it was read at and runs on at the same offset.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from emulator.core import faults as core_faults
from emulator.core.clock import Clock
from emulator.core.errors import FieldError
from emulator.core.faults import Fault, FaultRegistry, FaultTarget
from emulator.core.ids import IdSource, set_random_state
from emulator.core.types import ASGIApp, Message, Receive, Scope, Send
from emulator.runtime import Domain, Emulator
from emulator.usdtlowfee import snapshot as usdtlowfee_state
from emulator.xd247 import snapshot as xd247_state

VERSION = 1
SECTIONS = ("version", "ids", "clock", "faults", "247xd", "usdtlowfee")
log = logging.getLogger("emulator")


class StateError(ValueError):
    """A state document that cannot be used: `path reason`, the path of the first problem."""


def export(emu: Emulator) -> dict[str, Any]:
    """The state document. The caller holds the emulator lock."""
    return {
        "version": VERSION,
        "ids": emu.ids.snapshot(),
        "clock": emu.clock.snapshot(),
        "faults": emu.faults.snapshot(),
        "247xd": xd247_state.export(emu.xd247),
        "usdtlowfee": usdtlowfee_state.export(emu.usdtlowfee),
    }


def dumps(emu: Emulator) -> bytes:
    return orjson.dumps(export(emu))


def parse(doc: Any, targets: Sequence[FaultTarget]) -> Domain:
    """Build everything a document describes, touching nothing live; StateError names
    the first bad field. `targets`: the APIs faults may name (emulator.apis)."""
    try:
        return _parse(doc, targets)
    except FieldError as exc:
        raise StateError(f"{exc.field} {exc.reason}") from None
    except StateError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        # The sections' checks cover every field; this catches what they missed, as a 400.
        raise StateError(f"the document is inconsistent: {exc}") from None


def _parse(doc: Any, targets: Sequence[FaultTarget]) -> Domain:
    if not isinstance(doc, dict):
        raise FieldError("(document)", "must be a JSON object")
    if doc.get("version") != VERSION or isinstance(doc.get("version"), bool):
        raise FieldError("version", f"must be {VERSION}")
    for section in SECTIONS:
        if section not in doc:
            raise FieldError(section, "is required")
    unknown = sorted(set(doc) - set(SECTIONS) - {"$comment"})
    if unknown:
        raise FieldError(unknown[0], "is not a section of a state document")
    ids = IdSource.restore(doc["ids"], "ids.")
    clock = Clock.restore(doc["clock"], "clock.")
    xd247 = xd247_state.restore(doc["247xd"], clock, ids)
    usdtlowfee = usdtlowfee_state.restore(doc["usdtlowfee"], clock, ids)
    faults = _faults(doc["faults"], ids.seed, targets)
    return Domain(clock, ids, xd247, usdtlowfee, faults)


def _faults(doc: Any, seed: int, targets: Sequence[FaultTarget]) -> FaultRegistry:
    path = "faults."
    if not isinstance(doc, dict):
        raise FieldError("faults", "must be an object")
    next_id = doc.get("next")
    if isinstance(next_id, bool) or not isinstance(next_id, int) or not 1 <= next_id < 2**63:
        raise FieldError(path + "next", "must be a positive integer")
    rng = random.Random(f"faults:{seed}")
    set_random_state(rng, doc.get("random"), path + "random")
    listed = doc.get("faults")
    if not isinstance(listed, list):
        raise FieldError(path + "faults", "must be a list")
    faults: list[Fault] = []
    seen: set[str] = set()
    for i, raw in enumerate(listed):
        where = f"{path}faults[{i}]."
        if not isinstance(raw, dict):
            raise FieldError(where.rstrip("."), "must be an object")
        fault_id = raw.get("faultId")
        if not isinstance(fault_id, str):
            raise FieldError(where + "faultId", "must be a string")
        number = fault_id[6:] if fault_id.startswith("fault-") else ""
        if not number.isdecimal() or not number.isascii() or not 1 <= int(number) < next_id:
            raise FieldError(where + "faultId", f"must be fault-N with N from 1 to {path}next - 1")
        if fault_id in seen:
            raise FieldError(where + "faultId", "is listed twice")
        seen.add(fault_id)
        injected = raw.get("injected")
        if isinstance(injected, bool) or not isinstance(injected, int) or not 0 <= injected < 2**63:
            raise FieldError(where + "injected", "must be an integer >= 0")
        try:
            fields = core_faults.parse(raw, targets)
        except FieldError as exc:
            raise StateError(f"{where}{exc.field} {exc.reason}") from None
        faults.append(Fault(id=fault_id, injected=injected, **fields))
    registry = FaultRegistry(seed)
    registry.restore(faults, next_id, rng)
    return registry


def load(raw: bytes, emu: Emulator, targets: Sequence[FaultTarget]) -> None:
    """Parse a document's bytes and install it: all or nothing (StateError)."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise StateError(f"(document) is not valid JSON: {exc}") from None
    domain = parse(doc, targets)
    with emu.lock:
        emu.install(domain, "state")


# --- the state file -------------------------------------------------------------------


class StateFileError(Exception):
    """The state file cannot be used; start-up stops with this one-line message."""


class StateFile:
    """PATH holds the last acknowledged state; PATH.tmp is the one being written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = path.with_name(path.name + ".tmp")
        self.directory = path.parent if str(path.parent) else Path(".")

    def read(self) -> bytes | None:
        """The file's bytes; None when there is none."""
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateFileError(f"cannot read state file {self.path}: {exc.strerror}") from None

    def write(self, data: bytes) -> None:
        fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(self.tmp, self.path)
        # The rename itself is durable once the directory is.
        dir_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def open_state_file(path: Path, emu: Emulator, targets: Sequence[FaultTarget]) -> StateFile:
    """Load PATH into the emulator (or create it from the current state when there is
    none) and make every later write durable there. A file that cannot be read or used
    stops start-up (StateFileError) and is left as it is."""
    state_file = StateFile(path)
    raw = state_file.read()
    if raw is not None:
        try:
            load(raw, emu, targets)
        except StateError as exc:
            message = " ".join(str(exc).split())  # one line, whatever the parser said
            raise StateFileError(f"state file {path} is not a usable state document: {message}") from None
    else:
        try:
            with emu.lock:
                state_file.write(dumps(emu))
        except OSError as exc:
            raise StateFileError(f"cannot write state file {path}: {exc.strerror}") from None

    def persist() -> None:  # called with the emulator lock held
        state_file.write(dumps(emu))

    with emu.lock:
        emu.after_write = persist
    return state_file


class PersistControlWrites:
    """ASGI middleware around the control plane: after a write it acknowledges (any method
    but GET/HEAD, status below 400) and before the response starts, the emulator's
    `after_write` runs. Without a state file it is one attribute check per request."""

    def __init__(self, app: ASGIApp, emulator: Emulator) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        emu = self.emulator
        if scope["type"] != "http" or emu.after_write is None or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        failed = False

        async def persist_then_send(message: Message) -> None:
            nonlocal failed
            if message["type"] == "http.response.start" and message["status"] < 400:
                hook = emu.after_write
                try:
                    if hook is not None:
                        with emu.lock:
                            hook()
                except OSError:
                    log.exception("cannot write the state file")
                    failed = True
                    body = orjson.dumps(
                        {"error": {"code": "INTERNAL_ERROR", "message": "cannot write the state file"}}
                    )
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 500,
                            "headers": [
                                (b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
            elif failed:
                return  # the original body of a response replaced by the 500
            await send(message)

        await self.app(scope, receive, persist_then_send)
