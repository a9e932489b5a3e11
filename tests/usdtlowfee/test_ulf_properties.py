"""Property-based bad input: never a 500, always the API's envelope, never a partial write."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator.runtime import Emulator
from emulator.usdtlowfee.energy import DURATIONS, STATUSES
from emulator.usdtlowfee.errors import CODES

from .support import (
    COLD,
    DEMO_KEY,
    EXCHANGE_PATH,
    FAILING,
    MAIN_WALLET,
    MAIN_WALLET_PATH,
    RICH_KEY,
    USDT_CONTRACT,
    auth,
)

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
addresses = st.sampled_from(
    [USDT_CONTRACT, COLD, FAILING, MAIN_WALLET, USDT_CONTRACT[:-1] + "1", "T" * 34, ""]
)
big_ints = st.integers(min_value=-(2**64), max_value=2**64)
order_data = st.fixed_dictionaries(
    {},
    optional={
        "tronAddress": addresses | json_values,
        "energyValue": big_ints | st.sampled_from([32000, 31999, 65000]) | json_values,
        "durationHours": st.sampled_from(DURATIONS) | st.integers(-1000, 1000) | json_values,
    },
)
order_bodies = st.fixed_dictionaries(
    {},
    optional={
        "type": st.just("manual") | json_values,
        "data": order_data | json_values,
        "extra": json_values,
    },
)
address_bodies = st.fixed_dictionaries(
    {},
    optional={
        "tronAddress": addresses | json_values,
        "label": st.text(max_size=70) | json_values,
        "isDefault": st.booleans() | json_values,
    },
)


def snapshot(emu: Emulator) -> Any:
    backend = emu.usdtlowfee
    with emu.lock:
        accounts = {
            a.id: (
                a.balance_sun,
                a.frozen_sun,
                a.disabled,
                [o.id for o in a.orders],
                {s: len(a.with_status(s)) for s in STATUSES},
                [(x.id, x.tron_address, x.label, x.is_default, x.usage_count, x.last_used_us)
                 for x in a.addresses.values()],
            )
            for a in backend.accounts.values()
        }
        return (
            accounts,
            sorted(backend.orders),
            backend.snowflake.flake.last,
            emu.ids._rng.getstate(),
            len(backend.keys.records),
        )


def check_envelope(response: Any) -> None:
    assert response.status_code < 500, response.text
    if response.status_code == 204:
        assert response.content == b""
        return
    body = response.json()
    if response.status_code >= 400:
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
        assert body["error"]["code"] in CODES
        assert "Traceback" not in body["error"]["message"]
    else:
        assert "data" in body and set(body) <= {"data", "meta"}


@PROPERTY
@given(body=order_bodies)
def test_order_bodies(roomy: TestClient, roomy_emu: Emulator, body: dict[str, Any]) -> None:
    before = snapshot(roomy_emu)
    wallet_before = roomy.get("/v1/wallet/balance", headers=auth(RICH_KEY)).json()["data"]
    response = roomy.post("/v1/energy/orders", headers=auth(RICH_KEY), json=body)
    check_envelope(response)
    if response.status_code == 201:
        order = response.json()["data"]
        wallet = roomy.get("/v1/wallet/balance", headers=auth(RICH_KEY)).json()["data"]
        assert wallet["frozenSun"] == wallet_before["frozenSun"] + order["priceSun"]
        assert wallet["totalSun"] == wallet_before["totalSun"]
    else:
        assert response.status_code in (400, 403)
        assert snapshot(roomy_emu) == before


@PROPERTY
@given(raw=st.binary(max_size=200), content_type=st.sampled_from(["application/json", "text/plain", ""]))
def test_raw_bodies(roomy: TestClient, roomy_emu: Emulator, raw: bytes, content_type: str) -> None:
    before = snapshot(roomy_emu)
    for path in ("/v1/energy/orders", "/v1/addresses"):
        response = roomy.post(path, headers={**auth(DEMO_KEY), "Content-Type": content_type}, content=raw)
        check_envelope(response)
        assert response.status_code == 400
    response = roomy.put(
        f"{MAIN_WALLET_PATH}/label", headers={**auth(DEMO_KEY), "Content-Type": content_type}, content=raw
    )
    check_envelope(response)
    if response.status_code != 200:
        assert snapshot(roomy_emu) == before


@PROPERTY
@given(body=address_bodies)
def test_address_bodies(roomy: TestClient, roomy_emu: Emulator, body: dict[str, Any]) -> None:
    before = snapshot(roomy_emu)
    response = roomy.post("/v1/addresses", headers=auth(DEMO_KEY), json=body)
    check_envelope(response)
    if response.status_code == 201:
        created = response.json()["data"]
        got = roomy.get(f"/v1/addresses/{created['id']}", headers=auth(DEMO_KEY)).json()["data"]
        assert got == created
        defaults = [a for a in roomy.get("/v1/addresses", headers=auth(DEMO_KEY)).json()["data"]["addresses"]
                    if a["isDefault"]]
        assert len(defaults) <= 1
        roomy.delete(f"/v1/addresses/{created['id']}", headers=auth(DEMO_KEY))
    else:
        assert response.status_code in (400, 409)
        assert snapshot(roomy_emu) == before


@PROPERTY
@given(body=st.dictionaries(st.sampled_from(["label", "x"]), st.text(max_size=70) | json_values, max_size=2))
def test_relabel_bodies(roomy: TestClient, roomy_emu: Emulator, body: dict[str, Any]) -> None:
    before = snapshot(roomy_emu)
    response = roomy.put(f"{EXCHANGE_PATH}/label", headers=auth(DEMO_KEY), json=body)
    check_envelope(response)
    if response.status_code == 200:
        assert response.json()["data"]["label"] == body["label"]
        assert 1 <= len(body["label"]) <= 64
    else:
        assert response.status_code == 400
        assert snapshot(roomy_emu) == before


query_values = st.text(max_size=25) | st.integers(-(2**70), 2**70).map(str) | st.sampled_from(
    ["processing", "completed", "failed", "0", "100", "101", "20"]
)


@PROPERTY
@given(query=st.dictionaries(st.sampled_from(["offset", "limit", "status", "x"]), query_values, max_size=4))
def test_list_queries(roomy: TestClient, roomy_emu: Emulator, query: dict[str, str]) -> None:
    before = snapshot(roomy_emu)
    response = roomy.get(f"/v1/energy/orders?{urlencode(query)}", headers=auth(DEMO_KEY))
    check_envelope(response)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        data = response.json()["data"]
        assert 1 <= data["limit"] <= 100 and data["offset"] >= 0 and len(data["orders"]) <= data["limit"]
    else:
        message = response.json()["error"]["message"]
        assert message.split(" ")[0] in ("offset", "limit", "status")
    assert snapshot(roomy_emu) == before


@PROPERTY
@given(
    segment=st.text(min_size=1, max_size=30),
    route=st.sampled_from([("GET", "/v1/energy/orders/{}"), ("GET", "/v1/addresses/{}"),
                           ("DELETE", "/v1/addresses/{}"), ("PUT", "/v1/addresses/{}/label"),
                           ("PUT", "/v1/addresses/{}/default")]),
)
def test_path_ids(roomy: TestClient, roomy_emu: Emulator, segment: str, route: tuple[str, str]) -> None:
    # The rich account has no orders and no addresses: every id is someone else's or nothing.
    before = snapshot(roomy_emu)
    method, template = route
    path = template.format(quote(segment, safe=""))
    response = roomy.request(method, path, headers=auth(RICH_KEY), json={"label": "x"})
    check_envelope(response)
    assert response.status_code in (404, 405) or (method == "GET" and response.status_code == 200)
    assert snapshot(roomy_emu) == before


@PROPERTY
@given(value=st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60))
def test_authorization_headers(roomy: TestClient, roomy_emu: Emulator, value: str) -> None:
    before = snapshot(roomy_emu)
    response = roomy.post("/v1/energy/orders", headers={"Authorization": value},
                          content=json.dumps({"type": "manual"}).encode())
    check_envelope(response)
    assert response.status_code == 401
    assert snapshot(roomy_emu) == before
