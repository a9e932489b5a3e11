"""The README and docs/ cannot drift: docs/inferred.md is exactly what emulator/docs.py
generates from the specs, every relative link resolves, the README stays a front door
(under 12,000 bytes), and every ```sh block of README.md and docs/*.md runs as written
against a served emulator (127.0.0.1:8080 rewritten to the served URL), each block on a
freshly reset emulator in a scratch directory; every ```python block that defines a
`test_` function passes under pytest with the plugin.

A block made only of variable assignments (README's `API=...`, `XD=...`) is the page's
prelude: it runs before every later block of the same page.

Not run here, on purpose (each matched by SKIPPED below): `make serve`, `make test` and
`make docker`, anything `docker` (no engine on this machine), `emulator serve` (long-running:
the served emulator stands in for it), `pip install` and every `pytest` command (the suite
itself), and `node` when Node.js is absent.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from emulator import docs

from .served import Served, serve

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
INFERRED = DOCS / "inferred.md"
README_LIMIT = 12_000
SKIPPED = re.compile(r"^(make |docker |pip install|pip wheel|pipx |uv tool )|\bemulator serve\b|pytest")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", flags=re.S | re.M)


def pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix() if page.is_relative_to(ROOT) else page.name


# --- the generated page ------------------------------------------------------------------


def test_docs_inferred_is_exactly_what_the_specs_generate() -> None:
    assert INFERRED.read_text("utf-8") == docs.page(), (
        "docs/inferred.md is out of date: run python -m emulator.docs --write docs/inferred.md"
    )
    assert docs.main(["--check", str(INFERRED)]) == 0


def test_the_check_catches_a_stale_or_missing_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "inferred.md"
    first_rule = next(line for line in docs.page().splitlines() if line.startswith("- "))
    stale.write_text(docs.page().replace(first_rule, "- a rule nobody marked", 1), "utf-8")
    assert docs.main(["--check", str(stale)]) == 1
    assert docs.main(["--check", str(tmp_path / "absent.md")]) == 1
    assert "python -m emulator.docs --write" in capsys.readouterr().err
    assert docs.main(["--write", str(stale)]) == 0
    assert docs.main(["--check", str(stale)]) == 0


def test_the_page_lists_every_marker_of_every_document() -> None:
    page = docs.page()
    for title in ("## 247xd", "## USDTLowFee", "## control plane"):
        assert title in page
    # One marker from each document, by the words of its reason.
    assert "SPEC adds Retry-After on the 429" in page
    assert "Snowflake ids use the epoch 2020-01-01T00:00:00Z" in page
    assert "this one is the emulator's own (version 1)" in page


# --- size and links ----------------------------------------------------------------------


def test_the_readme_is_a_front_door_under_12000_bytes() -> None:
    size = len(README.read_text("utf-8").encode())
    assert size < README_LIMIT, f"README.md is {size} bytes; move reference material to docs/"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text("utf-8"))
    return {slug(m) for m in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def broken_links(page: Path) -> list[str]:
    """Every relative link of the page (outside code blocks) whose file is missing, or
    whose anchor names no heading of a markdown target."""
    broken: list[str] = []
    for target in LINK.findall(FENCE.sub("", page.read_text("utf-8"))):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no heading #{anchor}")
    return broken


@pytest.mark.parametrize("page", pages(), ids=name)
def test_every_relative_link_resolves(page: Path) -> None:
    assert broken_links(page) == []


def test_the_link_check_catches_a_missing_file_and_a_missing_anchor(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other\n\n## A section\n", "utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](other.md#a-section) [web](https://example.com/x) [self](#top)\n"
        "# Top\n[gone](missing.md) [bad anchor](other.md#no-such)\n"
        "```\n[in code](ignored.md)\n```\n",
        "utf-8",
    )
    assert broken_links(page) == ["missing.md: no such file", "other.md#no-such: no heading #no-such"]


def test_the_index_links_every_docs_page() -> None:
    index = (DOCS / "README.md").read_text("utf-8")
    linked = {target.partition("#")[0] for target in LINK.findall(index)}
    missing = [p.name for p in DOCS.glob("*.md") if p.name != "README.md" and p.name not in linked]
    assert missing == [], f"docs/README.md does not link {missing}"


# --- the shell blocks --------------------------------------------------------------------


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


def is_assignment(command: str) -> bool:
    """`NAME=value` and nothing after it (not `NAME=value command`)."""
    try:
        words = shlex.split(command, comments=True)
    except ValueError:
        return False
    return len(words) == 1 and ASSIGNMENT.match(words[0]) is not None


@dataclass(frozen=True)
class Block:
    page: str
    number: int
    text: str
    prelude: tuple[str, ...]
    lines: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.page}#{self.number}"


def blocks(page: Path) -> list[Block]:
    """The page's runnable blocks, each with the prelude of the assignment blocks above it."""
    found: list[Block] = []
    prelude: list[str] = []
    for number, text in enumerate(shell_blocks(page.read_text("utf-8")), 1):
        lines = commands(text)
        if lines and all(is_assignment(line) for line in lines):
            prelude += lines
        elif lines:
            found.append(Block(name(page), number, text, tuple(prelude), tuple(lines)))
    return found


