"""Checks for the state file's columnar orders (docs/state.md "Orders in columns"): a
column is checked as a whole, in C where it can be, and the first bad entry named."""

from __future__ import annotations

from typing import Any

from . import validate as v
from .errors import FieldError


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
