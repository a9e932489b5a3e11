"""examples/: the client scripts run against a served emulator; the Compose file and the
GitHub Actions workflow (no Docker engine here) are parsed and checked for the image,
ports, environment and health settings. examples/test_with_plugin.py runs in
tests/testing/test_plugin.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from .served import Served, serve
from .test_docker import exec_form, of

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
IMAGE = "emulator-247xd-usdtlowfee"


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with serve("--log-level", "warning") as running:
        yield running


def run_client(command: list[str], url: str) -> str:
    httpx.post(f"{url}/_emulator/reset").raise_for_status()  # the fixtures' balances again
    env = {**os.environ, "EMULATOR_URL": url}
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def check_output(stdout: str) -> None:
    assert "247xd coins: 500" in stdout
    assert "OTP order status: completed code: " in stdout
    assert "USDTLowFee balanceSun: 100000000" in stdout
    assert "priceSun 3000000 processing" in stdout
    assert "energy order status: processing" in stdout


def test_the_python_client_uses_both_apis(served: Served) -> None:
    check_output(run_client([sys.executable, str(EXAMPLES / "client.py")], served.url))


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_nodejs_client_uses_both_apis_and_keeps_int64_ids_exact(served: Served) -> None:
    stdout = run_client(["node", str(EXAMPLES / "client.mjs")], served.url)
    check_output(stdout)
    assert "undefined" not in stdout


def load(name: str) -> dict[str, Any]:
    document = yaml.safe_load((EXAMPLES / name).read_text())
    assert isinstance(document, dict)
    return document


def healthcheck_command() -> list[str]:
    return exec_form(of("HEALTHCHECK")[0].args.partition("CMD ")[2])


def test_compose_runs_the_app_once_the_emulator_is_healthy() -> None:
    services = load("docker-compose.yml")["services"]
    emulator = services["emulator"]
    assert emulator["image"] == IMAGE and emulator["build"] == ".."
    assert emulator["ports"] == ["8080:8080"]
    assert emulator["healthcheck"]["test"] == ["CMD", *healthcheck_command()]
    assert emulator["environment"]["EMULATOR_STATE_FILE"].startswith("/data/")
    assert any(volume.endswith(":/data") for volume in emulator["volumes"])
    app = services["app"]
    assert app["depends_on"] == {"emulator": {"condition": "service_healthy"}}
    assert app["environment"]["EMULATOR_URL"] == "http://emulator:8080"
    assert app["environment"]["XD247_URL"] == "http://emulator:8080/api/v1"


def test_the_github_actions_workflow_waits_for_the_service_container() -> None:
    job = load("github-actions.yml")["jobs"]["test"]
    emulator = job["services"]["emulator"]
    assert emulator["image"].rsplit("/", 1)[-1].split(":")[0] == IMAGE
    assert emulator["ports"] == ["8080:8080"]
    assert f'--health-cmd "{" ".join(healthcheck_command())}"' in emulator["options"]
    assert emulator["env"]["EMULATOR_STATE_FILE"] == ""  # memory only in CI
    assert job["env"]["EMULATOR_URL"] == "http://127.0.0.1:8080"
    assert any("/_emulator/health" in step.get("run", "") for step in job["steps"])
