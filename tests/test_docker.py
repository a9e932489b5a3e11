"""The Dockerfile, proven without a Docker engine (none runs where these tests run).

Its instructions are parsed and checked against the package: the build stage copies only
what a wheel is built from (each file exists and .dockerignore lets it in), the runtime
stage pip-installs the wheel and copies nothing, no PYTHONPATH, a non-root USER, a
HEALTHCHECK running a module of the package, an ENTRYPOINT that is one of the wheel's
console scripts. Each check is shown to catch a deliberately broken copy. Then the runtime
stage's ENV, ENTRYPOINT, CMD and HEALTHCHECK are replayed in the installed wheel's virtual
environment (tests/wheel.py), standing in for the image: it serves a healthy emulator and
the HEALTHCHECK fails once nothing answers. Not replayed: FROM, the RUN lines (pip in
the image is the wheel test's pip; `useradd` needs root) and the mount."""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .served import serve
from .wheel import DISTRIBUTION, PYPROJECT, ROOT, WHEEL_INPUTS, Installed, wheel_names

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
BASE = "python:3.11-slim"
XD_DEMO = {"Authorization": "Bearer 247xd_3769736d6939931e6de10def20d9a2483134d0c1"}


@dataclass
class Instruction:
    keyword: str
    args: str


def parse(text: str) -> list[Instruction]:
    instructions: list[Instruction] = []
    logical = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        keyword, _, args = logical.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
        logical = ""
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """The instructions of each stage, its FROM first."""
    found: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            found.append([])
        assert found, "the first instruction must be FROM"
        found[-1].append(instruction)
    return found


def env_pairs(args: str) -> dict[str, str]:
    return dict(word.split("=", 1) for word in shlex.split(args))


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"use the exec form: {args}"
    return [str(word) for word in value]


def allowed_by_dockerignore(text: str) -> set[str]:
    """What a context of `*` plus `!name` exceptions lets in (top-level names)."""
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    assert "*" in lines, ".dockerignore must start from excluding everything"
    return {line[1:].rstrip("/") for line in lines if line.startswith("!")}


def copy_sources(instruction: Instruction) -> tuple[list[str], bool]:
    """A COPY's sources and whether it copies from the build context (no --from)."""
    words = shlex.split(instruction.args)
    flags = [word for word in words if word.startswith("--")]
    paths = [word for word in words if not word.startswith("--")]
    return paths[:-1], not any(flag.startswith("--from") for flag in flags)


def problems(dockerfile: str, dockerignore: str, root: Path = ROOT) -> list[str]:
    """Everything in the Dockerfile that is not a user install of this package."""
    found: list[str] = []
    instructions = parse(dockerfile)
    if any("PYTHONPATH" in i.args for i in instructions):
        found.append("PYTHONPATH is set: the image must run the installed package")
    built = stages(instructions)
    if len(built) < 2:
        return [*found, "one stage: build the wheel in one stage, install it in another"]
    build, runtime = built[0], built[-1]
    if runtime[0].args != BASE:
        found.append(f"the runtime stage is not {BASE}: {runtime[0].args}")
    allowed = allowed_by_dockerignore(dockerignore)
    for instruction in [i for stage in built for i in stage if i.keyword in ("COPY", "ADD")]:
        sources, from_context = copy_sources(instruction)
        if any(i is instruction for i in runtime):
            found.append(f"the runtime stage copies files ({instruction.args}): install the wheel")
        for source in sources if from_context else []:
            if not (root / source).exists():
                found.append(f"COPY {source}: does not exist")
            elif Path(source).parts[0] not in allowed:
                found.append(f"COPY {source}: excluded by .dockerignore")
    runs = [i.args for i in build if i.keyword == "RUN"]
    if not any("pip wheel" in run and run.split()[-1] == "." for run in runs):
        found.append("the build stage does not build the project's wheel (pip wheel ... .)")
    installs = [i.args for i in runtime if i.keyword == "RUN" and "pip install" in i.args]
    if not any(DISTRIBUTION in run and "--no-index" in run for run in installs):
        found.append(f"the runtime stage does not pip-install {DISTRIBUTION} from the built wheels")
    users = [i.args for i in runtime if i.keyword == "USER"]
    if not users or users[-1] in ("root", "0") or users[-1].startswith(("root:", "0:")):
        found.append(f"the image runs as root (USER {users[-1] if users else 'unset'})")
    elif not any("useradd" in i.args and users[-1] in i.args for i in runtime if i.keyword == "RUN"):
        found.append(f"USER {users[-1]} is never created")
    health = [i.args for i in runtime if i.keyword == "HEALTHCHECK"]
    if not health:
        found.append("no HEALTHCHECK")
    else:
        command = exec_form(health[-1].partition("CMD ")[2])
        module = command[2] if command[:2] == ["python", "-m"] else ""
        if not (root / (module.replace(".", "/") + ".py")).is_file() or not module.startswith("emulator."):
            found.append(f"the HEALTHCHECK runs no module of the package: {command}")
    entry = [i.args for i in runtime if i.keyword == "ENTRYPOINT"]
    scripts = PYPROJECT["project"]["scripts"]
    if not entry or exec_form(entry[-1])[0] not in scripts:
        found.append(f"the ENTRYPOINT is not a console script of the wheel ({sorted(scripts)})")
    return found


