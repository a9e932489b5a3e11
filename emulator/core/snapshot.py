"""The state file's columnar orders (docs/state.md "Orders in columns"): checks, where a
column is checked as a whole, in C where it can be, and the first bad entry named; and
the encoder that writes a snapshot a slice at a time (json_parts)."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Any

import orjson

from . import validate as v
from .errors import FieldError

# Rows a piece of json_parts holds: about 0.3 ms of encoding for the widest column.
SLICE_ROWS = 4096
_dumps = orjson.dumps


class IntColumn:
    """A column of integers (an array or a bytearray) in a document for json_parts: a JSON
    list, encoded a slice at a time; no list of the whole column is ever built."""

    __slots__ = ("values",)

    def __init__(self, values: array[int] | bytearray) -> None:
        self.values = values


class HexColumn:
    """`width` bytes a row as one JSON string of lower-case hex digits, a slice at a time."""

    __slots__ = ("values", "width")

    def __init__(self, values: bytes | bytearray, width: int) -> None:
        self.values = values
        self.width = width


def json_parts(value: object, rows: int = SLICE_ROWS) -> Iterator[bytes]:
    """`value` as JSON, in pieces: joined, exactly the bytes orjson.dumps gives for the
    same value with its columns as lists (dict keys are strings; the columns are values
    of dicts, as the state document has them, not items of lists). No piece encodes more
    than `rows` items of a list or column, so a caller can pause between pieces: a
    compaction child gives the server's core back every fraction of a millisecond
    (emulator/durable.py) instead of holding it for one long encoding."""
    if type(value) is dict:
        sep = b"{"
        for key, item in value.items():
            yield sep + _dumps(key) + b":"
            sep = b","
            yield from json_parts(item, rows)
        yield b"{}" if sep == b"{" else b"}"
    elif type(value) is list and len(value) > rows:
        for start in range(0, len(value), rows):
            yield (b"[" if start == 0 else b",") + _dumps(value[start : start + rows])[1:-1]
        yield b"]"
    elif type(value) is IntColumn:
        values = value.values
        if not values:
            yield b"[]"
            return
        for start in range(0, len(values), rows):
            part = values[start : start + rows]
            items = part.tolist() if type(part) is array else list(part)
            yield (b"[" if start == 0 else b",") + _dumps(items)[1:-1]
        yield b"]"
    elif type(value) is HexColumn:
        data, step = value.values, rows * value.width
        yield b'"'
        for start in range(0, len(data), step):
            yield data[start : start + step].hex().encode()
        yield b'"'
    else:
        yield _dumps(value)


def ints(cols: dict[str, Any], name: str, path: str, count: int, low: int, high: int) -> list[int]:
    """A column of `count` integers from `low` to `high`."""
    col = cols.get(name)
    if not isinstance(col, list) or len(col) != count:
        raise FieldError(path + name, f"must be a list of {count} integers (orders.count)")
    if count and (set(map(type, col)) != {int} or min(col) < low or max(col) > high):
        bad = next(i for i, x in enumerate(col) if type(x) is not int or not low <= x <= high)
        raise FieldError(f"{path}{name}[{bad}]", f"must be an integer from {low} to {high}")
    return col


def pairs(cols: dict[str, Any], name: str, path: str, rows: set[int] | range) -> list[tuple[str, int, Any]]:
    """A sparse column: [row, value] pairs, each row one of `rows` and named once;
    (path of the pair, row, value) each."""
    out = []
    seen: set[int] = set()
    for i, pair in enumerate(v.list_of(cols, name, path)):
        where = f"{path}{name}[{i}]"
        if not isinstance(pair, list) or len(pair) != 2 or type(pair[0]) is not int:
            raise FieldError(where, "must be a [row, value] pair")
        if pair[0] not in rows or pair[0] in seen:
            raise FieldError(where, f"names row {pair[0]}, not a row it may name (or named twice)")
        seen.add(pair[0])
        out.append((where, pair[0], pair[1]))
    return out


def form(cols: object, path: str) -> dict[str, Any]:
    if not isinstance(cols, dict) or cols.get("form") != "columns":
        raise FieldError(path + "form", 'must be "columns"')
    return cols
