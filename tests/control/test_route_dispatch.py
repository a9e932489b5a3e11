"""control.common.route: one route, one handler per method, a 405 that lists them all."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.testclient import TestClient

from emulator.control.common import route


async def read(request: Request) -> Response:
    return PlainTextResponse("read")


async def write(request: Request) -> Response:
    return PlainTextResponse("write")


def test_each_method_reaches_its_own_handler_and_head_the_get_one() -> None:
    client = TestClient(Starlette(routes=[route("/thing", GET=read, POST=write)]))
    assert client.get("/thing").text == "read"
    assert client.post("/thing").text == "write"
    head = client.head("/thing")
    assert head.status_code == 200 and head.content == b""
    refused = client.delete("/thing")
    assert refused.status_code == 405
    assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


def test_the_emulator_routes_answer_each_method_with_its_handler(client: TestClient) -> None:
    assert client.get("/_emulator/faults").json() == {"faults": []}
    assert client.delete("/_emulator/faults").status_code == 204
    refused = client.put("/_emulator/247xd/accounts")
    assert refused.status_code == 405
    assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert client.get("/_emulator/247xd/accounts/xd-demo").json()["accountId"] == "xd-demo"
    assert client.patch("/_emulator/247xd/accounts/xd-demo", json={"coins": 1}).json()["coins"] == 1.0
