"""The control plane's read endpoints for a dashboard: GET /_emulator/{api}/accounts,
GET /_emulator/{api}/accounts/{accountId} and GET /_emulator/orders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from starlette.testclient import TestClient

from emulator.control import orders as orders_mod
from emulator.core.clock import iso_ms
from emulator.runtime import Emulator
from emulator.testing.client import EmulatorClient, EmulatorError
from emulator.usdtlowfee.energy import ENERGY
from emulator.xd247.lifecycles import OTP, PREMIUM, SOCIAL
from emulator.xd247.orders import OtpOrder
from tests.control.apis import APIS, ULF, XD, Api, control_error
from tests.usdtlowfee.support import DELAY_S, FAILING, FAILING_REASON, MAIN_WALLET, order_body
from tests.xd247.support import (
    CHATGPT,
    DEMO,
    FB_LIKES,
    OTP_AT_ONCE,
    OTP_NEVER,
    OTP_TEST_SERVICE,
    SOCIAL_FAST,
    SOCIAL_NEVER,
    auth,
    ok,
)

CONTROL_SPEC = json.loads(
    (Path(__file__).resolve().parents[2] / "emulator" / "specs" / "control.json").read_text("utf-8")
)
FIXTURE_ACCOUNTS = {
    "247xd": ["xd-demo", "xd-rich", "xd-empty", "xd-banned", "xd-old-keys"],
    "usdtlowfee": ["ulf-demo", "ulf-rich", "ulf-empty", "ulf-disabled", "ulf-old-keys"],
}
ITEM_KEYS = {
    "api",
    "orderId",
    "accountId",
    "kind",
    "status",
    "canTransitionTo",
    "price",
    "priceUnit",
    "createdAt",
    "updatedAt",
    "order",
}
MACHINES = {"otp": OTP, "social": SOCIAL, "premium": PREMIUM, "energy": ENERGY}


def conforms(answer: Any, path: str, method: str = "get") -> None:
    """`answer` is what control.json documents as the 200 of that operation."""
    schema = CONTROL_SPEC["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    Draft202012Validator({**schema, "components": CONTROL_SPEC["components"]}).validate(answer)


def listed(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/_emulator/orders", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"orders", "hasMore"}
    conforms(body, "/_emulator/orders")
    return body  # type: ignore[no-any-return]


def ids(client: TestClient, **params: Any) -> list[str]:
    return [item["orderId"] for item in listed(client, **params)["orders"]]


def advance(client: TestClient, seconds: float) -> None:
    response = client.post("/_emulator/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


def xd_account(client: TestClient, coins: float = 1000, **extra: Any) -> dict[str, Any]:
    return XD.create_account(client, coins=coins, **extra)


def ulf_account(client: TestClient, balance: int = 100_000_000, **extra: Any) -> dict[str, Any]:
    return ULF.create_account(client, balanceSun=balance, **extra)


def otp(client: TestClient, key: str = DEMO, option: str = OTP_NEVER) -> str:
    body = {"serviceId": OTP_TEST_SERVICE, "priceOptionId": option}
    return ok(client.post("/api/v1/otp/orders", headers=auth(key), json=body), 201)["orderId"]  # type: ignore[no-any-return]


def social(client: TestClient, key: str = DEMO, option: str = SOCIAL_NEVER, quantity: int = 100) -> str:
    body = {"optionId": option, "link": "https://x.com/a", "quantity": quantity}
    return ok(client.post("/api/v1/social/orders", headers=auth(key), json=body), 201)["orderId"]  # type: ignore[no-any-return]


def premium(client: TestClient, key: str = DEMO) -> str:
    response = client.post("/api/v1/premium/orders", headers=auth(key), json={"serviceId": CHATGPT})
    return ok(response, 201)["orderId"]  # type: ignore[no-any-return]


def energy(client: TestClient, key: str = ULF.demo_key, address: str = MAIN_WALLET) -> str:
    response = client.post("/v1/energy/orders", headers=ULF.headers(key), json=order_body(address))
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def api_get(client: TestClient, item: dict[str, Any], key: str) -> dict[str, Any]:
    """The API's own GET of a listed order, with `key`."""
    if item["api"] == "usdtlowfee":
        response = client.get(f"/v1/energy/orders/{item['orderId']}", headers=ULF.headers(key))
        assert response.status_code == 200, response.text
        return response.json()["data"]  # type: ignore[no-any-return]
    return ok(client.get(f"/api/v1/{item['kind']}/orders/{item['orderId']}", headers=auth(key)))  # type: ignore[no-any-return]


