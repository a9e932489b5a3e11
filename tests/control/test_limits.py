"""Every reachable state loads (issue 14): balances, coins and counters stay within what
the state document accepts at every write, and the document accepts every one of them."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from emulator import state
from emulator.apis import FAULT_TARGETS
from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.core.errors import LimitError
from emulator.core.validate import INT64_MAX
from emulator.durable import open_state_file
from emulator.runtime import Emulator
from emulator.usdtlowfee.fixtures import MAX_TOTAL_SUN, MAX_USAGE_COUNT
from emulator.xd247.fixtures import MAX_COINS, MAX_ITEM_PRICE, MAX_STOCK

START = "2025-01-15T10:30:00Z"
ADDRESS = "TXfLr54GXLwfcBtwNPoHKoFhpdJr6v8ta5"
FAILING = "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb"
PREMIUM = "a1724606-ddc1-4bbd-b225-d523fffc171f"
PRICE_1H = 3_000_000  # 65000 energy for 1 hour (the default table)


def frozen_emulator(seed: int = 7) -> Emulator:
    return Emulator(Config(seed=seed, clock_start_us=parse_iso(START), clock_frozen=True))


@pytest.fixture
def emu() -> Emulator:
    return frozen_emulator()


@pytest.fixture
def client(emu: Emulator) -> Iterator[TestClient]:
    with TestClient(create_app(emulator=emu)) as c:
        yield c


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def refused(response: Any, status: int, code: str, field: str) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert field in error["message"], error["message"]
    return str(error["message"])


def round_trips(c: TestClient, tmp_path: Path | None = None) -> bytes:
    """The export imports (PUT) to the same export, loads into a fresh emulator the way
    `serve --state-file` starts, and reopens from a state file: every path gives it back."""
    raw = c.get("/_emulator/state").content
    ok(c.put("/_emulator/state", content=raw))
    assert c.get("/_emulator/state").content == raw
    fresh = frozen_emulator(seed=99)
    state.load(raw, fresh, FAULT_TARGETS)
    with fresh.lock:
        assert state.dumps(fresh) == raw
    if tmp_path is not None:
        path = tmp_path / "state.json"
        path.write_bytes(raw)
        restarted = frozen_emulator(seed=5)
        # StateFileError (exit 2 when served) if the export would not load.
        durable = open_state_file(path, restarted, create_app(emulator=restarted))
        try:
            with restarted.lock:
                assert state.dumps(restarted) == raw
        finally:
            durable.close()
    return raw


def energy_order(c: TestClient, key: str, address: str = ADDRESS) -> dict[str, Any]:
    body = {"type": "manual", "data": {"tronAddress": address, "energyValue": 65000, "durationHours": 1}}
    data: dict[str, Any] = ok(
        c.post("/v1/energy/orders", headers={"Authorization": f"ApiKey {key}"}, json=body), 201
    )["data"]
    return data


# --- USDTLowFee: totalSun is an int64 ---------------------------------------------------


def test_the_reported_overflow_sequence_is_refused_at_the_patch_and_every_state_loads(
    client: TestClient, tmp_path: Path
) -> None:
    account = ok(client.post("/_emulator/usdtlowfee/accounts", json={"balanceSun": 10_000_000}), 201)
    path = f"/_emulator/usdtlowfee/accounts/{account['accountId']}"
    order = energy_order(client, account["apiKey"])
    before = client.get("/_emulator/state").content

    message = refused(client.patch(path, json={"balanceSun": INT64_MAX}), 409, "CONFLICT", "balanceSun")
    assert str(INT64_MAX - PRICE_1H) in message and "frozenSun" in message
    assert client.get("/_emulator/state").content == before  # nothing changed

    wallet = ok(client.patch(path, json={"balanceSun": INT64_MAX - PRICE_1H}))
    assert (wallet["balanceSun"], wallet["frozenSun"], wallet["totalSun"]) == (
        INT64_MAX - PRICE_1H,
        PRICE_1H,
        INT64_MAX,
    )
    moved = ok(client.post(f"/_emulator/usdtlowfee/orders/{order['id']}/transition", json={"to": "failed"}))
    assert moved["status"] == "failed"
    wallet = ok(client.get(path))
    assert (wallet["balanceSun"], wallet["frozenSun"], wallet["totalSun"]) == (INT64_MAX, 0, INT64_MAX)
    round_trips(client, tmp_path)


def test_a_natural_failure_at_the_bound_gives_the_price_back_exactly(client: TestClient) -> None:
    account = ok(client.post("/_emulator/usdtlowfee/accounts", json={"balanceSun": PRICE_1H}), 201)
    path = f"/_emulator/usdtlowfee/accounts/{account['accountId']}"
    energy_order(client, account["apiKey"], FAILING)  # fails by itself after the delay
    ok(client.patch(path, json={"balanceSun": INT64_MAX - PRICE_1H}))
    ok(client.post("/_emulator/clock/advance", json={"seconds": 60}))
    wallet = ok(client.get(path))
    assert (wallet["balanceSun"], wallet["frozenSun"]) == (INT64_MAX, 0)
    round_trips(client)


def test_the_balance_bound_through_the_domain(emu: Emulator) -> None:
    backend = emu.usdtlowfee
    with emu.lock:
        account, _ = backend.create_account(PRICE_1H)
        backend.create_order(account, ADDRESS, 65000, 1, emu.clock.now_us())
        with pytest.raises(LimitError) as caught:
            backend.set_balance(account, MAX_TOTAL_SUN)
        assert caught.value.field == "balanceSun"
        assert account.balance_sun == 0 and account.frozen_sun == PRICE_1H
        backend.set_balance(account, MAX_TOTAL_SUN - PRICE_1H)
        backend.force(backend.book.ids[-1], "failed")
        assert account.balance_sun == MAX_TOTAL_SUN and account.total_sun == MAX_TOTAL_SUN
        raw = state.dumps(emu)
    state.load(raw, frozen_emulator(), FAULT_TARGETS)


def test_a_balance_over_int64_is_a_400(client: TestClient) -> None:
    account = ok(client.post("/_emulator/usdtlowfee/accounts", json={}), 201)
    path = f"/_emulator/usdtlowfee/accounts/{account['accountId']}"
    refused(client.patch(path, json={"balanceSun": INT64_MAX + 1}), 400, "VALIDATION_ERROR", "balanceSun")
    refused(
        client.post("/_emulator/usdtlowfee/accounts", json={"balanceSun": INT64_MAX + 1}),
        400,
        "VALIDATION_ERROR",
        "balanceSun",
    )
    ok(client.post("/_emulator/usdtlowfee/accounts", json={"balanceSun": INT64_MAX}), 201)
    round_trips(client)


def _edit(document: dict[str, Any], section: str, list_name: str, match: Any, **fields: Any) -> bytes:
    changed = copy.deepcopy(document)
    for item in changed[section][list_name]:
        if match(item):
            item.update(fields)
    return orjson.dumps(changed)


def test_the_document_accepts_exactly_the_live_bound(client: TestClient) -> None:
    account = ok(client.post("/_emulator/usdtlowfee/accounts", json={"balanceSun": PRICE_1H}), 201)
    energy_order(client, account["apiKey"])
    document = orjson.loads(client.get("/_emulator/state").content)
    index = [a["id"] for a in document["usdtlowfee"]["accounts"]].index(account["accountId"])
    mine = lambda a: a["id"] == account["accountId"]  # noqa: E731
    over = _edit(document, "usdtlowfee", "accounts", mine, balanceSun=INT64_MAX - PRICE_1H + 1)
    before = client.get("/_emulator/state").content
    message = refused(
        client.put("/_emulator/state", content=over),
        400,
        "VALIDATION_ERROR",
        f"usdtlowfee.accounts[{index}].balanceSun",
    )
    assert "frozenSun" in message
    assert client.get("/_emulator/state").content == before
    ok(
        client.put(
            "/_emulator/state",
            content=_edit(document, "usdtlowfee", "accounts", mine, balanceSun=INT64_MAX - PRICE_1H),
        )
    )


def test_usage_count_saturates_at_its_bound_and_the_document_refuses_beyond(client: TestClient) -> None:
    document = orjson.loads(client.get("/_emulator/state").content)
    owner = next(a for a in document["usdtlowfee"]["accounts"] if a["addresses"])
    address = owner["addresses"][0]
    address["usageCount"] = MAX_USAGE_COUNT + 1
    refused(
        client.put("/_emulator/state", content=orjson.dumps(document)), 400, "VALIDATION_ERROR", "usageCount"
    )
    address["usageCount"] = MAX_USAGE_COUNT
    ok(client.put("/_emulator/state", content=orjson.dumps(document)))
    with client.app.state.emulator.lock:  # type: ignore[attr-defined]
        backend = client.app.state.emulator.usdtlowfee  # type: ignore[attr-defined]
        account = backend.accounts[owner["id"]]
        account.balance_sun = max(account.balance_sun, PRICE_1H)
        backend.create_order(account, address["tronAddress"], 65000, 1, backend.clock.now_us())
        assert account.address_by_tron[address["tronAddress"]].usage_count == MAX_USAGE_COUNT
    round_trips(client)


def test_an_exhausted_id_sequence_is_refused_before_anything_changes(client: TestClient) -> None:
    account = ok(client.post("/_emulator/usdtlowfee/accounts", json={"balanceSun": PRICE_1H}), 201)
    document = orjson.loads(client.get("/_emulator/state").content)
    document["usdtlowfee"]["lastId"] = INT64_MAX
    ok(client.put("/_emulator/state", content=orjson.dumps(document)))
    before = client.get("/_emulator/state").content
    refused(client.post("/_emulator/usdtlowfee/accounts", json={}), 409, "CONFLICT", "usdtlowfee.lastId")
    body = {"type": "manual", "data": {"tronAddress": ADDRESS, "energyValue": 65000, "durationHours": 1}}
    response = client.post(
        "/v1/energy/orders", headers={"Authorization": f"ApiKey {account['apiKey']}"}, json=body
    )
    assert response.status_code == 409, response.text
    envelope = response.json()
    assert envelope["error"]["code"] == "CONFLICT"  # USDTLowFee's own envelope and code
    assert "lastId" in envelope["error"]["message"]
    response = client.post(
        "/v1/addresses",
        headers={"Authorization": f"ApiKey {account['apiKey']}"},
        json={"tronAddress": ADDRESS, "label": "x"},
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "CONFLICT"
    assert client.get("/_emulator/state").content == before
    round_trips(client)


# --- 247xd: coins and what orders could still refund ------------------------------------


def xd(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def otp_option(c: TestClient, key: str) -> tuple[str, dict[str, Any]]:
    service = ok(c.get("/api/v1/otp/services", headers=xd(key)))["data"][0]
    option = next(o for o in service["priceOptions"] if o["stock"] > 0)
    return service["id"], option


def test_coins_plus_what_orders_could_refund_stay_within_the_bound(
    client: TestClient, tmp_path: Path
) -> None:
    account = ok(client.post("/_emulator/247xd/accounts", json={"coins": 100}), 201)
    path = f"/_emulator/247xd/accounts/{account['accountId']}"
    service, option = otp_option(client, account["apiKey"])
    order = ok(
        client.post(
            "/api/v1/otp/orders",
            headers=xd(account["apiKey"]),
            json={"serviceId": service, "priceOptionId": option["id"]},
        ),
        201,
    )["data"]
    price = round(option["price"] * 100)
    before = client.get("/_emulator/state").content
    message = refused(client.patch(path, json={"coins": MAX_COINS / 100}), 409, "CONFLICT", "coins")
    assert "refund" in message
    assert client.get("/_emulator/state").content == before
    ok(client.patch(path, json={"coins": (MAX_COINS - price) / 100}))
    ok(client.post(f"/api/v1/otp/orders/{order['orderId']}/cancel", headers=xd(account["apiKey"])))
    ok(client.post(f"/api/v1/otp/orders/{order['orderId']}/refund", headers=xd(account["apiKey"])))
    balance = ok(client.get("/api/v1/balance", headers=xd(account["apiKey"])))["data"]
    assert balance == {"coins": MAX_COINS / 100}
    assert orjson.dumps(balance["coins"]) == b"9999999999999.99"  # exact as a JSON number
    # Refunded: nothing left to refund, so the bound is the bound.
    ok(client.patch(path, json={"coins": MAX_COINS / 100}))
    round_trips(client, tmp_path)


def test_a_forced_refund_at_the_bound_credits_exactly(client: TestClient) -> None:
    account = ok(client.post("/_emulator/247xd/accounts", json={"coins": 100}), 201)
    service, option = otp_option(client, account["apiKey"])
    order = ok(
        client.post(
            "/api/v1/otp/orders",
            headers=xd(account["apiKey"]),
            json={"serviceId": service, "priceOptionId": option["id"]},
        ),
        201,
    )["data"]
    price = round(option["price"] * 100)
    ok(
        client.patch(
            f"/_emulator/247xd/accounts/{account['accountId']}", json={"coins": (MAX_COINS - price) / 100}
        )
    )
    for to in ("expired", "refunded"):
        ok(client.post(f"/_emulator/247xd/orders/{order['orderId']}/transition", json={"to": to}))
    assert ok(client.get(f"/_emulator/247xd/accounts/{account['accountId']}"))["coins"] == MAX_COINS / 100
    round_trips(client)


def test_the_coin_bound_through_the_domain(emu: Emulator) -> None:
    backend = emu.xd247
    with emu.lock:
        account, _ = backend.create_account(10_000)
        premium = backend.create_premium_order(account, PREMIUM, emu.clock.now_us())
        assert backend.refundable(account) == 0  # a premium order is never refunded
        backend.set_coins(account, MAX_COINS)
        backend.set_coins(account, 10_000)
        service, option = next((s.id, o) for s in backend.otp_services for o in s.price_options if o.stock)
        order = backend.create_otp_order(account, service, option.id, emu.clock.now_us())
        assert backend.refundable(account) == option.price
        with pytest.raises(LimitError) as caught:
            backend.set_coins(account, MAX_COINS - option.price + 1)
        assert caught.value.field == "coins"
        backend.set_coins(account, MAX_COINS - option.price)
        backend.force(order.id, "cancelled", {})
        assert backend.refundable(account) == option.price
        backend.force(order.id, "refunded", {})
        assert account.coins == MAX_COINS and backend.refundable(account) == 0
        assert premium.price > 0
        raw = state.dumps(emu)
    state.load(raw, frozen_emulator(), FAULT_TARGETS)


def test_coins_over_the_bound_are_a_400_everywhere(client: TestClient) -> None:
    over = (MAX_COINS + 1) / 100
    refused(client.post("/_emulator/247xd/accounts", json={"coins": over}), 400, "VALIDATION_ERROR", "coins")
    account = ok(client.post("/_emulator/247xd/accounts", json={"coins": MAX_COINS / 100}), 201)
    refused(
        client.patch(f"/_emulator/247xd/accounts/{account['accountId']}", json={"coins": 1e300}),
        400,
        "VALIDATION_ERROR",
        "coins",
    )
    fixtures = {"247xd": {"accounts": [{"id": "a", "coins": over}]}}
    refused(
        client.post("/_emulator/fixtures", json=fixtures), 400, "VALIDATION_ERROR", "247xd.accounts[0].coins"
    )
    round_trips(client)


def test_the_document_refuses_coins_an_order_could_refund_past_the_bound(client: TestClient) -> None:
    account = ok(client.post("/_emulator/247xd/accounts", json={"coins": 100}), 201)
    service, option = otp_option(client, account["apiKey"])
    ok(
        client.post(
            "/api/v1/otp/orders",
            headers=xd(account["apiKey"]),
            json={"serviceId": service, "priceOptionId": option["id"]},
        ),
        201,
    )
    price = round(option["price"] * 100)
    document = orjson.loads(client.get("/_emulator/state").content)
    index = [a["id"] for a in document["247xd"]["accounts"]].index(account["accountId"])
    mine = lambda a: a["id"] == account["accountId"]  # noqa: E731
    refused(
        client.put(
            "/_emulator/state", content=_edit(document, "247xd", "accounts", mine, coins=MAX_COINS / 100)
        ),
        400,
        "VALIDATION_ERROR",
        f"247xd.accounts[{index}].coins",
    )
    at_bound = _edit(document, "247xd", "accounts", mine, coins=(MAX_COINS - price) / 100)
    ok(client.put("/_emulator/state", content=at_bound))


@pytest.mark.parametrize(
    ("list_name", "field", "value"),
    [
        ("premiumServices", "stock", MAX_STOCK + 1),
        ("premiumServices", "price", (MAX_ITEM_PRICE + 1) / 100),
        ("otpServices", "stock", MAX_STOCK + 1),
        ("otpServices", "price", (MAX_ITEM_PRICE + 1) / 100),
        ("socialServices", "pricePer1000", (MAX_ITEM_PRICE + 1) / 100),
        ("socialServices", "max", INT64_MAX + 1),
    ],
)
def test_the_document_and_the_catalog_patch_share_their_bounds(
    client: TestClient, list_name: str, field: str, value: Any
) -> None:
    document = orjson.loads(client.get("/_emulator/state").content)
    item = document["247xd"][list_name][0]
    if list_name == "otpServices":
        item = item["priceOptions"][0]
    elif list_name == "socialServices":
        item = item["options"][0]
    item_id = item["id"]
    item[field] = value
    refused(client.put("/_emulator/state", content=orjson.dumps(document)), 400, "VALIDATION_ERROR", field)
    if field == "max":
        return
    patched = "price" if field == "pricePer1000" else field
    refused(
        client.patch(f"/_emulator/247xd/catalog/{item_id}", json={patched: value}),
        400,
        "VALIDATION_ERROR",
        patched,
    )
    at_bound = MAX_STOCK if field == "stock" else MAX_ITEM_PRICE / 100
    if not (field == "stock" and list_name == "socialServices"):
        ok(client.patch(f"/_emulator/247xd/catalog/{item_id}", json={patched: at_bound}))
    round_trips(client)


# --- instants ------------------------------------------------------------------------


def test_a_key_expiry_is_as_late_as_the_document_accepts(client: TestClient) -> None:
    account = ok(client.post("/_emulator/247xd/accounts", json={}), 201)
    path = f"/_emulator/247xd/keys/{account['apiKey']}"
    refused(
        client.patch(path, json={"expiresAt": "9999-12-31T23:59:59Z"}), 400, "VALIDATION_ERROR", "expiresAt"
    )
    refused(
        client.post(
            f"/_emulator/247xd/accounts/{account['accountId']}/keys",
            json={"expiresAt": "9000-01-01T00:00:01Z"},
        ),
        400,
        "VALIDATION_ERROR",
        "expiresAt",
    )
    ok(client.patch(path, json={"expiresAt": "9000-01-01T00:00:00Z"}))
    fixtures = {
        "247xd": {
            "accounts": [
                {
                    "id": "a",
                    "coins": 1,
                    "keys": [{"key": "247xd_" + "a" * 40, "expiresAt": "9500-01-01T00:00:00Z"}],
                }
            ]
        }
    }
    refused(client.post("/_emulator/fixtures", json=fixtures), 400, "VALIDATION_ERROR", "expiresAt")
    round_trips(client)
