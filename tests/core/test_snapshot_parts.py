"""core/snapshot.json_parts: the state file's snapshot encoded in pieces, so that a
compaction child can pause between them (emulator/durable.py, Pacer)."""

from __future__ import annotations

from array import array
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.core.snapshot import HexColumn, IntColumn, json_parts

atoms = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False) | st.text()


def columns() -> st.SearchStrategy[tuple[object, object]]:
    """(a column as a document holds it for json_parts, the same as plain JSON)."""
    ints = st.lists(st.integers(0, 2**63 - 1), max_size=40).map(lambda xs: (IntColumn(array("q", xs)), xs))
    small = st.lists(st.integers(0, 255), max_size=40).map(lambda xs: (IntColumn(bytearray(xs)), xs))
    rows = st.binary(max_size=64).map(lambda b: b[: len(b) // 4 * 4])  # 4 bytes a row
    hexes = rows.map(lambda b: (HexColumn(b, 4), b.hex()))
    return ints | small | hexes


plain_json = st.recursive(atoms, lambda inner: st.lists(inner, max_size=12)
                          | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=20)


def documents() -> st.SearchStrategy[tuple[object, object]]:
    """Pairs (document with columns, the plain document): nested dicts, columns only as
    a dict's values (as the state document has them), any JSON elsewhere."""
    return st.recursive(
        plain_json.map(lambda a: (a, a)),
        lambda inner: st.dictionaries(st.text(max_size=6), inner | columns(), max_size=6).map(
            lambda d: ({k: a for k, (a, _) in d.items()}, {k: b for k, (_, b) in d.items()})
        ),
        max_leaves=12,
    )


@settings(max_examples=300, deadline=None)
@given(documents(), st.integers(1, 8))
def test_the_pieces_joined_are_orjsons_bytes_for_the_plain_document(pair: tuple[Any, Any], rows: int) -> None:
    doc, plain = pair
    assert b"".join(json_parts(doc, rows)) == orjson.dumps(plain)


def largest(parts: list[bytes]) -> int:
    return max(map(len, parts))


def test_no_piece_encodes_more_than_its_rows() -> None:
    big = [2**62 + n for n in range(10_000)]  # 19 digits and a comma each
    bound = 100 * 20 + 2  # 100 of them and a bracket
    assert largest(list(json_parts({"count": 1, "a": IntColumn(array("q", big))}, 100))) <= bound
    assert largest(list(json_parts({"count": 1, "b": big}, 100))) <= bound  # long lists too
    assert largest(list(json_parts({"c": HexColumn(bytes(320_000), 32)}, 100))) <= 100 * 32 * 2
    # The check catches an encoder that encodes a column in one go.
    assert largest([orjson.dumps({"a": big})]) > bound