def transition(client: TestClient, api: str, order_id: str, to: str, **extra: Any) -> Any:
    return client.post(f"/_emulator/{api}/orders/{order_id}/transition", json={"to": to, **extra})


# --- accounts -----------------------------------------------------------------------------


@pytest.mark.parametrize("api", APIS, ids=lambda a: a.name)
def test_accounts_are_listed_in_creation_order_fixtures_first(client: TestClient, api: Api) -> None:
    first = api.create_account(client, label="first")
    second = api.create_account(client, label="second")
    response = client.get(f"/_emulator/{api.name}/accounts")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"accounts"}
    conforms(body, f"/_emulator/{api.name}/accounts")
    assert [a["accountId"] for a in body["accounts"]] == [
        *FIXTURE_ACCOUNTS[api.name],
        first["accountId"],
        second["accountId"],
    ]
    created = body["accounts"][-2]
    assert created["label"] == "first"
    assert created["keys"] == [
        {"apiKey": first["apiKey"], "accountId": first["accountId"], "expiresAt": None, "revoked": False}
    ]


@pytest.mark.parametrize("api", APIS, ids=lambda a: a.name)
def test_an_account_is_the_patch_view_plus_its_keys_in_issue_order(client: TestClient, api: Api) -> None:
    made = api.create_account(client)
    account_id = made["accountId"]
    issued = client.post(
        f"/_emulator/{api.name}/accounts/{account_id}/keys", json={"expiresAt": "2030-01-01T00:00:00Z"}
    ).json()
    assert client.delete(f"/_emulator/{api.name}/keys/{made['apiKey']}").status_code == 204
    patched = client.patch(f"/_emulator/{api.name}/accounts/{account_id}", json={}).json()
    view = client.get(f"/_emulator/{api.name}/accounts/{account_id}").json()
    conforms(view, f"/_emulator/{api.name}/accounts/{{accountId}}")
    assert {k: v for k, v in view.items() if k != "keys"} == patched
    assert view["keys"] == [
        {"apiKey": made["apiKey"], "accountId": account_id, "expiresAt": None, "revoked": True},
        {
            "apiKey": issued["apiKey"],
            "accountId": account_id,
            "expiresAt": "2030-01-01T00:00:00.000Z",
            "revoked": False,
        },
    ]
    listed_view = next(
        a
        for a in client.get(f"/_emulator/{api.name}/accounts").json()["accounts"]
        if a["accountId"] == account_id
    )
    assert listed_view == view


@pytest.mark.parametrize("api", APIS, ids=lambda a: a.name)
def test_fixture_keys_show_whole_with_their_expiry_and_revocation(client: TestClient, api: Api) -> None:
    prefix = "xd" if api is XD else "ulf"
    view = client.get(f"/_emulator/{api.name}/accounts/{prefix}-old-keys").json()
    expired, revoked = view["keys"]
    assert expired["expiresAt"] is not None and expired["revoked"] is False
    assert revoked["expiresAt"] is None and revoked["revoked"] is True
    demo = client.get(f"/_emulator/{api.name}/accounts/{api.demo_account}").json()
    assert [k["apiKey"] for k in demo["keys"]] == [api.demo_key]


@pytest.mark.parametrize("api", APIS, ids=lambda a: a.name)
def test_an_unknown_account_is_404(client: TestClient, api: Api) -> None:
    for account_id in ("nobody", "acct_0000000000000000", "ulf-demo" if api is XD else "xd-demo"):
        response = client.get(f"/_emulator/{api.name}/accounts/{account_id}")
        assert control_error(response, 404, "NOT_FOUND") == "account not found"


