"""The ASGI type aliases, once (as Starlette's `types.py`), and what the pipeline asks of
an account."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .clock import Clock

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]


class Caller(Protocol):
    """An account as the request path sees it: an id and, maybe, a test clock of its own."""

    @property
    def id(self) -> str: ...

    @property
    def clock(self) -> Clock | None: ...
