"""Every allowed and every forbidden move of the OTP, social and premium tables.

Orders are driven into each status through the control plane's forced transitions
(`POST /_emulator/247xd/orders/{id}/transition`), then every target is tried: a move the
table allows answers 200 with the order in its new status, any other answers 409 and
leaves the order as it was. The client actions (cancel, refund) are checked against the
same tables.
"""

from __future__ import annotations

from collections import deque

import pytest
from starlette.testclient import TestClient

from emulator.core.statemachine import StateMachine
from emulator.runtime import Emulator
from emulator.xd247.lifecycles import OTP, PREMIUM, SOCIAL

from .support import (
    CHATGPT,
    DEMO,
    FB_LIKES,
    OTP_NEVER,
    OTP_TEST_SERVICE,
    account_of,
    assert_error,
    auth,
    ok,
    snapshot,
)

H = auth(DEMO)
MACHINES = {"otp": OTP, "social": SOCIAL, "premium": PREMIUM}


def path_to(machine: StateMachine, status: str) -> list[str]:
    """The shortest list of moves from the initial status to `status` (breadth first)."""
    seen = {machine.initial: [machine.initial]}
    queue = deque([machine.initial])
    while queue:
        current = queue.popleft()
        for nxt in machine.allowed(current):
            if nxt not in seen:
                seen[nxt] = [*seen[current], nxt]
                queue.append(nxt)
    return seen[status][1:]


def create(client: TestClient, kind: str) -> str:
    """A fresh order that stays in its initial status while the clock stands still."""
    if kind == "otp":
        body = {"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_NEVER}  # the SMS never comes
    elif kind == "social":
        body = {
            "optionId": FB_LIKES,
            "link": "https://facebook.com/p/1",
            "quantity": 1000,
        }  # starts after 30 s
    else:
        body = {"serviceId": CHATGPT}
    return ok(client.post(f"/api/v1/{kind}/orders", headers=H, json=body), 201)["orderId"]


def force(client: TestClient, order_id: str, to: str) -> object:
    return client.post(f"/_emulator/247xd/orders/{order_id}/transition", json={"to": to})


def drive(client: TestClient, kind: str, status: str) -> str:
    order_id = create(client, kind)
    for step in path_to(MACHINES[kind], status):
        response = force(client, order_id, step)
        assert response.status_code == 200, response.text
    shown = ok(client.get(f"/api/v1/{kind}/orders/{order_id}", headers=H))
    assert shown["status"] == status
    return order_id


def test_every_status_of_every_table_is_reachable_from_its_initial_status() -> None:
    for machine in MACHINES.values():
        for status in machine.statuses:
            path = path_to(machine, status)
            assert status == machine.initial or path[-1] == status


CASES = [
    pytest.param(kind, current, target, id=f"{kind}:{current}->{target}")
    for kind, machine in MACHINES.items()
    for current in machine.statuses
    for target in machine.statuses
]


@pytest.mark.parametrize(("kind", "current", "target"), CASES)
def test_a_forced_move_is_allowed_exactly_when_the_table_allows_it(
    client: TestClient, emu: Emulator, kind: str, current: str, target: str
) -> None:
    order_id = drive(client, kind, current)
    before_view = ok(client.get(f"/api/v1/{kind}/orders/{order_id}", headers=H))
    before = snapshot(emu)
    response = force(client, order_id, target)
    if MACHINES[kind].can(current, target):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == target
        # it answers the order as the API shows it
        assert body == ok(client.get(f"/api/v1/{kind}/orders/{order_id}", headers=H))
    else:
        assert response.status_code == 409, response.text
        error = response.json()["error"]
        assert error["code"] == "CONFLICT"
        assert current in error["message"] and target in error["message"]
        assert snapshot(emu) == before
        assert ok(client.get(f"/api/v1/{kind}/orders/{order_id}", headers=H)) == before_view


@pytest.mark.parametrize("current", OTP.statuses)
def test_client_cancel_succeeds_exactly_when_the_otp_table_allows_cancelled(
    client: TestClient, emu: Emulator, current: str
) -> None:
    order_id = drive(client, "otp", current)
    response = client.post(f"/api/v1/otp/orders/{order_id}/cancel", headers=H)
    if OTP.can(current, "cancelled"):
        assert ok(response)["status"] == "cancelled"
    else:
        assert current in assert_error(response, 400, "BAD_REQUEST")
        assert ok(client.get(f"/api/v1/otp/orders/{order_id}", headers=H))["status"] == current


@pytest.mark.parametrize(
    ("kind", "current"), [(k, s) for k in ("otp", "social") for s in MACHINES[k].statuses]
)
def test_client_refund_succeeds_exactly_when_the_table_allows_refunded(
    client: TestClient, emu: Emulator, kind: str, current: str
) -> None:
    order_id = drive(client, kind, current)
    coins = account_of(emu, DEMO).coins
    response = client.post(f"/api/v1/{kind}/orders/{order_id}/refund", headers=H)
    if MACHINES[kind].can(current, "refunded"):
        data = ok(response)
        assert data["status"] == "refunded"
        assert account_of(emu, DEMO).coins == coins + round(data["refundedAmount"] * 100)
    else:
        assert_error(response, 400, "BAD_REQUEST")
        assert account_of(emu, DEMO).coins == coins


@pytest.mark.parametrize("kind", ["otp", "social"])
def test_a_forced_refund_credits_once_and_then_nothing_refunds_again(
    client: TestClient, emu: Emulator, kind: str
) -> None:
    order_id = drive(client, kind, "cancelled")
    coins = account_of(emu, DEMO).coins
    refunded = force(client, order_id, "refunded")
    assert refunded.status_code == 200
    price = refunded.json()["price"]
    assert refunded.json()["refundedAmount"] == price
    assert account_of(emu, DEMO).coins == coins + round(price * 100)
    assert force(client, order_id, "refunded").status_code == 409
    assert_error(client.post(f"/api/v1/{kind}/orders/{order_id}/refund", headers=H), 400, "BAD_REQUEST")
    assert account_of(emu, DEMO).coins == coins + round(price * 100)
