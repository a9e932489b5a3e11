"""The pytest plugin, through user-style test files run by pytester: in-process, against a
served emulator, and in parallel workers (pytest-xdist) sharing one served emulator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator.testing.client import EmulatorClient

from ..served import serve

# Here, not in tests/testing/conftest.py: pytest refuses `pytest_plugins` in a conftest
# below the rootdir whenever that conftest is loaded after start-up (e.g. `pytest .`).
pytest_plugins = ["pytester"]

NO_SMS = {
    "serviceId": "00000000-0000-4000-8000-000000000001",
    "priceOptionId": "00000000-0000-4000-8000-000000000011",
}
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "test_with_plugin.py"

# A user's test file: only the plugin's fixtures, no sleep, timed inside the test.
USER_TESTS = '''
import time

import pytest

NO_SMS = {
    "serviceId": "00000000-0000-4000-8000-000000000001",
    "priceOptionId": "00000000-0000-4000-8000-000000000011",
}


@pytest.mark.parametrize("round", [1, 2])
def test_an_expired_otp_order_is_refunded(xd247_account, round):
    api = xd247_account.client
    started = time.perf_counter()
    start = xd247_account.clock.get()["now"]
    coins = api.get("/balance").json()["data"]["coins"]
    order = api.post("/otp/orders", json=NO_SMS).json()["data"]
    assert order["status"] == "waiting_sms"
    moved = xd247_account.advance(20 * 60 + round)  # past expiresAt (20 minutes)
    path = f"/otp/orders/{order['orderId']}"
    expired = api.get(path).json()["data"]
    assert expired["status"] == "expired" and expired["updatedAt"] == order["expiresAt"]
    refunded = api.post(path + "/refund").json()["data"]
    assert refunded["status"] == "refunded" and refunded["refundedAmount"] == order["price"] == 5.0
    assert api.get("/balance").json()["data"]["coins"] == coins == 100000.0
    # Nobody else moved this account's clock: it is exactly where this test put it.
    assert xd247_account.clock.get() == {"now": moved["now"], "frozen": True}
    elapsed = time.perf_counter() - started
    print(f"scenario {round}: {elapsed * 1000:.2f} ms on {start}")
    # 20 emulator minutes passed in well under 20 real ones: nothing slept. (Speed itself
    # is make bench's to measure, not a timed test's.)
    assert elapsed < 5, elapsed


def test_usdtlowfee_account(usdtlowfee_account):
    me = usdtlowfee_account.client.get("/v1/users/me").json()["data"]
    assert me["id"] == usdtlowfee_account.user_id
    balance = usdtlowfee_account.client.get("/v1/wallet/balance").json()["data"]
    assert balance == {"balanceSun": 10**12, "frozenSun": 0, "totalSun": 10**12}


def test_advance_until_settled(xd247_account, usdtlowfee_account):
    order = xd247_account.client.post("/otp/orders", json=NO_SMS).json()["data"]
    settled = xd247_account.advance_until_settled()
    assert settled["now"] == order["expiresAt"]  # exactly: the instant it expired
    assert [(f["orderId"], f["to"]) for f in settled["fired"]] == [(order["orderId"], "expired")]
    assert xd247_account.advance_until_next()["fired"] == []
    body = {"type": "manual", "data": {"tronAddress": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
            "energyValue": 65000, "durationHours": 1}}
    energy = usdtlowfee_account.client.post("/v1/energy/orders", json=body).json()["data"]
    fired = usdtlowfee_account.advance_until_next()["fired"]
    assert [(f["orderId"], f["to"]) for f in fired] == [(energy["id"], "completed")]
    kinds = [e["kind"] for e in usdtlowfee_account.events()["events"]]
    assert kinds == ["order.created", "balance", "order.transition", "balance"]
'''


@pytest.fixture(scope="module")
def served_url() -> Iterator[str]:
    with serve() as served, EmulatorClient.served(served.url) as emulator:
        # Warm: the server loads Faker with its first phone number (~0.1 s), which is no
        # part of the timed scenarios.
        with emulator.create_xd247_account(coins=5) as warm:
            assert warm.client.post("/otp/orders", json=NO_SMS).status_code == 201
        yield served.url


@pytest.fixture(autouse=True)
def no_emulator_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EMULATOR_URL", raising=False)


def timings(result: pytest.RunResult) -> list[float]:
    return [float(ms) for ms in re.findall(r"scenario \d: ([0-9.]+) ms", result.stdout.str())]


def test_the_fixtures_run_a_user_test_in_process(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest("-W", "error", "-s")
    result.assert_outcomes(passed=4)
    assert len(timings(result)) == 2


def test_the_fixtures_run_a_user_test_against_a_served_emulator(
    pytester: pytest.Pytester, served_url: str
) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    with EmulatorClient.served(served_url) as emulator:
        emulator.clear_requests()
        result = pytester.runpytest("-W", "error", "-s", "--emulator-url", served_url)
        result.assert_outcomes(passed=4)
        assert len(timings(result)) == 2
        made = emulator.list_requests(api="247xd", method="POST", path="/api/v1/otp/orders")
        assert len(made) == 3  # the user's orders went to the served emulator


def test_the_url_may_come_from_the_environment(
    pytester: pytest.Pytester, served_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMULATOR_URL", served_url)
    pytester.makepyfile(
        test_where="""
        def test_served(emulator):
            assert emulator.runtime is None and emulator.health()["status"] == "ok"
        """
    )
    pytester.runpytest("-W", "error").assert_outcomes(passed=1)


def test_parallel_workers_share_one_served_emulator_without_interfering(
    pytester: pytest.Pytester, served_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    # Each worker is a new pytest: without the other installed plugins (Faker's, hypothesis',
    # schemathesis') it starts in a fraction of the time. `-p emulator` names the entry point.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    args = ["-p", "xdist", "-p", "emulator", "-W", "error", "-n", "2", "-v", "-rP"]
    result = pytester.runpytest(*args, "--emulator-url", served_url)
    result.assert_outcomes(passed=4)
    workers = set(re.findall(r"\[(gw\d)\] .*PASSED", result.stdout.str()))
    assert workers == {"gw0", "gw1"}, result.stdout.str()
    assert len(timings(result)) == 2


def test_in_process_the_emulator_fixture_is_the_app_itself(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_runtime="""
        def test_one_emulator_per_session(emulator, xd247_account, usdtlowfee_account):
            runtime = emulator.runtime
            assert xd247_account.account_id in runtime.xd247.accounts
            assert usdtlowfee_account.account_id in runtime.usdtlowfee.accounts
            assert xd247_account.info["clock"] == usdtlowfee_account.info["clock"] == "own"

        def test_again(emulator):
            assert len(emulator.runtime.xd247.accounts) > 5  # the first test's account is still there
        """
    )
    pytester.runpytest("-W", "error", "-p", "no:randomly").assert_outcomes(passed=2)


def test_no_emulator_at_the_url_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_nothing="def test_it(emulator):\n    pass\n")
    result = pytester.runpytest("--emulator-url", "http://127.0.0.1:9")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no emulator answers at http://127.0.0.1:9*"])


@pytest.mark.parametrize("mode", ["in-process", "served"])
def test_the_readme_example_passes(pytester: pytest.Pytester, served_url: str, mode: str) -> None:
    pytester.makepyfile(test_with_plugin=EXAMPLE.read_text())
    args = ["--emulator-url", served_url] if mode == "served" else []
    pytester.runpytest("-W", "error", *args).assert_outcomes(passed=4)


# A user's test file for issue 17: per-account faults and verdicts on the fixtures.
ROBUST_TESTS = """
import pytest

