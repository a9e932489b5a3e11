"""Generated bodies for the keys, account-clock, catalog and price-table endpoints: a 4xx in
the control plane's envelope, never a 500, and a refused request changes nothing."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator
from tests.xd247.support import CHATGPT, FB_LIKES, LINE_AIS, START

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "2025-01-15T10:30:00Z",
            "2025-01-15T10:29:00Z",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
            "own",
            "global",
            "2025-02-30T00:00:00Z",
            "2025-01-15T10:30:00+25:00",
        ]
    )
)
values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
    max_leaves=8,
)
numbers = (
    st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e300, 10**18, 10**10, -1, 0.5, 0.01, 19.99])
)
entry = st.fixed_dictionaries(
    {
        "durationHours": st.sampled_from([1, 24, 72, 168, 336, 720, 2, 0, "1", None]),
        "priceSun": numbers | values,
    }
)
tables = st.lists(entry, max_size=8) | values


def bodies(fields: list[str]) -> st.SearchStrategy[Any]:
    """Mostly objects with the endpoint's own fields, sometimes anything at all."""
    per_field = {"prices": tables}
    field_values = {name: per_field.get(name, values | numbers) for name in fields}
    objects = st.fixed_dictionaries({}, optional=field_values)
    return objects | st.dictionaries(st.sampled_from(fields), values | numbers, max_size=3) | values


def snapshot(emu: Emulator) -> Any:
    """What these endpoints can change."""
    state = []
    for backend in (emu.xd247, emu.usdtlowfee):
        state.append(
            sorted((r.key, r.account_id, r.expires_us, r.revoked) for r in backend.keys.records.values())
        )
        state.append(
            sorted(
                (
                    a.id,
                    None if a.clock is None else (a.clock._offset, a.clock._frozen_at),
                )  # a running one moves
                for a in backend.accounts.values()
            )
        )
    state.append((emu.xd247.otp_catalog(), emu.xd247.social_catalog(), emu.xd247.premium_catalog()))
    state.append(dict(emu.usdtlowfee.prices))
    state.append((emu.clock._offset, emu.clock._frozen_at))
    return state


def test_random_bodies_for_the_new_endpoints_never_500_and_refusals_change_nothing() -> None:
    emu = Emulator(Config(seed=9, clock_start_us=parse_iso(START)))
    emu.clock.freeze()
    with TestClient(create_app(emulator=emu)) as client:  # raises on any unhandled server error
        own = {
            api: client.post(f"/_emulator/{api}/accounts", json={"clock": "own"}).json()["accountId"]
            for api in ("247xd", "usdtlowfee")
        }
        key = client.post("/_emulator/247xd/accounts/xd-demo/keys").json()["apiKey"]
        targets: list[tuple[str, str, list[str]]] = [
            ("POST", "/_emulator/247xd/accounts/xd-demo/keys", ["expiresAt"]),
            ("POST", f"/_emulator/usdtlowfee/accounts/{own['usdtlowfee']}/keys", ["expiresAt"]),
            ("POST", "/_emulator/nope/accounts/xd-demo/keys", ["expiresAt"]),
            ("PATCH", f"/_emulator/247xd/keys/{key}", ["expiresAt"]),
            ("PATCH", "/_emulator/usdtlowfee/keys/ak_live_taF7X6ZovrvGeVQW47sDhLmgo6in9VOh", ["expiresAt"]),
            ("PATCH", "/_emulator/247xd/keys/unknown", ["expiresAt"]),
            ("DELETE", "/_emulator/usdtlowfee/keys/unknown", ["expiresAt"]),
            ("POST", "/_emulator/247xd/accounts", ["clock", "coins", "banned"]),
            ("POST", "/_emulator/usdtlowfee/accounts", ["clock", "balanceSun", "email"]),
            *[
                ("POST", f"/_emulator/{api}/accounts/{account}/clock/{action}", ["seconds", "now"])
                for api, account in [*own.items(), ("247xd", "xd-demo")]
                for action in ("advance", "set", "freeze", "resume")
            ],
            ("PATCH", f"/_emulator/247xd/catalog/{LINE_AIS}", ["price", "stock"]),
            ("PATCH", f"/_emulator/247xd/catalog/{FB_LIKES}", ["price", "stock"]),
            ("PATCH", f"/_emulator/247xd/catalog/{CHATGPT.upper()}", ["price", "stock"]),
            ("PATCH", "/_emulator/247xd/catalog/nope", ["price", "stock"]),
            ("PUT", "/_emulator/usdtlowfee/prices", ["prices"]),
        ]

        @settings(
            max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
        )
        @given(target=st.sampled_from(targets), data=st.data())
        def run(target: tuple[str, str, list[str]], data: st.DataObject) -> None:
            method, path, fields = target
            body = data.draw(bodies(fields))
            before = snapshot(emu)
            response = client.request(
                method, path, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
            )
            assert response.status_code < 500, response.text
            if response.status_code >= 400:
                payload = response.json()
                assert set(payload) == {"error"} and set(payload["error"]) == {"code", "message"}
                assert snapshot(emu) == before, (method, path, body, response.text)
            # whatever was accepted still renders
            for api, account in own.items():
                assert client.get(f"/_emulator/{api}/accounts/{account}/clock").status_code == 200
            assert client.get("/_emulator/usdtlowfee/prices").status_code == 200
            assert client.get(
                "/api/v1/otp/services", headers={"Authorization": f"Bearer {key}"}
            ).status_code in (200, 401, 429)

        run()
