"""examples/: the client scripts run against a served emulator; the Compose file, the
GitHub Actions workflow and the GitLab CI job (no Docker engine here) are parsed and checked
for the image, ports, environment and health settings, and their wait-for-health steps run
against a served emulator. examples/test_with_plugin.py runs in tests/testing/test_plugin.py
and, installed from the wheel, in tests/test_wheel.py."""

from __future__ import annotations

import os
import shutil
import socket
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


def run_wait_step(script: str, url: str) -> subprocess.CompletedProcess[str]:
    """A CI job's wait-for-health step, as its shell runs it, with EMULATOR_URL at `url`."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path, "EMULATOR_URL": url}
    return subprocess.run(["sh", "-ec", script], capture_output=True, text=True, timeout=60, env=env)


def github_wait_step() -> str:
    steps = load("github-actions.yml")["jobs"]["test"]["steps"]
    return next(step["run"] for step in steps if "/_emulator/health" in step.get("run", ""))


def gitlab_wait_step() -> str:
    script = load("gitlab-ci.yml")["integration"]["script"]
    return next(line for line in script if "/_emulator/health" in line)


def nobody() -> str:
    """A URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def check_wait_step(script: str, url: str) -> str:
    """It passes once the emulator answers, and fails when nothing ever does (two tries
    without the pause, not thirty, to stay quick)."""
    passed = run_wait_step(script, url)
    assert passed.returncode == 0, passed.stderr
    short = script.replace("$(seq 30)", "1 2").replace("sleep 1", ":")
    assert short != script
    assert run_wait_step(short, nobody()).returncode != 0
    return passed.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="the workflow's step uses curl")
def test_the_github_actions_wait_step_waits_for_the_emulators_health(served: Served) -> None:
    assert '"status":"ok"' in check_wait_step(github_wait_step(), served.url)


def test_the_gitlab_ci_job_waits_for_the_emulator_service() -> None:
    job = load("gitlab-ci.yml")["integration"]
    (service,) = job["services"]
    assert service["name"].rsplit("/", 1)[-1].split(":")[0] == IMAGE
    assert service["alias"] == "emulator"
    assert service["variables"]["EMULATOR_STATE_FILE"] == ""  # memory only in CI
    assert job["variables"]["EMULATOR_URL"] == "http://emulator:8080"
    assert job["variables"]["XD247_URL"] == "http://emulator:8080/api/v1"
    assert job["variables"]["USDTLOWFEE_URL"] == "http://emulator:8080"
    assert job["image"].startswith("python:")  # the wait step needs only Python
    script = job["script"]
    assert script.index(gitlab_wait_step()) < script.index("pytest"), "the tests start after the wait"


def test_the_gitlab_ci_wait_step_waits_for_the_emulators_health(served: Served) -> None:
    check_wait_step(gitlab_wait_step(), served.url)
