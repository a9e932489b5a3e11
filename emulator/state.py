"""The whole emulator's state as one JSON document: export, parse, load.

`GET /_emulator/state` answers `export()`; `PUT /_emulator/state` and `serve --state-file`
read a document with `parse()`, which builds new objects and touches nothing live, then
`Emulator.install` swaps them in: all or nothing. The journal is not part of the state.

The state file (`--state-file PATH`) is such a document plus a write-ahead log of the
commands applied since: emulator/durable.py, docs/durability.md.
"""

from __future__ import annotations

import ctypes
import logging
import random
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from emulator.core import faults as core_faults
from emulator.core.clock import Clock
from emulator.core.errors import FieldError
from emulator.core.faults import Fault, FaultRegistry, FaultTarget
from emulator.core.ids import IdSource, set_random_state
from emulator.core.snapshot import json_parts
from emulator.runtime import Domain, Emulator
from emulator.usdtlowfee import snapshot as usdtlowfee_state
from emulator.xd247 import snapshot as xd247_state

VERSION = 1
SECTIONS = ("version", "ids", "clock", "faults", "247xd", "usdtlowfee")
log = logging.getLogger("emulator")


class StateError(ValueError):
    """A state document that cannot be used: `path reason`, the path of the first problem."""


def export(emu: Emulator, columns: bool = False) -> dict[str, Any]:
    """The state document. The caller holds the emulator lock. `columns`: the orders in
    columns (the state file's form, docs/state.md "Orders in columns"; the columns are
    the live arrays, for core/snapshot.json_parts to encode, see snapshot_parts), else
    one object an order (what GET /_emulator/state answers)."""
    return {
        "version": VERSION,
        "ids": emu.ids.snapshot(),
        "clock": emu.clock.snapshot(),
        "faults": emu.faults.snapshot(),
        "247xd": xd247_state.export(emu.xd247, columns),
        "usdtlowfee": usdtlowfee_state.export(emu.usdtlowfee, columns),
    }


def dumps(emu: Emulator) -> bytes:
    """GET /_emulator/state's document."""
    return orjson.dumps(export(emu))


def snapshot(emu: Emulator) -> bytes:
    """The state file's snapshot: the same state with the orders in columns, which loads
    (and is written) many times faster; `load` and PUT /_emulator/state read both forms."""
    return b"".join(snapshot_parts(emu))


def snapshot_parts(emu: Emulator) -> Iterator[bytes]:
    """snapshot()'s bytes in pieces of a fraction of a millisecond's encoding each
    (core/snapshot.json_parts). The columns are read as the pieces are made: take them
    all while the state cannot change (the lock held, or in a compaction's child)."""
    return json_parts(export(emu, columns=True))


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
    try:
        domain = parse(doc, targets)
    finally:
        del doc
        if len(raw) > TRIM_AFTER_BYTES:
            release_memory()
    with emu.lock:
        emu.install(domain, "state")


# A parsed document of this size leaves tens of MB of freed memory in the allocator.
TRIM_AFTER_BYTES = 1 << 20


def release_memory() -> None:
    """Hand the memory a large document's parse or export freed back to the OS (glibc
    keeps it otherwise: a server that imported 100,000 orders as rows stays ~60 MB
    larger, and a larger process forks slower for the state file's compaction)."""
    if _TRIM is not None:
        _TRIM(0)


try:
    _TRIM: Any = ctypes.CDLL(None).malloc_trim
except (OSError, AttributeError):  # not glibc
    _TRIM = None
