"""GET /_emulator/verdicts: each rule fires on a journal built to trigger it and stays
silent on a well-behaved client (issue 17 item 3)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.control.verdicts import Thresholds, findings
from emulator.core.clock import parse_iso
from emulator.core.journal import Journal
from emulator.runtime import Emulator
from tests.usdtlowfee.support import auth as ulf_auth
from tests.usdtlowfee.support import order_body
from tests.xd247.support import LINE, LINE_AIS, OTP_NEVER, OTP_TEST_SERVICE, START, auth

OTP = {"serviceId": LINE, "priceOptionId": LINE_AIS}
NEVER = {"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_NEVER}  # the SMS never arrives


def make(**config: Any) -> Iterator[TestClient]:
    emu = Emulator(Config(seed=7, clock_start_us=parse_iso(START), clock_frozen=True, **config))
    with TestClient(create_app(emulator=emu)) as client:
        yield client


@pytest.fixture
def client() -> Iterator[TestClient]:
    yield from make()


@pytest.fixture
def limited() -> Iterator[TestClient]:
    """247xd at 10 requests a minute."""
    yield from make(rate_limit_247xd=10)


def account(client: TestClient, api: str = "247xd") -> tuple[str, dict[str, str]]:
    if api == "247xd":
        created = client.post("/_emulator/247xd/accounts", json={"coins": 1000}).json()
        return created["accountId"], auth(created["apiKey"])
    created = client.post("/_emulator/usdtlowfee/accounts", json={"balanceSun": 100_000_000}).json()
    return created["accountId"], ulf_auth(created["apiKey"])


def verdicts(client: TestClient, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/_emulator/verdicts", params=params)
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()["verdicts"]
    return listed


def ids(client: TestClient, **params: Any) -> list[str]:
    """Request ids of the journal, oldest first."""
    return [
        e["requestId"] for e in reversed(client.get("/_emulator/requests", params=params).json()["requests"])
    ]


def advance(client: TestClient, seconds: float) -> None:
    assert client.post("/_emulator/clock/advance", json={"seconds": seconds}).status_code == 200


# --- duplicate-create ---------------------------------------------------------------------


def test_a_retried_lost_order_is_a_duplicate_create(client: TestClient) -> None:
    mine, headers = account(client)
    client.post(
        "/_emulator/faults",
        json={
            "api": "247xd",
            "method": "POST",
            "path": "/otp/orders",
            "status": 500,
            "phase": "after",
            "times": 1,
        },
    )
    assert client.post("/api/v1/otp/orders", headers=headers, json=OTP).status_code == 500
    advance(client, 5)
    assert client.post("/api/v1/otp/orders", headers=headers, json=OTP).status_code == 201
    first, second = ids(client)
    (finding,) = verdicts(client)
    assert finding["rule"] == "duplicate-create"
    assert (finding["api"], finding["accountId"], finding["requestIds"]) == ("247xd", mine, [first, second])
    assert finding["at"] == "2025-01-15T10:30:05.000Z"
    assert "5 s apart" in finding["message"] and "withheld" in finding["message"]


def test_a_client_that_reconciles_after_a_lost_answer_is_well_behaved(client: TestClient) -> None:
    _, headers = account(client, "usdtlowfee")
    client.post(
        "/_emulator/faults",
        json={
            "api": "usdtlowfee",
            "method": "POST",
            "path": "/energy/orders",
            "status": 500,
            "phase": "after",
            "times": 1,
        },
    )
    assert client.post("/v1/energy/orders", headers=headers, json=order_body()).status_code == 500
    listed = client.get("/v1/energy/orders", headers=headers).json()["data"]["orders"]
    assert len(listed) == 1  # it went through: no retry
    assert verdicts(client) == []


def test_identical_creates_further_apart_than_the_window_or_with_other_bodies_are_not_duplicates(
    client: TestClient,
) -> None:
    _, headers = account(client)
    client.post("/api/v1/otp/orders", headers=headers, json=OTP)
    advance(client, 61)
    client.post("/api/v1/otp/orders", headers=headers, json=OTP)
    client.post("/api/v1/otp/orders", headers=headers, json=NEVER)
    assert verdicts(client) == []
    # The window is a query parameter.
    assert [v["rule"] for v in verdicts(client, duplicateWindow=120)] == ["duplicate-create"]


def test_two_accounts_ordering_the_same_are_not_duplicates(client: TestClient) -> None:
    _, first = account(client)
    _, second = account(client)
    client.post("/api/v1/otp/orders", headers=first, json=OTP)
    client.post("/api/v1/otp/orders", headers=second, json=OTP)
    assert verdicts(client) == []


# --- retry-too-soon -----------------------------------------------------------------------


def test_a_request_before_retry_after_elapsed_is_too_soon(limited: TestClient) -> None:
    mine, headers = account(limited)
    for _ in range(10):
        assert limited.get("/api/v1/balance", headers=headers).status_code == 200
    refused = limited.get("/api/v1/balance", headers=headers)
    assert refused.status_code == 429
    wait = int(refused.headers["retry-after"])
    assert wait == 60  # frozen at 10:30:00, the window ends at 10:31:00
    advance(limited, wait - 1)
    assert limited.get("/api/v1/balance", headers=headers).status_code == 429
    journal = ids(limited)
    (finding,) = verdicts(limited)
    assert finding["rule"] == "retry-too-soon" and finding["accountId"] == mine
    assert finding["requestIds"] == journal[-2:]


def test_waiting_out_retry_after_is_well_behaved(limited: TestClient) -> None:
    _, headers = account(limited)
    for _ in range(10):
        limited.get("/api/v1/balance", headers=headers)
    wait = int(limited.get("/api/v1/balance", headers=headers).headers["retry-after"])
    advance(limited, wait)
    assert limited.get("/api/v1/balance", headers=headers).status_code == 200
    assert verdicts(limited) == []


def test_a_burst_of_retries_is_one_finding(limited: TestClient) -> None:
    _, headers = account(limited)
    for _ in range(13):
        limited.get("/api/v1/balance", headers=headers)
    (finding,) = verdicts(limited)
    assert finding["rule"] == "retry-too-soon" and len(finding["requestIds"]) == 3


def test_an_injected_429_asks_for_its_retry_after_too(client: TestClient) -> None:
    _, headers = account(client)
    client.post("/_emulator/faults", json={"api": "247xd", "path": "/balance", "status": 429, "times": 1})
    assert client.get("/api/v1/balance", headers=headers).status_code == 429
    assert client.get("/api/v1/balance", headers=headers).status_code == 200
    assert [v["rule"] for v in verdicts(client)] == ["retry-too-soon"]


# --- poll-after-final ---------------------------------------------------------------------


def _finished_order(client: TestClient, headers: dict[str, str]) -> str:
    order_id: str = client.post("/api/v1/otp/orders", headers=headers, json=OTP).json()["data"]["orderId"]
    moved = client.post(
        f"/_emulator/247xd/orders/{order_id}/transition", json={"to": "completed", "otpCode": "123456"}
    )
    assert moved.status_code == 200, moved.text
    return order_id


def test_more_than_three_reads_of_a_finished_order_are_polling_after_final(client: TestClient) -> None:
    mine, headers = account(client)
    order_id = _finished_order(client, headers)
    for _ in range(4):
        assert client.get(f"/api/v1/otp/orders/{order_id}", headers=headers).status_code == 200
    (finding,) = verdicts(client)
    assert (finding["rule"], finding["accountId"]) == ("poll-after-final", mine)
    assert finding["requestIds"] == ids(client, method="GET")
    assert "completed" in finding["message"]


def test_three_reads_of_a_finished_order_and_reads_of_a_live_one_are_fine(client: TestClient) -> None:
    _, headers = account(client)
    order_id = _finished_order(client, headers)
    for _ in range(3):
        client.get(f"/api/v1/otp/orders/{order_id}", headers=headers)
    live = client.post("/api/v1/otp/orders", headers=headers, json=NEVER)
    live_id = live.json()["data"]["orderId"]
    for _ in range(10):
        client.get(f"/api/v1/otp/orders/{live_id}", headers=headers)
    assert verdicts(client) == []
    assert [v["rule"] for v in verdicts(client, finalReads=2)] == ["poll-after-final"]


def test_cancelled_is_not_final_refunded_is(client: TestClient) -> None:
    _, headers = account(client)
    order_id = client.post("/api/v1/otp/orders", headers=headers, json=OTP).json()["data"]["orderId"]
    client.post(f"/_emulator/247xd/orders/{order_id}/transition", json={"to": "cancelled"})
    for _ in range(4):
        client.get(f"/api/v1/otp/orders/{order_id}", headers=headers)
    assert verdicts(client) == []  # a refund may still follow
    client.post(f"/_emulator/247xd/orders/{order_id}/transition", json={"to": "refunded"})
    for _ in range(4):
        client.get(f"/api/v1/otp/orders/{order_id}", headers=headers)
    assert [v["rule"] for v in verdicts(client)] == ["poll-after-final"]


def test_energy_orders_are_judged_too(client: TestClient) -> None:
    _, headers = account(client, "usdtlowfee")
    order_id = client.post("/v1/energy/orders", headers=headers, json=order_body()).json()["data"]["id"]
    client.post(f"/_emulator/usdtlowfee/orders/{order_id}/transition", json={"to": "failed", "reason": "x"})
    for _ in range(4):
        client.get(f"/v1/energy/orders/{order_id}", headers=headers)
    (finding,) = verdicts(client, api="usdtlowfee")
    assert finding["rule"] == "poll-after-final" and "failed" in finding["message"]
    assert verdicts(client, api="247xd") == []


# --- rate-budget --------------------------------------------------------------------------


def test_more_than_half_a_windows_budget_on_one_order_is_a_rate_budget_finding(limited: TestClient) -> None:
    _, headers = account(limited)
    order = limited.post("/api/v1/otp/orders", headers=headers, json=NEVER)
    order_id = order.json()["data"]["orderId"]
    for _ in range(6):
        limited.get(f"/api/v1/otp/orders/{order_id}", headers=headers)
    (finding,) = verdicts(limited)
    assert finding["rule"] == "rate-budget" and len(finding["requestIds"]) == 6
    assert "10 requests" in finding["message"]


def test_half_a_budget_per_window_is_fine(limited: TestClient) -> None:
    _, headers = account(limited)
    order = limited.post("/api/v1/otp/orders", headers=headers, json=NEVER)
    order_id = order.json()["data"]["orderId"]
    for _ in range(2):
        for _ in range(5):
            limited.get(f"/api/v1/otp/orders/{order_id}", headers=headers)
        advance(limited, 60)  # the next window
    assert verdicts(limited) == []


# --- ignored-refusal ----------------------------------------------------------------------


def test_the_same_refused_request_four_times_is_an_ignored_refusal(client: TestClient) -> None:
    mine, headers = account(client)
    for _ in range(4):
        assert client.post("/api/v1/otp/orders", headers=headers, json={"serviceId": LINE}).status_code == 400
    (finding,) = verdicts(client)
    assert (finding["rule"], finding["accountId"]) == ("ignored-refusal", mine)
    assert finding["requestIds"] == ids(client)
    assert "400" in finding["message"]


def test_three_refusals_or_a_fixed_request_are_fine(client: TestClient) -> None:
    _, headers = account(client)
    for _ in range(3):
        client.post("/api/v1/otp/orders", headers=headers, json={"serviceId": LINE})
    client.post("/api/v1/otp/orders", headers=headers, json=OTP)  # another body: a fix
    for _ in range(3):
        client.get("/api/v1/otp/orders/nope", headers=headers)
    assert verdicts(client) == []
    assert len(verdicts(client, refusals=2)) == 2


# --- a well-behaved client, filters, the journal's bound ----------------------------------


def test_a_well_behaved_client_has_no_findings(client: TestClient) -> None:
    _, headers = account(client)
    client.get("/api/v1/balance", headers=headers)
    order_id = client.post("/api/v1/otp/orders", headers=headers, json=OTP).json()["data"]["orderId"]
    for _ in range(3):
        advance(client, 20)
        client.get(f"/api/v1/otp/orders/{order_id}", headers=headers)
    client.post("/api/v1/otp/orders", headers=headers, json=NEVER)
    assert client.get("/_emulator/requests").json()["requests"][0]["status"] == 201
    assert verdicts(client) == []


def test_filters_by_account_api_since_and_rule(client: TestClient) -> None:
    first, first_headers = account(client)
    second, second_headers = account(client)
    for _ in range(4):
        client.post("/api/v1/otp/orders", headers=first_headers, json={"serviceId": LINE})
    advance(client, 10)
    for _ in range(4):
        client.post("/api/v1/otp/orders", headers=second_headers, json={"serviceId": LINE})
    both = verdicts(client)
    assert [v["accountId"] for v in both] == [second, first]  # newest first
    assert [v["accountId"] for v in verdicts(client, accountId=first)] == [first]
    assert [v["accountId"] for v in verdicts(client, since="2025-01-15T10:30:05Z")] == [second]
    assert verdicts(client, api="usdtlowfee") == []
    assert verdicts(client, rule="duplicate-create") == []
    journal = client.get("/_emulator/requests", params={"accountId": first}).json()["requests"]
    assert len(journal) == 4 and {e["accountId"] for e in journal} == {first}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("api", "x"),
        ("since", "yesterday"),
        ("rule", "rudeness"),
        ("finalReads", "-1"),
        ("refusals", "a"),
        ("duplicateWindow", "1e9"),
        ("budgetShare", "2"),
        ("accountId", ""),
    ],
)
def test_bad_parameters_are_a_400_naming_them(client: TestClient, name: str, value: str) -> None:
    response = client.get("/_emulator/verdicts", params={name: value})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(name)


def test_verdicts_see_only_what_the_journal_still_holds() -> None:
    for client in make(journal_size=3):
        _, headers = account(client)
        for _ in range(4):
            client.post("/api/v1/otp/orders", headers=headers, json={"serviceId": LINE})
        answer = client.get("/_emulator/verdicts").json()
        assert (answer["verdicts"], answer["journalSize"], answer["journaled"]) == ([], 3, 3)


def test_request_ids_increase_and_survive_clearing_the_journal(client: TestClient) -> None:
    client.get("/api/v1/balance")
    client.get("/api/v1/balance")
    assert ids(client) == ["req-1", "req-2"]
    client.delete("/_emulator/requests")
    client.get("/api/v1/balance")
    assert ids(client) == ["req-3"]


# --- the rules on a journal built directly ------------------------------------------------


def test_findings_on_a_journal_recorded_directly() -> None:
    journal = Journal(100)
    scope = {"path": "/api/v1/otp/orders", "query_string": b"", "method": "POST", "headers": []}
    for at in (0, 1_000_000):
        journal.record(
            at, "247xd", scope, "/otp/orders", b'{"a": 1, "b": 2}', 201, b"{}", 0, account_id="acct"
        )
    journal.record(
        2_000_000, "247xd", scope, "/otp/orders", b'{"b": 2, "a": 1}', 201, b"{}", 0, account_id="acct"
    )
    journal.record(3_000_000, "247xd", scope, "/otp/orders", b'{"b": 2, "a": 1}', 201, b"{}", 0)  # no account
    entries = list(reversed(journal.newest_first()))
    found = findings(entries, {"247xd": 60})
    assert [f["requestIds"] for f in found] == [["req-2", "req-3"], ["req-1", "req-2"]]
    assert findings(entries, {"247xd": 60}, Thresholds(duplicate_window_s=0.5)) == []
