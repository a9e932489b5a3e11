"""Bad input, generated: never a 500, always the 247xd envelope, no change on failure."""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator

from .support import (
    CHATGPT,
    DEMO,
    FB_LIKES,
    LINE,
    LINE_AIS,
    OTP_NEVER,
    OTP_SOLD_OUT,
    OTP_TEST_SERVICE,
    PREMIUM_SOLD_OUT,
    RICH,
    SOCIAL_FAST,
    START,
    UNKNOWN_UUID,
    VENDOR_CODES,
    assert_rate_headers,
    auth,
    snapshot,
)

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
LIMIT = 10**9
FIELDS = {
    "/api/v1/otp/orders": ("serviceId", "priceOptionId"),
    "/api/v1/social/orders": ("optionId", "link", "quantity"),
    "/api/v1/premium/orders": ("serviceId",),
}


@contextmanager
def emulator() -> Iterator[tuple[Emulator, TestClient]]:
    emu = Emulator(Config(seed=11, clock_start_us=parse_iso(START), rate_limit_247xd=LIMIT))
    emu.clock.freeze()
    with TestClient(create_app(emulator=emu)) as client:
        yield emu, client


def check(response: Any, emu: Emulator, before: Any, fields: tuple[str, ...] = ()) -> None:
    """The invariants of any 247xd response to any input."""
    assert response.status_code < 500, response.text
    assert_rate_headers(response, LIMIT)
    body = response.json()
    event(f"{response.status_code} {body['error']['code'] if response.status_code >= 400 else 'ok'}")
    if response.status_code >= 400:
        assert set(body) == {"success", "error"} and body["success"] is False
        assert set(body["error"]) == {"code", "message"}
        code, message = body["error"]["code"], body["error"]["message"]
        assert code in VENDOR_CODES
        assert isinstance(message, str) and message
        assert "Traceback" not in message
        if response.status_code == 405:
            assert code == "BAD_REQUEST" and "allow" in response.headers
        else:
            assert VENDOR_CODES[code] == response.status_code
        if code == "VALIDATION_ERROR" and fields:
            assert any(field in message for field in fields), message
        assert snapshot(emu) == before  # a failed request changes nothing
    else:
        assert body["success"] is True and "data" in body


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
ids = (
    st.sampled_from(
        [
            LINE,
            LINE_AIS,
            OTP_TEST_SERVICE,
            OTP_NEVER,
            OTP_SOLD_OUT,
            FB_LIKES,
            SOCIAL_FAST,
            CHATGPT,
            PREMIUM_SOLD_OUT,
        ]
    )
    | st.just(UNKNOWN_UUID)
    | st.uuids().map(str)
)
field_values = (
    ids
    | json_values
    | st.sampled_from(["https://x.com/a", "ftp://x", "http://", ""])
    | st.integers(-10, 200_000)
)


@st.composite
def bodies(draw: st.DrawFn, path: str) -> Any:
    """Objects with the endpoint's fields (some missing, some wrong) and extras, or any JSON."""
    if draw(st.integers(0, 4)) == 0:
        return draw(json_values)
    body: dict[str, Any] = {}
    for field in FIELDS[path]:
        if draw(st.booleans()) or draw(st.booleans()):
            body[field] = draw(field_values)
    body.update(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=3)))
    return body


def test_random_json_bodies_never_break_the_create_endpoints() -> None:
    with emulator() as (emu, client):

        @SETTINGS
        @given(path=st.sampled_from(list(FIELDS)), data=st.data(), key=st.sampled_from([DEMO, RICH]))
        def run(path: str, data: st.DataObject, key: str) -> None:
            body = data.draw(bodies(path))
            before = snapshot(emu)
            response = client.post(
                path,
                headers={**auth(key), "Content-Type": "application/json"},
                content=json.dumps(body).encode(),
            )
            check(response, emu, before, FIELDS[path])
            if not isinstance(body, dict):
                assert response.json()["error"]["code"] == "BAD_REQUEST"

        run()


