"""The README cannot drift: its list of inferred behaviours is what emulator/docs.py
generates from the specs, and its shell commands run as written against a served
emulator (127.0.0.1:8080 rewritten to the served URL).

Not run here, on purpose (each matched by SKIPPED below): `make serve`, `make test` and
`make docker`, anything `docker` (no engine on this machine), `emulator serve` (long-running:
the served emulator stands in for it), `pip install` and every `pytest` command (the suite
itself), and `node` when Node.js is absent.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator import docs

from .served import serve

README = Path(__file__).resolve().parent.parent / "README.md"
SKIPPED = re.compile(r"^(make |docker |emulator serve|pip install)|pytest")


def test_the_readme_lists_exactly_the_inferred_behaviours_the_specs_mark() -> None:
    assert docs.section(README.read_text("utf-8")) == docs.inferred(), (
        "README.md is out of date: run python -m emulator.docs --write README.md"
    )
    assert docs.main(["--check", str(README)]) == 0


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M)


def commands(block: str) -> list[str]:
    """The block's logical lines (continuations joined), skipped ones left out."""
    kept: list[str] = []
    logical = ""
    for line in block.splitlines():
        logical += line + "\n"
        if line.endswith("\\"):
            continue
        command = logical.strip()
        logical = ""
        if not command or command.startswith("#"):
            continue
        if SKIPPED.search(command):
            continue
        if command.startswith("EMULATOR_URL=") and " node " in command and shutil.which("node") is None:
            continue
        kept.append(command)
    return kept


def test_every_shell_command_in_the_readme_runs_as_written(tmp_path: Path) -> None:
    blocks = shell_blocks(README.read_text("utf-8"))
    assert len(blocks) >= 10
    with serve("--log-level", "warning") as served:
        script = ["set -e"]
        ran = 0
        for number, block in enumerate(blocks, 1):
            lines = commands(block)
            if not lines:
                continue
            # Each block starts from the fixtures, as after a fresh `make serve`.
            script.append(f"echo; echo '--- block {number}'")
            script.append(f"curl -sf -o /dev/null -X POST {served.url}/_emulator/reset")
            script += [line.replace("http://127.0.0.1:8080", served.url) for line in lines]
            ran += len(lines)
        assert ran >= 30
        # Run from a scratch directory (snapshot.json lands there) that sees examples/.
        (tmp_path / "examples").symlink_to(README.parent / "examples")
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        result = subprocess.run(
            ["sh", "-c", "\n".join(script)], cwd=tmp_path, capture_output=True, text=True, timeout=120,
            env={**os.environ, "PATH": path},
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "curl: (" not in output
    # What the recipes promise.
    assert '"status":"expired"' in output
    assert '"otpCode":"123456"' in output
    assert '"status":"failed"' in output and '"failureReason":"delegation rejected"' in output
    assert re.search(r"HTTP/1.1 429", output) and re.search(r"(?i)retry-after: \d+", output)
    assert "OTP order status: completed" in output  # examples/client.py


@pytest.mark.parametrize(
    "command", ["make serve", "make test", "docker build -t x .", "emulator serve --port 0"]
)
def test_the_commands_left_out_are_the_long_running_or_engine_bound_ones(command: str) -> None:
    assert commands(command) == []
