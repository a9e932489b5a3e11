"""The Dockerfile, proven without a Docker engine (none runs where these tests run): its
instructions are parsed and checked, then its COPY, RUN, ENV and CMD are replayed in a
fresh virtual environment standing in for the image, so that the very commands the image
runs serve a healthy emulator, and its HEALTHCHECK passes against it and fails once it is
down. Not replayed: FROM (the venv's Python is the base) and the `useradd` RUN (needs
root; its user is checked to be the one USER names)."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"


@dataclass
class Instruction:
    keyword: str
    args: str


def parse(text: str) -> list[Instruction]:
    instructions: list[Instruction] = []
    logical = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not logical and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        keyword, _, args = logical.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
        logical = ""
    return instructions


def env_pairs(args: str) -> dict[str, str]:
    return dict(word.split("=", 1) for word in shlex.split(args))


def exec_form(args: str) -> list[str]:
    import json

    value = json.loads(args)
    assert isinstance(value, list), f"use the exec form: {args}"
    return [str(word) for word in value]


INSTRUCTIONS = parse(DOCKERFILE.read_text())


def of(keyword: str) -> list[Instruction]:
    return [i for i in INSTRUCTIONS if i.keyword == keyword]


def test_the_image_is_slim_python_with_dependencies_in_a_layer_of_their_own() -> None:
    assert INSTRUCTIONS[0] == Instruction("FROM", "python:3.11-slim")
    keywords = [(i.keyword, i.args) for i in INSTRUCTIONS]
    first_copy = next(n for n, (k, _) in enumerate(keywords) if k == "COPY")
    assert keywords[first_copy][1] == "pyproject.toml ./"
    install = next(n for n, (k, a) in enumerate(keywords) if k == "RUN" and "pip install" in a)
    code = next(n for n, (k, a) in enumerate(keywords) if k == "COPY" and a.startswith("emulator"))
    assert first_copy < install < code, "the dependencies' layer must come before the code"
    assert any(i.args == "fixtures ./fixtures" for i in of("COPY")), "the default fixtures are inside"


def test_the_image_runs_as_a_non_root_user_on_0_0_0_0_8080_with_a_volume_and_a_healthcheck() -> None:
    (user,) = of("USER")
    assert user.args not in ("root", "0")
    assert any("useradd" in i.args and user.args in i.args for i in of("RUN"))
    assert any("chown" in i.args and f"{user.args}:" in i.args and "/data" in i.args for i in of("RUN"))
    env: dict[str, str] = {}
    for instruction in of("ENV"):
        env.update(env_pairs(instruction.args))
    assert env["EMULATOR_HOST"] == "0.0.0.0" and env["EMULATOR_PORT"] == "8080"
    assert env["EMULATOR_STATE_FILE"] == "/data/state.json"
    assert [i.args for i in of("VOLUME")] == ["/data"]
    assert [i.args for i in of("EXPOSE")] == ["8080"]
    (health,) = of("HEALTHCHECK")
    options, _, command = health.args.partition("CMD ")
    assert exec_form(command) == ["python", "-m", "emulator.healthcheck"]
    assert "--interval" in options
    assert exec_form(of("CMD")[0].args) == ["python", "-m", "emulator", "serve"]


def test_dockerignore_keeps_the_build_context_to_what_the_image_copies() -> None:
    lines = (ROOT / ".dockerignore").read_text().split()
    assert "*" in lines and {"!pyproject.toml", "!emulator/", "!fixtures/"} <= set(lines)


@dataclass
class Image:
    """The replayed image: a directory tree and the environment its CMD runs in."""

    root: Path
    workdir: Path
    env: dict[str, str] = field(default_factory=dict)

    def path(self, container_path: str) -> Path:
        return self.root / container_path.lstrip("/")

    def rewrite(self, value: str) -> str:
        # Absolute container paths (/app, /data) live under the replay's root.
        return str(self.path(value)) if value.startswith("/") else value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Image:
    root = tmp_path_factory.mktemp("image")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=60)
    base = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    base["PATH"] = f"{venv / 'bin'}{os.pathsep}{base.get('PATH', '')}"
    built = Image(root, root, base)
    for instruction in INSTRUCTIONS:
        keyword, args = instruction.keyword, instruction.args
        if keyword == "WORKDIR":
            built.workdir = built.path(args)
            built.workdir.mkdir(parents=True, exist_ok=True)
        elif keyword == "ENV":
            built.env.update({k: built.rewrite(v) for k, v in env_pairs(args).items()})
        elif keyword == "COPY":
            source, target = shlex.split(args)
            destination = built.workdir / target
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(ROOT / source, destination)
        elif keyword == "RUN":
            if "useradd" in args:  # needs root; the user's /data is the replay's own
                built.path("/data").mkdir(parents=True, exist_ok=True)
                continue
            subprocess.run(
                ["sh", "-c", args], cwd=built.workdir, env=built.env, check=True, timeout=240,
                capture_output=True,
            )
    return built


@pytest.fixture(scope="module")
def container(image: Image) -> Iterator[dict[str, str]]:
    env = {**image.env, "EMULATOR_PORT": str(free_port())}  # EMULATOR_HOST stays 0.0.0.0
    command = exec_form(of("CMD")[0].args)
    process = subprocess.Popen(
        command, cwd=image.workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        yield env
    finally:
        process.terminate()
        process.wait(timeout=10)


def healthcheck(image: Image, env: dict[str, str]) -> int:
    (health,) = of("HEALTHCHECK")
    command = exec_form(health.args.partition("CMD ")[2])
    return subprocess.run(command, cwd=image.workdir, env=env, capture_output=True, timeout=30).returncode


def test_the_image_serves_a_healthy_emulator_and_its_healthcheck_says_so(
    image: Image, container: dict[str, str]
) -> None:
    deadline = time.monotonic() + 30
    while healthcheck(image, container) != 0:
        assert time.monotonic() < deadline, "the replayed image never became healthy"
        time.sleep(0.2)
    # The default fixtures were found inside the image, and the state file is on the volume.
    import httpx

    port = container["EMULATOR_PORT"]
    balance = httpx.get(
        f"http://127.0.0.1:{port}/api/v1/balance",
        headers={"Authorization": "Bearer 247xd_3769736d6939931e6de10def20d9a2483134d0c1"},
    )
    assert balance.json() == {"success": True, "data": {"coins": 500.0}}
    assert image.path("/data/state.json").is_file()


def test_the_healthcheck_fails_when_nothing_answers(image: Image) -> None:
    assert healthcheck(image, {**image.env, "EMULATOR_PORT": str(free_port())}) == 1
