"""The README's list of inferred behaviours, generated from the `x-inferred` markers of
emulator/specs/*.json so that it cannot drift from the contract.

    python -m emulator.docs                 # print the list
    python -m emulator.docs --write README.md   # replace it between the markers
    python -m emulator.docs --check README.md   # exit 1 when the README's list differs
"""

from __future__ import annotations

import argparse
import json
import sys
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

SPECS = resources.files("emulator") / "specs"
DOCUMENTS = (("247xd", "247xd.json"), ("USDTLowFee", "usdtlowfee.json"), ("control plane", "control.json"))
START = "<!-- inferred:start -->"
END = "<!-- inferred:end -->"
_METHODS = {"get", "post", "put", "patch", "delete"}
_NOISE = {"properties", "allOf", "oneOf", "anyOf", "content", "application/json", "schema", "items"}
_KINDS = {"schemas": "schema", "headers": "header", "responses": "response", "securitySchemes": "auth"}


def _where(document: dict[str, Any], path: list[str]) -> str:
    """A marker's place in words: `GET /otp/orders/{orderId}` parameter `orderId`,
    schema `OtpOrder.status`."""
    if path[0] == "paths":
        route, method = path[1], path[2] if len(path) > 2 else ""
        where = f"`{method.upper()} {route}`" if method in _METHODS else f"`{route}`"
        if len(path) > 4 and path[3] == "parameters":
            parameter = document["paths"][route][method]["parameters"][int(path[4])]
            where += f" parameter `{parameter.get('name', '?')}`"
        return where
    if path[0] == "components" and len(path) > 2:
        names = [part for part in path[2:] if part not in _NOISE and not part.isdigit()]
        return f"{_KINDS.get(path[1], path[1])} `{'.'.join(names)}`"
    return "`" + "/".join(path) + "`"


def _markers(node: Any, path: list[str], found: list[tuple[list[str], dict[str, Any]]]) -> None:
    if isinstance(node, dict):
        if node.get("x-inferred") is True:
            found.append((path, node))
        for key, value in node.items():
            _markers(value, [*path, str(key)], found)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _markers(value, [*path, str(index)], found)


def inferred(specs: Traversable = SPECS) -> str:
    """The markdown list: per document, its rules first (document-level `x-rules`), then
    every other marked place, one line per distinct reason with all the places it covers."""
    out: list[str] = []
    for title, name in DOCUMENTS:
        document = json.loads((specs / name).read_text("utf-8"))
        found: list[tuple[list[str], dict[str, Any]]] = []
        _markers(document, [], found)
        if not found:
            continue
        out.append(f"**{title}** (`emulator/specs/{name}`)")
        out.append("")
        places: dict[str, list[str]] = {}
        for path, node in found:
            reason = str(node.get("x-inferred-reason", "")).strip()
            if path[0] == "x-rules":
                out.append(f"- {node['rule']} *Why: {reason}*")
            else:
                where = _where(document, path)
                seen = places.setdefault(reason, [])
                if where not in seen:
                    seen.append(where)
        for reason, wheres in places.items():
            out.append(f"- {', '.join(wheres)}: {reason}")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def section(readme: str) -> str:
    """What the README holds between the markers."""
    start, end = readme.index(START) + len(START), readme.index(END)
    return readme[start:end].strip("\n") + "\n"


def replaced(readme: str, specs: Traversable = SPECS) -> str:
    start, end = readme.index(START) + len(START), readme.index(END)
    return readme[:start] + "\n" + inferred(specs) + readme[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.docs", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="README", help="replace the list between the markers")
    group.add_argument("--check", metavar="README", help="exit 1 when the README's list differs")
    args = parser.parse_args(argv)
    if args.write:
        path = Path(args.write)
        path.write_text(replaced(path.read_text("utf-8")), "utf-8")
    elif args.check:
        if section(Path(args.check).read_text("utf-8")) != inferred():
            hint = f"run python -m emulator.docs --write {args.check}"
            print(f"{args.check}: the inferred list differs; {hint}", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(inferred())
    return 0


if __name__ == "__main__":
    sys.exit(main())
