"""The floors (DESIGN.md): core at the bottom imports nothing of ours outside core; the two
APIs import core and never each other; nothing below the app imports the control plane,
the dashboard, the test helpers or the app. Read from every module's syntax tree,
function-local imports included, so a lazy import cannot hide an arrow that runs up."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import emulator

PACKAGE = Path(emulator.__file__).resolve().parent
TOP = {"app", "cli", "__main__", "control", "ui", "testing"}
UPPER = ("emulator.control", "emulator.ui", "emulator.testing", "emulator.app")


def module_name(root: Path, file: Path) -> str:
    parts = list(file.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(root: Path, file: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in the file, however deep in a function."""
    name = module_name(root, file)
    package = name if file.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(file.read_text("utf-8"), str(file))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            # `from emulator import control` names a module too.
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def _within(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


def violations(root: Path) -> list[str]:
    out = []
    for file in sorted(root.rglob("*.py")):
        name = module_name(root, file)
        layer = name.split(".")[1] if "." in name else ""
        for line, target in imports_of(root, file):
            if not _within(target, "emulator"):
                continue
            where = f"{file.relative_to(root.parent)}:{line} imports {target}"
            if layer == "core" and not _within(target, "emulator.core"):
                out.append(f"{where}: core imports nothing of ours outside core")
            elif layer in ("xd247", "usdtlowfee") and not (
                _within(target, "emulator.core") or _within(target, f"emulator.{layer}")
            ):
                out.append(f"{where}: {layer} imports only core and itself")
            elif layer not in TOP and any(_within(target, upper) for upper in UPPER):
                out.append(f"{where}: below the app, nothing imports control, ui, testing or the app")
    return sorted(set(out))


def test_the_floors_hold() -> None:
    assert violations(PACKAGE) == []


def test_every_module_is_read(tmp_path: Path) -> None:
    names = {module_name(PACKAGE, f) for f in PACKAGE.rglob("*.py")}
    assert {"emulator.core.pipeline", "emulator.xd247.routes", "emulator.state", "emulator.app"} <= names


def test_a_forbidden_import_is_caught_even_inside_a_function(tmp_path: Path) -> None:
    copy = tmp_path / "emulator"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with (copy / "core" / "clock.py").open("a", encoding="utf-8") as f:
        f.write("\n\ndef _sneaky() -> None:\n    from ..xd247 import errors  # noqa\n")
    with (copy / "xd247" / "errors.py").open("a", encoding="utf-8") as f:
        f.write("\nfrom emulator.usdtlowfee import tron  # noqa\n")
    with (copy / "state.py").open("a", encoding="utf-8") as f:
        f.write("\n\ndef _up() -> None:\n    from emulator import control  # noqa\n")
    found = violations(copy)
    assert any("core/clock.py" in v and "emulator.xd247.errors" in v for v in found), found
    assert any("xd247/errors.py" in v and "emulator.usdtlowfee" in v for v in found), found
    assert any("emulator/state.py" in v and "emulator.control" in v for v in found), found
    assert len({v.split(":")[0] for v in found}) == 3
