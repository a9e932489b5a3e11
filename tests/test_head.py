"""HEAD on every GET route: GET's status and headers (rate-limit headers included, counted
like GET), no body. In-process through the emulator's own transport (Starlette's TestClient
drops a HEAD body itself, so it could not catch one) and against a served emulator."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import httpx
import pytest

from emulator.app import create_app
from emulator.runtime import Emulator
from emulator.testing.transport import in_process_client

from .served import serve

XD_KEY = "247xd_3769736d6939931e6de10def20d9a2483134d0c1"
ULF_KEY = "ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4"
XD = {"Authorization": f"Bearer {XD_KEY}"}
ULF = {"Authorization": f"ApiKey {ULF_KEY}"}

GET_ROUTES = [
    pytest.param("/api/v1/balance", XD, id="247xd"),
    pytest.param("/api/v1/otp/services", XD, id="247xd-list"),
    pytest.param("/v1/wallet/balance", ULF, id="usdtlowfee"),
    pytest.param("/v1/energy/orders?limit=5", ULF, id="usdtlowfee-list"),
    pytest.param("/_emulator/health", {}, id="control"),
    pytest.param("/_emulator/247xd/accounts", {}, id="control-list"),
    pytest.param("/_emulator/ui", {}, id="dashboard"),
    pytest.param("/_emulator/ui/static/ui.css", {}, id="dashboard-static"),
]
RATE = "x-ratelimit-remaining"


@pytest.fixture
def inproc(emu: Emulator) -> Iterator[httpx.Client]:
    with in_process_client(create_app(emulator=emu)) as client:
        yield client


@pytest.mark.parametrize(("path", "headers"), GET_ROUTES)
def test_head_answers_the_get_status_and_headers_without_the_body(
    inproc: httpx.Client, path: str, headers: dict[str, str]
) -> None:
    got = inproc.get(path, headers=headers)
    head = inproc.head(path, headers=headers)
    assert got.status_code == 200 and got.content
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(got.content))
    shown = {k: v for k, v in head.headers.items() if k != RATE}
    assert shown == {k: v for k, v in got.headers.items() if k != RATE}
    if RATE in got.headers:  # an API route: HEAD is counted like GET
        again = inproc.get(path, headers=headers)
        assert int(head.headers[RATE]) == int(got.headers[RATE]) - 1
        assert int(again.headers[RATE]) == int(head.headers[RATE]) - 1


def test_head_meets_the_same_refusals_as_get(inproc: httpx.Client) -> None:
    unauthorized = inproc.head("/api/v1/balance")
    assert unauthorized.status_code == 401 and unauthorized.content == b""
    assert int(unauthorized.headers["content-length"]) == len(inproc.get("/api/v1/balance").content)
    assert inproc.head("/v1/no-such-path", headers=ULF).status_code == 404
    post_only = inproc.head("/api/v1/otp/orders", headers=XD)
    assert post_only.status_code == 405 and post_only.headers["allow"] == "POST"
    assert post_only.content == b""


def test_a_405_lists_head_beside_get(inproc: httpx.Client) -> None:
    assert inproc.delete("/api/v1/balance", headers=XD).headers["allow"] == "GET, HEAD"
    assert inproc.put("/v1/energy/orders", headers=ULF).headers["allow"] == "POST, GET, HEAD"


def test_a_fault_on_a_get_route_is_drawn_by_head_too(inproc: httpx.Client) -> None:
    fault = {"api": "247xd", "method": "GET", "path": "/balance", "status": 503}
    assert inproc.post("/_emulator/faults", json=fault).status_code == 201
    head = inproc.head("/api/v1/balance", headers=XD)
    got = inproc.get("/api/v1/balance", headers=XD)
    assert (head.status_code, got.status_code) == (503, 503)
    assert head.content == b"" and head.headers["content-length"] == str(len(got.content))
    # A fault names GET for both: HEAD is not a method of its own.
    refused = inproc.post("/_emulator/faults", json={**fault, "method": "HEAD"})
    assert refused.status_code == 400 and "method" in refused.text


def test_head_is_journalled_as_head(inproc: httpx.Client) -> None:
    inproc.head("/api/v1/balance", headers=XD)
    (entry,) = inproc.get("/_emulator/requests").json()["requests"]
    assert (entry["method"], entry["route"], entry["status"]) == ("HEAD", "/balance", 200)
    assert entry["response"] is None  # no body was sent


def test_a_served_emulator_answers_head_on_every_surface() -> None:
    with serve("--log-level", "warning") as served, httpx.Client(base_url=served.url) as http:
        for param in GET_ROUTES:
            path, headers = param.values
            got = http.get(path, headers=headers)
            head = http.head(path, headers=headers)
            assert (head.status_code, head.content) == (200, b""), path
            assert head.headers["content-length"] == str(len(got.content)), path
            assert head.headers["content-type"] == got.headers["content-type"], path
            if RATE in got.headers:
                assert int(head.headers[RATE]) == int(got.headers[RATE]) - 1
        if shutil.which("curl"):
            for path, header in [("/api/v1/balance", f"Authorization: Bearer {XD_KEY}"),
                                 ("/v1/wallet/balance", f"Authorization: ApiKey {ULF_KEY}"),
                                 ("/_emulator/health", "Accept: */*"), ("/_emulator/ui", "Accept: */*")]:
                out = subprocess.run(
                    ["curl", "-sI", "--max-time", "10", "-H", header, served.url + path],
                    capture_output=True, text=True, timeout=30,
                ).stdout
                status_line, *lines = out.strip().splitlines()
                assert status_line.split()[1] == "200", (path, out)
                names = {line.split(":", 1)[0].lower() for line in lines}
                assert {"content-length", "content-type", "date"} <= names, (path, out)
                if path.startswith(("/api", "/v1")):
                    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= names