def test_random_bytes_as_a_body_are_a_bad_request_or_a_validation_error() -> None:
    with emulator() as (emu, client):

        @SETTINGS
        @given(path=st.sampled_from(list(FIELDS)), raw=st.binary(max_size=200))
        def run(path: str, raw: bytes) -> None:
            before = snapshot(emu)
            response = client.post(
                path, headers={**auth(RICH), "Content-Type": "application/json"}, content=raw
            )
            check(response, emu, before, FIELDS[path])
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                assert response.status_code == 400 and response.json()["error"]["code"] == "BAD_REQUEST"

        run()


header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)


def test_random_authorization_headers_are_401_and_change_nothing() -> None:
    with emulator() as (emu, client):

        @SETTINGS
        @given(
            value=header_text
            | header_text.map(lambda s: "Bearer " + s)
            | header_text.map(lambda s: "bearer 247xd_" + s),
            path=st.sampled_from(
                ["/api/v1/balance", "/api/v1/otp/orders", f"/api/v1/otp/orders/{UNKNOWN_UUID}"]
            ),
        )
        def run(value: str, path: str) -> None:
            before = snapshot(emu)
            method = "POST" if path == "/api/v1/otp/orders" else "GET"
            response = client.request(
                method,
                path,
                headers={"Authorization": value},
                json={"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_NEVER},
            )
            check(response, emu, before)
            assert response.status_code == 401
            assert response.json()["error"]["code"] == "UNAUTHORIZED"

        run()


def test_random_content_types_succeed_only_for_application_json() -> None:
    with emulator() as (emu, client):

        @SETTINGS
        @given(
            content_type=header_text
            | st.sampled_from(["application/json", "APPLICATION/JSON", "application/json; charset=utf-8"])
            | header_text.map(lambda s: "application/json;" + s)
            | header_text.map(lambda s: s + "/json")
        )
        def run(content_type: str) -> None:
            before = snapshot(emu)
            response = client.post(
                "/api/v1/premium/orders",
                headers={**auth(RICH), "Content-Type": content_type},
                content=json.dumps({"serviceId": CHATGPT}).encode(),
            )
            check(response, emu, before)
            sent = response.request.headers.get("content-type", "")
            is_json = sent.split(";", 1)[0].strip().lower() == "application/json"
            if is_json:
                # success, or the stock has run out after earlier examples
                assert response.status_code in (201, 400)
                if response.status_code == 400:
                    assert emu.xd247.premium[CHATGPT].stock == 0
            else:
                assert response.status_code == 400 and response.json()["error"]["code"] == "BAD_REQUEST"

        run()


segment = st.text(
    alphabet=string.ascii_letters + string.digits + "-_~", min_size=1, max_size=12
) | st.sampled_from(
    ["otp", "social", "premium", "orders", "services", "balance", "cancel", "refund", UNKNOWN_UUID, LINE]
)


TEMPLATES = [
    "balance",
    "otp/services",
    "otp/orders",
    "otp/orders/{}",
    "otp/orders/{}/cancel",
    "otp/orders/{}/refund",
    "social/services",
    "social/orders",
    "social/orders/{}",
    "social/orders/{}/refund",
    "premium/services",
    "premium/orders",
    "premium/orders/{}",
]
templates = st.builds(
    lambda template, order_id: template.format(order_id).split("/"), st.sampled_from(TEMPLATES), segment
)


def test_random_paths_under_the_prefix_never_break_and_change_nothing_when_refused() -> None:
    with emulator() as (emu, client):

        @SETTINGS
        @given(
            parts=st.lists(segment, max_size=5) | templates,
            trailing=st.sampled_from([False, False, False, True]),
            method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
            key=st.sampled_from([None, DEMO, "247xd_" + "9" * 40]),
            body=st.none() | json_values,
        )
        def run(parts: list[str], trailing: bool, method: str, key: str | None, body: Any) -> None:
            path = "/api/v1/" + "/".join(parts) + ("/" if trailing and parts else "")
            headers = auth(key) if key else {}
            kwargs: dict[str, Any] = {"headers": headers}
            if body is not None:
                kwargs["content"] = json.dumps(body).encode()
                kwargs["headers"] = {**headers, "Content-Type": "application/json"}
            before = snapshot(emu)
            response = client.request(method, path, **kwargs)
            check(response, emu, before)

        run()
