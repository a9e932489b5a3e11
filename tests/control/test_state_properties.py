"""Every reachable state loads (issue 14): random sequences of API and control-plane calls,
edge values included, and after every step the export imports to the same export and
loads into a fresh emulator (as `serve --state-file` starts) giving it back."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, invariant, rule
from starlette.testclient import TestClient

from emulator import state
from emulator.apis import FAULT_TARGETS
from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.core.validate import INT64_MAX
from emulator.runtime import Emulator
from emulator.usdtlowfee.energy import DURATIONS
from emulator.usdtlowfee.fixtures import MAX_PRICE_SUN
from emulator.xd247.fixtures import MAX_COINS, MAX_ITEM_PRICE, MAX_STOCK

START = "2025-01-15T10:30:00Z"
ADDRESSES = (
    "TXfLr54GXLwfcBtwNPoHKoFhpdJr6v8ta5",
    "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb",  # fails by itself
    "T9yD14Nj9j7xAB4dbGeiX9h8unkKLxmGkn",  # slow
)
PRICE_1H = 3_000_000


def frozen_emulator(seed: int = 7) -> Emulator:
    return Emulator(Config(seed=seed, clock_start_us=parse_iso(START), clock_frozen=True))


_CATALOG = frozen_emulator().xd247
OTP = [(s.id, o.id) for s in _CATALOG.otp_services for o in s.price_options][:4]
SOCIAL = [(o.id, o.min, o.max) for s in _CATALOG.social_services for o in s.options][:3]
PREMIUM = [p.id for p in _CATALOG.premium_services][:3]
ITEMS = [o for _, o in OTP] + [o for o, _, _ in SOCIAL] + PREMIUM

# Hundredths and sun at the edges: nothing, one unit, the bounds and just inside them.
COINS = st.sampled_from([0, 1, 1_500, MAX_COINS - 1_500, MAX_COINS - 1, MAX_COINS]) | st.integers(
    0, MAX_COINS
)
SUN = st.sampled_from([0, 1, PRICE_1H, INT64_MAX - PRICE_1H, INT64_MAX - 1, INT64_MAX]) | st.integers(
    0, INT64_MAX
)
XD_TARGETS = ("completed", "cancelled", "expired", "refunded", "processing", "partial")
# Faults on paths the machine never calls: faults are state (ids, random draws) too.
FAULT_PATHS = {"247xd": "/premium/services", "usdtlowfee": "/users/me"}


class Reachable(RuleBasedStateMachine):
    xd_accounts = Bundle("xd_accounts")
    ulf_accounts = Bundle("ulf_accounts")
    xd_orders = Bundle("xd_orders")
    ulf_orders = Bundle("ulf_orders")
    keys = Bundle("keys")
    faults = Bundle("faults")

    @initialize()
    def start(self) -> None:
        self.emu = frozen_emulator()
        self.client = TestClient(create_app(emulator=self.emu))

    def teardown(self) -> None:
        self.client.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.client.request(method, path, **kwargs)
        assert response.status_code < 500, (method, path, response.text)
        return response

    def refusal_changes_nothing(self, method: str, path: str, body: dict[str, Any]) -> Any:
        before = self.client.get("/_emulator/state").content
        response = self.call(method, path, json=body)
        if response.status_code >= 400:
            assert response.status_code in (400, 409), response.text
            assert self.client.get("/_emulator/state").content == before
        return response

    # --- accounts, balances -----------------------------------------------------------
    @rule(target=xd_accounts, amount=COINS, own=st.booleans())
    def xd_account(self, amount: int, own: bool) -> Any:
        body = {"coins": amount / 100, "clock": "own" if own else "global"}
        made = self.call("POST", "/_emulator/247xd/accounts", json=body)
        assert made.status_code == 201, made.text
        return made.json()

    @rule(target=ulf_accounts, amount=SUN, own=st.booleans())
    def ulf_account(self, amount: int, own: bool) -> Any:
        body = {"balanceSun": amount, "clock": "own" if own else "global"}
        made = self.call("POST", "/_emulator/usdtlowfee/accounts", json=body)
        assert made.status_code == 201, made.text
        return made.json()

    @rule(account=xd_accounts, amount=COINS)
    def xd_patch(self, account: Any, amount: int) -> None:
        path = f"/_emulator/247xd/accounts/{account['accountId']}"
        self.refusal_changes_nothing("PATCH", path, {"coins": amount / 100})

    @rule(account=ulf_accounts, amount=SUN)
    def ulf_patch(self, account: Any, amount: int) -> None:
        path = f"/_emulator/usdtlowfee/accounts/{account['accountId']}"
        self.refusal_changes_nothing("PATCH", path, {"balanceSun": amount})

    # --- 247xd orders -----------------------------------------------------------------
    @rule(
        target=xd_orders,
        account=xd_accounts,
        kind=st.sampled_from(["otp", "social", "premium"]),
        pick=st.data(),
    )
    def xd_order(self, account: Any, kind: str, pick: st.DataObject) -> Any:
        headers = {"Authorization": f"Bearer {account['apiKey']}"}
        if kind == "otp":
            service, option = pick.draw(st.sampled_from(OTP))
            body: dict[str, Any] = {"serviceId": service, "priceOptionId": option}
        elif kind == "social":
            option, low, high = pick.draw(st.sampled_from(SOCIAL))
            link = pick.draw(
                st.sampled_from(["https://example.com/a", "https://example.com/emulator/partial-30"])
            )
            body = {"optionId": option, "link": link, "quantity": pick.draw(st.sampled_from([low, high]))}
        else:
            body = {"serviceId": pick.draw(st.sampled_from(PREMIUM))}
        response = self.call("POST", f"/api/v1/{kind}/orders", headers=headers, json=body)
        if response.status_code != 201:
            assert response.json()["error"]["code"] == "BAD_REQUEST", response.text  # coins, stock
            return {
                "kind": kind,
                "orderId": "00000000-0000-4000-8000-000000000000",
                "apiKey": account["apiKey"],
            }
        return {"kind": kind, "orderId": response.json()["data"]["orderId"], "apiKey": account["apiKey"]}

    @rule(order=xd_orders, action=st.sampled_from(["cancel", "refund"]))
    def xd_client_action(self, order: Any, action: str) -> None:
        if order["kind"] == "premium" or (order["kind"] == "social" and action == "cancel"):
            return
        headers = {"Authorization": f"Bearer {order['apiKey']}"}
        self.call("POST", f"/api/v1/{order['kind']}/orders/{order['orderId']}/{action}", headers=headers)

    @rule(order=xd_orders, to=st.sampled_from(XD_TARGETS))
    def xd_force(self, order: Any, to: str) -> None:
        self.call("POST", f"/_emulator/247xd/orders/{order['orderId']}/transition", json={"to": to})

    # --- USDTLowFee orders ------------------------------------------------------------
    @rule(
        target=ulf_orders,
        account=ulf_accounts,
        address=st.sampled_from(ADDRESSES),
        energy=st.sampled_from([32_000, 65_000, 100_000_000]),
        hours=st.sampled_from(DURATIONS),
    )
    def ulf_order(self, account: Any, address: str, energy: int, hours: int) -> Any:
        headers = {"Authorization": f"ApiKey {account['apiKey']}"}
        body = {
            "type": "manual",
            "data": {"tronAddress": address, "energyValue": energy, "durationHours": hours},
        }
        response = self.call("POST", "/v1/energy/orders", headers=headers, json=body)
        if response.status_code != 201:
            assert response.json()["error"]["code"] == "INSUFFICIENT_BALANCE", response.text
            return 1
        return response.json()["data"]["id"]

    @rule(order=ulf_orders, to=st.sampled_from(["failed", "completed"]))
    def ulf_force(self, order: int, to: str) -> None:
        self.call("POST", f"/_emulator/usdtlowfee/orders/{order}/transition", json={"to": to})

    @rule(account=ulf_accounts, address=st.sampled_from(ADDRESSES))
    def ulf_address(self, account: Any, address: str) -> None:
        headers = {"Authorization": f"ApiKey {account['apiKey']}"}
        self.call("POST", "/v1/addresses", headers=headers, json={"tronAddress": address, "label": "x"})

    # --- time, catalog, prices, keys, faults -------------------------------------------
    @rule(seconds=st.sampled_from([0, 1, 5, 60, 1200, 86_400]))
    def advance(self, seconds: int) -> None:
        assert self.call("POST", "/_emulator/clock/advance", json={"seconds": seconds}).status_code == 200

    @rule(
        item=st.sampled_from(ITEMS),
        price=st.sampled_from([0, 1, MAX_ITEM_PRICE]),
        stock=st.sampled_from([None, 0, 1, MAX_STOCK]),
    )
    def catalog(self, item: str, price: int, stock: int | None) -> None:
        body: dict[str, Any] = {"price": price / 100}
        if stock is not None and item not in {o for o, _, _ in SOCIAL}:
            body["stock"] = stock
        assert self.call("PATCH", f"/_emulator/247xd/catalog/{item}", json=body).status_code == 200

    @rule(sun=st.sampled_from([0, 1, 3_000_000, MAX_PRICE_SUN]))
    def prices(self, sun: int) -> None:
        body = {"prices": [{"durationHours": h, "priceSun": sun} for h in DURATIONS]}
        assert self.call("PUT", "/_emulator/usdtlowfee/prices", json=body).status_code == 200

    @rule(target=keys, account=st.one_of(xd_accounts, ulf_accounts))
    def issue_key(self, account: Any) -> Any:
        api = "247xd" if account["apiKey"].startswith("247xd_") else "usdtlowfee"
        made = self.call("POST", f"/_emulator/{api}/accounts/{account['accountId']}/keys", json={})
        assert made.status_code == 201, made.text
        return (api, made.json()["apiKey"])

    @rule(key=keys, revoke=st.booleans())
    def change_key(self, key: tuple[str, str], revoke: bool) -> None:
        api, text = key
        if revoke:
            self.call("DELETE", f"/_emulator/{api}/keys/{text}")
        else:
            self.call("PATCH", f"/_emulator/{api}/keys/{text}", json={"expiresAt": "2025-01-15T11:00:00.5Z"})

    @rule(target=faults, api=st.sampled_from(["247xd", "usdtlowfee"]))
    def add_fault(self, api: str) -> Any:
        body = {"api": api, "path": FAULT_PATHS[api], "status": 503, "probability": 0.5, "times": 3}
        made = self.call("POST", "/_emulator/faults", json=body)
        assert made.status_code == 201, made.text
        return made.json()["faultId"]

    @rule(fault=faults)
    def remove_fault(self, fault: str) -> None:
        self.call("DELETE", f"/_emulator/faults/{fault}")

    # --- the property -------------------------------------------------------------------
    @invariant()
    def every_reachable_state_loads(self) -> None:
        if not hasattr(self, "client"):
            return
        raw = self.client.get("/_emulator/state").content
        put = self.client.put("/_emulator/state", content=raw)
        assert put.status_code == 200, put.text
        assert self.client.get("/_emulator/state").content == raw
        restarted = frozen_emulator(seed=99)
        state.load(raw, restarted, FAULT_TARGETS)  # what `serve --state-file` does at start
        with restarted.lock:
            assert state.dumps(restarted) == raw


Reachable.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_every_reachable_state_loads = Reachable.TestCase
