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
from pathlib import Path

import pytest

from .breakages import BREAKAGES

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TIMEOUT_S = 300

# breakage -> (suite module, operationId it touches, its label, the check that must report it)
CASES = {
    "rename-field": ("test_xd247.py", "getBalance", "GET /balance", "response_schema_conformance"),
    "change-type": (
        "test_usdtlowfee.py", "getWalletBalance", "GET /v1/wallet/balance", "response_schema_conformance"
    ),
    "change-status": ("test_xd247.py", "createOtpOrder", "POST /otp/orders", "status_code_conformance"),
    "drop-header": ("test_xd247.py", "listOtpServices", "GET /otp/services", "response_headers_conformance"),
    "ignore-auth": ("test_usdtlowfee.py", "getCurrentUser", "GET /v1/users/me", "ignored_auth"),
    "no-allow": ("test_usdtlowfee.py", "getWalletBalance", "GET /v1/wallet/balance", "unsupported_method"),
}


def _env(breakage: str, operation: str, reports: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONTRACT_", "PYTEST_"))}
    env |= {
        "CONTRACT_BREAK": breakage,
        "CONTRACT_OPERATIONS": operation,
        "CONTRACT_REPORT_DIR": str(reports),
        "CONTRACT_MAX_EXAMPLES": "10",
    }
    return env


@pytest.fixture(scope="module")
def broken_runs() -> dict[str, tuple[int, str, str]]:
    """Every breakage's child run: (exit code, drift.md, output)."""
    with tempfile.TemporaryDirectory(prefix="contract-teeth-") as tmp:
        children = {}
        for breakage, (module, operation, _, _) in CASES.items():
            reports = Path(tmp) / breakage
            command = [
                sys.executable, "-m", "pytest", str(HERE / module), "-p", "no:cacheprovider",
                "-q", "-k", "not Flows and not flows", "-W", "error",
            ]
            children[breakage] = (
                subprocess.Popen(
                    command, cwd=ROOT, env=_env(breakage, operation, reports),
                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                ),
                reports,
            )
        results = {}
        for breakage, (child, reports) in children.items():
            output, _ = child.communicate(timeout=TIMEOUT_S)
            drift = reports / "drift.md"
            results[breakage] = (child.returncode, drift.read_text("utf-8") if drift.exists() else "", output)
        return results


def test_every_breakage_has_a_case() -> None:
    assert set(CASES) == set(BREAKAGES)


@pytest.mark.parametrize("breakage", list(CASES))
def test_the_suite_reports_the_breakage(breakage: str, broken_runs: dict[str, tuple[int, str, str]]) -> None:
    code, drift, output = broken_runs[breakage]
    _, _, label, check = CASES[breakage]
    assert code == 1, f"the suite did not fail on {breakage}:\n{output[-3000:]}"
    rows = [line.split(" | ") for line in drift.splitlines() if line.startswith("| ")]
    assert any(row[0] == f"| {label}" and check in row[1] for row in rows), (
        f"{check} did not report {breakage} on {label}:\n{drift}\n{output[-3000:]}"
    )
