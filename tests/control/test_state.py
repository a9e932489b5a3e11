"""GET/PUT /_emulator/state: export, import, all or nothing (emulator/state.py)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator

START = "2025-01-15T10:30:00Z"
XD_RICH = "247xd_b8dea7c360f5addabe9d6dd532d8fadd55d62b2a"
ULF_RICH = "ak_live_rR89FMJJckUpNloEOvSsT6RT8ItCPzCp"
ADDRESS = "TXfLr54GXLwfcBtwNPoHKoFhpdJr6v8ta5"
OTHER = "TW6X5zcLT82HU2B6fBNruHTc1ayCeeA8xY"
FAILING = "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"
SLOW = "T9yD14Nj9j7xAB4dbGeiX9h8unkKLxmGkn"
PREMIUM = "a1724606-ddc1-4bbd-b225-d523fffc171f"
SOCIAL_OPTION = "50371bb9-f952-4916-b02b-cb89b962367f"


def frozen_emulator(seed: int = 7) -> Emulator:
    return Emulator(Config(seed=seed, clock_start_us=parse_iso(START), clock_frozen=True))


@pytest.fixture
def pair() -> Iterator[tuple[TestClient, TestClient]]:
    with (
        TestClient(create_app(emulator=frozen_emulator())) as a,
        TestClient(create_app(emulator=frozen_emulator(seed=99))) as b,
    ):
        yield a, b


def xd(key: str = XD_RICH) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def ulf(key: str = ULF_RICH) -> dict[str, str]:
    return {"Authorization": f"ApiKey {key}"}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def api(response: Any, status: int = 200) -> Any:
    """The data of an API response (both envelopes put it under "data")."""
    return ok(response, status)["data"]


def populate(c: TestClient) -> dict[str, Any]:
    """A bit of everything: orders in every status, accounts with own clocks, keys,
    catalog and price changes, addresses, faults, a forced OTP code."""
    otp = api(c.get("/api/v1/otp/services", headers=xd()))
    option = otp[0]["priceOptions"][0]
    made = [
        api(
            c.post("/api/v1/otp/orders", headers=xd(), json={"serviceId": s["id"], "priceOptionId": o["id"]}),
            201,
        )
        for s, o in (
            (otp[0], option),
            (otp[0], otp[0]["priceOptions"][1]),
            (otp[1], otp[1]["priceOptions"][0]),
        )
    ]
    api(c.post(f"/api/v1/otp/orders/{made[0]['orderId']}/cancel", headers=xd()))
    api(c.post(f"/api/v1/otp/orders/{made[0]['orderId']}/refund", headers=xd()))
    ok(
        c.post(
            f"/_emulator/247xd/orders/{made[1]['orderId']}/transition",
            json={"to": "completed", "otpCode": "4242"},
        )
    )
    social = [
        api(
            c.post(
                "/api/v1/social/orders",
                headers=xd(),
                json={"optionId": SOCIAL_OPTION, "link": link, "quantity": 1000},
            ),
            201,
        )
        for link in ("https://example.com/a", "https://example.com/emulator/partial-30")
    ]
    premium = api(c.post("/api/v1/premium/orders", headers=xd(), json={"serviceId": PREMIUM}), 201)
    ok(c.patch(f"/_emulator/247xd/catalog/{option['id']}", json={"price": 99.5, "stock": 3}))
    own = ok(c.post("/_emulator/247xd/accounts", json={"coins": 50, "label": "own", "clock": "own"}), 201)
    ok(c.post(f"/_emulator/247xd/accounts/{own['accountId']}/clock/advance", json={"seconds": 12.5}))
    second = ok(
        c.post(
            f"/_emulator/247xd/accounts/{own['accountId']}/keys",
            json={"expiresAt": "2030-01-01T00:00:00.123456Z"},
        ),
        201,
    )
    ok(c.delete(f"/_emulator/247xd/keys/{own['apiKey']}"), 204)

    orders = [
        api(
            c.post(
                "/v1/energy/orders",
                headers=ulf(),
                json={"type": "manual", "data": {"tronAddress": a, "energyValue": 65000, "durationHours": 1}},
            ),
            201,
        )
        for a in (ADDRESS, FAILING, SLOW, OTHER, ADDRESS)
    ]
    ok(
        c.post(
            f"/_emulator/usdtlowfee/orders/{orders[3]['id']}/transition",
            json={"to": "failed", "reason": "forced"},
        )
    )
    saved = api(
        c.post(
            "/v1/addresses", headers=ulf(), json={"tronAddress": ADDRESS, "label": "main", "isDefault": True}
        ),
        201,
    )
    other = api(c.post("/v1/addresses", headers=ulf(), json={"tronAddress": OTHER, "label": "other"}), 201)
    api(c.put(f"/v1/addresses/{other['id']}/label", headers=ulf(), json={"label": "renamed"}))
    ok(c.delete(f"/v1/addresses/{saved['id']}", headers=ulf()), 204)
    ulf_own = ok(
        c.post("/_emulator/usdtlowfee/accounts", json={"balanceSun": 10_000_000, "clock": "own"}), 201
    )
    ok(c.post(f"/_emulator/usdtlowfee/accounts/{ulf_own['accountId']}/clock/resume"))
    ok(
        c.put(
            "/_emulator/usdtlowfee/prices",
            json={
                "prices": [
                    {"durationHours": h, "priceSun": 1_000_000 + h} for h in (1, 24, 72, 168, 336, 720)
                ]
            },
        )
    )
    ok(
        c.post(
            "/_emulator/faults",
            json={
                "api": "247xd",
                "path": "/otp/orders/{orderId}",
                "status": 503,
                "probability": 0.5,
                "times": 3,
            },
        ),
        201,
    )
    ok(c.post("/_emulator/clock/advance", json={"seconds": 30}))
    return {
        "xd_orders": [m["orderId"] for m in made] + [s["orderId"] for s in social] + [premium["orderId"]],
        "xd_keys": [XD_RICH, second["apiKey"]],
        "ulf_orders": [o["id"] for o in orders],
        "ulf_key": ulf_own["apiKey"],
        "address": other["id"],
    }


def observe(c: TestClient, seen: dict[str, Any]) -> dict[str, bytes]:
    """What clients can read, byte for byte."""
    paths = [
        ("/api/v1/balance", xd()),
        ("/api/v1/otp/services", xd()),
        ("/api/v1/social/services", xd()),
        ("/api/v1/premium/services", xd()),
        ("/api/v1/balance", xd(seen["xd_keys"][1])),
        *[
            (f"/api/v1/{kind}/orders/{oid}", xd())
            for kind, oid in zip(
                ("otp", "otp", "otp", "social", "social", "premium"), seen["xd_orders"], strict=True
            )
        ],
        ("/v1/wallet/balance", ulf()),
        ("/v1/users/me", ulf()),
        ("/v1/energy/orders?limit=100", ulf()),
        ("/v1/addresses", ulf()),
        (f"/v1/addresses/{seen['address']}", ulf()),
        ("/v1/wallet/balance", ulf(seen["ulf_key"])),
        ("/v1/users/me", ulf(seen["ulf_key"])),
        *[(f"/v1/energy/orders/{oid}", ulf()) for oid in seen["ulf_orders"]],
        ("/_emulator/clock", {}),
        ("/_emulator/faults", {}),
        ("/_emulator/usdtlowfee/prices", {}),
    ]
    out = {}
    for path, headers in paths:
        response = c.get(path, headers=headers)
        out[path + str(headers)] = f"{response.status_code} ".encode() + response.content
    return out


def next_values(c: TestClient) -> list[Any]:
    """What the next writes generate: uuids, phone numbers, codes, credentials, snowflakes, keys."""
    otp = api(c.get("/api/v1/otp/services", headers=xd()))[0]
    made = api(
        c.post(
            "/api/v1/otp/orders",
            headers=xd(),
            json={"serviceId": otp["id"], "priceOptionId": otp["priceOptions"][2]["id"]},
        ),
        201,
    )
    ok(c.post("/_emulator/clock/advance", json={"seconds": 3600}))
    response = c.get(f"/api/v1/otp/orders/{made['orderId']}", headers=xd())  # faulted half the time
    shown = (response.status_code, response.content)
    premium = api(c.post("/api/v1/premium/orders", headers=xd(), json={"serviceId": PREMIUM}), 201)
    social = api(
        c.post(
            "/api/v1/social/orders",
            headers=xd(),
            json={"optionId": SOCIAL_OPTION, "link": "https://x.io", "quantity": 500},
        ),
        201,
    )
    energy = api(
        c.post(
            "/v1/energy/orders",
            headers=ulf(),
            json={
                "type": "manual",
                "data": {"tronAddress": ADDRESS, "energyValue": 70000, "durationHours": 24},
            },
        ),
        201,
    )
    account = ok(c.post("/_emulator/usdtlowfee/accounts", json={}), 201)
    address = api(c.post("/v1/addresses", headers=ulf(), json={"tronAddress": SLOW, "label": "x"}), 201)
    fault = ok(
        c.post("/_emulator/faults", json={"api": "usdtlowfee", "status": 500, "probability": 0.5}), 201
    )
    social_view = api(c.get(f"/api/v1/social/orders/{social['orderId']}", headers=xd()))
    return [made, shown, premium, social, social_view, energy, account, address, fault]


def normalised(document: dict[str, Any]) -> dict[str, Any]:
    """A running clock's reading moves with the wall clock; its offset does not."""
    document = copy.deepcopy(document)
    for account in document["usdtlowfee"]["accounts"] + document["247xd"]["accounts"]:
        clock = account["clock"]
        if clock is not None and not clock["frozen"]:
            account["clock"] = parse_iso(clock["now"]) - parse_iso(clock.pop("wall"))
    return document


