"""GET/DELETE /_emulator/requests: the journal of API requests, newest first."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response

from emulator.apis import prefixes
from emulator.core import journal as journal_mod
from emulator.core.errors import FieldError

from .common import api_and_account, emulator_of, invalid, json, route

DEFAULT_LIMIT = 100
_INT = re.compile(r"[0-9]{1,7}")
_METHOD = re.compile(r"[A-Za-z]{1,16}")


def _integer(text: str, name: str, low: int, high: int) -> int:
    if _INT.fullmatch(text) is None:
        raise invalid(FieldError(name, f"must be an integer from {low} to {high}"))
    value = int(text)
    if not low <= value <= high:
        raise invalid(FieldError(name, f"must be an integer from {low} to {high}"))
    return value


async def requests(request: Request) -> Response:
    emu = emulator_of(request)
    query = request.query_params
    names = prefixes()
    api, account_id = api_and_account(query)
    method = query.get("method")
    if method is not None and _METHOD.fullmatch(method) is None:
        raise invalid(FieldError("method", "must be an HTTP method such as GET"))
    path = query.get("path")
    if path is not None and not path:
        raise invalid(FieldError("path", "must not be empty"))
    status = query.get("status")
    # A dropped connection has no status; it is found without the status filter.
    wanted_status = None if status is None else _integer(status, "status", 100, 599)
    most = max(1, emu.journal.size)
    limit = query.get("limit")
    count = min(DEFAULT_LIMIT, most) if limit is None else _integer(limit, "limit", 1, most)
    chosen = journal_mod.select(
        emu.journal.newest_first(),
        prefixes=names,
        api=api,
        method=method,
        path=path,
        status=wanted_status,
        account_id=account_id,
        limit=count,
    )
    return json({"requests": [journal_mod.view(entry) for entry in chosen]})


async def clear(request: Request) -> Response:
    emulator_of(request).journal.clear()
    return Response(status_code=204)


routes = [route("/_emulator/requests", GET=requests, DELETE=clear)]