@pytest.mark.parametrize("api", APIS, ids=lambda a: a.name)
def test_a_third_method_is_405_listing_both(client: TestClient, api: Api) -> None:
    response = client.delete(f"/_emulator/{api.name}/accounts")
    control_error(response, 405, "METHOD_NOT_ALLOWED")
    assert {"GET", "POST"} <= set(response.headers["allow"].replace(" ", "").split(","))
    response = client.put(f"/_emulator/{api.name}/accounts/{api.demo_account}")
    control_error(response, 405, "METHOD_NOT_ALLOWED")
    assert {"GET", "PATCH"} <= set(response.headers["allow"].replace(" ", "").split(","))


def test_the_post_and_patch_routes_still_work_beside_get(client: TestClient) -> None:
    path = f"/_emulator/247xd/accounts/{xd_account(client, coins=3)['accountId']}"
    assert client.patch(path, json={"coins": 4}).json()["coins"] == 4.0
    assert client.get(path).json()["coins"] == 4.0


def test_a_usdtlowfee_wallet_is_listed_as_of_now(client: TestClient) -> None:
    made = ulf_account(client, balance=10_000_000)
    key, account_id = made["apiKey"], made["accountId"]
    energy(client, key)
    energy(client, key, FAILING)
    path = f"/_emulator/usdtlowfee/accounts/{account_id}"
    wallet = {k: client.get(path).json()[k] for k in ("balanceSun", "frozenSun", "totalSun")}
    assert wallet == {"balanceSun": 4_000_000, "frozenSun": 6_000_000, "totalSun": 10_000_000}
    advance(client, DELAY_S)  # both come due; nothing reads the API meanwhile
    one = client.get(path).json()
    # One completed (spent), one failed (back to the balance).
    assert (one["balanceSun"], one["frozenSun"], one["totalSun"]) == (7_000_000, 0, 7_000_000)
    everyone = client.get("/_emulator/usdtlowfee/accounts").json()["accounts"]
    assert next(a for a in everyone if a["accountId"] == account_id) == one


def test_the_list_settles_every_usdtlowfee_account(client: TestClient) -> None:
    made = ulf_account(client, balance=10_000_000)
    energy(client, made["apiKey"])
    advance(client, DELAY_S)
    everyone = client.get("/_emulator/usdtlowfee/accounts").json()["accounts"]
    mine = next(a for a in everyone if a["accountId"] == made["accountId"])
    assert (mine["balanceSun"], mine["frozenSun"], mine["totalSun"]) == (7_000_000, 0, 7_000_000)


def test_an_own_clock_wallet_settles_by_its_own_clock(client: TestClient) -> None:
    made = ulf_account(client, balance=10_000_000, clock="own")
    energy(client, made["apiKey"])
    path = f"/_emulator/usdtlowfee/accounts/{made['accountId']}"
    advance(client, 3600)  # the emulator clock: not this account's
    assert client.get(path).json()["frozenSun"] == 3_000_000
    client.post(f"{path}/clock/advance", json={"seconds": DELAY_S})
    assert client.get(path).json()["frozenSun"] == 0


# --- orders: order and shape ----------------------------------------------------------------


def test_no_orders_at_first(client: TestClient) -> None:
    assert listed(client) == {"orders": [], "hasMore": False}


def test_orders_of_both_apis_newest_first(client: TestClient) -> None:
    made = [otp(client)]
    advance(client, 1)
    made.append(energy(client))
    advance(client, 1)
    made.append(social(client))
    advance(client, 0.001)
    made.append(energy(client))
    advance(client, 1)
    made.append(premium(client))
    body = listed(client)
    assert [o["orderId"] for o in body["orders"]] == made[::-1]
    assert [o["api"] for o in body["orders"]] == ["247xd", "usdtlowfee", "247xd", "usdtlowfee", "247xd"]
    assert [o["kind"] for o in body["orders"]] == ["premium", "energy", "social", "energy", "otp"]
    assert body["hasMore"] is False
    created = [o["createdAt"] for o in body["orders"]]
    assert created == sorted(created, reverse=True)