BLOCKS = [block for page in pages() for block in blocks(page)]

# What the blocks promise, beyond running: (page, words of the block, what its output holds).
PROMISES = [
    ("README.md", '"coins":500.0', r'"coins":500\.0'),
    ("README.md", '"seconds": 1200', r'"status":"expired"'),
    ("README.md", '"otpCode": "123456"', r'"otpCode":"123456"'),
    ("README.md", '"delegation rejected"', r'"status":"failed".*"failureReason":"delegation rejected"'),
    ("README.md", '"status": 429', r"HTTP/1.1 429"),
    ("README.md", '"status": 429', r"(?i)retry-after: \d+"),
    ("docs/control-plane.md", '"delivered": 300', r'"status":"partial"'),
    ("docs/control-plane.md", "clock/set", r'"now":"2030-01-01T00:00:00'),
    ("docs/control-plane.md", '"clock": "own"', r'"coins":100\.0'),
    ("docs/magic-values.md", "000000000012", r'"status":"completed"'),
    ("docs/magic-values.md", "000000000012", r'"code":"BAD_REQUEST"'),
    ("docs/magic-values.md", "T9yD14Nj9j7xAB4dbGeiX9h8unkKHxuWwb", r"the receiving account is not activated"),
    ("docs/faults.md", '"drop": true', r'"injected":0'),
    ("docs/faults.md", "/requests?", r'"requests":'),
    ("docs/configuration.md", "healthcheck", r"(?m)^healthy$"),
    ("docs/state.md", "snapshot.json", r'"status":"loaded"'),
    ("docs/fixtures.md", "/_emulator/fixtures", r'"247xd"|"accounts"|"status"'),
    ("docs/docker.md", "examples/client.py", r"OTP order status: completed"),
    ("docs/robustness.md", "495.0 coins", r'"coins":495\.0.*"faultPhase":"after","withheld":\{"status":201'),
    ("docs/robustness.md", '"$E/verdicts', r'"rule":"duplicate-create","api":"247xd","accountId":"xd-demo"'),
    ("docs/robustness.md", "/v1/energy/orders", r'"fired":\[\{[^]]*"to":"completed"'),
    ("docs/robustness.md", "format=json&api=247xd", r'"kind":"order.transition"[^}]*"to":"expired"'),
]


def test_there_are_blocks_to_run_and_every_promise_names_one_block() -> None:
    assert sum(len(block.lines) for block in BLOCKS) >= 40
    assert len([block for block in BLOCKS if block.page == "README.md"]) >= 5
    for page, words, _ in PROMISES:
        holders = [block.id for block in BLOCKS if block.page == page and words in block.text]
        assert len(holders) == 1, f"{page}: {words!r} is in blocks {holders}"


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with serve("--log-level", "warning") as served:
        yield served