def test_export_import_round_trip_reads_the_same_and_continues_the_same(
    pair: tuple[TestClient, TestClient],
) -> None:
    a, b = pair
    seen = populate(a)
    document = ok(a.get("/_emulator/state"))
    assert document["version"] == 1 and "journal" not in document
    assert ok(b.put("/_emulator/state", content=orjson.dumps(document))) == {"status": "loaded"}
    assert normalised(ok(b.get("/_emulator/state"))) == normalised(document)
    assert observe(b, seen) == observe(a, seen)  # fault draws included
    assert next_values(b) == next_values(a)
    assert observe(b, seen) == observe(a, seen)


def test_a_running_clock_runs_on_at_the_same_offset(client: TestClient, emu: Emulator) -> None:
    ok(client.post("/_emulator/clock/resume"))
    document = ok(client.get("/_emulator/state"))
    assert document["clock"]["frozen"] is False
    wall = parse_iso(document["clock"]["wall"])
    now = parse_iso(document["clock"]["now"])
    ok(client.put("/_emulator/state", json=document))
    assert not emu.clock.frozen
    assert emu.clock._offset == now - wall


def test_an_import_keeps_the_journal(client: TestClient) -> None:
    client.get("/api/v1/balance", headers=xd())
    ok(client.put("/_emulator/state", json=ok(client.get("/_emulator/state"))))
    assert len(ok(client.get("/_emulator/requests"))["requests"]) == 1