def test_at_one_instant_the_later_created_first_and_247xd_before_usdtlowfee(client: TestClient) -> None:
    first_xd, first_ulf, second_xd, second_ulf = otp(client), energy(client), otp(client), energy(client)
    assert ids(client) == [second_xd, first_xd, second_ulf, first_ulf]


def test_own_clock_orders_sort_by_their_own_instants(client: TestClient) -> None:
    own = xd_account(client, clock="own")
    client.post(f"/_emulator/247xd/accounts/{own['accountId']}/clock/advance", json={"seconds": 86400})
    ahead = otp(client, own["apiKey"])  # a day ahead of the emulator clock
    advance(client, 60)
    later_made = otp(client)
    ulf = energy(client)
    assert ids(client) == [ahead, later_made, ulf]
    body = listed(client)
    assert body["orders"][0]["createdAt"] > body["orders"][1]["createdAt"]


def test_a_247xd_item(client: TestClient, emu: Emulator) -> None:
    order_id = otp(client)
    (item,) = listed(client)["orders"]
    assert set(item) == ITEM_KEYS | {"otpCode"}
    start = iso_ms(emu.clock.now_us())
    assert item == {
        "api": "247xd",
        "orderId": order_id,
        "accountId": "xd-demo",
        "kind": "otp",
        "status": "waiting_sms",
        "canTransitionTo": ["completed", "cancelled", "expired"],
        "price": 5.0,
        "priceUnit": "coins",
        "createdAt": start,
        "updatedAt": start,
        "otpCode": None,
        "order": api_get(client, item, DEMO),
    }


def test_an_energy_item_has_a_string_id_equal_to_the_apis(client: TestClient, emu: Emulator) -> None:
    response = client.post("/v1/energy/orders", headers=ULF.headers(ULF.demo_key), json=order_body())
    created = response.json()["data"]
    (item,) = listed(client)["orders"]
    assert set(item) == ITEM_KEYS | {"txid"}
    assert isinstance(item["orderId"], str) and item["orderId"] == str(created["id"])
    assert item["order"]["id"] == created["id"]
    start = iso_ms(emu.clock.now_us())
    assert {k: v for k, v in item.items() if k != "order"} == {
        "api": "usdtlowfee",
        "orderId": str(created["id"]),
        "accountId": "ulf-demo",
        "kind": "energy",
        "status": "processing",
        "canTransitionTo": ["completed", "failed"],
        "price": created["priceSun"],
        "priceUnit": "sun",
        "createdAt": start,
        "updatedAt": start,
        "txid": None,
    }
    assert isinstance(item["price"], int) and item["price"] == 3_000_000
    # The transition endpoint takes that id as it is.
    assert transition(client, "usdtlowfee", item["orderId"], "completed").status_code == 200


def test_social_and_premium_items_have_neither_otp_code_nor_txid(client: TestClient) -> None:
    social_id = social(client, quantity=1000)
    premium_id = premium(client)
    items = {i["orderId"]: i for i in listed(client)["orders"]}
    for item in items.values():
        assert set(item) == ITEM_KEYS
        assert item["priceUnit"] == "coins"
        assert item["price"] == item["order"]["price"]  # as the API prints it
    assert (items[social_id]["kind"], items[premium_id]["kind"]) == ("social", "premium")
    assert items[premium_id]["price"] == 250.0