TEXT = DOCKERFILE.read_text("utf-8")
INSTRUCTIONS = parse(TEXT)
RUNTIME = stages(INSTRUCTIONS)[-1]


def of(keyword: str) -> list[Instruction]:
    """The runtime stage's instructions of one kind (what the image runs)."""
    return [i for i in RUNTIME if i.keyword == keyword]


def runtime_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for instruction in of("ENV"):
        env.update(env_pairs(instruction.args))
    return env


def test_the_dockerfile_is_a_user_install_of_the_wheel() -> None:
    assert problems(TEXT, DOCKERIGNORE.read_text("utf-8")) == []


def broken(old: str, new: str) -> str:
    assert old in TEXT, old
    return TEXT.replace(old, new, 1)


README_COPY = "COPY README.md ./"
USER_LINE = next(line for line in TEXT.splitlines() if line.startswith("USER "))
HEALTH_LINES = TEXT[TEXT.index("HEALTHCHECK") : TEXT.index("]", TEXT.index("HEALTHCHECK")) + 1]
ENTRY_LINE = next(line for line in TEXT.splitlines() if line.startswith("ENTRYPOINT "))


@pytest.mark.parametrize(
    ("copy", "caught"),
    [
        (broken(USER_LINE, USER_LINE + "\nENV PYTHONPATH=/app"), "PYTHONPATH is set"),
        (broken(USER_LINE, USER_LINE + "\nCOPY emulator ./emulator"), "the runtime stage copies files"),
        (broken(README_COPY, README_COPY + "\nCOPY fixtures ./fixtures"), "COPY fixtures: does not exist"),
        (broken(README_COPY, README_COPY + "\nCOPY scripts ./scripts"), "excluded by .dockerignore"),
        (broken("RUN pip wheel --no-deps --wheel-dir /wheels .", ""), "does not build the project's wheel"),
        (broken("--no-index --find-links /wheels", "--find-links /wheels"), "does not pip-install"),
        (broken(USER_LINE, "USER root"), "runs as root"),
        (broken(USER_LINE, "USER nobody2"), "is never created"),
        (broken(HEALTH_LINES, ""), "no HEALTHCHECK"),
        (broken(HEALTH_LINES, 'HEALTHCHECK CMD ["python", "-m", "emulator.health"]'), "runs no module"),
        (broken(ENTRY_LINE, 'ENTRYPOINT ["emulator-server"]'), "not a console script"),
        (TEXT[TEXT.index("FROM python:3.11-slim\n") :], "one stage"),
    ],
    ids=lambda value: value if len(value) < 60 else "",
)
def test_each_check_catches_a_broken_copy(copy: str, caught: str) -> None:
    found = problems(copy, DOCKERIGNORE.read_text("utf-8"))
    assert any(caught in problem for problem in found), found


def test_dockerignore_lets_in_exactly_what_the_wheel_is_built_from() -> None:
    allowed = allowed_by_dockerignore(DOCKERIGNORE.read_text("utf-8"))
    assert allowed == set(WHEEL_INPUTS)
    copied = {
        Path(source).parts[0]
        for instruction in INSTRUCTIONS
        if instruction.keyword == "COPY"
        for source in copy_sources(instruction)[0]
    }
    assert copied == allowed


