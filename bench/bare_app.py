"""The ceiling: a bare Starlette app returning the same JSON as GET /api/v1/balance."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def balance(request: Request) -> JSONResponse:
    return JSONResponse({"success": True, "data": {"coins": 500.0}})


app = Starlette(routes=[Route("/api/v1/balance", balance)])
