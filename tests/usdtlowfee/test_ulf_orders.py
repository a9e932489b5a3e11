"""Energy orders over HTTP: creation, pricing, validation, lifecycle, listing."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.runtime import Emulator

from .conftest import roomy_emulator
from .support import (
    DELAY_S,
    DEMO_BALANCE,
    DEMO_KEY,
    DEMO_USER_ID,
    EMPTY_KEY,
    EXCHANGE,
    EXCHANGE_PATH,
    FAILING,
    FAILING_2,
    FAILING_REASON,
    MAIN_WALLET,
    MAIN_WALLET_PATH,
    ORDER_KEYS_COMPLETED,
    ORDER_KEYS_PROCESSING,
    OTHER,
    PRICES,
    RICH_KEY,
    TXID,
    USDT_CONTRACT,
    advance,
    auth,
    create_order,
    error_of,
    new_account,
    order_body,
    wallet,
)

SEED_CREATED = {
    "id": 1234567890,
    "userId": 9876543210,
    "tronAddress": "TYour1Address2Here3...",
    "energyValue": 65000,
    "durationHours": 1,
    "priceSun": 3000000,
    "priceTrx": 3.0,
    "orderType": "manual",
    "status": "processing",
    "createdAt": "2025-01-15T10:30:00Z",
    "updatedAt": "2025-01-15T10:30:00Z",
    "statusUpdatedAt": "2025-01-15T10:30:00Z",
    "canTransitionTo": ["completed", "failed"],
}
SEED_COMPLETED = {
    "id": 1234567890,
    "userId": 9876543210,
    "tronAddress": "TYour1Address2Here3...",
    "energyValue": 65000,
    "durationHours": 1,
    "priceSun": 3000000,
    "priceTrx": 3.0,
    "orderType": "manual",
    "status": "completed",
    "txid": "abc123...",
    "createdAt": "2025-01-15T10:30:00Z",
    "completedAt": "2025-01-15T10:30:05Z",
    "updatedAt": "2025-01-15T10:30:05Z",
    "statusUpdatedAt": "2025-01-15T10:30:05Z",
    "canTransitionTo": [],
}


def test_create_reproduces_the_seed_example_field_for_field(client: TestClient) -> None:
    response = client.post("/v1/energy/orders", headers=auth(DEMO_KEY), json=order_body(USDT_CONTRACT))
    assert response.status_code == 201
    body = response.json()
    assert list(body) == ["data"]
    data = body["data"]
    assert list(data) == list(SEED_CREATED) == ORDER_KEYS_PROCESSING
    for key, example in SEED_CREATED.items():
        assert type(data[key]) is type(example), key
    for key in ("energyValue", "durationHours", "priceSun", "priceTrx", "orderType", "status", "createdAt",
                "updatedAt", "statusUpdatedAt", "canTransitionTo"):
        assert data[key] == SEED_CREATED[key], key
    assert data["tronAddress"] == USDT_CONTRACT
    assert data["userId"] == DEMO_USER_ID
    assert data["id"] > 2**53
    assert '"priceSun":3000000,"priceTrx":3.0,' in response.text


def test_get_after_the_delay_reproduces_the_completed_example(client: TestClient) -> None:
    order = create_order(client, address=USDT_CONTRACT)
    advance(client, DELAY_S)
    response = client.get(f"/v1/energy/orders/{order['id']}", headers=auth(DEMO_KEY))
    assert response.status_code == 200
    data = response.json()["data"]
    assert list(data) == list(SEED_COMPLETED) == ORDER_KEYS_COMPLETED
    for key, example in SEED_COMPLETED.items():
        assert type(data[key]) is type(example), key
    for key in ("priceSun", "priceTrx", "status", "createdAt", "completedAt", "updatedAt",
                "statusUpdatedAt", "canTransitionTo"):
        assert data[key] == SEED_COMPLETED[key], key
    assert TXID.fullmatch(data["txid"])


def test_ids_beyond_2_53_are_exact_in_the_served_text(client: TestClient) -> None:
    response = client.post("/v1/energy/orders", headers=auth(DEMO_KEY), json=order_body())
    match = re.search(r'"id":(\d+),"userId":(\d+),', response.text)
    assert match is not None
    order_id, user_id = int(match.group(1)), int(match.group(2))
    assert order_id > 2**53 and user_id > 2**53
    assert user_id == DEMO_USER_ID
    assert response.json()["data"]["id"] == order_id
    assert order_id < 2**63
    # A client that goes through a double (JavaScript's JSON.parse) gets other digits ...
    as_javascript = int(Decimal(repr(float(order_id))))
    assert as_javascript != order_id
    # ... and the id it would send back names nothing.
    assert client.get(f"/v1/energy/orders/{as_javascript}", headers=auth(DEMO_KEY)).status_code == 404
    # The exact text finds the order, in GET and in the list.
    got = client.get(f"/v1/energy/orders/{order_id}", headers=auth(DEMO_KEY))
    assert f'"id":{order_id},' in got.text
    listed = client.get("/v1/energy/orders", headers=auth(DEMO_KEY))
    assert f'"id":{order_id},' in listed.text


def test_order_ids_are_time_ordered_and_strictly_increasing(roomy: TestClient) -> None:
    ids = [create_order(roomy, RICH_KEY)["id"] for _ in range(30)]  # one instant
    advance(roomy, 0.001)
    ids.append(create_order(roomy, RICH_KEY)["id"])
    advance(roomy, 3600)
    ids.append(create_order(roomy, RICH_KEY)["id"])
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # The millisecond timestamp is in the high bits (epoch 2020-01-01).
    assert (ids[-1] >> 22) - (ids[0] >> 22) == 3600_001


@pytest.mark.parametrize("hours", sorted(PRICES))
def test_price_of_65000_energy_is_the_table(client: TestClient, hours: int) -> None:
    response = client.post("/v1/energy/orders", headers=auth(RICH_KEY), json=order_body(hours=hours))
    data = response.json()["data"]
    assert data["priceSun"] == PRICES[hours]
    assert data["priceTrx"] == PRICES[hours] / 1_000_000
    assert f'"priceTrx":{PRICES[hours] / 1_000_000!r},' in response.text
    assert data["durationHours"] == hours


@pytest.mark.parametrize(
    "energy,hours,price,trx_text",
    [
        (65000, 1, 3_000_000, "3.0"),
        (32000, 1, 1_476_924, "1.476924"),  # 1476923.07... rounds up
        (32001, 1, 1_476_970, "1.47697"),  # 1476969.23... rounds up
        (65001, 1, 3_000_047, "3.000047"),  # 3000046.15... rounds up
        (130000, 24, 9_000_000, "9.0"),
        (100_000_000, 720, 153_846_153_847, "153846.153847"),
        (100_000_000, 1, 4_615_384_616, "4615.384616"),
        (97500, 1, 4_500_000, "4.5"),
    ],
)
def test_price_is_rounded_up_to_whole_sun(
    client: TestClient, energy: int, hours: int, price: int, trx_text: str
) -> None:
    assert price == -(-energy * PRICES[hours] // 65000)
    response = client.post(
        "/v1/energy/orders", headers=auth(RICH_KEY), json=order_body(energy=energy, hours=hours)
    )
    assert response.status_code == 201
    assert f'"priceSun":{price},"priceTrx":{trx_text},' in response.text


def test_creating_moves_the_price_from_balance_to_frozen(client: TestClient) -> None:
    before = wallet(client, DEMO_KEY)
    assert before == {"balanceSun": DEMO_BALANCE, "frozenSun": 0, "totalSun": DEMO_BALANCE}
    create_order(client, hours=24)
    assert wallet(client, DEMO_KEY) == {
        "balanceSun": DEMO_BALANCE - 4_500_000,
        "frozenSun": 4_500_000,
        "totalSun": DEMO_BALANCE,
    }
    create_order(client)
    assert wallet(client, DEMO_KEY) == {
        "balanceSun": DEMO_BALANCE - 7_500_000,
        "frozenSun": 7_500_000,
        "totalSun": DEMO_BALANCE,
    }


def test_completion_spends_the_frozen_price(client: TestClient) -> None:
    order = create_order(client)
    advance(client, DELAY_S - 0.000001)
    assert wallet(client, DEMO_KEY)["frozenSun"] == 3_000_000
    got = client.get(f"/v1/energy/orders/{order['id']}", headers=auth(DEMO_KEY)).json()["data"]
    assert got["status"] == "processing" and got["canTransitionTo"] == ["completed", "failed"]
    advance(client, 0.000001)
    # The balance read alone settles the due order.
    assert wallet(client, DEMO_KEY) == {
        "balanceSun": DEMO_BALANCE - 3_000_000,
        "frozenSun": 0,
        "totalSun": DEMO_BALANCE - 3_000_000,
    }
    got = client.get(f"/v1/energy/orders/{order['id']}", headers=auth(DEMO_KEY)).json()["data"]
    assert got["status"] == "completed" and got["canTransitionTo"] == []
    assert got["completedAt"] == "2025-01-15T10:30:05Z"


def test_a_move_carries_the_instant_it_was_due_not_the_read(client: TestClient) -> None:
    first = create_order(client)
    advance(client, 2)
    second = create_order(client, address=OTHER)
    advance(client, 3600)  # read an hour later
    body = client.get("/v1/energy/orders", headers=auth(DEMO_KEY)).json()["data"]
    by_id = {o["id"]: o for o in body["orders"]}
    assert by_id[first["id"]]["completedAt"] == "2025-01-15T10:30:05Z"
    assert by_id[first["id"]]["updatedAt"] == "2025-01-15T10:30:05Z"
    assert by_id[first["id"]]["statusUpdatedAt"] == "2025-01-15T10:30:05Z"
    assert by_id[second["id"]]["completedAt"] == "2025-01-15T10:30:07Z"
    assert by_id[second["id"]]["createdAt"] == "2025-01-15T10:30:02Z"


def test_the_txid_is_64_hex_and_stable(client: TestClient) -> None:
    order = create_order(client)
    assert "txid" not in order
    advance(client, 10)
    first = client.get(f"/v1/energy/orders/{order['id']}", headers=auth(DEMO_KEY)).json()["data"]
    again = client.get(f"/v1/energy/orders/{order['id']}", headers=auth(DEMO_KEY)).json()["data"]
    assert TXID.fullmatch(first["txid"]) and first == again


@pytest.mark.parametrize("address,reason", [(FAILING, FAILING_REASON),
                                            (FAILING_2, "energy delegation to this account was rejected")])
def test_a_documented_failing_address_ends_failed_and_refunds(
    client: TestClient, address: str, reason: str
) -> None:
    order = create_order(client, address=address, hours=72)
    assert order["status"] == "processing"
    assert wallet(client, DEMO_KEY)["frozenSun"] == 12_000_000
    advance(client, DELAY_S)
    assert wallet(client, DEMO_KEY) == {"balanceSun": DEMO_BALANCE, "frozenSun": 0, "totalSun": DEMO_BALANCE}
    got = client.get(f"/v1/energy/orders/{order['id']}", headers=auth(DEMO_KEY)).json()["data"]
    assert got["status"] == "failed"
    assert got["failureReason"] == reason
    assert got["canTransitionTo"] == []
    assert "txid" not in got and "completedAt" not in got
    assert got["updatedAt"] == got["statusUpdatedAt"] == "2025-01-15T10:30:05Z"
    # Reading again refunds nothing more.
    advance(client, 100)
    assert wallet(client, DEMO_KEY)["totalSun"] == DEMO_BALANCE


def test_insufficient_balance_is_403_and_moves_nothing(client: TestClient) -> None:
    response = client.post("/v1/energy/orders", headers=auth(EMPTY_KEY), json=order_body())
    assert error_of(response) == (403, "INSUFFICIENT_BALANCE")
    assert wallet(client, EMPTY_KEY) == {"balanceSun": 0, "frozenSun": 0, "totalSun": 0}
    listed = client.get("/v1/energy/orders", headers=auth(EMPTY_KEY)).json()["data"]
    assert listed == {"orders": [], "total": 0, "offset": 0, "limit": 20}


def test_the_exact_balance_is_enough_and_one_sun_less_is_not(client: TestClient) -> None:
    exact = new_account(client, 3_000_000)["apiKey"]
    short = new_account(client, 2_999_999)["apiKey"]
    assert error_of(client.post("/v1/energy/orders", headers=auth(short), json=order_body())) == (
        403, "INSUFFICIENT_BALANCE",
    )
    assert wallet(client, short) == {"balanceSun": 2_999_999, "frozenSun": 0, "totalSun": 2_999_999}
    create_order(client, exact)
    assert wallet(client, exact) == {"balanceSun": 0, "frozenSun": 3_000_000, "totalSun": 3_000_000}
    response = client.post("/v1/energy/orders", headers=auth(exact), json=order_body())
    assert error_of(response) == (403, "INSUFFICIENT_BALANCE")
    assert "3000000" in response.json()["error"]["message"]


def test_a_failed_order_refund_pays_for_the_next_one(client: TestClient) -> None:
    key = new_account(client, 3_000_000)["apiKey"]
    create_order(client, key, address=FAILING)
    assert client.post("/v1/energy/orders", headers=auth(key), json=order_body()).status_code == 403
    advance(client, DELAY_S)
    # No read in between: creating settles first, so the refund is there.
    create_order(client, key)
    assert wallet(client, key) == {"balanceSun": 0, "frozenSun": 3_000_000, "totalSun": 3_000_000}


def test_balance_plus_frozen_is_total_at_every_step(roomy: TestClient) -> None:
    initial = 50_000_000
    key = new_account(roomy, initial)["apiKey"]
    placed: list[tuple[float, int, bool]] = []  # (created at, price, fails)
    now = 0.0

    def expected() -> dict[str, int]:
        spent = sum(p for t, p, fails in placed if now >= t + DELAY_S and not fails)
        frozen = sum(p for t, p, _ in placed if now < t + DELAY_S)
        return {"balanceSun": initial - spent - frozen, "frozenSun": frozen, "totalSun": initial - spent}

    for step in range(12):
        fails = step % 3 == 0
        order = create_order(roomy, key, address=FAILING if fails else USDT_CONTRACT, hours=[1, 24][step % 2])
        placed.append((now, order["priceSun"], fails))
        assert wallet(roomy, key) == expected()
        advance(roomy, 1.5)
        now += 1.5
        assert wallet(roomy, key) == expected()
    advance(roomy, DELAY_S)
    now += DELAY_S
    final = expected()
    assert final["frozenSun"] == 0 and wallet(roomy, key) == final


# --- validation --------------------------------------------------------------------------

VALID_DATA = {"tronAddress": USDT_CONTRACT, "energyValue": 65000, "durationHours": 1}
WRONG_VERSION = "TkCVWggMFzU36H12Rkc7mLMkuCKqFKMbkP"  # base58check-valid, version 0x42


def _data(**changes: object) -> dict[str, object]:
    data = dict(VALID_DATA)
    for key, value in changes.items():
        if value is _DROP:
            del data[key]
        else:
            data[key] = value
    return {"type": "manual", "data": data}


_DROP = object()


@pytest.mark.parametrize(
    "body,message",
    [
        ({}, "type is required"),
        ({"data": VALID_DATA}, "type is required"),
        ({"type": None, "data": VALID_DATA}, "type is required"),
        ({"type": 1, "data": VALID_DATA}, "type must be a string"),
        ({"type": "auto", "data": VALID_DATA}, 'type must be "manual"'),
        ({"type": "Manual", "data": VALID_DATA}, 'type must be "manual"'),
        ({"type": "", "data": VALID_DATA}, 'type must be "manual"'),
        ({"type": "manual"}, "data is required"),
        ({"type": "manual", "data": None}, "data is required"),
        ({"type": "manual", "data": []}, "data must be an object"),
        ({"type": "manual", "data": "x"}, "data must be an object"),
        ({"type": "manual", "data": 1}, "data must be an object"),
        (_data(tronAddress=_DROP), "data.tronAddress is required"),
        (_data(tronAddress=None), "data.tronAddress is required"),
        (_data(tronAddress=123), "data.tronAddress must be a string"),
        (_data(tronAddress=["T"]), "data.tronAddress must be a string"),
        (_data(tronAddress="TYour1Address2Here3..."), "data.tronAddress must be a valid TRON address"),
        (_data(tronAddress=""), "data.tronAddress must be a valid TRON address"),
        (_data(tronAddress=USDT_CONTRACT[:-1] + "u"), "data.tronAddress must be a valid TRON address"),
        (_data(tronAddress=USDT_CONTRACT[:-1]), "data.tronAddress must be a valid TRON address"),
        (_data(tronAddress=USDT_CONTRACT + "1"), "data.tronAddress must be a valid TRON address"),
        (_data(tronAddress="t" + USDT_CONTRACT[1:]), "data.tronAddress must be a valid TRON address"),
        (_data(tronAddress=USDT_CONTRACT.lower()), "data.tronAddress must be a valid TRON address"),
        (_data(tronAddress=" " + USDT_CONTRACT), "data.tronAddress must be a valid TRON address"),
        (_data(tronAddress=WRONG_VERSION), "data.tronAddress must be a valid TRON address"),
        (_data(tronAddress="0x" + "ab" * 20), "data.tronAddress must be a valid TRON address"),
        (_data(tronAddress="T" + "0" * 33), "data.tronAddress must be a valid TRON address"),
        (_data(tronAddress="Tระบบ" * 7), "data.tronAddress must be a valid TRON address"),
        (_data(energyValue=_DROP), "data.energyValue is required"),
        (_data(energyValue=None), "data.energyValue is required"),
        (_data(energyValue="65000"), "data.energyValue must be an integer"),
        (_data(energyValue=65000.0), "data.energyValue must be an integer"),
        (_data(energyValue=65000.5), "data.energyValue must be an integer"),
        (_data(energyValue=True), "data.energyValue must be an integer"),
        (_data(energyValue=31999), "data.energyValue must be at least 32000"),
        (_data(energyValue=0), "data.energyValue must be at least 32000"),
        (_data(energyValue=-65000), "data.energyValue must be at least 32000"),
        (_data(energyValue=100_000_001), "data.energyValue must be at most 100000000"),
        (_data(energyValue=2**63), "data.energyValue must be at most 100000000"),
        (_data(durationHours=_DROP), "data.durationHours is required"),
        (_data(durationHours=None), "data.durationHours is required"),
        (_data(durationHours="1"), "data.durationHours must be an integer"),
        (_data(durationHours=1.0), "data.durationHours must be an integer"),
        (_data(durationHours=True), "data.durationHours must be an integer"),
        (_data(durationHours=0), "data.durationHours must be one of 1, 24, 72, 168, 336, 720"),
        (_data(durationHours=2), "data.durationHours must be one of 1, 24, 72, 168, 336, 720"),
        (_data(durationHours=48), "data.durationHours must be one of 1, 24, 72, 168, 336, 720"),
        (_data(durationHours=-1), "data.durationHours must be one of 1, 24, 72, 168, 336, 720"),
        (_data(durationHours=721), "data.durationHours must be one of 1, 24, 72, 168, 336, 720"),
    ],
)
def test_each_invalid_field_is_a_validation_error_naming_it(
    client: TestClient, body: dict[str, object], message: str
) -> None:
    response = client.post("/v1/energy/orders", headers=auth(DEMO_KEY), json=body)
    assert error_of(response) == (400, "VALIDATION_ERROR")
    assert response.json()["error"]["message"].startswith(message)
    assert wallet(client, DEMO_KEY)["frozenSun"] == 0


def test_the_wrong_version_byte_address_really_is_base58check_valid() -> None:
    import base58

    assert base58.b58decode_check(WRONG_VERSION)[0] == 0x42 and len(WRONG_VERSION) == 34


@pytest.mark.parametrize(
    "content,content_type",
    [
        (b"{not json", "application/json"),
        (b"", "application/json"),
        (b"[]", "application/json"),
        (b'"manual"', "application/json"),
        (b"1", "application/json"),
        (b"null", "application/json"),
        (b'{"type": "manual"', "application/json"),
        (b"\xff\xfe", "application/json"),
        (json.dumps(order_body()).encode(), "text/plain"),
        (json.dumps(order_body()).encode(), "application/x-www-form-urlencoded"),
        (json.dumps(order_body()).encode(), None),
        (json.dumps({**order_body(), "pad": "x" * (64 * 1024)}).encode(), "application/json"),
        (b'{"type": "manual", "data": NaN}', "application/json"),
    ],
)
def test_malformed_bodies_are_bad_request(
    client: TestClient, content: bytes, content_type: str | None
) -> None:
    headers = auth(DEMO_KEY)
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = client.post("/v1/energy/orders", headers=headers, content=content)
    assert error_of(response) == (400, "BAD_REQUEST")
    assert wallet(client, DEMO_KEY)["frozenSun"] == 0


def test_a_body_of_exactly_64_kib_is_read(client: TestClient) -> None:
    base = json.dumps({**order_body(), "pad": ""}).encode()
    body = json.dumps({**order_body(), "pad": "x" * (64 * 1024 - len(base))}).encode()
    assert len(body) == 64 * 1024
    response = client.post(
        "/v1/energy/orders", headers={**auth(DEMO_KEY), "Content-Type": "application/json"}, content=body
    )
    assert response.status_code == 201


def test_json_with_a_charset_is_json(client: TestClient) -> None:
    response = client.post(
        "/v1/energy/orders",
        headers={**auth(DEMO_KEY), "Content-Type": "application/json; charset=utf-8"},
        content=json.dumps(order_body()).encode(),
    )
    assert response.status_code == 201


def test_unknown_fields_are_ignored(client: TestClient) -> None:
    body = order_body()
    body["extra"] = {"deep": [1, 2]}
    body["data"]["note"] = "hello"  # type: ignore[index]
    body["data"]["priceSun"] = 1  # type: ignore[index]
    response = client.post("/v1/energy/orders", headers=auth(DEMO_KEY), json=body)
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["priceSun"] == 3_000_000 and "note" not in data and "extra" not in data


# --- reading one order --------------------------------------------------------------------


@pytest.mark.parametrize(
    "order_id",
    ["1", "abc", "-1", "0", "1.0", "1e18", "0x10", "99999999999999999999", "9223372036854775808",
     "9223372036854775807", "%20", "640463929344004097"],
)
def test_an_unknown_or_malformed_order_id_is_404(client: TestClient, order_id: str) -> None:
    create_order(client)
    response = client.get(f"/v1/energy/orders/{order_id}", headers=auth(DEMO_KEY))
    assert error_of(response) == (404, "NOT_FOUND")


def test_a_leading_zero_is_not_the_same_id(client: TestClient) -> None:
    order = create_order(client)
    assert client.get(f"/v1/energy/orders/0{order['id']}", headers=auth(DEMO_KEY)).status_code == 404
    assert client.get(f"/v1/energy/orders/+{order['id']}", headers=auth(DEMO_KEY)).status_code == 404


def test_another_users_order_is_404(client: TestClient) -> None:
    order = create_order(client)
    response = client.get(f"/v1/energy/orders/{order['id']}", headers=auth(RICH_KEY))
    assert error_of(response) == (404, "NOT_FOUND")
    listed = client.get("/v1/energy/orders", headers=auth(RICH_KEY)).json()["data"]
    assert listed["total"] == 0
    assert client.get(f"/v1/energy/orders/{order['id']}", headers=auth(DEMO_KEY)).status_code == 200


# --- listing -------------------------------------------------------------------------------


def test_an_empty_list(client: TestClient) -> None:
    response = client.get("/v1/energy/orders", headers=auth(DEMO_KEY))
    assert response.json() == {"data": {"orders": [], "total": 0, "offset": 0, "limit": 20}}


def _list(client: TestClient, key: str = RICH_KEY, query: str = "") -> dict:  # type: ignore[type-arg]
    response = client.get(f"/v1/energy/orders{query}", headers=auth(key))
    assert response.status_code == 200, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def test_the_list_is_newest_first_and_pages_cleanly(roomy: TestClient) -> None:
    ids = []
    for _ in range(45):
        ids.append(create_order(roomy, RICH_KEY)["id"])
        advance(roomy, 0.5)
    newest_first = ids[::-1]
    page = _list(roomy)
    assert page["total"] == 45 and page["offset"] == 0 and page["limit"] == 20
    assert [o["id"] for o in page["orders"]] == newest_first[:20]
    seen = []
    for offset in (0, 20, 40):
        data = _list(roomy, query=f"?offset={offset}&limit=20")
        assert data["offset"] == offset and data["total"] == 45
        seen += [o["id"] for o in data["orders"]]
    assert seen == newest_first
    assert [o["id"] for o in _list(roomy, query="?offset=44")["orders"]] == [ids[0]]
    assert _list(roomy, query="?offset=45")["orders"] == []
    past = _list(roomy, query="?offset=1000&limit=5")
    assert past == {"orders": [], "total": 45, "offset": 1000, "limit": 5}
    big = _list(roomy, query="?limit=100")
    assert [o["id"] for o in big["orders"]] == newest_first and big["limit"] == 100
    one = _list(roomy, query="?limit=1&offset=3")
    assert [o["id"] for o in one["orders"]] == [newest_first[3]]
    for status in ("", "&status=processing", "&status=completed", "&status=failed"):
        huge = _list(roomy, query=f"?offset=9223372036854775807{status}")  # sys.maxsize: no crash
        assert huge["orders"] == [] and huge["offset"] == 2**63 - 1
        # offset is an int64 like every integer of this API (emulator/specs/usdtlowfee.json).
        past = roomy.get(f"/v1/energy/orders?offset=9223372036854775808{status}", headers=auth(RICH_KEY))
        assert error_of(past) == (400, "VALIDATION_ERROR")


def test_the_status_filter_and_its_total(roomy: TestClient) -> None:
    done = [create_order(roomy, RICH_KEY)["id"] for _ in range(3)]
    failed = [create_order(roomy, RICH_KEY, address=FAILING)["id"] for _ in range(2)]
    advance(roomy, DELAY_S)
    processing = [create_order(roomy, RICH_KEY)["id"] for _ in range(4)]
    assert _list(roomy)["total"] == 9
    completed = _list(roomy, query="?status=completed")
    assert [o["id"] for o in completed["orders"]] == done[::-1] and completed["total"] == 3
    assert all(o["status"] == "completed" for o in completed["orders"])
    failed_page = _list(roomy, query="?status=failed")
    assert [o["id"] for o in failed_page["orders"]] == failed[::-1] and failed_page["total"] == 2
    running = _list(roomy, query="?status=processing&limit=3&offset=1")
    assert [o["id"] for o in running["orders"]] == processing[::-1][1:4] and running["total"] == 4
    # Time moves the processing ones over.
    advance(roomy, DELAY_S)
    assert _list(roomy, query="?status=processing")["total"] == 0
    assert _list(roomy, query="?status=completed")["total"] == 7
    assert [o["id"] for o in _list(roomy, query="?status=completed")["orders"]] == (done + processing)[::-1]


def test_forced_moves_keep_the_status_lists_in_id_order(roomy: TestClient) -> None:
    ids = [create_order(roomy, RICH_KEY)["id"] for _ in range(6)]
    for order_id in (ids[4], ids[1], ids[3]):  # out of order
        path = f"/_emulator/usdtlowfee/orders/{order_id}/transition"
        assert roomy.post(path, json={"to": "failed"}).status_code == 200
    failed = _list(roomy, query="?status=failed")
    assert [o["id"] for o in failed["orders"]] == [ids[4], ids[3], ids[1]]
    running = _list(roomy, query="?status=processing")
    assert [o["id"] for o in running["orders"]] == [ids[5], ids[2], ids[0]]
    assert [o["id"] for o in _list(roomy)["orders"]] == ids[::-1]


@pytest.mark.parametrize(
    "query,message",
    [
        ("?limit=0", "limit must be at least 1"),
        ("?limit=101", "limit must be at most 100"),
        ("?limit=-1", "limit must be at least 1"),
        ("?limit=abc", "limit must be an integer"),
        ("?limit=", "limit must be an integer"),
        ("?limit=1.5", "limit must be an integer"),
        ("?limit=1e2", "limit must be an integer"),
        ("?limit=%201", "limit must be an integer"),
        ("?limit=+5", "limit must be an integer"),
        ("?limit=%EF%BC%95", "limit must be an integer"),  # a full-width digit
        ("?limit=99999999999999999999", "limit must be an integer"),
        ("?offset=-1", "offset must be at least 0"),
        ("?offset=x", "offset must be an integer"),
        ("?offset=", "offset must be an integer"),
        ("?status=pending", "status must be one of processing, completed, failed"),
        ("?status=Completed", "status must be one of processing, completed, failed"),
        ("?status=", "status must be one of processing, completed, failed"),
        ("?status=completed,failed", "status must be one of processing, completed, failed"),
    ],
)
def test_invalid_list_parameters_are_validation_errors(client: TestClient, query: str, message: str) -> None:
    response = client.get(f"/v1/energy/orders{query}", headers=auth(DEMO_KEY))
    assert error_of(response) == (400, "VALIDATION_ERROR")
    assert response.json()["error"]["message"] == message


def test_unknown_query_parameters_are_ignored(client: TestClient) -> None:
    create_order(client)
    data = _list(client, DEMO_KEY, "?page=2&sort=asc&limit=5")
    assert data["total"] == 1 and data["limit"] == 5


def test_the_last_repeated_parameter_counts(client: TestClient) -> None:
    assert _list(client, DEMO_KEY, "?limit=5&limit=7")["limit"] == 7


# --- saved addresses and orders ---------------------------------------------------------------


def test_an_order_to_a_saved_address_counts_a_use(client: TestClient) -> None:
    before = client.get(MAIN_WALLET_PATH, headers=auth(DEMO_KEY)).json()["data"]
    assert before["usageCount"] == 5 and before["lastUsedAt"] == "2025-01-10T09:00:00Z"
    create_order(client, address=MAIN_WALLET)
    after = client.get(MAIN_WALLET_PATH, headers=auth(DEMO_KEY)).json()["data"]
    assert after["usageCount"] == 6 and after["lastUsedAt"] == "2025-01-15T10:30:00Z"
    fresh = client.get(EXCHANGE_PATH, headers=auth(DEMO_KEY)).json()["data"]
    assert fresh["usageCount"] == 0 and "lastUsedAt" not in fresh
    advance(client, 60)
    create_order(client, address=EXCHANGE)
    fresh = client.get(EXCHANGE_PATH, headers=auth(DEMO_KEY)).json()["data"]
    assert fresh["usageCount"] == 1 and fresh["lastUsedAt"] == "2025-01-15T10:31:00Z"
    assert list(fresh) == ["id", "tronAddress", "label", "isDefault", "usageCount", "lastUsedAt", "createdAt"]


def test_an_order_to_an_unsaved_address_or_a_refused_order_counts_nothing(client: TestClient) -> None:
    create_order(client, address=OTHER)
    bad = order_body(address=MAIN_WALLET, energy=1)
    assert client.post("/v1/energy/orders", headers=auth(DEMO_KEY), json=bad).status_code == 400
    views = client.get("/v1/addresses", headers=auth(DEMO_KEY)).json()["data"]["addresses"]
    assert [a["usageCount"] for a in views] == [5, 0]


def test_another_users_saved_address_is_not_counted(client: TestClient) -> None:
    create_order(client, RICH_KEY, address=MAIN_WALLET)
    assert client.get(MAIN_WALLET_PATH, headers=auth(DEMO_KEY)).json()["data"]["usageCount"] == 5


# --- determinism and reset ----------------------------------------------------------------------


def _script(emulator: Emulator) -> list[str]:
    with TestClient(create_app(emulator=emulator)) as client:
        texts = []
        for address in (USDT_CONTRACT, FAILING, MAIN_WALLET):
            body = order_body(address)
            texts.append(client.post("/v1/energy/orders", headers=auth(DEMO_KEY), json=body).text)
        account = new_account(client)
        texts.append(json.dumps(account, sort_keys=True))
        advance(client, 10)
        texts.append(client.get("/v1/energy/orders", headers=auth(DEMO_KEY)).text)
        texts.append(client.get("/v1/energy/orders", headers=auth(account["apiKey"])).text)
        return texts


def test_the_same_seed_and_requests_give_the_same_responses() -> None:
    assert _script(roomy_emulator()) == _script(roomy_emulator())


def test_reset_forgets_orders_and_restores_the_wallet(client: TestClient) -> None:
    order = create_order(client)
    assert client.post("/_emulator/reset").status_code == 200
    emu = client.app.state.emulator  # type: ignore[attr-defined]
    emu.clock.freeze()
    assert wallet(client, DEMO_KEY) == {"balanceSun": DEMO_BALANCE, "frozenSun": 0, "totalSun": DEMO_BALANCE}
    assert client.get(f"/v1/energy/orders/{order['id']}", headers=auth(DEMO_KEY)).status_code == 404
    assert _list(client, DEMO_KEY)["total"] == 0