def test_the_order_is_exactly_the_apis_get_of_it(client: TestClient) -> None:
    ulf = ulf_account(client)
    otp(client)
    otp(client, option=OTP_AT_ONCE)
    social(client, option=SOCIAL_FAST, quantity=5000)
    premium(client)
    energy(client, ulf["apiKey"])
    energy(client, ulf["apiKey"], FAILING)
    advance(client, 2)  # an SMS, social progress; not yet the energy orders' delay
    energy(client)
    advance(client, DELAY_S - 1)  # the first two energy orders come due
    items = listed(client)["orders"]
    assert len(items) == 7
    keys = {"xd-demo": DEMO, "ulf-demo": ULF.demo_key, ulf["accountId"]: ulf["apiKey"]}
    for item in items:
        key = keys[item["accountId"]]
        assert item["order"] == api_get(client, item, key), item["kind"]
        assert item["status"] == item["order"]["status"]
    statuses = {(i["kind"], i["status"]) for i in items}
    assert {
        ("otp", "completed"),
        ("otp", "waiting_sms"),
        ("social", "processing"),
        ("premium", "completed"),
        ("energy", "completed"),
        ("energy", "failed"),
        ("energy", "processing"),
    } == statuses


def test_updated_at_follows_the_last_move(client: TestClient, emu: Emulator) -> None:
    order_id = otp(client)
    energy_id = energy(client)
    start = emu.clock.now_us()
    advance(client, 30)
    assert transition(client, "247xd", order_id, "cancelled").status_code == 200
    by_id = {i["orderId"]: i for i in listed(client)["orders"]}
    assert by_id[order_id]["createdAt"] == iso_ms(start)
    assert by_id[order_id]["updatedAt"] == iso_ms(start + 30_000_000)
    # The energy order completed on its own, DELAY_S after its creation.
    assert by_id[energy_id]["status"] == "completed"
    assert by_id[energy_id]["updatedAt"] == iso_ms(start + DELAY_S * 1_000_000)


def test_otp_code_once_completed_and_txid_once_completed(client: TestClient) -> None:
    otp_id = otp(client)
    energy_id = energy(client)
    failing_id = energy(client, address=FAILING)
    by_id = {i["orderId"]: i for i in listed(client)["orders"]}
    assert by_id[otp_id]["otpCode"] is None and by_id[energy_id]["txid"] is None
    transition(client, "247xd", otp_id, "completed", otpCode="87654321")
    advance(client, DELAY_S)
    by_id = {i["orderId"]: i for i in listed(client)["orders"]}
    assert by_id[otp_id]["otpCode"] == "87654321" == by_id[otp_id]["order"]["otpCode"]
    txid = by_id[energy_id]["txid"]
    assert isinstance(txid, str) and len(txid) == 64 and txid == by_id[energy_id]["order"]["txid"]
    assert by_id[failing_id]["status"] == "failed" and by_id[failing_id]["txid"] is None
    assert by_id[failing_id]["order"]["failureReason"] == FAILING_REASON


# --- orders: canTransitionTo -----------------------------------------------------------------


def item_of(client: TestClient, order_id: str) -> dict[str, Any]:
    return next(i for i in listed(client)["orders"] if i["orderId"] == order_id)


def check_table(item: dict[str, Any]) -> None:
    assert item["canTransitionTo"] == list(MACHINES[item["kind"]].allowed(item["status"]))


def test_can_transition_to_follows_the_otp_table(client: TestClient) -> None:
    waiting, cancelled, expiring = otp(client), otp(client), otp(client)
    assert item_of(client, waiting)["canTransitionTo"] == ["completed", "cancelled", "expired"]
    transition(client, "247xd", cancelled, "cancelled")
    assert item_of(client, cancelled)["canTransitionTo"] == ["refunded"]
    advance(client, 20 * 60)  # the never-SMS orders expire
    assert transition(client, "247xd", waiting, "cancelled").status_code == 409
    item = item_of(client, expiring)
    assert (item["status"], item["canTransitionTo"]) == ("expired", ["refunded"])
    transition(client, "247xd", expiring, "refunded")
    item = item_of(client, expiring)
    assert (item["status"], item["canTransitionTo"]) == ("refunded", [])
    for each in listed(client)["orders"]:
        check_table(each)


