"""The state file's snapshot form: 247xd orders in columns (emulator/xd247/snapshot.py,
docs/state.md "Orders in columns"). PUT /_emulator/state reads it as it reads the rows,
checks every column as a whole and names the first bad one."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator import state
from emulator.apis import FAULT_TARGETS
from emulator.app import create_app

from .test_state import _DELETE, _edit, _json, frozen_emulator, normalised, ok, populate


def columns_document() -> tuple[bytes, dict[str, Any]]:
    """(GET /_emulator/state's rows, the same state in columns) after a bit of everything."""
    emu = frozen_emulator()
    with TestClient(create_app(emulator=emu)) as client:
        populate(client)
        rows = client.get("/_emulator/state").content
    with emu.lock:
        return rows, orjson.loads(state.snapshot(emu))


ROWS, COLUMNS = columns_document()


def test_the_columns_hold_every_kind_and_load_to_the_same_state() -> None:
    orders = COLUMNS["247xd"]["orders"]
    assert orders["form"] == "columns" and orders["count"] == len(orjson.loads(ROWS)["247xd"]["orders"])
    assert set(orders["kind"]) == {0, 1, 2} and orders["otpCodes"] and orders["deliveries"]
    assert orders["credentials"] and set(orders["refunded"]) != {-1}
    energy = COLUMNS["usdtlowfee"]["orders"]
    assert energy["form"] == "columns" and energy["failureReasons"] and energy["delaysUs"]
    assert len(set(energy["status"])) >= 2  # processing and a terminal one
    with TestClient(create_app(emulator=frozen_emulator(seed=99))) as other:
        assert ok(other.put("/_emulator/state", content=orjson.dumps(COLUMNS))) == {"status": "loaded"}
        assert normalised(ok(other.get("/_emulator/state"))) == normalised(orjson.loads(ROWS))


def test_tables_in_another_order_map_to_the_same_orders() -> None:
    """The tables name accounts, items and statuses: a document whose tables list them in
    another order (its numbers changed to match) is the same state."""
    changed = orjson.loads(orjson.dumps(COLUMNS))
    orders = changed["247xd"]["orders"]
    orders["accounts"].reverse()
    last = len(orders["accounts"]) - 1
    orders["account"] = [last - a for a in orders["account"]]
    for k in range(3):
        orders["statuses"][k].reverse()
        top = len(orders["statuses"][k]) - 1
        pairs = zip(orders["kind"], orders["status"], strict=True)
        orders["status"] = [top - s if kind == k else s for kind, s in pairs]
    emu = frozen_emulator(seed=99)
    state.load(orjson.dumps(changed), emu, FAULT_TARGETS)
    with emu.lock:
        assert normalised(state.export(emu)) == normalised(orjson.loads(ROWS))


ORDERS = ["247xd", "orders"]
ENERGY = ["usdtlowfee", "orders"]
BAD = [
    (ENERGY + ["form"], None, "usdtlowfee.orders.form"),
    (ENERGY + ["id", 1], 1, "usdtlowfee.orders.id[1]"),
    (ENERGY + ["id", 0], 2**62, "usdtlowfee.orders.id[0]"),
    (ENERGY + ["durationHours", 0], 2, "usdtlowfee.orders.durationHours[0]"),
    (ENERGY + ["energyValue", 0], 1, "usdtlowfee.orders.energyValue[0]"),
    (ENERGY + ["addresses", 0], "T123", "usdtlowfee.orders.addresses[0]"),
    (ENERGY + ["accounts", 0], "nobody", "usdtlowfee.orders.accounts[0]"),
    (ENERGY + ["statuses", 0], "shipped", "usdtlowfee.orders.statuses"),
    (ENERGY + ["txids"], "XYZ", "usdtlowfee.orders.txids"),
    (ENERGY + ["failureReasons"], [], "usdtlowfee.orders.failureReasons"),
    (ENERGY + ["delaysUs"], [[0, -1]], "usdtlowfee.orders.delaysUs[0]"),
    (ENERGY + ["movedUs"], [[10**6, 5]], "usdtlowfee.orders.movedUs[0]"),
    (ORDERS + ["form"], "rows", "247xd.orders.form"),
    (ORDERS + ["count"], 10**10, "247xd.orders.count"),
    (ORDERS + ["kind"], [0], "247xd.orders.kind"),
    (ORDERS + ["kind", 0], 3, "247xd.orders.kind[0]"),
    (ORDERS + ["kind", 0], True, "247xd.orders.kind[0]"),
    (ORDERS + ["price", 1], -5, "247xd.orders.price[1]"),
    (ORDERS + ["price", 1], 1.5, "247xd.orders.price[1]"),
    (ORDERS + ["account", 0], 99, "247xd.orders.account[0]"),
    (ORDERS + ["accounts", 0], "nobody", "247xd.orders.accounts[0]"),
    (ORDERS + ["item", 0], 999, "247xd.orders.item[0]"),
    (ORDERS + ["items", 0, 0], "00000000-0000-4000-8000-000000000000", "247xd.orders.items[0]"),
    (ORDERS + ["status", 0], 200, "247xd.orders.status[0]"),
    (ORDERS + ["statuses", 0, 0], "shipped", "247xd.orders.statuses[0]"),
    (ORDERS + ["phone", 0], 10**30 // 10**12, "247xd.orders.phone[0]"),
    (ORDERS + ["createdUs", 0], "yesterday", "247xd.orders.createdUs[0]"),
    (ORDERS + ["otpCodes", 0], [0, "12"], "247xd.orders.otpCodes[0]"),
    (ORDERS + ["otpCodes", 0], "0:1234", "247xd.orders.otpCodes[0]"),
    (ORDERS + ["deliveries"], [], "247xd.orders.deliveries"),
    (ORDERS + ["credentials"], _DELETE, "247xd.orders.credentials"),
]


@pytest.mark.parametrize(("path", "value", "named"), BAD, ids=[b[2] + ":" + repr(b[1])[:20] for b in BAD])
def test_a_bad_column_is_refused_naming_it_and_changes_nothing(
    path: list[Any], value: Any, named: str
) -> None:
    with TestClient(create_app(emulator=frozen_emulator(seed=99))) as client:
        before = client.get("/_emulator/state").content
        response = client.put("/_emulator/state", content=orjson.dumps(_edit(COLUMNS, path, value)))
        assert response.status_code == 400, response.text
        assert response.json()["error"]["message"].startswith(named), response.json()["error"]["message"]
        assert client.get("/_emulator/state").content == before


def test_a_social_row_keeps_its_own_checks() -> None:
    changed = orjson.loads(orjson.dumps(COLUMNS))
    changed["247xd"]["orders"]["deliveries"][0][1]["quantity"] = 0
    with TestClient(create_app(emulator=frozen_emulator(seed=99))) as client:
        response = client.put("/_emulator/state", content=orjson.dumps(changed))
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("247xd.orders.deliveries[0].quantity")


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_junk_anywhere_in_the_columns_is_a_400_never_a_500(data: st.DataObject) -> None:
    path: list[Any] = list(data.draw(st.sampled_from([ORDERS, ENERGY])))
    target: Any = COLUMNS[path[0]]["orders"]
    while isinstance(target, dict | list) and target and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(list(target) if isinstance(target, dict) else range(len(target))))
        path.append(key)
        target = target[key]
    try:
        raw = orjson.dumps(_edit(COLUMNS, path, data.draw(_json)))
    except (TypeError, orjson.JSONEncodeError):
        return  # not JSON (an integer beyond 64 bits)
    with TestClient(create_app(emulator=frozen_emulator(seed=99))) as client:
        before = client.get("/_emulator/state").content
        response = client.put("/_emulator/state", content=raw)
        assert response.status_code in (200, 400), response.text
        if response.status_code == 400:
            assert client.get("/_emulator/state").content == before


def test_the_round_trip_catches_a_column_export_that_drops_a_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deliberately broken copy: forced OTP codes left out of the columns."""
    from emulator.xd247 import snapshot as xd247_snapshot

    real = xd247_snapshot._columns
    monkeypatch.setattr(xd247_snapshot, "_columns", lambda book: {**real(book), "otpCodes": []})
    emu = frozen_emulator()
    with TestClient(create_app(emulator=emu)) as client:
        populate(client)
    loaded = frozen_emulator(seed=99)
    with emu.lock:
        state.load(state.snapshot(emu), loaded, FAULT_TARGETS)
        assert state.dumps(loaded) != state.dumps(emu)


def test_the_snapshot_in_pieces_is_the_same_document() -> None:
    """A compaction child writes state.snapshot_parts, a piece at a time (core/snapshot.py):
    the same bytes as the document with its columns as lists, however it is cut."""
    from emulator.core.snapshot import HexColumn, IntColumn, json_parts

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, IntColumn):
            return list(value.values)
        if isinstance(value, HexColumn):
            return value.values.hex()
        return value

    from emulator.core.clock import pin_wall, wall_us

    emu = frozen_emulator()
    with TestClient(create_app(emulator=emu)) as client:
        populate(client)
    pin_wall(wall_us())  # an account with a running clock of its own: one instant for all
    try:
        with emu.lock:
            doc = state.export(emu, columns=True)
            whole = state.snapshot(emu)
            assert whole == orjson.dumps(plain(doc)) == b"".join(state.snapshot_parts(emu))
            assert b"".join(json_parts(doc, 2)) == whole
    finally:
        pin_wall(0)