def run(served: Served, lines: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # Each block starts from the fixtures, as after a fresh `make serve`.
    script = ["set -e", f"curl -sf -o /dev/null -X POST {served.url}/_emulator/reset"]
    script += [line.replace("http://127.0.0.1:8080", served.url) for line in lines]
    # A scratch directory (snapshot.json lands there) that sees examples/.
    for shared in ("examples",):
        if not (cwd / shared).exists():
            (cwd / shared).symlink_to(ROOT / shared)
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return subprocess.run(
        ["sh", "-c", "\n".join(script)], cwd=cwd, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PATH": path},
    )


@pytest.mark.parametrize("block", BLOCKS, ids=lambda block: block.id)
def test_every_shell_block_runs_as_written(block: Block, served: Served, tmp_path: Path) -> None:
    result = run(served, [*block.prelude, *block.lines], tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "curl: (" not in output, output[-3000:]
    for page, words, promised in PROMISES:
        if page == block.page and words in block.text:
            assert re.search(promised, output, flags=re.S), f"{promised!r} not in:\n{output[-3000:]}"


def test_a_failing_command_fails_its_block(served: Served, tmp_path: Path) -> None:
    assert run(served, ["curl -s http://127.0.0.1:8080/_emulator/health", "false"], tmp_path).returncode != 0
    assert run(served, ["curl -sf http://127.0.0.1:8080/_emulator/no-such-thing"], tmp_path).returncode != 0


def test_an_assignment_block_is_the_prelude_of_the_blocks_after_it(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```sh\necho first\n```\n```sh\nA=1\nB=\"two words\"\n```\n```sh\necho $A $B\n"
        "EMULATOR_URL=x python3 -c pass\n```\n",
        "utf-8",
    )
    first, second = blocks(page)
    assert first.prelude == () and first.lines == ("echo first",)
    assert second.prelude == ("A=1", 'B="two words"')
    assert second.lines == ("echo $A $B", "EMULATOR_URL=x python3 -c pass")


def python_tests(page: Path) -> list[str]:
    """The page's ```python blocks that are pytest tests."""
    found = re.findall(r"^```python\n(.*?)^```", page.read_text("utf-8"), flags=re.S | re.M)
    return [block for block in found if re.search(r"^def test_", block, flags=re.M)]


PYTHON_TESTS = [
    pytest.param(name(page), block, id=f"{name(page)}#py{number}")
    for page in pages()
    for number, block in enumerate(python_tests(page), 1)
]


def test_the_pytest_page_has_an_example_to_run() -> None:
    assert any(param.values[0] == "docs/pytest.md" for param in PYTHON_TESTS)


def run_pytest(block: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    (cwd / "test_example.py").write_text(block, "utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "test_example.py"],
        cwd=cwd, capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize(("page", "block"), PYTHON_TESTS)
def test_every_pytest_example_passes_with_the_plugin(page: str, block: str, tmp_path: Path) -> None:
    result = run_pytest(block, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and " passed" in result.stdout, f"{page}:\n{output[-3000:]}"


def test_a_wrong_pytest_example_fails(tmp_path: Path) -> None:
    wrong = (
        "def test_it(xd247_account):\n"
        '    assert xd247_account.client.get("/balance").json()["data"] == {"coins": 1.0}\n'
    )
    assert run_pytest(wrong, tmp_path).returncode == 1


@pytest.mark.parametrize(
    "command",
    [
        "make serve",
        "make test",
        "docker build -t x .",
        "emulator serve --port 0",
        "EMULATOR_SEED=42 emulator serve",
        "python -m emulator serve",
        "pytest -n 4 --emulator-url http://127.0.0.1:8080",
    ],
)
def test_the_commands_left_out_are_the_long_running_or_engine_bound_ones(command: str) -> None:
    assert commands(command) == []