def test_can_transition_to_follows_the_social_premium_and_energy_tables(client: TestClient) -> None:
    pending = social(client, option=FB_LIKES, quantity=100)  # starts after 30 s
    item = item_of(client, pending)
    assert (item["status"], item["canTransitionTo"]) == ("pending", ["processing", "cancelled"])
    running = social(client, option=SOCIAL_FAST, quantity=5000)  # starts at once
    item = item_of(client, running)
    assert (item["status"], item["canTransitionTo"]) == ("processing", ["completed", "partial", "cancelled"])
    transition(client, "247xd", running, "partial", delivered=10)
    assert item_of(client, running)["canTransitionTo"] == ["refunded"]
    bought = premium(client)
    assert item_of(client, bought)["canTransitionTo"] == []
    done, failing = energy(client), energy(client)
    assert item_of(client, done)["canTransitionTo"] == ["completed", "failed"]
    transition(client, "usdtlowfee", failing, "failed")
    assert item_of(client, failing)["canTransitionTo"] == []
    advance(client, DELAY_S)
    item = item_of(client, done)
    assert (item["status"], item["canTransitionTo"]) == ("completed", [])
    for each in listed(client)["orders"]:
        check_table(each)


def test_every_move_listed_is_one_the_transition_endpoint_takes(client: TestClient) -> None:
    first = otp(client)
    targets = item_of(client, first)["canTransitionTo"]
    for target in targets:
        order_id = otp(client)
        assert transition(client, "247xd", order_id, target).status_code == 200, target
    for target in set(OTP.table) - set(targets) - {"waiting_sms"}:
        assert transition(client, "247xd", first, target).status_code == 409, target


# --- orders: filters, limit ------------------------------------------------------------------


@pytest.fixture
def mixed(client: TestClient) -> dict[str, Any]:
    """Orders of every kind on three accounts: the demo accounts of both APIs and a new 247xd one."""
    other = xd_account(client)
    made = {
        "otp": otp(client),
        "otp_other": otp(client, other["apiKey"]),
        "social": social(client),
        "premium": premium(client),
        "energy": energy(client),
        "energy_failing": energy(client, address=FAILING),
    }
    transition(client, "247xd", made["otp"], "cancelled")
    advance(client, DELAY_S)
    return {"other": other["accountId"], **made}


def test_filter_by_api(client: TestClient, mixed: dict[str, Any]) -> None:
    assert set(ids(client, api="247xd")) == {mixed[k] for k in ("otp", "otp_other", "social", "premium")}
    assert ids(client, api="usdtlowfee") == [mixed["energy_failing"], mixed["energy"]]


def test_filter_by_account(client: TestClient, mixed: dict[str, Any]) -> None:
    assert ids(client, accountId=mixed["other"]) == [mixed["otp_other"]]
    assert ids(client, accountId="ulf-demo") == [mixed["energy_failing"], mixed["energy"]]
    assert ids(client, accountId="xd-demo", api="usdtlowfee") == []
    assert listed(client, accountId="nobody") == {"orders": [], "hasMore": False}


def test_filter_by_kind(client: TestClient, mixed: dict[str, Any]) -> None:
    assert ids(client, kind="otp") == [mixed["otp_other"], mixed["otp"]]
    assert ids(client, kind="social") == [mixed["social"]]
    assert ids(client, kind="premium") == [mixed["premium"]]
    assert ids(client, kind="energy") == [mixed["energy_failing"], mixed["energy"]]
    assert ids(client, kind="energy", api="247xd") == []


def test_filter_by_status(client: TestClient, mixed: dict[str, Any]) -> None:
    assert ids(client, status="cancelled") == [mixed["otp"]]
    assert ids(client, status="waiting_sms") == [mixed["otp_other"]]
    assert ids(client, status="processing") == [mixed["social"]]  # started at once, never delivers
    assert ids(client, status="pending") == []
    assert ids(client, status="failed") == [mixed["energy_failing"]]
    assert set(ids(client, status="completed")) == {mixed["premium"], mixed["energy"]}
    assert ids(client, status="refunded") == []


