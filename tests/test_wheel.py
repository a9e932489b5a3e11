"""Installed as users install it (tests/wheel.py: the wheel in a fresh virtual environment,
run from a scratch directory with no source tree and no PYTHONPATH): the console script and
`python -m emulator` serve both APIs, the dashboard and the specs from package data; the
version is the distribution's; the pytest plugin's fixtures work in a user's test file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pytest

from .served import Served, serve
from .wheel import ROOT, VERSION, Installed, missing, package_files, wheel_names

XD_DEMO = {"Authorization": "Bearer 247xd_3769736d6939931e6de10def20d9a2483134d0c1"}
ULF_DEMO = {"Authorization": "ApiKey ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4"}


def served_by(installed: Installed, program: list[str], *args: str) -> AbstractContextManager[Served]:
    """`program serve --port 0 *args` from the environment's bin/, in its scratch directory."""
    command = [installed.bin(program[0]), *program[1:]]
    return serve(*args, program=command, cwd=str(installed.home), base_env=installed.env)


def test_every_file_of_the_package_is_in_the_wheel(installed: Installed) -> None:
    names = wheel_names(installed.wheel)
    files = package_files()
    assert {"emulator/data/default.json", "emulator/specs/control.json", "emulator/ui/static/ui.js"} <= files
    assert missing(names, files) == []
    # The check itself: a wheel without one data file is caught.
    css = "emulator/ui/static/ui.css"
    assert missing([name for name in names if name != css], files) == [css]


def test_the_installed_package_is_the_environments_own_not_the_checkout(installed: Installed) -> None:
    assert not installed.home.is_relative_to(ROOT)
    script = (
        "import sys, emulator, emulator.config as config\n"
        "print(emulator.__file__, config.DEFAULT_FIXTURES, sep='\\n')\n"
        "print(*sys.path, sep='\\n')\n"
    )
    result = installed.run(installed.bin("python"), "-c", script)
    assert result.returncode == 0, result.stderr
    package, fixtures, *path = result.stdout.splitlines()
    site = installed.venv / "lib"
    assert Path(package).is_relative_to(site) and Path(fixtures).is_relative_to(site)
    assert Path(fixtures).read_bytes() == (ROOT / "emulator" / "data" / "default.json").read_bytes()
    assert not [entry for entry in path if entry and Path(entry).resolve().is_relative_to(ROOT)]


def test_emulator_version_prints_the_distributions_version(installed: Installed) -> None:
    result = installed.run(installed.bin("emulator"), "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"emulator {VERSION}"


@pytest.mark.parametrize("program", [["emulator"], ["python", "-m", "emulator"]], ids=" ".join)
def test_serve_answers_both_apis_the_specs_and_the_dashboard(
    installed: Installed, program: list[str]
) -> None:
    with served_by(installed, program) as served:
        url = served.url
        assert httpx.get(f"{url}/api/v1/balance", headers=XD_DEMO).json() == {
            "success": True,
            "data": {"coins": 500.0},
        }
        wallet = httpx.get(f"{url}/v1/wallet/balance", headers=ULF_DEMO).json()
        assert wallet["data"]["balanceSun"] == 100_000_000
        spec = httpx.get(f"{url}/_emulator/openapi.json")
        assert spec.content == (ROOT / "emulator" / "specs" / "control.json").read_bytes()
        page = httpx.get(f"{url}/_emulator/ui", follow_redirects=True)
        assert page.status_code == 200 and "Demo account" in page.text
        css = httpx.get(f"{url}/_emulator/ui/static/ui.css")
        assert css.content == (ROOT / "emulator" / "ui" / "static" / "ui.css").read_bytes()
        env = {"EMULATOR_HEALTH_URL": f"{url}/_emulator/health"}
        assert installed.run(installed.bin("python"), "-m", "emulator.healthcheck", env=env).returncode == 0


def test_the_printed_fixtures_edited_are_served_with_fixtures_path(installed: Installed) -> None:
    printed = installed.run(installed.bin("emulator"), "fixtures")
    assert printed.returncode == 0, printed.stderr
    document = json.loads(printed.stdout)
    document["247xd"]["accounts"][0]["coins"] = 1234.5
    mine = installed.home / "my-fixtures.json"
    mine.write_text(json.dumps(document), "utf-8")
    with served_by(installed, ["emulator"], "--fixtures", mine.name) as served:
        balance = httpx.get(f"{served.url}/api/v1/balance", headers=XD_DEMO).json()
    assert balance["data"]["coins"] == 1234.5


def test_a_users_test_file_with_the_plugins_fixtures_passes(installed: Installed) -> None:
    project = installed.home / "project"
    project.mkdir()
    shutil.copy(ROOT / "examples" / "test_with_plugin.py", project / "test_integration.py")
    result = installed.run(
        installed.bin("python"), "-m", "pytest", "-q", "-W", "error", "-p", "no:cacheprovider",
        "test_integration.py", cwd=project, timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "4 passed" in result.stdout


def tool_install(tool: str, installed: Installed, where: Path) -> Path:
    """`pipx install WHEEL` / `uv tool install WHEEL` into scratch homes; their bin dir."""
    bin_dir = where / "bin"
    env = {**installed.env, "PATH": os.environ.get("PATH", "")}
    del env["VIRTUAL_ENV"]
    if tool == "pipx":
        env |= {"PIPX_HOME": str(where / "pipx"), "PIPX_BIN_DIR": str(bin_dir)}
        env["PIPX_MAN_DIR"] = str(where / "man")
        command = [str(Path(sys.executable).parent / "pipx"), "install", "--python", sys.executable]
    else:
        from uv import find_uv_bin

        env |= {"UV_TOOL_DIR": str(where / "tools"), "UV_TOOL_BIN_DIR": str(bin_dir)}
        env["UV_PYTHON_DOWNLOADS"] = "never"  # the interpreter given, never one of uv's own
        command = [find_uv_bin(), "tool", "install", "--python", sys.executable]
    result = subprocess.run(
        [*command, str(installed.wheel)], cwd=where, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return bin_dir


@pytest.mark.parametrize("tool", ["pipx", "uv"])
def test_installed_as_a_tool_it_serves_and_prints_its_version(
    installed: Installed, tmp_path: Path, tool: str
) -> None:
    bin_dir = tool_install(tool, installed, tmp_path)
    env = {name: value for name, value in installed.env.items() if name != "VIRTUAL_ENV"}
    emulator = str(bin_dir / "emulator")
    version = subprocess.run([emulator, "--version"], env=env, capture_output=True, text=True, timeout=30)
    assert version.stdout.strip() == f"emulator {VERSION}", version.stderr
    with serve(program=[emulator], cwd=str(tmp_path), base_env=env) as served:
        balance = httpx.get(f"{served.url}/v1/wallet/balance", headers=ULF_DEMO).json()
    assert balance["data"]["balanceSun"] == 100_000_000