def _edit(document: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


_DELETE = object()

BAD = [
    (["version"], 2, "version"),
    (["version"], True, "version"),
    (["247xd"], _DELETE, "247xd"),
    (["usdtlowfee"], _DELETE, "usdtlowfee"),
    (["faults"], _DELETE, "faults"),
    (["clock", "frozen"], "yes", "clock.frozen"),
    (["clock", "now"], "yesterday", "clock.now"),
    (["ids", "seed"], "7", "ids.seed"),
    (["ids", "random"], [3, [1, 2], None], "ids.random"),
    (["247xd", "orders", 0, "accountId"], "nobody", "247xd.orders[0].accountId"),
    (["247xd", "orders", 0, "orderId"], "00000000-0000-4000-8000-000000000000", "247xd.orders[0].orderId"),
    (["247xd", "orders", 0, "status"], "shipped", "247xd.orders[0].status"),
    (["247xd", "orders", 0, "price"], -1, "247xd.orders[0].price"),
    (["247xd", "orders", 0, "itemId"], PREMIUM, "247xd.orders[0].itemId"),
    (["247xd", "orders", 3, "quantity"], 0, "247xd.orders[3].quantity"),
    (["247xd", "orders", 5, "credentials"], {"email": 1}, "247xd.orders[5].credentials"),
    (["247xd", "keys", 0, "accountId"], "nobody", "247xd.keys[0].accountId"),
    (["247xd", "accounts", 0, "coins"], "lots", "247xd.accounts[0].coins"),
    (["247xd", "accounts"], {}, "247xd.accounts"),
    (["usdtlowfee", "orders", 0, "accountId"], "nobody", "usdtlowfee.orders[0].accountId"),
    (["usdtlowfee", "orders", 1, "id"], 1, "usdtlowfee.orders[1].id"),
    (["usdtlowfee", "orders", 0, "txid"], "xyz", "usdtlowfee.orders[0].txid"),
    (["usdtlowfee", "orders", 0, "tronAddress"], "T123", "usdtlowfee.orders[0].tronAddress"),
    (["usdtlowfee", "lastId"], 5, "usdtlowfee.orders[0].id"),
    (["usdtlowfee", "accounts", 0, "addresses", 0, "id"], 2**62, "usdtlowfee.lastId"),
    (["usdtlowfee", "accounts", 0, "clock"], {"frozen": True}, "usdtlowfee.accounts[0].clock.now"),
    (["faults", "faults", 0, "status"], 200, "faults.faults[0].status"),
    (["faults", "faults", 0, "faultId"], "fault-9", "faults.faults[0].faultId"),
    (["faults", "next"], 0, "faults.next"),
]


@pytest.mark.parametrize(("path", "value", "named"), BAD, ids=[b[2] + ":" + repr(b[1])[:20] for b in BAD])
def test_a_bad_document_is_refused_naming_the_path_and_changes_nothing(
    pair: tuple[TestClient, TestClient], path: list[Any], value: Any, named: str
) -> None:
    a, b = pair
    populate(a)
    document = ok(a.get("/_emulator/state"))
    before = b.get("/_emulator/state").content
    response = b.put("/_emulator/state", content=orjson.dumps(_edit(document, path, value)))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"].startswith(named), error["message"]
    assert b.get("/_emulator/state").content == before


@pytest.mark.parametrize("raw", [b"", b"[]", b"{", b"null", b'"state"'])
def test_a_body_that_is_not_a_document_is_refused(client: TestClient, raw: bytes) -> None:
    before = client.get("/_emulator/state").content
    response = client.put("/_emulator/state", content=raw)
    assert response.status_code == 400
    assert response.json()["error"]["code"] in ("BAD_REQUEST", "VALIDATION_ERROR")
    assert client.get("/_emulator/state").content == before


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_junk_anywhere_in_a_document_is_a_400_never_a_500(data: st.DataObject) -> None:
    client = TestClient(create_app(emulator=frozen_emulator()))  # the same document every example
    document = orjson.loads(client.get("/_emulator/state").content)
    target: Any = document
    path: list[Any] = []
    # Walk down to some node, then replace it with junk.
    while isinstance(target, dict | list) and target and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(list(target) if isinstance(target, dict) else range(len(target))))
        path.append(key)
        target = target[key]
    junk = data.draw(_json)
    changed: Any = _edit(document, path, junk) if path else junk
    before = client.get("/_emulator/state").content
    try:
        raw = orjson.dumps(changed)
    except (TypeError, orjson.JSONEncodeError):
        return  # not JSON (an integer beyond 64 bits)
    response = client.put("/_emulator/state", content=raw)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert client.get("/_emulator/state").content == before