def test_the_images_defaults_are_the_documented_ones() -> None:
    env = runtime_env()
    assert env["EMULATOR_HOST"] == "0.0.0.0" and env["EMULATOR_PORT"] == "8080"
    assert env["EMULATOR_STATE_FILE"] == "/data/state.json"  # the one switch (docs/install.md)
    assert [i.args for i in of("VOLUME")] == ["/data"]
    assert [i.args for i in of("EXPOSE")] == ["8080"]
    assert exec_form(of("ENTRYPOINT")[0].args) + exec_form(of("CMD")[0].args) == ["emulator", "serve"]
    (user,) = of("USER")
    assert any("chown" in i.args and f"{user.args}:" in i.args and "/data" in i.args for i in of("RUN"))
    documented = (ROOT / "docs" / "install.md").read_text("utf-8")
    for name, value in env.items():
        if not name.startswith("EMULATOR_"):
            continue
        assert f"`{name}={value}`" in documented, f"docs/install.md does not give the image's {name}"


def test_the_wheel_installs_what_the_image_runs(installed: Installed) -> None:
    names = set(wheel_names(installed.wheel))
    (health,) = of("HEALTHCHECK")
    module = exec_form(health.args.partition("CMD ")[2])[2]
    assert module.replace(".", "/") + ".py" in names
    assert (installed.venv / "bin" / exec_form(of("ENTRYPOINT")[0].args)[0]).is_file()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def image_env(installed: Installed, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The runtime stage's ENV in the installed environment; absolute paths (/data) under
    a scratch root."""
    root = tmp_path_factory.mktemp("image")
    (root / "data").mkdir()
    env = {**installed.env}
    for name, value in runtime_env().items():
        env[name] = str(root / value.lstrip("/")) if value.startswith("/") else value
    return env


@pytest.fixture(scope="module")
def container(installed: Installed, image_env: dict[str, str]) -> Iterator[dict[str, str]]:
    port = {"EMULATOR_PORT": str(free_port())}  # EMULATOR_HOST stays 0.0.0.0
    env = {**image_env, **port}
    entry, (command, *args) = exec_form(of("ENTRYPOINT")[0].args), exec_form(of("CMD")[0].args)
    assert command == "serve"
    program = [installed.bin(entry[0]), *entry[1:]]
    # Back once the banner is out: the socket listens before it is printed.
    with serve(*args, program=program, cwd=str(installed.home), base_env=image_env, env=port):
        yield env


def healthcheck(installed: Installed, env: dict[str, str]) -> int:
    (health,) = of("HEALTHCHECK")
    command = exec_form(health.args.partition("CMD ")[2])
    return subprocess.run(command, cwd=installed.home, env=env, capture_output=True, timeout=30).returncode


def test_the_image_serves_a_healthy_emulator_and_its_healthcheck_says_so(
    installed: Installed, container: dict[str, str]
) -> None:
    assert healthcheck(installed, container) == 0
    balance = httpx.get(f"http://127.0.0.1:{container['EMULATOR_PORT']}/api/v1/balance", headers=XD_DEMO)
    assert balance.json() == {"success": True, "data": {"coins": 500.0}}
    assert Path(container["EMULATOR_STATE_FILE"]).is_file()  # the state file is on the volume


def test_the_healthcheck_fails_when_nothing_answers(installed: Installed, image_env: dict[str, str]) -> None:
    assert healthcheck(installed, {**image_env, "EMULATOR_PORT": str(free_port())}) == 1



def coins_after_a_restart(installed: Installed, env: dict[str, str]) -> float:
    """Set the demo account's coins to 7, restart the image's command, read them back."""
    entry = exec_form(of("ENTRYPOINT")[0].args)
    program = [installed.bin(entry[0])]
    with serve(program=program, cwd=str(installed.home), base_env=env) as served:
        patched = httpx.patch(f"{served.url}/_emulator/247xd/accounts/xd-demo", json={"coins": 7})
        assert patched.status_code == 200, patched.text
    with serve(program=program, cwd=str(installed.home), base_env=env) as served:
        balance = httpx.get(f"{served.url}/api/v1/balance", headers=XD_DEMO).json()
    return float(balance["data"]["coins"])


@pytest.mark.parametrize(("state_file", "coins"), [(None, 7.0), ("", 500.0)], ids=["default", "memory-only"])
def test_the_state_file_switch_keeps_state_across_restarts_or_not(
    installed: Installed, tmp_path: Path, state_file: str | None, coins: float
) -> None:
    default = runtime_env()["EMULATOR_STATE_FILE"]
    env = {**installed.env, **runtime_env(), "EMULATOR_HOST": "127.0.0.1"}
    on_volume = tmp_path / default.lstrip("/")
    env["EMULATOR_STATE_FILE"] = str(on_volume) if state_file is None else state_file
    on_volume.parent.mkdir()
    assert coins_after_a_restart(installed, env) == coins
    assert list(on_volume.parent.iterdir()) == ([] if state_file == "" else [on_volume])
