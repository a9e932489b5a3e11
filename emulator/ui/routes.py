"""The dashboard: server-rendered pages under /_emulator/ui (Starlette + Jinja2).

Every page is a few fragments (the clock, accounts, orders, the journal, faults); each
fragment is rendered from what the control plane's own GET endpoints answer
(`ControlReader`), and served alone at /_emulator/ui/fragments/<name> so that the page's
script can refresh it without a reload. Every button is a form that the script sends to
a control-plane endpoint as JSON (static/ui.js): the dashboard has no write path of its
own. The buttons of an order are its `canTransitionTo`, the state machine's table.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote, urlparse

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from emulator import __version__
from emulator.core.journal import mask_key

from .reader import ControlAnswer, ControlReader

PREFIX = "/_emulator/ui"
# Templates and static files are package data, found through the package (as installed).
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.PackageLoader("emulator.ui", "templates"), autoescape=jinja2.select_autoescape()
    )
)

# How each move of an order is offered: its label and the one optional field the forced
# transition takes (POST /_emulator/{api}/orders/{id}/transition). Which moves are shown
# is not decided here: only those in the order's canTransitionTo.
MOVES: dict[tuple[str, str], dict[str, str]] = {
    ("otp", "completed"): {
        "label": "Deliver SMS",
        "field": "otpCode",
        "placeholder": "SMS code",
        "pattern": "[0-9]{4,8}",
    },
    ("otp", "cancelled"): {"label": "Cancel"},
    ("otp", "expired"): {"label": "Expire"},
    ("otp", "refunded"): {"label": "Refund"},
    ("social", "processing"): {"label": "Start"},
    ("social", "completed"): {"label": "Complete"},
    ("social", "partial"): {
        "label": "Stop partial",
        "field": "delivered",
        "type": "int",
        "placeholder": "delivered",
    },
    ("social", "cancelled"): {"label": "Cancel"},
    ("social", "refunded"): {"label": "Refund"},
    ("energy", "completed"): {"label": "Complete"},
    ("energy", "failed"): {"label": "Fail", "field": "reason", "placeholder": "failure reason"},
}

ADVANCE_STEPS = (("+1 min", 60), ("+20 min", 1200), ("+1 h", 3600))
ORDER_FILTERS = ("api", "accountId", "status", "kind", "limit")
REQUEST_FILTERS = ("api", "method", "status", "limit")
VERDICT_FILTERS = ("api", "accountId", "rule", "since")


def moves(order: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"to": target, **MOVES.get((order["kind"], target), {"label": target.capitalize()})}
        for target in order["canTransitionTo"]
    ]


def when(iso: str | None) -> str:
    """`2026-11-21T10:00:00.000Z` -> `2026-11-21 10:00:00`."""
    return "" if not iso else iso[:19].replace("T", " ")


def pretty(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False)


def segment(value: object) -> str:
    """One path segment of a control-plane URL: an id with `/`, `?`, `#` or a space stays one."""
    return quote(str(value), safe="")


templates.env.filters.update(mask_key=mask_key, when=when, pretty=pretty, segment=segment)
templates.env.globals.update(moves=moves, version=__version__, prefix=PREFIX)


def _picked(
    request: Request, names: tuple[str, ...], defaults: dict[str, str] | None = None
) -> dict[str, str]:
    query = request.query_params
    picked = {name: query.get(name, "") for name in names}
    for name, value in (defaults or {}).items():
        picked[name] = picked[name] or value
    return picked


# --- fragments: name -> what it reads from the control plane ---------------------------
Loader = Callable[[ControlReader, Request], Awaitable[dict[str, Any]]]


async def clock(reader: ControlReader, request: Request) -> dict[str, Any]:
    return {"clock": await reader.get("/_emulator/clock"), "steps": ADVANCE_STEPS}


async def accounts(reader: ControlReader, request: Request) -> dict[str, Any]:
    return {
        "xd247": (await reader.get("/_emulator/247xd/accounts"))["accounts"],
        "usdtlowfee": (await reader.get("/_emulator/usdtlowfee/accounts"))["accounts"],
    }


async def orders(reader: ControlReader, request: Request) -> dict[str, Any]:
    listed = await reader.get("/_emulator/orders", _picked(request, ORDER_FILTERS))
    return {"orders": listed["orders"], "has_more": listed["hasMore"]}


async def journal(reader: ControlReader, request: Request) -> dict[str, Any]:
    listed = await reader.get("/_emulator/requests", _picked(request, REQUEST_FILTERS))
    return {"entries": listed["requests"]}


async def faults(reader: ControlReader, request: Request) -> dict[str, Any]:
    return {"faults": (await reader.get("/_emulator/faults"))["faults"]}


async def verdicts(reader: ControlReader, request: Request) -> dict[str, Any]:
    listed = await reader.get("/_emulator/verdicts", _picked(request, VERDICT_FILTERS))
    return {
        "verdicts": listed["verdicts"],
        "rules": listed["rules"],
        "journaled": listed["journaled"],
        "journal_size": listed["journalSize"],
    }


FRAGMENTS: dict[str, Loader] = {
    "clock": clock,
    "accounts": accounts,
    "orders": orders,
    "requests": journal,
    "faults": faults,
    "verdicts": verdicts,
}


# --- what a page reads besides its fragments -------------------------------------------
async def order_filters(reader: ControlReader, request: Request) -> dict[str, Any]:
    machines = (await reader.get("/_emulator/machines"))["machines"]
    statuses: list[str] = []
    for machine in machines:
        statuses += [s for s in machine["statuses"] if s not in statuses]
    return {
        **await accounts(reader, request),
        "statuses": statuses,
        "kinds": [m["kind"] for m in machines],
        "filters": _picked(request, ORDER_FILTERS),
    }


async def journal_filters(reader: ControlReader, request: Request) -> dict[str, Any]:
    return {"filters": _picked(request, REQUEST_FILTERS)}


async def verdict_filters(reader: ControlReader, request: Request) -> dict[str, Any]:
    return {"filters": _picked(request, VERDICT_FILTERS)}


async def fault_routes(reader: ControlReader, request: Request) -> dict[str, Any]:
    """Each API's route templates, as a fault's `path` names them: the paths of the API's
    OpenAPI document (GET /_emulator/specs/{api}.json) below the API's prefix."""
    prefixes: dict[str, str] = (await reader.get("/_emulator/health"))["apis"]
    routes: dict[str, list[str]] = {}
    for api, prefix in prefixes.items():
        spec = await reader.get(f"/_emulator/specs/{api}.json")
        base = urlparse(spec["servers"][0]["url"]).path.rstrip("/")
        routes[api] = [
            (base + path)[len(prefix) :] for path in spec["paths"] if (base + path).startswith(prefix)
        ]
    return {"routes": routes}


