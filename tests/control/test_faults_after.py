"""Faults of phase `after` (served and committed, then the answer lost) and faults aimed
at one account (issue 17 items 1 and 2)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.runtime import Emulator
from emulator.testing.transport import in_process_client
from tests.served import serve
from tests.usdtlowfee.support import DEMO_KEY as ULF_DEMO
from tests.usdtlowfee.support import auth as ulf_auth
from tests.usdtlowfee.support import order_body, wallet
from tests.xd247.support import DEMO, LINE, LINE_AIS, RICH, auth, ok

H = auth(DEMO)
OTP = {"serviceId": LINE, "priceOptionId": LINE_AIS}  # 15.00 coins


def add(client: TestClient | httpx.Client, **fault: Any) -> dict[str, Any]:
    response = client.post("/_emulator/faults", json=fault)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def journal(client: TestClient | httpx.Client, **params: Any) -> list[dict[str, Any]]:
    return client.get("/_emulator/requests", params=params).json()["requests"]  # type: ignore[no-any-return]


def test_an_after_fault_on_an_otp_order_creates_it_and_debits_the_coins_while_the_client_sees_500(
    client: TestClient, emu: Emulator
) -> None:
    fault = add(client, api="247xd", method="POST", path="/otp/orders", status=500, phase="after", times=1)
    assert fault["phase"] == "after"
    response = client.post("/api/v1/otp/orders", headers=H, json=OTP)
    assert response.status_code == 500
    assert response.json()["success"] is False and response.json()["error"]["code"] == "INTERNAL_ERROR"
    # The order exists and was paid for: exactly one debit of 15.00.
    assert len(emu.xd247.orders) == 1
    assert ok(client.get("/api/v1/balance", headers=H)) == {"coins": 485.0}
    entry = journal(client, method="POST")[0]
    assert (entry["status"], entry["faulted"], entry["faultPhase"], entry["faultId"]) == (
        500,
        True,
        "after",
        fault["faultId"],
    )
    withheld = entry["withheld"]
    assert withheld["status"] == 201
    order_id = withheld["response"]["data"]["orderId"]
    assert order_id in emu.xd247.orders
    # The client can reconcile: the order it never heard of is there.
    assert ok(client.get(f"/api/v1/otp/orders/{order_id}", headers=H))["orderId"] == order_id
    assert client.get("/_emulator/faults").json()["faults"][0]["injected"] == 1


class RecordingLog:
    """A write log that records what the pipeline tells it (the state file's interface)."""

    syncing = False

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.written: list[tuple[str, str]] = []
        self.applied: list[int] = []

    def before_write(self, api: str, account_id: str, method: str, path: str, query: bytes, body: Any) -> int:
        self.written.append((method, path))
        return len(self.written)

    def after_write(self) -> None:
        self.applied.append(len(self.emu.xd247.orders))

    def fault_pick(self, api: str, method: str, template: str | None, account_id: str | None = None) -> None:
        pass

    async def acknowledged(self, ticket: int) -> None:
        pass


def test_an_after_fault_is_recorded_for_the_state_file_before_the_answer_is_replaced(emu: Emulator) -> None:
    log = RecordingLog(emu)
    with TestClient(create_app(emulator=emu)) as client:
        add(client, api="247xd", path="/otp/orders", method="POST", status=503, phase="after")
        with emu.lock:
            emu.use_write_log(log)  # after the control-plane call: this log takes API writes only
        assert client.post("/api/v1/otp/orders", headers=H, json=OTP).status_code == 503
    assert log.written == [("POST", "/otp/orders")]
    assert log.applied == [1]  # recorded and applied before the client was told 503


def test_a_dropped_after_answer_still_creates_the_order_in_process(emu: Emulator) -> None:
    with in_process_client(create_app(emulator=emu)) as client:
        add(client, api="247xd", method="POST", path="/otp/orders", drop=True, phase="after", times=1)
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/api/v1/otp/orders", headers=H, json=OTP)
        assert len(emu.xd247.orders) == 1
        assert client.get("/api/v1/balance", headers=H).json()["data"] == {"coins": 485.0}
        entry = journal(client, method="POST")[0]
        assert (entry["status"], entry["response"], entry["faultPhase"]) == (None, None, "after")
        assert entry["withheld"]["status"] == 201
        assert entry["withheld"]["response"]["data"]["orderId"] in emu.xd247.orders


def test_a_dropped_after_answer_through_the_test_client_is_a_connection_error(
    client: TestClient, emu: Emulator
) -> None:
    add(client, api="usdtlowfee", method="POST", path="/energy/orders", drop=True, phase="after")
    headers = ulf_auth(ULF_DEMO)
    before = wallet(client, ULF_DEMO)
    with pytest.raises(ConnectionError):
        client.post("/v1/energy/orders", headers=headers, json=order_body())
    after = wallet(client, ULF_DEMO)
    assert len(emu.usdtlowfee.orders) == 1
    assert after["balanceSun"] == before["balanceSun"] - 3_000_000


def test_an_after_fault_with_latency_only_serves_the_real_answer(client: TestClient) -> None:
    add(client, api="247xd", path="/balance", latencyMs=5, phase="after")
    assert ok(client.get("/api/v1/balance", headers=H)) == {"coins": 500.0}
    entry = journal(client, limit=1)[0]
    assert entry["durationMs"] >= 5 and entry["faultPhase"] == "after"
    assert entry["withheld"]["status"] == 200 and entry["status"] == 200


def test_an_after_fault_counts_toward_the_rate_limit_a_before_fault_does_not(client: TestClient) -> None:
    add(client, api="247xd", path="/balance", status=500, phase="after", times=1)
    served = client.get("/api/v1/balance", headers=H)
    assert served.status_code == 500
    first = int(served.headers["x-ratelimit-remaining"])
    add(client, api="247xd", path="/balance", status=500, times=1)
    before = client.get("/api/v1/balance", headers=H)
    assert int(before.headers["x-ratelimit-remaining"]) == first  # not counted
    assert int(client.get("/api/v1/balance", headers=H).headers["x-ratelimit-remaining"]) == first - 1


def test_an_after_fault_on_a_refused_request_withholds_the_refusal(client: TestClient, emu: Emulator) -> None:
    add(client, api="247xd", method="POST", path="/otp/orders", status=502, phase="after")
    response = client.post("/api/v1/otp/orders", headers=H, json={"serviceId": LINE})
    assert response.status_code == 502
    assert emu.xd247.orders == {}
    assert journal(client, limit=1)[0]["withheld"]["status"] == 400


@pytest.mark.parametrize(
    ("field", "value"),
    [("phase", "during"), ("phase", 1), ("accountId", 5), ("accountId", ""), ("accountId", "x" * 65)],
)
def test_bad_phase_or_account_is_a_400_naming_the_field(
    client: TestClient, field: str, value: object
) -> None:
    response = client.post("/_emulator/faults", json={"api": "247xd", "status": 500, field: value})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(field)
    assert client.get("/_emulator/faults").json()["faults"] == []


def test_an_unknown_account_is_a_400_and_adds_no_fault(client: TestClient) -> None:
    response = client.post("/_emulator/faults", json={"api": "247xd", "status": 500, "accountId": "nobody"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "VALIDATION_ERROR",
        "message": "accountId must name an existing 247xd account",
    }
    # An account of the other API is not one of this API's.
    ulf = client.get("/_emulator/usdtlowfee/accounts").json()["accounts"][0]["accountId"]
    response = client.post("/_emulator/faults", json={"api": "247xd", "status": 500, "accountId": ulf})
    assert response.status_code == 400
    assert client.get("/_emulator/faults").json()["faults"] == []


# --- per account --------------------------------------------------------------------------


def _new_account(client: TestClient) -> tuple[str, dict[str, str]]:
    created = client.post("/_emulator/247xd/accounts", json={"coins": 100}).json()
    return created["accountId"], auth(created["apiKey"])


def test_a_per_account_fault_does_not_touch_another_accounts_requests(client: TestClient) -> None:
    mine, my_headers = _new_account(client)
    _, other_headers = _new_account(client)
    fault = add(client, api="247xd", path="/balance", status=503, accountId=mine)
    assert fault["accountId"] == mine
    assert client.get("/api/v1/balance", headers=my_headers).status_code == 503
    assert client.get("/api/v1/balance", headers=other_headers).status_code == 200
    assert client.get("/api/v1/balance", headers=H).status_code == 200
    assert client.get("/api/v1/balance", headers=auth(RICH)).status_code == 200
    # Without a valid key there is no account, so no account fault: the API's own 401.
    assert client.get("/api/v1/balance").status_code == 401
    assert client.get("/api/v1/balance", headers=auth("247xd_" + "0" * 40)).status_code == 401
    assert client.get("/_emulator/faults").json()["faults"][0]["injected"] == 1
    entries = journal(client)
    assert [e["accountId"] for e in entries if e["faulted"]] == [mine]


def test_account_faults_of_two_accounts_stay_apart_and_the_newest_matching_wins(client: TestClient) -> None:
    first, first_headers = _new_account(client)
    second, second_headers = _new_account(client)
    add(client, api="247xd", path="/balance", status=502, accountId=first)
    add(client, api="247xd", path="/balance", status=504, accountId=second)
    assert client.get("/api/v1/balance", headers=first_headers).status_code == 502
    assert client.get("/api/v1/balance", headers=second_headers).status_code == 504
    add(client, api="247xd", path="/balance", status=500)  # for everyone, newest: wins
    assert client.get("/api/v1/balance", headers=first_headers).status_code == 500


def test_a_per_account_after_fault_on_the_other_api(client: TestClient, emu: Emulator) -> None:
    created = client.post("/_emulator/usdtlowfee/accounts", json={"balanceSun": 10_000_000}).json()
    headers = ulf_auth(created["apiKey"])
    add(
        client,
        api="usdtlowfee",
        path="/energy/orders",
        method="POST",
        status=500,
        phase="after",
        accountId=created["accountId"],
    )
    assert client.post("/v1/energy/orders", headers=headers, json=order_body()).status_code == 500
    assert client.post("/v1/energy/orders", headers=ulf_auth(ULF_DEMO), json=order_body()).status_code == 201
    assert len(emu.usdtlowfee.orders) == 2
    assert wallet(client, created["apiKey"])["balanceSun"] == 7_000_000


def test_a_revoked_key_does_not_match_its_accounts_fault(client: TestClient) -> None:
    mine, headers = _new_account(client)
    add(client, api="247xd", path="/balance", status=503, accountId=mine)
    key = headers["Authorization"].split()[1]
    assert client.delete(f"/_emulator/247xd/keys/{key}").status_code == 204
    assert client.get("/api/v1/balance", headers=headers).status_code == 401


def test_phase_and_account_survive_a_state_export_and_import(client: TestClient) -> None:
    mine, headers = _new_account(client)
    add(client, api="247xd", path="/balance", status=503, accountId=mine, phase="after")
    state = client.get("/_emulator/state").json()
    client.post("/_emulator/reset")
    assert client.put("/_emulator/state", json=state).status_code == 200
    (fault,) = client.get("/_emulator/faults").json()["faults"]
    assert (fault["phase"], fault["accountId"]) == ("after", mine)
    assert client.get("/api/v1/balance", headers=headers).status_code == 503


def test_a_served_dropped_after_answer_closes_the_socket_and_the_order_exists() -> None:
    with serve("--seed", "1") as served:
        fault = {"api": "247xd", "method": "POST", "path": "/otp/orders", "drop": True, "phase": "after"}
        assert httpx.post(f"{served.url}/_emulator/faults", json=fault).status_code == 201
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(f"{served.url}/api/v1/otp/orders", headers=H, json=OTP)
        assert httpx.get(f"{served.url}/api/v1/balance", headers=H).json()["data"] == {"coins": 485.0}
        (entry,) = httpx.get(f"{served.url}/_emulator/requests", params={"method": "POST"}).json()["requests"]
        assert (entry["status"], entry["withheld"]["status"]) == (None, 201)
        served.process.terminate()
        served.process.wait(timeout=10)
        assert served.process.stderr is not None
        assert "Exception" not in served.process.stderr.read()


def test_probability_and_times_apply_to_after_faults_as_to_before_ones(
    client: TestClient, emu: Emulator
) -> None:
    add(client, api="247xd", method="POST", path="/otp/orders", status=500, phase="after", times=2)
    statuses = [client.post("/api/v1/otp/orders", headers=H, json=OTP).status_code for _ in range(3)]
    assert statuses == [500, 500, 201]
    assert len(emu.xd247.orders) == 3
    add(client, api="247xd", path="/balance", status=500, phase="after", probability=0)
    assert client.get("/api/v1/balance", headers=H).status_code == 200