def test_filters_combine(client: TestClient, mixed: dict[str, Any]) -> None:
    assert ids(client, status="completed", api="usdtlowfee") == [mixed["energy"]]
    assert ids(client, status="completed", kind="premium", accountId="xd-demo") == [mixed["premium"]]
    assert ids(client, status="waiting_sms", accountId="xd-demo") == []
    assert ids(client, status="waiting_sms", kind="premium") == []  # not a status of that table
    assert ids(client, status="failed", kind="otp") == []


def test_every_filtered_item_matches_its_filter(client: TestClient, mixed: dict[str, Any]) -> None:
    for name, values in (
        ("api", orders_mod.APIS),
        ("kind", orders_mod.KINDS),
        ("status", orders_mod.ORDER_STATUSES),
    ):
        total = 0
        for value in values:
            items = listed(client, **{name: value})["orders"]
            assert all(item[name] == value for item in items)
            total += len(items)
        assert total == 6, name  # each order under exactly one value


def test_limit_and_has_more(client: TestClient) -> None:
    made = [otp(client), energy(client), social(client), energy(client), premium(client)]
    # All at one instant: 247xd first, and within an API the later-created first.
    newest = [made[4], made[2], made[0], made[3], made[1]]
    assert ids(client) == newest
    for limit in range(1, 7):
        body = listed(client, limit=limit)
        assert [o["orderId"] for o in body["orders"]] == newest[:limit]
        assert body["hasMore"] is (limit < 5)
    body = listed(client, limit=1, api="usdtlowfee")
    assert ([o["orderId"] for o in body["orders"]], body["hasMore"]) == ([made[3]], True)


def test_the_default_limit_is_100(client: TestClient, emu: Emulator) -> None:
    backend = emu.xd247
    account = backend.accounts["xd-rich"]
    _, option = backend.price_options[OTP_NEVER]
    option.stock = 1000
    for _ in range(101):
        backend.create_otp_order(account, OTP_TEST_SERVICE, OTP_NEVER, emu.clock.now_us())
    body = listed(client)
    assert (len(body["orders"]), body["hasMore"]) == (100, True)
    body = listed(client, limit=1000)
    assert (len(body["orders"]), body["hasMore"]) == (101, False)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("api", "xd247"),
        ("api", ""),
        ("accountId", ""),
        ("accountId", "x" * 201),
        ("status", "teleported"),
        ("status", "WAITING_SMS"),
        ("kind", "sms"),
        ("kind", ""),
        ("limit", "0"),
        ("limit", "1001"),
        ("limit", "-1"),
        ("limit", "1.5"),
        ("limit", "ten"),
        ("limit", ""),
        ("limit", "99999999"),
    ],
)
def test_a_bad_parameter_is_400_naming_it(client: TestClient, field: str, value: str) -> None:
    message = control_error(client.get("/_emulator/orders", params={field: value}), 400, "VALIDATION_ERROR")
    assert message.startswith(field + " ")


def test_a_bad_status_lists_every_status_of_the_tables(client: TestClient) -> None:
    message = control_error(client.get("/_emulator/orders?status=nope"), 400, "VALIDATION_ERROR")
    everyone = {s for machine in (OTP, SOCIAL, PREMIUM, ENERGY) for s in machine.statuses}
    assert set(orders_mod.ORDER_STATUSES) == everyone
    for status in everyone:
        assert status in message


def test_the_longest_account_id_is_accepted(client: TestClient) -> None:
    assert listed(client, accountId="x" * 200) == {"orders": [], "hasMore": False}


def test_unknown_parameters_are_ignored(client: TestClient) -> None:
    order_id = otp(client)
    assert ids(client, page="2", sort="asc") == [order_id]


def test_post_on_orders_is_405(client: TestClient) -> None:
    response = client.post("/_emulator/orders")
    control_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["allow"]


# --- orders: settled before filtering -------------------------------------------------------


def test_an_otp_order_that_never_gets_its_sms_is_found_expired(client: TestClient) -> None:
    order_id = otp(client)
    assert ids(client, status="waiting_sms") == [order_id]
    advance(client, 20 * 60 + 1)  # nothing reads the order through the API meanwhile
    assert ids(client, status="waiting_sms") == []
    assert ids(client, status="expired") == [order_id]
    item = item_of(client, order_id)
    assert (item["status"], item["canTransitionTo"]) == ("expired", ["refunded"])
    assert item["order"]["status"] == "expired"