OTP = {
    "serviceId": "9c5ba46f-3555-40ce-a771-ef4ff4b39d80",
    "priceOptionId": "5932b247-0569-4069-9688-867975502818",
}


@pytest.mark.parametrize("n", range(4))
def test_a_fault_of_my_own(xd247_account, n):
    api = xd247_account.client
    assert api.get("/balance").status_code == 200  # nobody else's fault reaches this account
    xd247_account.fault(path="/balance", status=503)
    assert api.get("/balance").status_code == 503
    assert api.get("/otp/services").status_code == 200
    xd247_account.assert_well_behaved()


def test_a_lost_answer_reconciled(xd247_account):
    api = xd247_account.client
    xd247_account.fault(path="/otp/orders", method="POST", status=500, phase="after", times=1)
    assert api.post("/otp/orders", json=OTP).status_code == 500
    assert api.get("/balance").json()["data"]["coins"] == 100000.0 - 15.0  # it went through
    xd247_account.assert_well_behaved()


def test_a_lost_answer_retried(xd247_account):
    api = xd247_account.client
    xd247_account.fault(path="/otp/orders", method="POST", status=500, phase="after", times=1)
    assert api.post("/otp/orders", json=OTP).status_code == 500
    assert api.post("/otp/orders", json=OTP).status_code == 201
    assert [v["rule"] for v in xd247_account.verdicts()] == ["duplicate-create"]
    xd247_account.assert_well_behaved()  # fails, listing the finding
"""


def _robust_outcome(result: pytest.RunResult) -> None:
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(
        ["*1 verdict(s) on account acct_*", "*- duplicate-create: POST /api/v1/otp/orders*"]
    )


def test_account_faults_and_verdicts_in_process_and_removed_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_robust=ROBUST_TESTS,
        test_zz_after="def test_no_fault_left(emulator):\n    assert emulator.list_faults() == []\n",
    )
    result = pytester.runpytest("-W", "error", "-p", "no:randomly")
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(
        ["*1 verdict(s) on account acct_*", "*- duplicate-create: POST /api/v1/otp/orders*"]
    )


def test_account_faults_do_not_cross_parallel_workers_on_one_served_emulator(
    pytester: pytest.Pytester, served_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_robust=ROBUST_TESTS)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    args = ["-p", "xdist", "-p", "emulator", "-W", "error", "-n", "2"]
    _robust_outcome(pytester.runpytest(*args, "--emulator-url", served_url))
    with EmulatorClient.served(served_url) as emulator:
        assert emulator.list_faults() == []


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_a_served_emulator_with_a_control_token_is_driven_with_emulator_token(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    token = "plugin-token-123"
    monkeypatch.delenv("EMULATOR_CONTROL_TOKEN", raising=False)
    pytester.makepyfile(
        test_token="""
        def test_it(emulator, xd247_account):
            assert xd247_account.client.get("/balance").json()["success"] is True
            assert emulator.accounts("247xd")
        """
    )
    with serve("--control-token", token) as served:
        refused = pytester.runpytest("--emulator-url", served.url)
        refused.assert_outcomes(errors=1)  # the account fixture's POST: 401
        assert "401 UNAUTHORIZED" in refused.stdout.str()
        if how == "flag":
            result = pytester.runpytest("--emulator-url", served.url, "--emulator-token", token)
        else:
            monkeypatch.setenv("EMULATOR_CONTROL_TOKEN", token)
            result = pytester.runpytest("--emulator-url", served.url)
        result.assert_outcomes(passed=1)
