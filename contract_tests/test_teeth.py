"""The suites have teeth: each deliberately broken copy of the emulator (breakages.py) makes
the contract suite fail, and the drift report names the check that caught it.

Each breakage runs the real suite module in a child pytest, in-process, narrowed to the
operation the breakage touches (CONTRACT_OPERATIONS) with few examples; the children run
side by side.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .breakages import BREAKAGES
from .semantics import RULES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TIMEOUT_S = 600
PARALLEL = 3  # children at a time: CI has 2 cores

# breakage -> (suite module, operationId it touches (None: the stateful flows), its label, the check
# that must report it, other checks of ours that may report it too)
CASES: dict[str, tuple[str, str | None, str, str, frozenset[str]]] = {
    "rename-field": ("test_xd247.py", "getBalance", "GET /balance", "response_schema_conformance", frozenset()),
    "change-type": (
        "test_usdtlowfee.py", "getWalletBalance", "GET /v1/wallet/balance", "response_schema_conformance",
        frozenset(),
    ),
    "change-status": (
        "test_xd247.py", "createOtpOrder", "POST /otp/orders", "status_code_conformance", frozenset({"created_status"})
    ),
    "drop-header": (
        "test_xd247.py", "listOtpServices", "GET /otp/services", "response_headers_conformance", frozenset()
    ),
    "ignore-auth": ("test_usdtlowfee.py", "getCurrentUser", "GET /v1/users/me", "ignored_auth", frozenset()),
    "no-allow": (
        "test_usdtlowfee.py", "getWalletBalance", "GET /v1/wallet/balance", "unsupported_method", frozenset()
    ),
    "total-mismatch": ("test_usdtlowfee.py", "getWalletBalance", "GET /v1/wallet/balance", "wallet_total", frozenset()),
    "double-refund": ("test_xd247.py", None, "POST /otp/orders/{orderId}/refund", "money_refund", frozenset()),
    "oldest-first": (
        "test_usdtlowfee.py", "listEnergyOrders", "GET /v1/energy/orders", "list_order", frozenset({"list_pages"})
    ),
    "page-order": (
        "test_usdtlowfee.py", "listEnergyOrders", "GET /v1/energy/orders", "list_order", frozenset({"list_pages"})
    ),
    "offset-overlap": (
        "test_usdtlowfee.py", "listEnergyOrders", "GET /v1/energy/orders", "list_pages", frozenset({"list_window"})
    ),
    "limit-mutated": ("test_usdtlowfee.py", "listEnergyOrders", "GET /v1/energy/orders", "list_window", frozenset()),
    "status-ignored": (
        "test_usdtlowfee.py", "listEnergyOrders", "GET /v1/energy/orders", "list_refusals", frozenset()
    ),
    "no-content-body": ("test_usdtlowfee.py", None, "PUT /v1/addresses/{id}/default", "no_content", frozenset()),
    "reset-ms": ("test_xd247.py", "getBalance", "GET /balance", "rate_limit_reset", frozenset()),
    "remaining-static": ("test_xd247.py", "getBalance", "GET /balance", "rate_limit_remaining", frozenset()),
    "no-retry-after": ("test_xd247.py", "getBalance", "GET /balance", "retry_after", frozenset()),
    "skip-state": ("test_xd247.py", "createSocialOrder", "POST /social/orders", "state_edges", frozenset()),
    "wrong-can-transition": (
        "test_usdtlowfee.py", "createEnergyOrder", "POST /v1/energy/orders", "can_transition_to", frozenset()
    ),
    "price-misreported": ("test_xd247.py", None, "POST /otp/orders", "money_create", frozenset()),
    "frozen-stuck": ("test_usdtlowfee.py", None, "POST /v1/energy/orders", "frozen_release", frozenset()),
    "txid-missing": ("test_usdtlowfee.py", None, "GET /v1/energy/orders/{id}", "completed_order", frozenset()),
    "expires-no-ms": ("test_xd247.py", "createOtpOrder", "POST /otp/orders", "time_format", frozenset()),
}


def _env(breakage: str, operation: str | None, reports: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTRACT_", "PYTEST_"))}
    env |= {
        "CONTRACT_BREAK": breakage,
        "CONTRACT_REPORT_DIR": str(reports),
        "CONTRACT_MAX_EXAMPLES": "5",
        "CONTRACT_STATEFUL_EXAMPLES": "5",
        "CONTRACT_NO_SHRINK": "1",
    }
    if operation is not None:
        env["CONTRACT_OPERATIONS"] = operation
    return env


def _selection(operation: str | None) -> list[str]:
    return ["-k", "not Flows and not flows" if operation is not None else "Flows"]


@pytest.fixture(scope="module")
def broken_runs() -> dict[str, tuple[int, str, str]]:
    """Every breakage's child run: (exit code, drift.md, output), PARALLEL at a time."""
    with tempfile.TemporaryDirectory(prefix="contract-teeth-") as tmp:

        def run(breakage: str) -> tuple[int, str, str]:
            module, operation, _, _, _ = CASES[breakage]
            reports = Path(tmp) / breakage
            command = [
                sys.executable, "-m", "pytest", str(HERE / module), "-p", "no:cacheprovider",
                "-q", *_selection(operation), "-W", "error",
            ]
            child = subprocess.run(
                command, cwd=ROOT, env=_env(breakage, operation, reports),
                capture_output=True, text=True, timeout=TIMEOUT_S,
            )
            drift = reports / "drift.md"
            return child.returncode, drift.read_text("utf-8") if drift.exists() else "", child.stdout + child.stderr

        with ThreadPoolExecutor(PARALLEL) as pool:
            return dict(zip(CASES, pool.map(run, CASES), strict=True))