def test_an_own_clock_order_settles_at_its_own_clock(client: TestClient) -> None:
    own = xd_account(client, clock="own")
    order_id = otp(client, own["apiKey"])
    advance(client, 3600)  # the emulator clock: not this account's
    assert ids(client, status="waiting_sms") == [order_id]
    client.post(f"/_emulator/247xd/accounts/{own['accountId']}/clock/advance", json={"seconds": 1201})
    assert ids(client, status="expired") == [order_id]


def test_social_and_energy_orders_are_settled_before_the_status_filter(client: TestClient) -> None:
    social_id = social(client, option=FB_LIKES, quantity=100)  # starts after 30 s
    energy_id = energy(client)  # completes after DELAY_S
    assert ids(client, status="pending") == [social_id]
    assert ids(client, status="processing") == [energy_id]
    advance(client, DELAY_S)
    assert ids(client, status="processing") == []
    assert ids(client, status="completed") == [energy_id]
    advance(client, 30)
    assert ids(client, status="pending") == []
    assert ids(client, status="processing") == [social_id]


# --- domain level ---------------------------------------------------------------------------


def test_select_stops_reading_one_past_the_limit(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = emu.xd247
    account = backend.accounts["xd-rich"]
    _, option = backend.price_options[OTP_NEVER]
    option.stock = 5000
    for _ in range(3000):
        backend.create_otp_order(account, OTP_TEST_SERVICE, OTP_NEVER, emu.clock.now_us())
    settled: list[int] = []
    real = OtpOrder.settle

    def counting(self: OtpOrder, now_us: int) -> None:
        settled.append(self.n)
        real(self, now_us)

    monkeypatch.setattr(OtpOrder, "settle", counting)
    with emu.lock:
        items, more = orders_mod.select(emu, orders_mod.Query({"status": "waiting_sms", "limit": "2"}))
    assert [i["orderId"] for i in items] == [backend.orders.ids.order_uuid(n) for n in (2999, 2998)]
    assert more is True
    assert len(settled) < 10


def test_query_defaults(emu: Emulator) -> None:
    query = orders_mod.Query({})
    assert (query.api, query.account_id, query.status, query.kind) == (None, None, None, None)
    assert query.limit == 100


# --- the typed client -------------------------------------------------------------------------


def test_the_client_lists_accounts_and_orders(emu: Emulator) -> None:
    with EmulatorClient.in_process(emu) as control:
        xd = control.create_xd247_account(coins=50)
        ulf = control.create_usdtlowfee_account(balance_sun=10_000_000)
        assert [a["accountId"] for a in control.accounts("247xd")][-1] == xd.account_id
        assert control.account("usdtlowfee", ulf.account_id)["keys"][0]["apiKey"] == ulf.api_key
        body = {"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_NEVER}
        created = xd.client.post("/otp/orders", json=body)
        order_id = created.json()["data"]["orderId"]
        energy_id = ulf.client.post("/v1/energy/orders", json=order_body()).json()["data"]["id"]
        answer = control.orders()
        assert [o["orderId"] for o in answer["orders"]] == [order_id, str(energy_id)]
        assert answer["hasMore"] is False
        assert control.orders(api="usdtlowfee", limit=1)["orders"][0]["orderId"] == str(energy_id)
        assert (
            control.orders(account_id=xd.account_id, kind="otp", status="waiting_sms")["orders"][0]["orderId"]
            == order_id
        )
        with pytest.raises(EmulatorError) as caught:
            control.orders(limit=0)
        assert (caught.value.status, caught.value.code) == (400, "VALIDATION_ERROR")
        assert caught.value.message.startswith("limit ")
        with pytest.raises(EmulatorError) as caught:
            control.account("247xd", "nobody")
        assert caught.value.status == 404
