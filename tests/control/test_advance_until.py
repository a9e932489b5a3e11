"""POST .../clock/advance with {"until": "next"} and {"until": "settled"}: the clock lands on
the exact instant of the next natural move and the answer lists what fired, on the emulator
clock and on an account's own, for both APIs; and the backends' next_due/settle_until."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from emulator.core.clock import US_PER_S, iso_ms, parse_iso
from emulator.runtime import Emulator
from tests.usdtlowfee.support import DEMO_KEY, FAILING, order_body
from tests.xd247.support import (
    FB_LIKES,
    LINE,
    LINE_AIS,
    OTP_NEVER,
    OTP_TEST_SERVICE,
    RICH,
    SOCIAL_FAST,
    START,
    auth,
    ok,
)

from .apis import ULF

SLOW = "T9yD14Nj9j7xAB4dbGeiX9h8unkKLxmGkn"  # default fixtures: completes after 3600 s
T0 = parse_iso(START)


def at(seconds: float) -> str:
    return iso_ms(T0 + round(seconds * US_PER_S))


def advance(client: TestClient, url: str = "/_emulator/clock/advance", **body: Any) -> dict[str, Any]:
    response = client.post(url, json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def otp(client: TestClient, option: str, service: str = LINE, key: str = RICH) -> str:
    body = {"serviceId": service, "priceOptionId": option}
    return ok(client.post("/api/v1/otp/orders", headers=auth(key), json=body), 201)["orderId"]  # type: ignore[no-any-return]


def social(client: TestClient, quantity: int, key: str = RICH) -> str:
    body = {"optionId": SOCIAL_FAST, "link": "https://example.com/p/1", "quantity": quantity}
    return ok(client.post("/api/v1/social/orders", headers=auth(key), json=body), 201)["orderId"]  # type: ignore[no-any-return]


def energy(client: TestClient, key: str = DEMO_KEY, **fields: Any) -> int:
    response = client.post("/v1/energy/orders", headers=ULF.headers(key), json=order_body(**fields))
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]  # type: ignore[no-any-return]


def test_until_next_lands_on_the_sms_and_lists_it(client: TestClient) -> None:
    order_id = otp(client, LINE_AIS)  # the SMS arrives after 57 s
    answer = advance(client, until="next")
    assert answer["now"] == at(57)
    fired = {"api": "247xd", "accountId": "xd-rich", "orderId": order_id}
    assert answer["fired"] == [{**fired, "from": "waiting_sms", "to": "completed", "at": at(57)}]
    read = ok(client.get(f"/api/v1/otp/orders/{order_id}", headers=auth(RICH)))
    assert (read["status"], read["updatedAt"]) == ("completed", at(57))
    # Nothing more is due: the clock stays where it is.
    assert advance(client, until="next") == {"now": at(57), "frozen": True, "fired": []}


def test_until_next_lands_on_an_expiry(client: TestClient) -> None:
    order_id = otp(client, OTP_NEVER, OTP_TEST_SERVICE)
    expires = ok(client.get(f"/api/v1/otp/orders/{order_id}", headers=auth(RICH)))["expiresAt"]
    answer = advance(client, until="next")
    assert answer["now"] == expires
    assert [(f["orderId"], f["to"], f["at"]) for f in answer["fired"]] == [(order_id, "expired", expires)]


def test_until_next_takes_one_instant_at_a_time_across_both_apis(client: TestClient) -> None:
    xd = otp(client, LINE_AIS)  # due at +57 s
    ulf = energy(client)  # due at +5 s
    first = advance(client, until="next")
    assert first["now"] == at(5)
    assert [(f["api"], f["orderId"], f["to"]) for f in first["fired"]] == [("usdtlowfee", ulf, "completed")]
    second = advance(client, until="next")
    assert second["now"] == at(57)
    assert [(f["api"], f["orderId"]) for f in second["fired"]] == [("247xd", xd)]


def test_until_settled_runs_every_move_within_the_window_in_order(client: TestClient) -> None:
    social_id = social(client, 2000)  # starts at once, 1000 a minute: completes at +120 s
    failing = energy(client, address=FAILING)  # fails at +5 s
    slow = energy(client, address=SLOW)  # completes at +3600 s
    answer = advance(client, until="settled", maxSeconds=600)
    # The slow order is not due within 600 s of +120 s: the clock stops at the last move.
    assert answer["now"] == at(120)
    assert [(f["orderId"], f["from"], f["to"], f["at"]) for f in answer["fired"]] == [
        (social_id, "pending", "processing", at(0)),
        (failing, "processing", "failed", at(5)),
        (social_id, "processing", "completed", at(120)),
    ]
    # A window that reaches it: it lands on +3600 s exactly.
    answer = advance(client, until="settled", maxSeconds=3600)
    assert answer["now"] == at(3600)
    assert [(f["orderId"], f["to"], f["at"]) for f in answer["fired"]] == [(slow, "completed", at(3600))]
    wallet = client.get("/v1/wallet/balance", headers=ULF.headers(DEMO_KEY)).json()["data"]
    assert wallet["frozenSun"] == 0


def test_moves_already_due_fire_at_their_own_instants_without_moving_the_clock(client: TestClient) -> None:
    order_id = energy(client)
    advance(client, seconds=30)  # due at +5 s, and no read has applied it
    answer = advance(client, until="next")
    assert answer["now"] == at(30)
    assert [(f["orderId"], f["at"]) for f in answer["fired"]] == [(order_id, at(5))]


def test_an_account_clock_advances_its_own_orders_only(client: TestClient) -> None:
    created = client.post("/_emulator/usdtlowfee/accounts", json={"balanceSun": 10**12, "clock": "own"})
    own = created.json()
    own_order = energy(client, own["apiKey"])
    global_order = energy(client)
    url = f"/_emulator/usdtlowfee/accounts/{own['accountId']}/clock/advance"
    answer = advance(client, url, until="next")
    assert answer["now"] == at(5)
    assert [(f["accountId"], f["orderId"]) for f in answer["fired"]] == [(own["accountId"], own_order)]
    # The emulator clock did not move, and its own advance leaves the account alone.
    assert client.get("/_emulator/clock").json()["now"] == at(0)
    answer = advance(client, until="next")
    assert [f["orderId"] for f in answer["fired"]] == [global_order]


def test_an_own_clock_247xd_account_settles_on_its_own(client: TestClient) -> None:
    own = client.post("/_emulator/247xd/accounts", json={"coins": 1000, "clock": "own"}).json()
    order_id = otp(client, LINE_AIS, key=own["apiKey"])
    assert advance(client, until="settled", maxSeconds=3600)["fired"] == []
    url = f"/_emulator/247xd/accounts/{own['accountId']}/clock/advance"
    answer = advance(client, url, until="settled", maxSeconds=3600)
    assert answer["now"] == at(57)
    assert [(f["orderId"], f["to"], f["at"]) for f in answer["fired"]] == [(order_id, "completed", at(57))]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"until": "later"}, "until"),
        ({"until": 1}, "until"),
        ({"until": "next", "seconds": 5}, "seconds"),
        ({"until": "next", "maxSeconds": 5}, "maxSeconds"),
        ({"until": "settled", "maxSeconds": -1}, "maxSeconds"),
        ({"until": "settled", "maxSeconds": "x"}, "maxSeconds"),
    ],
)
def test_bad_until_bodies_are_400_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/_emulator/clock/advance", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(field)
    assert client.get("/_emulator/clock").json()["now"] == at(0)


# --- the domain directly ----------------------------------------------------------------
def test_247xd_next_due_skips_what_reads_applied_and_sees_forced_moves(emu: Emulator) -> None:
    backend = emu.xd247
    rich = backend.accounts["xd-rich"]
    fast = backend.create_social_order(rich, SOCIAL_FAST, "https://example.com/x", 1000, T0)
    assert backend.next_due() == T0  # pending -> processing at once
    backend.view(fast)  # a read applies it: now it completes after a minute
    assert backend.next_due() == T0 + 60 * US_PER_S
    # An order forced to processing may come due sooner than its heap entry said.
    slow = backend.create_social_order(rich, FB_LIKES, "https://e.com/y", 50, T0)
    assert backend.next_due() == T0 + 30 * US_PER_S  # it starts after 30 s
    earlier = T0 - 10 * US_PER_S  # another, made before, starts at +20 s
    backend.create_social_order(rich, FB_LIKES, "https://e.com/z", 50, earlier)
    assert backend.next_due() == T0 + 20 * US_PER_S
    backend.force(slow.id, "processing", {})  # 50 at 200 a minute: completes at +15 s
    sooner = slow.completes_us()
    assert sooner is not None and sooner < T0 + 30 * US_PER_S
    assert backend.next_due() == sooner
    backend.settle_until(T0 + 60 * US_PER_S)
    assert fast.status == "completed"


def test_usdtlowfee_next_due_is_the_head_of_queue_and_heap(emu: Emulator) -> None:
    backend = emu.usdtlowfee
    account = backend.accounts["ulf-demo"]
    assert backend.next_due() is None
    slow = backend.create_order(account, SLOW, 65_000, 1, T0)
    assert backend.next_due(account) == T0 + 3600 * US_PER_S
    normal = backend.create_order(account, "TXfLr54GXLwfcBtwNPoHKoFhpdJr6v8ta5", 65_000, 1, T0 + US_PER_S)
    assert backend.next_due() == T0 + 6 * US_PER_S
    backend.settle_until(T0 + 6 * US_PER_S)
    assert (normal.status, slow.status) == ("completed", "processing")
    backend.force(slow.id, "completed")  # its heap entry goes stale
    assert backend.next_due() is None
