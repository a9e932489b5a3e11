"""Every 247xd error status and code, in the vendor's envelope, and the order of checks."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from emulator.runtime import Emulator

from .support import (
    BANNED,
    CHATGPT,
    DEMO,
    EMPTY,
    EXPIRED,
    FB_LIKES,
    LINE,
    LINE_AIS,
    OTP_AT_ONCE,
    OTP_NEVER,
    OTP_SOLD_OUT,
    OTP_TEST_SERVICE,
    PREMIUM_SOLD_OUT,
    REVOKED,
    RICH,
    SOCIAL_FAST,
    SOCIAL_NEVER,
    SOCIAL_TEST_SERVICE,
    UNKNOWN_UUID,
    assert_error,
    assert_rate_headers,
    auth,
    ok,
    snapshot,
)

H = auth(DEMO)
OTP_BODY = {"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_NEVER}
SOCIAL_BODY = {"optionId": FB_LIKES, "link": "https://instagram.com/example", "quantity": 100}
PREMIUM_BODY = {"serviceId": CHATGPT}
CREATES = [
    ("/api/v1/otp/orders", OTP_BODY),
    ("/api/v1/social/orders", SOCIAL_BODY),
    ("/api/v1/premium/orders", PREMIUM_BODY),
]
GETS = ["/api/v1/balance", "/api/v1/otp/services", "/api/v1/social/services", "/api/v1/premium/services"]


def with_(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = dict(body)
    for name, value in changes.items():
        if value is KeyError:
            out.pop(name, None)
        else:
            out[name] = value
    return out


# --- 400 VALIDATION_ERROR ------------------------------------------------------------------

VALIDATION_CASES = [
    ("/api/v1/otp/orders", {}, "serviceId"),
    ("/api/v1/otp/orders", with_(OTP_BODY, serviceId=KeyError), "serviceId"),
    ("/api/v1/otp/orders", with_(OTP_BODY, serviceId=None), "serviceId"),
    ("/api/v1/otp/orders", with_(OTP_BODY, serviceId=12345), "serviceId"),
    ("/api/v1/otp/orders", with_(OTP_BODY, serviceId="not-a-uuid"), "serviceId"),
    ("/api/v1/otp/orders", with_(OTP_BODY, priceOptionId=KeyError), "priceOptionId"),
    ("/api/v1/otp/orders", with_(OTP_BODY, priceOptionId=True), "priceOptionId"),
    ("/api/v1/otp/orders", with_(OTP_BODY, priceOptionId=[OTP_NEVER]), "priceOptionId"),
    ("/api/v1/social/orders", {}, "optionId"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, optionId={"id": FB_LIKES}), "optionId"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, link=KeyError), "link"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, link=""), "link"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, link=42), "link"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, link="ftp://example.com/x"), "link"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, link="instagram.com/example"), "link"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, link="https://"), "link"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, link="https://x.com/a b"), "link"),
    # The scheme's letters are ASCII: "ſ" folds to "s" only under re.IGNORECASE (247xd.json's pattern).
    ("/api/v1/social/orders", with_(SOCIAL_BODY, link="httpſ://x.com/a"), "link"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, quantity=KeyError), "quantity"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, quantity="100"), "quantity"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, quantity=100.0), "quantity"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, quantity=True), "quantity"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, quantity=0), "quantity"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, quantity=-5), "quantity"),
    ("/api/v1/social/orders", with_(SOCIAL_BODY, quantity=49), "quantity"),  # below the option's min
    ("/api/v1/social/orders", with_(SOCIAL_BODY, quantity=20_001), "quantity"),  # above its max
    ("/api/v1/premium/orders", {}, "serviceId"),
    ("/api/v1/premium/orders", {"serviceId": 1.5}, "serviceId"),
    ("/api/v1/premium/orders", {"serviceId": ""}, "serviceId"),
]


@pytest.mark.parametrize(("path", "body", "field"), VALIDATION_CASES)
def test_a_missing_mistyped_or_out_of_range_field_is_a_validation_error_naming_it(
    client: TestClient, emu: Emulator, path: str, body: dict[str, Any], field: str
) -> None:
    before = snapshot(emu)
    response = client.post(path, headers=H, json=body)
    message = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in message
    assert_rate_headers(response)
    assert snapshot(emu) == before


# --- 400 BAD_REQUEST: bodies -------------------------------------------------------------------

JSON_HEADERS = {**H, "Content-Type": "application/json"}
BAD_BODIES = [
    pytest.param(JSON_HEADERS, b'{"serviceId": ', id="malformed-json"),
    pytest.param(JSON_HEADERS, b"{'serviceId': 'x'}", id="single-quotes"),
    pytest.param(JSON_HEADERS, b"", id="empty"),
    pytest.param(JSON_HEADERS, b"[]", id="array"),
    pytest.param(JSON_HEADERS, b'"serviceId"', id="string"),
    pytest.param(JSON_HEADERS, b"42", id="number"),
    pytest.param(JSON_HEADERS, b"null", id="null"),
    pytest.param(JSON_HEADERS, b"\xff\xfe{}", id="not-utf8"),
    pytest.param(JSON_HEADERS, b'{"a": NaN}', id="nan"),
    pytest.param({**H, "Content-Type": "text/plain"}, b"{}", id="text-plain"),
    pytest.param({**H, "Content-Type": "application/x-www-form-urlencoded"}, b"serviceId=x", id="form"),
    pytest.param({**H, "Content-Type": "application/jsonp"}, b"{}", id="near-json"),
    pytest.param(H, b"{}", id="no-content-type"),
]


@pytest.mark.parametrize(("path", "_"), CREATES)
@pytest.mark.parametrize(("headers", "raw"), BAD_BODIES)
def test_a_body_that_is_not_a_json_object_is_a_bad_request(
    client: TestClient, emu: Emulator, path: str, _: Any, headers: dict[str, str], raw: bytes
) -> None:
    before = snapshot(emu)
    response = client.post(path, headers=headers, content=raw)
    assert_error(response, 400, "BAD_REQUEST")
    assert_rate_headers(response)
    assert snapshot(emu) == before


@pytest.mark.parametrize(("path", "body"), CREATES)
def test_a_body_over_64_kib_is_a_bad_request(
    client: TestClient, emu: Emulator, path: str, body: dict
) -> None:
    import json

    prefix = json.dumps(body)[:-1].encode() + b', "pad": "'
    raw = prefix + b"x" * (64 * 1024 - len(prefix) - 1) + b'"}'
    assert len(raw) == 64 * 1024 + 1
    before = snapshot(emu)
    response = client.post(path, headers=JSON_HEADERS, content=raw)
    message = assert_error(response, 400, "BAD_REQUEST")
    assert "64 KiB" in message
    assert snapshot(emu) == before


# --- 400 BAD_REQUEST: business rules -----------------------------------------------------------


@pytest.mark.parametrize(("path", "body"), CREATES)
def test_insufficient_coins_is_a_bad_request_that_changes_nothing(
    client: TestClient, emu: Emulator, path: str, body: dict
) -> None:
    before = snapshot(emu)
    message = assert_error(client.post(path, headers=auth(EMPTY), json=body), 400, "BAD_REQUEST")
    assert "เหรียญไม่เพียงพอ" in message
    assert snapshot(emu) == before
    assert ok(client.get("/api/v1/balance", headers=auth(EMPTY))) == {"coins": 0.0}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/otp/orders", {"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_SOLD_OUT}),
        ("/api/v1/premium/orders", {"serviceId": PREMIUM_SOLD_OUT}),
    ],
)
def test_out_of_stock_is_a_bad_request_that_changes_nothing(
    client: TestClient, emu: Emulator, path: str, body: dict
) -> None:
    before = snapshot(emu)
    assert_error(client.post(path, headers=auth(RICH), json=body), 400, "BAD_REQUEST")
    assert snapshot(emu) == before


def test_cancel_outside_waiting_sms_is_a_bad_request(client: TestClient) -> None:
    order = ok(
        client.post(
            "/api/v1/otp/orders",
            headers=H,
            json={"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_AT_ONCE},
        ),
        201,
    )
    response = client.post(f"/api/v1/otp/orders/{order['orderId']}/cancel", headers=H)
    assert "completed" in assert_error(response, 400, "BAD_REQUEST")
    assert ok(client.get(f"/api/v1/otp/orders/{order['orderId']}", headers=H))["status"] == "completed"


def test_refund_outside_cancelled_or_expired_is_a_bad_request(client: TestClient) -> None:
    order = ok(client.post("/api/v1/otp/orders", headers=H, json=OTP_BODY), 201)
    response = client.post(f"/api/v1/otp/orders/{order['orderId']}/refund", headers=H)
    assert "waiting_sms" in assert_error(response, 400, "BAD_REQUEST")
    assert ok(client.get("/api/v1/balance", headers=H)) == {"coins": 495.0}


def test_social_refund_of_a_running_order_is_a_bad_request(client: TestClient) -> None:
    body = {"optionId": SOCIAL_FAST, "link": "https://x.com/a", "quantity": 100}
    order = ok(client.post("/api/v1/social/orders", headers=H, json=body), 201)
    assert_error(
        client.post(f"/api/v1/social/orders/{order['orderId']}/refund", headers=H), 400, "BAD_REQUEST"
    )


# --- 401 UNAUTHORIZED ----------------------------------------------------------------------------

BAD_AUTH = [
    pytest.param({}, id="missing"),
    pytest.param({"Authorization": ""}, id="empty"),
    pytest.param({"Authorization": "Bearer"}, id="scheme-only"),
    pytest.param({"Authorization": DEMO}, id="no-scheme"),
    pytest.param({"Authorization": f"Basic {DEMO}"}, id="basic"),
    pytest.param({"Authorization": f"ApiKey {DEMO}"}, id="other-api-scheme"),
    pytest.param({"Authorization": "Bearer 247xd_short"}, id="short"),
    pytest.param({"Authorization": f"Bearer {DEMO}0"}, id="long"),
    pytest.param({"Authorization": f"Bearer {DEMO[:-1]}-"}, id="bad-character"),
    pytest.param({"Authorization": f"Bearer {DEMO.upper()}"}, id="keys-match-exactly"),
    pytest.param({"Authorization": "Bearer 247xd_" + "0" * 40}, id="unknown"),
    pytest.param({"Authorization": f"Bearer {EXPIRED}"}, id="expired"),
    pytest.param({"Authorization": f"Bearer {REVOKED}"}, id="revoked"),
    pytest.param({"X-Api-Key": DEMO}, id="wrong-header"),
]


@pytest.mark.parametrize("headers", BAD_AUTH)
@pytest.mark.parametrize("path", GETS)
def test_a_missing_malformed_unknown_expired_or_revoked_key_is_401(
    client: TestClient, headers: dict[str, str], path: str
) -> None:
    response = client.get(path, headers=headers)
    assert_error(response, 401, "UNAUTHORIZED")
    assert_rate_headers(response)


@pytest.mark.parametrize("headers", BAD_AUTH[:3] + BAD_AUTH[-3:])
@pytest.mark.parametrize(("path", "body"), CREATES)
def test_a_bad_key_on_a_create_is_401_and_changes_nothing(
    client: TestClient, emu: Emulator, headers: dict[str, str], path: str, body: dict
) -> None:
    before = snapshot(emu)
    assert_error(client.post(path, headers=headers, json=body), 401, "UNAUTHORIZED")
    assert snapshot(emu) == before


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "beaRER"])
def test_the_bearer_scheme_is_matched_case_insensitively(client: TestClient, scheme: str) -> None:
    assert ok(client.get("/api/v1/balance", headers={"Authorization": f"{scheme} {DEMO}"})) == {
        "coins": 500.0
    }


def test_a_key_made_to_expire_by_the_clock_stops_working_at_that_instant(
    client: TestClient, emu: Emulator
) -> None:
    emu.xd247.keys.records[DEMO].expires_us = emu.clock.now_us() + 1_000_000
    client.post("/_emulator/clock/advance", json={"seconds": 0.999999})
    assert client.get("/api/v1/balance", headers=H).status_code == 200
    client.post("/_emulator/clock/advance", json={"seconds": 0.000001})
    assert_error(client.get("/api/v1/balance", headers=H), 401, "UNAUTHORIZED")


def test_auth_is_checked_before_the_body(client: TestClient) -> None:
    response = client.post("/api/v1/otp/orders", content=b"{not json", headers={"Content-Type": "text/plain"})
    assert_error(response, 401, "UNAUTHORIZED")


# --- 403 ACCOUNT_BANNED ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", GETS)
def test_a_banned_account_is_403_on_reads(client: TestClient, path: str) -> None:
    response = client.get(path, headers=auth(BANNED))
    assert "บัญชีถูกระงับ" in assert_error(response, 403, "ACCOUNT_BANNED")
    assert_rate_headers(response)


@pytest.mark.parametrize(("path", "body"), CREATES)
def test_a_banned_account_cannot_order_and_nothing_changes(
    client: TestClient, emu: Emulator, path: str, body: dict
) -> None:
    before = snapshot(emu)
    assert_error(client.post(path, headers=auth(BANNED), json=body), 403, "ACCOUNT_BANNED")
    assert_error(client.post(path, headers=auth(BANNED), content=b"nonsense"), 403, "ACCOUNT_BANNED")
    assert snapshot(emu) == before


# --- 404 NOT_FOUND ------------------------------------------------------------------------------------

UNKNOWN_PATHS = [
    "/api/v1",
    "/api/v1/",
    "/api/v1/nope",
    "/api/v1/balance/",
    "/api/v1/Balance",
    "/api/v1/otp",
    "/api/v1/otp/orders/",
    "/api/v1/otp/orders/x/y/z",
    "/api/v1/social/orders/x/cancel",
    "/api/v1/premium/orders/x/refund",
    "/api/v1//balance",
    "/api/v1//otp/orders/" + UNKNOWN_UUID,
    "/api/v2/balance",
]


@pytest.mark.parametrize("headers", [{}, H, {"Authorization": "Bearer nonsense"}, auth(BANNED)], ids=str)
@pytest.mark.parametrize("path", UNKNOWN_PATHS)
def test_an_unknown_path_is_404_with_or_without_a_key(client: TestClient, path: str, headers: dict) -> None:
    for method in ("GET", "POST"):
        response = client.request(method, path, headers=headers)
        if path.startswith("/api/v2"):
            assert response.status_code == 404  # not an API prefix at all: the control plane's 404
            continue
        assert_error(response, 404, "NOT_FOUND")
        assert_rate_headers(response)


@pytest.mark.parametrize("kind", ["otp", "social", "premium"])
@pytest.mark.parametrize(
    "order_id",
    ["x", "123", "not-a-uuid", UNKNOWN_UUID, UNKNOWN_UUID + "0", UNKNOWN_UUID.replace("-", ""), "%20"],
)
def test_a_malformed_or_unknown_order_id_is_404(client: TestClient, kind: str, order_id: str) -> None:
    assert_error(client.get(f"/api/v1/{kind}/orders/{order_id}", headers=H), 404, "NOT_FOUND")
    if kind != "premium":
        assert_error(client.post(f"/api/v1/{kind}/orders/{order_id}/refund", headers=H), 404, "NOT_FOUND")
    if kind == "otp":
        assert_error(client.post(f"/api/v1/otp/orders/{order_id}/cancel", headers=H), 404, "NOT_FOUND")


def test_another_accounts_order_is_404_for_every_order_endpoint(client: TestClient, emu: Emulator) -> None:
    otp = ok(client.post("/api/v1/otp/orders", headers=H, json=OTP_BODY), 201)["orderId"]
    social = ok(
        client.post(
            "/api/v1/social/orders",
            headers=H,
            json={"optionId": SOCIAL_NEVER, "link": "https://a.b", "quantity": 10},
        ),
        201,
    )["orderId"]
    premium = ok(client.post("/api/v1/premium/orders", headers=H, json=PREMIUM_BODY), 201)["orderId"]
    client.post(f"/_emulator/247xd/orders/{social}/transition", json={"to": "cancelled"})
    other = auth(RICH)
    before = snapshot(emu)
    for method, path in [
        ("GET", f"/api/v1/otp/orders/{otp}"),
        ("POST", f"/api/v1/otp/orders/{otp}/cancel"),
        ("POST", f"/api/v1/otp/orders/{otp}/refund"),
        ("GET", f"/api/v1/social/orders/{social}"),
        ("POST", f"/api/v1/social/orders/{social}/refund"),
        ("GET", f"/api/v1/premium/orders/{premium}"),
    ]:
        assert_error(client.request(method, path, headers=other), 404, "NOT_FOUND")
    assert snapshot(emu) == before
    assert ok(client.get(f"/api/v1/otp/orders/{otp}", headers=H))["status"] == "waiting_sms"


def test_an_order_of_another_kind_is_404(client: TestClient) -> None:
    otp = ok(client.post("/api/v1/otp/orders", headers=H, json=OTP_BODY), 201)["orderId"]
    premium = ok(client.post("/api/v1/premium/orders", headers=H, json=PREMIUM_BODY), 201)["orderId"]
    assert_error(client.get(f"/api/v1/social/orders/{otp}", headers=H), 404, "NOT_FOUND")
    assert_error(client.get(f"/api/v1/premium/orders/{otp}", headers=H), 404, "NOT_FOUND")
    assert_error(client.get(f"/api/v1/otp/orders/{premium}", headers=H), 404, "NOT_FOUND")
    assert_error(client.post(f"/api/v1/social/orders/{otp}/refund", headers=H), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/otp/orders", {"serviceId": UNKNOWN_UUID, "priceOptionId": LINE_AIS}),
        ("/api/v1/otp/orders", {"serviceId": LINE, "priceOptionId": UNKNOWN_UUID}),
        ("/api/v1/otp/orders", {"serviceId": OTP_TEST_SERVICE, "priceOptionId": LINE_AIS}),  # not its option
        ("/api/v1/otp/orders", {"serviceId": LINE_AIS, "priceOptionId": LINE_AIS}),
        ("/api/v1/social/orders", with_(SOCIAL_BODY, optionId=UNKNOWN_UUID)),
        ("/api/v1/social/orders", with_(SOCIAL_BODY, optionId=SOCIAL_TEST_SERVICE)),
        ("/api/v1/premium/orders", {"serviceId": UNKNOWN_UUID}),
        ("/api/v1/premium/orders", {"serviceId": LINE}),  # an OTP service is not a premium one
    ],
)
def test_a_well_formed_id_in_the_body_that_names_nothing_is_404(
    client: TestClient, emu: Emulator, path: str, body: dict
) -> None:
    before = snapshot(emu)
    assert_error(client.post(path, headers=H, json=body), 404, "NOT_FOUND")
    assert snapshot(emu) == before


# --- 405 --------------------------------------------------------------------------------------------------

WRONG_METHODS = [
    ("DELETE", "/api/v1/balance", "GET, HEAD"),
    ("POST", "/api/v1/balance", "GET, HEAD"),
    ("PUT", "/api/v1/otp/services", "GET, HEAD"),
    ("GET", "/api/v1/otp/orders", "POST"),
    ("PATCH", "/api/v1/social/orders", "POST"),
    ("GET", "/api/v1/premium/orders", "POST"),
    ("POST", f"/api/v1/otp/orders/{UNKNOWN_UUID}", "GET, HEAD"),
    ("DELETE", f"/api/v1/social/orders/{UNKNOWN_UUID}", "GET, HEAD"),
    ("GET", f"/api/v1/otp/orders/{UNKNOWN_UUID}/cancel", "POST"),
    ("GET", f"/api/v1/otp/orders/{UNKNOWN_UUID}/refund", "POST"),
    ("PUT", f"/api/v1/social/orders/{UNKNOWN_UUID}/refund", "POST"),
    ("POST", f"/api/v1/premium/orders/{UNKNOWN_UUID}", "GET, HEAD"),
]


@pytest.mark.parametrize("headers", [H, {}], ids=["with-key", "without-key"])
@pytest.mark.parametrize(("method", "path", "allow"), WRONG_METHODS)
def test_a_wrong_method_is_405_with_allow_and_code_bad_request(
    client: TestClient, method: str, path: str, allow: str, headers: dict
) -> None:
    response = client.request(method, path, headers=headers)
    assert_error(response, 405, "BAD_REQUEST")
    assert response.headers["Allow"] == allow
    assert_rate_headers(response)


# --- nothing else -------------------------------------------------------------------------------------


def test_errors_never_use_a_code_outside_the_vendor_table(client: TestClient) -> None:
    from .support import VENDOR_CODES

    responses = [
        client.get("/api/v1/balance"),
        client.get("/api/v1/balance", headers=auth(BANNED)),
        client.get("/api/v1/nope", headers=H),
        client.delete("/api/v1/balance", headers=H),
        client.post("/api/v1/otp/orders", headers=H, json={}),
        client.post("/api/v1/otp/orders", headers=H, content=b"{"),
    ]
    for response in responses:
        code = response.json()["error"]["code"]
        assert code in VENDOR_CODES
        if response.status_code != 405:
            assert VENDOR_CODES[code] == response.status_code
