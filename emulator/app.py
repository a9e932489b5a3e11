"""create_app(config) -> the Starlette app serving /api/v1, /v1 and /_emulator.

The API surfaces are plain-ASGI pipelines in front of Starlette (the Gateway); the
control plane and the dashboard are Starlette routes behind it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware

from emulator.apis import APIS
from emulator.config import Config
from emulator.control import routes as control
from emulator.core.access import LOGGED, AccessLog
from emulator.core.pipeline import Gateway, Pipeline
from emulator.core.ratelimit import RateLimiter
from emulator.core.types import ASGIApp
from emulator.durable import PersistControlWrites
from emulator.guard import ControlGuard, HostGuard, HostPolicy
from emulator.runtime import Domain, Emulator
from emulator.ui import routes as ui


class EmulatorApp(Starlette):
    """Starlette for the control plane and the dashboard, with the API surfaces in front
    of its whole stack (`front`: the Host check and the Gateway): an API request runs no
    Starlette code at all, not even its error middleware (the pipeline answers its own
    500s in the API's envelope)."""

    def __init__(self, front: Callable[[ASGIApp], ASGIApp], **kwargs: Any) -> None:
        self.front = front
        super().__init__(**kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        return self.front(super().build_middleware_stack())

    def api_front(self) -> ASGIApp:
        """What this app runs for every request (the Host check, the Gateway), built now:
        for a request under an API prefix, a server may call it instead of the app
        (emulator/server.py), one frame fewer. Nothing of Starlette's own `__call__` is
        missed there: it only sets `scope["app"]`, which no pipeline reads."""
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        return self.middleware_stack


class Pipelines:
    """The request pipelines of both APIs, rebuilt on every domain the emulator installs.

    Rate-limit windows are the HTTP layer's, not the domain's: they start afresh with
    each new domain (reset, fixtures load, state import), so a test that resets gets
    the whole budget back; they are not part of the state document.
    """

    def __init__(self, emu: Emulator, access: AccessLog | None = LOGGED) -> None:
        self.emu = emu
        self.access = access
        self.current: tuple[Pipeline, ...] = ()
        self.build(emu.domain)
        emu.on_install(self.build)

    def build(self, domain: Domain) -> None:
        emu = self.emu
        self.current = tuple(
            Pipeline(
                api.dialect,
                api.router,
                api.backend(domain),
                RateLimiter(api.rate_limit(emu.config)),
                emu.lock,
                domain.faults,
                emu.journal,
                emu.write_log,
                self.access,
            )
            for api in APIS
        )


def create_app(
    config: Config | None = None, emulator: Emulator | None = None, access: AccessLog | None = LOGGED
) -> EmulatorApp:
    """`access`: where the API's access lines go (core/access.py); the default sends them
    through the `emulator.access` logger, `emulator serve` passes a buffered writer."""
    emu = emulator or Emulator(config)
    pipelines = Pipelines(emu, access)
    config = emu.config
    refusals = [
        (api.dialect.prefix, (403, api.dialect.render_error(api.dialect.forbidden_host()))) for api in APIS
    ]
    policy = HostPolicy(config.allowed_hosts)

    def front(inner: ASGIApp) -> ASGIApp:
        # Outermost: a Host not allowed is refused before anything else, on every surface;
        # then the Gateway sends the API prefixes to their pipelines.
        gateway = Gateway(inner, pipelines=lambda: pipelines.current, now=lambda: emu.clock.now_us())
        return HostGuard(gateway, policy=policy, refusals=refusals)

    app = EmulatorApp(
        front,
        routes=[*control.routes, *ui.routes],
        middleware=[
            # Behind the Gateway: the control plane and the dashboard only.
            Middleware(ControlGuard, token=config.control_token),
            # Inside the Gateway: sees control-plane requests only.
            Middleware(PersistControlWrites, emulator=emu),
        ],
        exception_handlers=control.exception_handlers,
    )
    app.state.emulator = emu
    app.state.pipelines = pipelines
    return app