def test_every_breakage_has_a_case() -> None:
    assert set(CASES) == set(BREAKAGES)


@pytest.mark.parametrize("breakage", list(CASES))
def test_the_suite_reports_the_breakage(breakage: str, broken_runs: dict[str, tuple[int, str, str]]) -> None:
    code, drift, output = broken_runs[breakage]
    _, _, label, check, also = CASES[breakage]
    assert code == 1, f"the suite did not fail on {breakage}:\n{output[-3000:]}"
    assert_reported(drift, label, check, also, f"{breakage}\n{output[-3000:]}")


def assert_reported(drift: str, label: str, check: str, also: frozenset[str], context: str) -> None:
    """`check` reports the breakage on `label`, and no other semantic check reports anything."""
    rows = [line.split(" | ") for line in drift.splitlines() if line.startswith("| ")]
    assert any(row[0] == f"| {label}" and check in row[1] for row in rows), f"{check} missed it on {label}:\n{drift}\n{context}"
    ours = {name for row in rows for name in RULES if f"{name} (" in row[1]}
    assert ours <= {check, *also}, f"other checks reported it too: {sorted(ours - {check, *also})}\n{drift}"


# The same breakages applied by a proxy (proxy.py) between a live run and a served emulator with its
# default limits and a control URL: a representative subset, kept quick for CI (the in-process
# cases above cover every check).
LIVE = ["total-mismatch", "reset-ms", "limit-mutated", "wrong-can-transition", "page-order", "skip-state"]
KEYS = {
    "247xd": "247xd_b8dea7c360f5addabe9d6dd532d8fadd55d62b2a",  # xd-rich of the default fixtures
    "usdtlowfee": "ak_live_rR89FMJJckUpNloEOvSsT6RT8ItCPzCp",  # ulf-rich
}


@pytest.fixture(scope="module")
def live_runs() -> dict[str, tuple[int, str, str]]:
    sys.path.insert(0, str(ROOT))
    from tests.served import serve

    results = {}
    with serve() as served, tempfile.TemporaryDirectory(prefix="contract-live-teeth-") as tmp:
        for breakage in LIVE:
            module, operation, _, _, _ = CASES[breakage]
            api = BREAKAGES[breakage][0]
            proxy = subprocess.Popen(
                [sys.executable, "-m", "contract_tests.proxy", served.url, breakage, KEYS[api]],
                cwd=ROOT, stdout=subprocess.PIPE, text=True,
            )
            try:
                assert proxy.stdout is not None
                url = proxy.stdout.readline().split()[-1]
                reports = Path(tmp) / breakage
                env = _env(breakage, operation, reports)
                del env["CONTRACT_BREAK"]
                env |= {
                    "CONTRACT_247XD_URL": f"{url}/api/v1", "CONTRACT_247XD_KEY": KEYS["247xd"],
                    "CONTRACT_USDTLOWFEE_URL": url, "CONTRACT_USDTLOWFEE_KEY": KEYS["usdtlowfee"],
                    "CONTRACT_ALLOW_SPEND": "1", "CONTRACT_CONTROL_URL": f"{served.url}/_emulator",
                }
                child = subprocess.run(
                    [sys.executable, "-m", "pytest", str(HERE / module), "-p", "no:cacheprovider", "-q",
                     *_selection(operation), "-W", "error"],
                    cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S,
                )
                drift = reports / "drift.md"
                results[breakage] = (
                    child.returncode, drift.read_text("utf-8") if drift.exists() else "", child.stdout + child.stderr
                )
            finally:
                proxy.terminate()
                proxy.wait(timeout=10)
                if proxy.stdout is not None:
                    proxy.stdout.close()
    return results


@pytest.mark.parametrize("breakage", LIVE)
def test_a_live_run_through_a_breaking_proxy_reports_it(
    breakage: str, live_runs: dict[str, tuple[int, str, str]]
) -> None:
    code, drift, output = live_runs[breakage]
    _, _, label, check, also = CASES[breakage]
    assert code == 1, f"the live suite did not fail on {breakage}:\n{output[-3000:]}"
    assert_reported(drift, label, check, also, f"{breakage} (live)\n{output[-3000:]}")
