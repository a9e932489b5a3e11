"""The dashboard reads only through the control plane's GET endpoints and every button
calls a control-plane endpoint: no import of a backend, no call anywhere else."""

from __future__ import annotations

import ast
import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Match, Route

import emulator.ui
from emulator.control import routes as control
from emulator.ui.reader import ControlAnswer, ControlReader

from .html import Node
from .support import FRAGMENTS, PAGES, UI, energy_order, ok, otp_order, page, social_order, transition, xd

UI_DIR = Path(emulator.ui.__file__).parent
FORBIDDEN = (
    "emulator.xd247",
    "emulator.usdtlowfee",
    "emulator.runtime",
    "emulator.state",
    "emulator.control",
)


def imported(source: str, package: str = "emulator.ui") -> set[str]:
    """Every module a source imports (relative ones resolved; `from a import b` also as a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if name in ("__import__", "import_module"):
                found.add("<dynamic import>")
    return found


def forbidden(modules: set[str]) -> set[str]:
    return {
        m
        for m in modules
        if m == "<dynamic import>" or any(m == f or m.startswith(f + ".") for f in FORBIDDEN)
    }


def test_the_import_check_catches_each_way_of_importing_a_backend() -> None:
    assert forbidden(imported("import emulator.xd247.models")) == {"emulator.xd247.models"}
    assert forbidden(imported("from emulator import runtime")) == {"emulator.runtime"}
    assert forbidden(imported("from ..control import orders")) == {
        "emulator.control",
        "emulator.control.orders",
    }
    assert forbidden(imported("from ..state import X")) == {"emulator.state", "emulator.state.X"}
    assert forbidden(imported("import importlib\nimportlib.import_module('emulator.xd247')")) == {
        "<dynamic import>"
    }
    assert (
        forbidden(imported("from .reader import ControlReader\nfrom emulator.core.journal import mask_key"))
        == set()
    )


def test_the_dashboards_modules_import_no_backend_and_no_control_plane_module() -> None:
    sources = sorted(UI_DIR.glob("*.py"))
    assert {p.name for p in sources} >= {"__init__.py", "routes.py", "reader.py"}
    for source in sources:
        modules = imported(source.read_text(encoding="utf-8"))
        assert forbidden(modules) == set(), source.name
    assert "emulator.ui.reader" in imported((UI_DIR / "routes.py").read_text(encoding="utf-8"))


def some_state(web: httpx.Client) -> None:
    """Orders in several statuses, a fault, a new and a revoked key, a created account."""
    otp_order(web)
    transition(web, "247xd", otp_order(web), "cancelled")
    social_order(web)
    energy_order(web)
    ok(web.post("/_emulator/faults", json={"api": "247xd", "path": "/balance", "status": 503}), 201)
    ok(web.post("/_emulator/faults", json={"api": "usdtlowfee", "drop": True, "times": 1}), 201)
    ok(web.post("/_emulator/usdtlowfee/accounts/ulf-demo/keys"), 201)
    ok(web.post("/_emulator/247xd/accounts", json={"label": "another", "clock": "own"}), 201)
    empty_key = "247xd_61719260dbc78752e901ec2fa4bbfa5f1d408c3c"  # xd-empty's
    assert web.delete(f"/_emulator/247xd/keys/{empty_key}").status_code == 204
    web.get("/api/v1/balance", headers=xd())


def routed(method: str, path: str) -> list[Route]:
    """The control-plane routes that take `method path` (a full match)."""
    scope: dict[str, Any] = {"type": "http", "method": method, "path": path, "root_path": ""}
    return [r for r in control.routes if r.matches(scope)[0] is Match.FULL]


def test_the_route_matcher_tells_control_calls_from_others() -> None:
    assert routed("POST", "/_emulator/clock/advance")
    assert routed("DELETE", "/_emulator/247xd/keys/abc")
    assert not routed("GET", "/_emulator/clock/advance")  # the method counts
    assert not routed("POST", "/api/v1/otp/orders")
    assert not routed("POST", "/_emulator/ui/fragments/orders")
    assert not routed("POST", "/_emulator/247xd/orders/x/transition/extra")


def calls_of(doc: Node) -> list[str]:
    return [node["data-call"] for node in doc.iter() if "data-call" in node.attrs]


def test_every_data_call_is_a_control_plane_endpoint(web: httpx.Client) -> None:
    some_state(web)
    seen: set[str] = set()
    for path in (*PAGES, *(f"/fragments/{name}" for name in FRAGMENTS)):
        doc = page(web, path)
        for call in calls_of(doc):
            method, _, target = call.partition(" ")
            assert method in ("GET", "POST", "PUT", "PATCH", "DELETE"), call
            assert target.startswith("/_emulator/") and not target.startswith(UI), call
            assert " " not in target and "?" not in target, call
            matched = routed(method, target)
            assert matched, f"{path}: {call} is no control-plane endpoint"
            for route in matched:  # an {api} in the route names a real API
                params = route.matches({"type": "http", "method": method, "path": target, "root_path": ""})[1]
                assert params["path_params"].get("api", "247xd") in ("247xd", "usdtlowfee"), call
            seen.add(call)
        for form in doc.all("form"):  # a form either calls the control plane or is a GET filter of a page
            if "data-call" not in form.attrs:
                assert form.get("method") == "get", form
                assert form["action"] in (UI + "/orders", UI + "/requests", UI + "/verdicts"), form
        for link in doc.all("a"):
            assert link["href"].startswith(UI), link
    # The calls on offer with this state: the clock, keys, accounts, moves, faults, the journal, reset.
    assert {
        "POST /_emulator/clock/advance",
        "POST /_emulator/clock/resume",
        "POST /_emulator/reset",
        "DELETE /_emulator/requests",
        "POST /_emulator/faults",
        "DELETE /_emulator/faults",
        "POST /_emulator/247xd/accounts/xd-demo/keys",
        "PATCH /_emulator/usdtlowfee/accounts/ulf-demo",
        "DELETE /_emulator/faults/fault-1",
    } <= seen
    for api in ("247xd", "usdtlowfee"):
        assert any(re.fullmatch(f"POST /_emulator/{api}/orders/[^/]+/transition", call) for call in seen), api


def test_the_script_calls_only_data_call_targets_and_fragments() -> None:
    script = (UI_DIR / "static" / "ui.js").read_text(encoding="utf-8")
    assert re.findall(r"fetch\(([^,]+),", script) == ["url", "`${UI}/fragments/${name}${location.search}`"]
    assert re.findall(r'const UI = "([^"]*)"', script) == [UI]
    # the url fetched for an action is the form's data-call, after the method and one space
    assert "const url = form.dataset.call.slice(space + 1);" in script
    assert "http://" not in script and "https://" not in script


@pytest.mark.parametrize("path", [*PAGES, *(f"/fragments/{name}" for name in FRAGMENTS)])
def test_each_page_reads_through_control_reader_gets_only(
    web: httpx.Client, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    some_state(web)
    read: list[str] = []
    original = ControlReader.get

    async def recording(self: ControlReader, target: str, params: dict[str, str] | None = None) -> Any:
        read.append(target)
        return await original(self, target, params)

    monkeypatch.setattr(ControlReader, "get", recording)
    for query in ({}, {"api": "247xd", "limit": "5"}):
        read.clear()
        page(web, path, query)
        assert read, "the page read nothing through ControlReader"
        for target in read:
            assert target.startswith("/_emulator/") and not target.startswith(UI), target
            assert routed("GET", target), target
        if not path.startswith("/fragments/") or path == "/fragments/clock":
            assert "/_emulator/clock" in read


def test_control_reader_sends_a_plain_get_and_raises_the_control_planes_error() -> None:
    scopes: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        scopes.append(scope)
        status, body = (
            (200, b'{"ok": [1]}')
            if scope["path"] == "/_emulator/fine"
            else (400, b'{"error": {"message": "no"}}')
        )
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body})

    reader = ControlReader(app)
    assert asyncio.run(reader.get("/_emulator/fine", {"a": "1 2", "b": "", "c": "ä"})) == {"ok": [1]}
    assert (scopes[0]["method"], scopes[0]["path"], scopes[0]["query_string"]) == (
        "GET",
        "/_emulator/fine",
        b"a=1+2&c=%C3%A4",
    )
    with pytest.raises(ControlAnswer) as raised:
        asyncio.run(reader.get("/_emulator/bad"))
    assert (raised.value.status, raised.value.message) == (400, "no")
    assert [s["method"] for s in scopes] == ["GET", "GET"]
