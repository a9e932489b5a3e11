"""create_app(config) -> the Starlette app serving /api/v1, /v1 and /_emulator."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware

from emulator.config import Config
from emulator.control import routes as control
from emulator.core.asgi import Gateway
from emulator.runtime import Emulator
from emulator.state import PersistControlWrites
from emulator.ui import routes as ui


def create_app(config: Config | None = None, emulator: Emulator | None = None) -> Starlette:
    emu = emulator or Emulator(config)
    app = Starlette(
        routes=[*control.routes, *ui.routes],
        middleware=[
            Middleware(Gateway, surfaces=lambda: emu.surfaces),
            # Inside the Gateway: sees control-plane requests only.
            Middleware(PersistControlWrites, emulator=emu),
        ],
        exception_handlers=control.exception_handlers,  # type: ignore[arg-type]
    )
    app.state.emulator = emu
    return app
