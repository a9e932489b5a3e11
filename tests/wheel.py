"""The project as users install it: its wheel, built from a copy of what a wheel is built
from, installed into a fresh virtual environment (no system site-packages, no PYTHONPATH,
no source tree around it) by pip as this machine configures it, with the `pytest` extra."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
DISTRIBUTION: str = PYPROJECT["project"]["name"]
VERSION: str = PYPROJECT["project"]["version"]
# All a wheel is built from (the Dockerfile's build stage copies the same).
WHEEL_INPUTS = ("pyproject.toml", PYPROJECT["project"]["readme"], "emulator")
# Variables that would let the checkout or the outer test run leak into the installed one.
LEAKS = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTEST_ADDOPTS", "PYTEST_PLUGINS")


@dataclass(frozen=True)
class Installed:
    venv: Path
    wheel: Path
    home: Path  # the working directory: a scratch directory outside the source tree
    env: dict[str, str]

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(
        self, *command: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, cwd=cwd or self.home, env={**self.env, **(env or {})}, capture_output=True, text=True,
            timeout=timeout,
        )


def clean_env(venv: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in LEAKS and not name.startswith("EMULATOR_")
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def pip(*args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--quiet", *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def build_wheel(workdir: Path) -> Path:
    source = workdir / "source"
    source.mkdir(parents=True)
    for name in WHEEL_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, source / name)
    pip("wheel", "--no-deps", "--wheel-dir", str(workdir / "dist"), str(source))
    (wheel,) = (workdir / "dist").glob("*.whl")
    return wheel


def install(workdir: Path) -> Installed:
    wheel = build_wheel(workdir / "build")
    venv = workdir / "venv"
    # No pip of its own (ensurepip costs seconds): this pip installs into it (`--python`).
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    pip("--python", str(venv / "bin" / "python"), "install", f"{wheel}[pytest]")
    home = workdir / "home"
    home.mkdir()
    return Installed(venv, wheel, home, clean_env(venv))


def package_files(root: Path = ROOT) -> set[str]:
    """Every file of the package in the source tree, as a wheel names it."""
    return {
        path.relative_to(root).as_posix()
        for path in (root / "emulator").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def missing(wheel_names: Iterable[str], files: Iterable[str]) -> list[str]:
    return sorted(set(files) - set(wheel_names))


def wheel_names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()