# name -> (title, template, fragments, extra loaders)
PAGES: dict[str, tuple[str, str, tuple[str, ...], tuple[Loader, ...]]] = {
    "": ("Overview", "overview.html", ("clock", "accounts"), ()),
    "orders": ("Orders", "orders.html", ("clock", "orders"), (order_filters,)),
    "requests": ("Requests", "requests.html", ("clock", "requests"), (journal_filters,)),
    "faults": ("Faults", "faults.html", ("clock", "faults"), (fault_routes, accounts)),
    "verdicts": ("Verdicts", "verdicts.html", ("clock", "verdicts"), (verdict_filters,)),
}


def _render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    return templates.TemplateResponse(request, template, context, status_code=status)


async def page(request: Request) -> Response:
    name = request.url.path[len(PREFIX) + 1 :]
    title, template, fragments, extras = PAGES[name]
    reader = ControlReader(request.app, request.scope["headers"])
    context: dict[str, Any] = {"title": title, "page": name, "pages": PAGES}
    errors: list[str] = []
    status = 200
    for loader in (*(FRAGMENTS[f] for f in fragments), *extras):
        try:
            context.update(await loader(reader, request))
        except ControlAnswer as exc:  # a bad filter in the address: shown, as the API says it
            errors.append(exc.message)
            status = exc.status
    context["errors"] = errors
    return _render(request, template, context, status)


async def fragment(request: Request) -> Response:
    name = request.url.path.rsplit("/", 1)[1]
    try:
        context = await FRAGMENTS[name](ControlReader(request.app, request.scope["headers"]), request)
    except ControlAnswer as exc:
        return _render(request, "fragments/error.html", {"errors": [exc.message]}, exc.status)
    return _render(request, f"fragments/{name}.html", context)


async def root(request: Request) -> Response:
    return RedirectResponse(PREFIX, status_code=302)


routes = [
    Route("/", root, methods=["GET"]),
    *[Route(f"{PREFIX}/{name}".rstrip("/"), page, methods=["GET"]) for name in PAGES],
    *[Route(f"{PREFIX}/fragments/{name}", fragment, methods=["GET"]) for name in FRAGMENTS],
    Mount(PREFIX + "/static", StaticFiles(packages=[("emulator.ui", "static")]), name="ui-static"),
]
