"""A tiny router for the API surfaces: a dict for static paths, segment match for templates.

Built once, at import, from each API's route table; matching a request is one dict
lookup, or a short scan of the templates with the same number of segments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Call:
    """What a handler gets: the caller, path parameters, the parsed body and query."""

    account: Any
    params: dict[str, str]
    now_us: int
    body: dict[str, Any] | None = None
    query: bytes = b""


# (the API's backend, the call) -> (status, data); data None means no body (a 204).
Handler = Callable[[Any, Call], tuple[int, Any]]


@dataclass(slots=True)
class Route:
    method: str
    template: str
    handler: Handler
    body: bool = False
    name: str = ""


# What a path matched: its routes by method, and the path parameters.
Match = tuple[dict[str, Route], dict[str, str]]


@dataclass(slots=True)
class _Template:
    segments: tuple[str, ...]
    methods: dict[str, Route] = field(default_factory=dict)


def template_of(found: Match | None) -> str | None:
    """The route template a path matched (whatever the method), None if it matched none."""
    return None if found is None else next(iter(found[0].values())).template


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        self._static: dict[str, dict[str, Route]] = {}
        self._templates: dict[int, list[_Template]] = {}
        by_template: dict[str, _Template] = {}
        for route in routes:
            if "{" not in route.template:
                self._static.setdefault(route.template, {})[route.method] = route
                continue
            tpl = by_template.get(route.template)
            if tpl is None:
                tpl = _Template(tuple(route.template.strip("/").split("/")))
                by_template[route.template] = tpl
                self._templates.setdefault(len(tpl.segments), []).append(tpl)
            tpl.methods[route.method] = route

    def match(self, path: str) -> Match | None:
        methods = self._static.get(path)
        if methods is not None:
            return methods, {}
        # Empty segments (`//`, a trailing `/`) match nothing, leading ones included.
        parts = path[1:].split("/")
        if not path.startswith("/") or "" in parts:
            return None
        for tpl in self._templates.get(len(parts), ()):
            params: dict[str, str] = {}
            for want, got in zip(tpl.segments, parts, strict=True):
                if want[0] == "{":
                    params[want[1:-1]] = got
                elif want != got:
                    break
            else:
                return tpl.methods, params
        return None

    def template_of(self, path: str) -> str | None:
        return template_of(self.match(path))

    def methods(self) -> dict[str, list[str]]:
        """Each route template and the methods it answers, in declaration order."""
        out: dict[str, list[str]] = {}
        for route in self.routes:
            out.setdefault(route.template, []).append(route.method)
        return out
