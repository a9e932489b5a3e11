"""The OpenAPI documents of both APIs and of the control plane, served as stored.

Read once at import; every request gets the same bytes, so what a client downloads is
exactly the file in `emulator/specs/` (tests compare them byte for byte).
"""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_SPECS = resources.files("emulator") / "specs"
# served path -> file in emulator/specs/
FILES = {
    "/_emulator/specs/247xd.json": "247xd.json",
    "/_emulator/specs/usdtlowfee.json": "usdtlowfee.json",
    "/_emulator/openapi.json": "control.json",
}
DOCUMENTS = {path: (_SPECS / name).read_bytes() for path, name in FILES.items()}


async def document(request: Request) -> Response:
    return Response(DOCUMENTS[request.url.path], media_type="application/json")


routes = [Route(path, document, methods=["GET"]) for path in FILES]
