"""Every reachable state loads (issue 14): random sequences of API and control-plane calls,
edge values included, and after every step the export imports to the same export and
loads into a fresh emulator (as `serve --state-file` starts) giving it back.

A sequence is a list of actions drawn up front, so every action is as likely as any other
(hypothesis' rule-based machines crowd out the rules with richer arguments) and a failure
shrinks to a shorter list; one seeded generator makes each action's picks (which account,
which edge value), since hypothesis' own small-integer bias would repeat the same picks.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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
SOCIAL_IDS = {o for o, _, _ in SOCIAL}
PREMIUM = [p.id for p in _CATALOG.premium_services][:3]
ITEMS = [o for _, o in OTP] + [o for o, _, _ in SOCIAL] + PREMIUM

# Hundredths and sun at the edges: nothing, one unit, the bounds and just inside them.
COINS = (0, 1, 1_500, 100_000, MAX_COINS - 1_500, MAX_COINS - 1, MAX_COINS)
SUN = (0, 1, PRICE_1H, 10**12, INT64_MAX - PRICE_1H, INT64_MAX - 1, INT64_MAX)
XD_TARGETS = ("completed", "cancelled", "expired", "refunded", "processing", "partial")
LINKS = ("https://example.com/a", "https://example.com/emulator/partial-30")
# Faults on paths the sequences never call: faults are state (ids, random draws) too.
FAULT_PATHS = {"247xd": "/premium/services", "usdtlowfee": "/users/me"}


class Driver:
    """An in-process emulator and what the sequence has made so far."""

    def __init__(self) -> None:
        self.emu = frozen_emulator()
        self.client = TestClient(create_app(emulator=self.emu))
        self.xd_accounts: list[dict[str, Any]] = []
        self.ulf_accounts: list[dict[str, Any]] = []
        self.xd_orders: list[tuple[str, str, str]] = []  # (kind, orderId, apiKey)
        self.ulf_orders: list[int] = []
        self.keys: list[tuple[str, str]] = []
        # One account of each API with money to order with, so sequences reach orders at once.
        self.xd_account(random.Random(0), 100_000_000)
        self.ulf_account(random.Random(0), 10**12)

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
    def xd_account(self, rng: random.Random, amount: int | None = None) -> None:
        coins = rng.choice(COINS) if amount is None else amount
        body = {"coins": coins / 100, "clock": rng.choice(["own", "global"])}
        made = self.call("POST", "/_emulator/247xd/accounts", json=body)
        assert made.status_code == 201, made.text
        self.xd_accounts.append(made.json())

    def ulf_account(self, rng: random.Random, amount: int | None = None) -> None:
        sun = rng.choice(SUN) if amount is None else amount
        made = self.call(
            "POST",
            "/_emulator/usdtlowfee/accounts",
            json={"balanceSun": sun, "clock": rng.choice(["own", "global"])},
        )
        assert made.status_code == 201, made.text
        self.ulf_accounts.append(made.json())

    def xd_patch(self, rng: random.Random) -> None:
        account = rng.choice(self.xd_accounts)
        path = f"/_emulator/247xd/accounts/{account['accountId']}"
        self.refusal_changes_nothing("PATCH", path, {"coins": rng.choice(COINS) / 100})

    def ulf_patch(self, rng: random.Random) -> None:
        account = rng.choice(self.ulf_accounts)
        path = f"/_emulator/usdtlowfee/accounts/{account['accountId']}"
        self.refusal_changes_nothing("PATCH", path, {"balanceSun": rng.choice(SUN)})

    # --- 247xd orders -----------------------------------------------------------------
    def xd_order(self, rng: random.Random) -> None:
        account = rng.choice(self.xd_accounts)
        kind = rng.choice(["otp", "social", "premium"])
        if kind == "otp":
            service, option = rng.choice(OTP)
            body: dict[str, Any] = {"serviceId": service, "priceOptionId": option}
        elif kind == "social":
            option, low, high = rng.choice(SOCIAL)
            body = {"optionId": option, "link": rng.choice(LINKS), "quantity": rng.choice([low, high])}
        else:
            body = {"serviceId": rng.choice(PREMIUM)}
        headers = {"Authorization": f"Bearer {account['apiKey']}"}
        response = self.call("POST", f"/api/v1/{kind}/orders", headers=headers, json=body)
        if response.status_code == 201:
            self.xd_orders.append((kind, response.json()["data"]["orderId"], account["apiKey"]))
        else:  # no coins or no stock; a banned account cannot happen here
            assert response.json()["error"]["code"] == "BAD_REQUEST", response.text

    def xd_client_action(self, rng: random.Random) -> None:
        refundable = [o for o in self.xd_orders if o[0] != "premium"]
        if not refundable:
            return
        kind, order_id, key = rng.choice(refundable)
        action = "cancel" if kind == "otp" and rng.random() < 0.5 else "refund"
        self.call(
            "POST", f"/api/v1/{kind}/orders/{order_id}/{action}", headers={"Authorization": f"Bearer {key}"}
        )

    def xd_force(self, rng: random.Random) -> None:
        if self.xd_orders:
            _, order_id, _ = rng.choice(self.xd_orders)
            to = rng.choice(XD_TARGETS)
            self.call("POST", f"/_emulator/247xd/orders/{order_id}/transition", json={"to": to})

    # --- USDTLowFee orders ------------------------------------------------------------
    def ulf_order(self, rng: random.Random) -> None:
        account = rng.choice(self.ulf_accounts)
        data = {
            "tronAddress": rng.choice(ADDRESSES),
            "energyValue": rng.choice([32_000, 65_000, 100_000_000]),
            "durationHours": rng.choice(DURATIONS),
        }
        headers = {"Authorization": f"ApiKey {account['apiKey']}"}
        response = self.call(
            "POST", "/v1/energy/orders", headers=headers, json={"type": "manual", "data": data}
        )
        if response.status_code == 201:
            self.ulf_orders.append(response.json()["data"]["id"])
        else:
            assert response.json()["error"]["code"] == "INSUFFICIENT_BALANCE", response.text

    def ulf_force(self, rng: random.Random) -> None:
        if self.ulf_orders:
            order = rng.choice(self.ulf_orders)
            to = rng.choice(["failed", "completed"])
            self.call("POST", f"/_emulator/usdtlowfee/orders/{order}/transition", json={"to": to})

    def ulf_address(self, rng: random.Random) -> None:
        account = rng.choice(self.ulf_accounts)
        headers = {"Authorization": f"ApiKey {account['apiKey']}"}
        self.call(
            "POST",
            "/v1/addresses",
            headers=headers,
            json={"tronAddress": rng.choice(ADDRESSES), "label": "x"},
        )

    # --- time, catalog, prices, keys, faults -------------------------------------------
    def advance(self, rng: random.Random) -> None:
        seconds = rng.choice([1, 5, 60, 1200, 86_400])
        assert self.call("POST", "/_emulator/clock/advance", json={"seconds": seconds}).status_code == 200

    def catalog(self, rng: random.Random) -> None:
        item = rng.choice(ITEMS)
        body: dict[str, Any] = {"price": rng.choice([0, 1, 1_500, MAX_ITEM_PRICE]) / 100}
        if item not in SOCIAL_IDS:
            body["stock"] = rng.choice([0, 1, MAX_STOCK])
        assert self.call("PATCH", f"/_emulator/247xd/catalog/{item}", json=body).status_code == 200

    def prices(self, rng: random.Random) -> None:
        table = {
            "prices": [
                {"durationHours": h, "priceSun": rng.choice([0, 1, PRICE_1H, MAX_PRICE_SUN])}
                for h in DURATIONS
            ]
        }
        assert self.call("PUT", "/_emulator/usdtlowfee/prices", json=table).status_code == 200

    def key(self, rng: random.Random) -> None:
        choice = rng.random()
        if choice < 0.5 or not self.keys:
            account = rng.choice(self.xd_accounts + self.ulf_accounts)
            api = "247xd" if account["apiKey"].startswith("247xd_") else "usdtlowfee"
            made = self.call("POST", f"/_emulator/{api}/accounts/{account['accountId']}/keys", json={})
            assert made.status_code == 201, made.text
            self.keys.append((api, made.json()["apiKey"]))
            return
        api, text = rng.choice(self.keys)
        if choice < 0.75:
            self.call("DELETE", f"/_emulator/{api}/keys/{text}")
        else:
            expires = rng.choice(["2025-01-15T11:00:00.5Z", "9000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
            self.call("PATCH", f"/_emulator/{api}/keys/{text}", json={"expiresAt": expires})

    def fault(self, rng: random.Random) -> None:
        if rng.random() < 0.5:
            api = rng.choice(["247xd", "usdtlowfee"])
            body = {"api": api, "path": FAULT_PATHS[api], "status": 503, "probability": 0.5, "times": 3}
            assert self.call("POST", "/_emulator/faults", json=body).status_code == 201
        else:
            self.call("DELETE", f"/_emulator/faults/fault-{rng.randint(1, 3)}")  # maybe gone already

    # --- the property -------------------------------------------------------------------
    def check(self) -> None:
        raw = self.client.get("/_emulator/state").content
        put = self.client.put("/_emulator/state", content=raw)
        assert put.status_code == 200, put.text
        assert self.client.get("/_emulator/state").content == raw
        restarted = frozen_emulator(seed=99)
        state.load(raw, restarted, FAULT_TARGETS)  # what `serve --state-file` does at start
        with restarted.lock:
            assert state.dumps(restarted) == raw
        # The state file's own snapshot (orders in columns) loads to the same state.
        with self.emu.lock:
            columns = state.snapshot(self.emu)
        from_file = frozen_emulator(seed=99)
        state.load(columns, from_file, FAULT_TARGETS)
        with from_file.lock:
            assert state.dumps(from_file) == raw
            assert state.snapshot(from_file) == columns
            # What the export does not show but later moves and listings read.
            assert internals(from_file) == internals(restarted)


def internals(emu: Emulator) -> tuple[Any, ...]:
    """Each account's order bookkeeping, as the rows form's loader builds it."""
    xd = [(a.id, a.orders.tolist(), a.coins) for a in emu.xd247.orders.accounts]
    book = emu.usdtlowfee.book
    ulf = [
        (a.id, a.rows.tolist(), a.queue[a.head :].tolist(), a.late.tolist(), sorted(a.late_due),
         {k: t.tolist() for k, t in a.terminal.items()}, a.frozen_sun, a.balance_sun)
        for a in book.accounts
    ]
    fields = (book.ids, book.account, book.address, book.status, book.txids, book.addresses, book.planned,
              book.reasons, book.moved_at, book.delays)
    return xd, ulf, [list(f) if not isinstance(f, dict) else f for f in fields]


ACTIONS: dict[str, Callable[[Driver, random.Random], None]] = {
    name: getattr(Driver, name)
    for name in (
        "xd_account",
        "ulf_account",
        "xd_patch",
        "ulf_patch",
        "xd_order",
        "xd_client_action",
        "xd_force",
        "ulf_order",
        "ulf_force",
        "ulf_address",
        "advance",
        "catalog",
        "prices",
        "key",
        "fault",
    )
}
STEPS = st.lists(st.sampled_from(sorted(ACTIONS)), min_size=25, max_size=40)


@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(steps=STEPS, seed=st.integers(0, 2**64 - 1))
def test_every_reachable_state_exports_imports_and_loads(steps: list[str], seed: int) -> None:
    driver = Driver()
    rng = random.Random(seed)
    try:
        for name in steps:
            ACTIONS[name](driver, rng)
            driver.check()
    finally:
        driver.client.close()
