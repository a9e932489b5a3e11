"""Generated bodies for the control plane: 4xx in its envelope, never a 500."""

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
from tests.xd247.support import DEMO, OTP_NEVER, OTP_TEST_SERVICE, SOCIAL_NEVER, START, auth

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(
        ["2025-01-15T10:30:00Z", "9999-12-31T23:59:59Z", "processing", "cancelled", "partial", "1234"]
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
    | st.sampled_from([1e300, 10**18, -1, 0.5])
)


def bodies(fields: list[str]) -> st.SearchStrategy[Any]:
    """Mostly objects with the endpoint's own fields, sometimes anything at all."""
    field_values = (
        values | numbers | st.sampled_from(["processing", "cancelled", "partial", "completed", "expired"])
    )
    return st.dictionaries(st.sampled_from(fields), field_values, min_size=1, max_size=3) | values


def test_random_control_bodies_are_answered_without_a_server_error() -> None:
    emu = Emulator(Config(seed=5, clock_start_us=parse_iso(START), rate_limit_247xd=10**9))
    emu.clock.freeze()
    with TestClient(create_app(emulator=emu)) as client:  # raises on any unhandled server error
        headers = auth(DEMO)
        otp = client.post(
            "/api/v1/otp/orders",
            headers=headers,
            json={"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_NEVER},
        ).json()["data"]["orderId"]
        social = client.post(
            "/api/v1/social/orders",
            headers=headers,
            json={"optionId": SOCIAL_NEVER, "link": "https://a.b", "quantity": 50},
        ).json()["data"]["orderId"]
        targets = [
            ("POST", "/_emulator/clock/advance", ["seconds"]),
            ("POST", "/_emulator/clock/set", ["now"]),
            ("POST", "/_emulator/clock/freeze", ["now"]),
            ("POST", "/_emulator/247xd/accounts", ["coins", "banned", "label"]),
            ("PATCH", "/_emulator/247xd/accounts/xd-demo", ["coins", "banned"]),
            ("POST", f"/_emulator/247xd/orders/{otp}/transition", ["to", "otpCode"]),
            ("POST", f"/_emulator/247xd/orders/{social}/transition", ["to", "delivered"]),
        ]

        @settings(
            max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
        )
        @given(target=st.sampled_from(targets), data=st.data())
        def run(target: tuple[str, str, list[str]], data: st.DataObject) -> None:
            method, path, fields = target
            body = data.draw(bodies(fields))
            response = client.request(
                method, path, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
            )
            assert response.status_code < 500, response.text
            payload = response.json()
            if response.status_code >= 400:
                assert set(payload) == {"error"} and set(payload["error"]) == {"code", "message"}
            # whatever was accepted, the API still answers and renders its times
            for kind, order_id in (("otp", otp), ("social", social)):
                shown = client.get(f"/api/v1/{kind}/orders/{order_id}", headers=headers)
                assert shown.status_code in (200, 403), shown.text  # 403 once PATCH banned it
            assert client.get("/_emulator/clock").status_code == 200

        run()
