"""Edges of the request path on both APIs (issues 15 and 18): ambiguous auth, encoded
slashes in paths, oversized headers, stalled bodies."""

from __future__ import annotations

import asyncio
import os
import socket

import httpx
import orjson
import pytest
from starlette.testclient import TestClient

from emulator.control import common
from emulator.control import state as control_state
from emulator.core import http as http_mod
from emulator.core.http import MAX_HEADER_BYTES
from emulator.core.types import ASGIApp, Message

from .served import serve

XD_KEY = "247xd_3769736d6939931e6de10def20d9a2483134d0c1"
ULF_KEY = "ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4"
XD_ME = "/api/v1/balance"
ULF_ME = "/v1/users/me"
APIS = [
    pytest.param(XD_ME, "Bearer", XD_KEY, id="247xd"),
    pytest.param(ULF_ME, "ApiKey", ULF_KEY, id="usdtlowfee"),
]


def code_of(body: dict[str, object]) -> object:
    error = body.get("error")
    return error.get("code") if isinstance(error, dict) else body.get("code")


@pytest.mark.parametrize(("path", "scheme", "key"), APIS)
def test_one_authorization_header_is_served(client: TestClient, path: str, scheme: str, key: str) -> None:
    assert client.get(path, headers={"Authorization": f"{scheme} {key}"}).status_code == 200


@pytest.mark.parametrize(("path", "scheme", "key"), APIS)
@pytest.mark.parametrize("second", ["same", "garbage"])
def test_two_authorization_headers_are_401(
    client: TestClient, path: str, scheme: str, key: str, second: str
) -> None:
    good = f"{scheme} {key}"
    other = good if second == "same" else "Basic eDp5"
    for values in ([good, other], [other, good]):
        response = client.get(path, headers=[("Authorization", v) for v in values])
        assert response.status_code == 401, response.text
        assert code_of(response.json()) == "UNAUTHORIZED"


OTP_BODY = {  # the test service's SMS that never arrives
    "serviceId": "00000000-0000-4000-8000-000000000001",
    "priceOptionId": "00000000-0000-4000-8000-000000000011",
}
ADDRESS = "/v1/addresses"
MAIN_WALLET_ID = 640852741324804097


def encoded_slash_cases(http: httpx.Client) -> None:
    """`%2F` inside a segment is data: a 404 in each API's envelope, nothing changes."""
    xd = {"Authorization": f"Bearer {XD_KEY}"}
    created = http.post("/api/v1/otp/orders", headers=xd, json=OTP_BODY)
    assert created.status_code == 201, created.text
    order = created.json()["data"]["orderId"]
    for encoded in ("%2F", "%2f"):
        response = http.post(f"/api/v1/otp/orders/{order}{encoded}cancel", headers=xd)
        assert response.status_code == 404, response.text
        assert code_of(response.json()) == "NOT_FOUND"
        assert http.get(f"/api/v1/otp/orders/{order}{encoded}cancel", headers=xd).status_code == 404
    assert http.get(f"/api/v1/otp/orders/{order}", headers=xd).json()["data"]["status"] == "waiting_sms"
    assert http.post(f"/api/v1/otp/orders/{order}/cancel", headers=xd).status_code == 200
    assert http.get("/api/v1%2Fbalance", headers=xd).status_code == 404

    ulf = {"Authorization": f"ApiKey {ULF_KEY}"}
    address = MAIN_WALLET_ID  # the demo account's main wallet (emulator/data/default.json)
    response = http.put(f"{ADDRESS}/{address}%2Fdefault", headers=ulf)
    assert response.status_code == 404, response.text
    assert code_of(response.json()) == "NOT_FOUND"
    assert http.get(f"{ADDRESS}%2F{address}", headers=ulf).status_code == 404
    assert http.get(f"{ADDRESS}/{address}", headers=ulf).status_code == 200


def test_an_encoded_slash_is_data_in_process(client: TestClient) -> None:
    encoded_slash_cases(client)


def test_an_encoded_slash_is_data_served() -> None:
    with serve() as served, httpx.Client(base_url=served.url) as http:
        encoded_slash_cases(http)


BIG = "x" * (MAX_HEADER_BYTES + 1)
SURFACES = [
    pytest.param("/api/v1/balance", {"Authorization": f"Bearer {XD_KEY}"}, "BAD_REQUEST", id="247xd"),
    pytest.param(ULF_ME, {"Authorization": f"ApiKey {ULF_KEY}"}, "BAD_REQUEST", id="usdtlowfee"),
    pytest.param("/_emulator/clock", {}, "BAD_REQUEST", id="control"),
    pytest.param("/_emulator/ui", {}, "BAD_REQUEST", id="dashboard"),
]


def assert_431(response: httpx.Response, code: str) -> None:
    assert response.status_code == 431, response.text
    assert code_of(response.json()) == code
    assert "32 KiB" in response.text
    assert response.headers["connection"] == "close"


@pytest.mark.parametrize(("path", "headers", "code"), SURFACES)
def test_headers_over_the_limit_are_431_in_process(
    client: TestClient, path: str, headers: dict[str, str], code: str
) -> None:
    assert client.get(path, headers=headers).status_code == 200
    half = "x" * (MAX_HEADER_BYTES // 2)
    assert client.get(path, headers={**headers, "X-A": half[:-200]}).status_code == 200
    assert_431(client.get(path, headers={**headers, "X-Big": BIG}), code)
    # many small headers add up; so does a long query string
    many = [(f"X-{i}", half[:1000]) for i in range(40)]
    assert_431(client.get(path, headers=[*headers.items(), *many]), code)
    assert_431(client.get(path + "?q=" + BIG, headers=headers), code)


def test_headers_over_the_limit_are_431_served() -> None:
    """uvicorn's default parser (httptools) has no header limit of its own (h11's, 16 KiB,
    answers a bare 400): the emulator's check answers, in each surface's envelope."""
    with serve() as served, httpx.Client(base_url=served.url) as http:
        for param in SURFACES:
            path, headers, code = param.values
            assert_431(http.get(path, headers={**headers, "X-Big": "x" * 2**20}), code)
            assert http.get(path, headers=headers).status_code == 200


def run(app: ASGIApp, scope: dict[str, object]) -> tuple[int, dict[bytes, bytes], bytes]:
    """One request whose body never comes: `receive` waits forever."""
    sent: list[Message] = []

    async def receive() -> Message:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    start = sent[0]
    return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def post_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, object]:
    return {
        "type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100"), *headers],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8080), "scheme": "http",
        "http_version": "1.1", "asgi": {"version": "3.0"}, "root_path": "",
    }


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        pytest.param("/api/v1/otp/orders", [(b"authorization", b"Bearer " + XD_KEY.encode())], id="247xd"),
        pytest.param("/v1/energy/orders", [(b"authorization", b"ApiKey " + ULF_KEY.encode())], id="ulf"),
    ],
)
def test_a_stalled_body_is_cut_with_408(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, path: str, headers: list[tuple[bytes, bytes]]
) -> None:
    """BODY_TIMEOUT_S 0: the timeout fires at once on the first wait, no real time passes."""
    monkeypatch.setattr(http_mod, "BODY_TIMEOUT_S", 0)
    status, response_headers, body = run(client.app, post_scope(path, headers))
    assert status == 408, body
    assert response_headers[b"connection"] == b"close"
    assert code_of(orjson.loads(body)) == "BAD_REQUEST"
    assert b"did not arrive within 0 s" in body
    assert client.get("/_emulator/requests").json()["requests"][0]["status"] == 408


@pytest.mark.parametrize("path", ["/_emulator/clock/advance", "/_emulator/state"])
def test_a_stalled_control_body_is_cut_with_408(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.setattr(common, "BODY_TIMEOUT_S", 0)
    monkeypatch.setattr(control_state, "BODY_TIMEOUT_S", 0)
    clock = client.get("/_emulator/clock").json()
    scope = {**post_scope(path, []), "method": "PUT" if path.endswith("state") else "POST"}
    status, response_headers, body = run(client.app, scope)
    assert status == 408, body
    assert response_headers[b"connection"] == b"close"
    assert code_of(orjson.loads(body)) == "REQUEST_TIMEOUT"
    assert client.get("/_emulator/clock").json() == clock


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads RSS from Linux's /proc")
def test_a_huge_header_is_cut_while_it_arrives_served() -> None:
    """Issue 15: a 64 MiB header was accepted (RSS +60 MB). httptools buffers a head
    without limit; emulator/server.py cuts it past 1 MiB with a 431, so the server grows
    by far less than the header's size."""
    with serve() as served:
        host, port = served.url.removeprefix("http://").rsplit(":", 1)
        before = _rss_kib(served.process.pid)
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(b"GET /api/v1/balance HTTP/1.1\r\nHost: x\r\nX-Big: ")
            sent = 0
            chunk = b"x" * 65536
            try:
                while sent < 64 * 2**20:
                    sock.sendall(chunk)
                    sent += len(chunk)
            except OSError:  # the server closed the connection: what is wanted
                pass
            answer = b""
            try:
                while data := sock.recv(65536):
                    answer += data
            except OSError:
                pass
        assert sent < 64 * 2**20, "the whole 64 MiB header was taken"
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
        assert _rss_kib(served.process.pid) - before < 10 * 1024
        with httpx.Client(base_url=served.url) as http:
            assert http.get(XD_ME, headers={"Authorization": f"Bearer {XD_KEY}"}).status_code == 200


def test_forwarded_headers_are_not_trusted_served() -> None:
    """The caller is the TCP peer: uvicorn's default would take X-Forwarded-For and
    -Proto from 127.0.0.1 (a keyless client could pick its own rate-limit bucket, a local
    process its scheme for the control plane's Origin check); `emulator serve` turns
    that off."""
    with serve("--rate-limit-247xd", "2") as served, httpx.Client(base_url=served.url) as http:
        remaining = []
        for n in range(3):
            answer = http.get(XD_ME, headers={"X-Forwarded-For": f"10.0.0.{n}"})
            remaining.append((answer.status_code, answer.headers["x-ratelimit-remaining"]))
        # One bucket (the peer's), not one per forwarded address (auth comes first: 401s).
        assert remaining == [(401, "1"), (401, "0"), (401, "0")]
        refused = http.post(
            "/_emulator/reset", json={},
            headers={"Origin": "https://127.0.0.1", "X-Forwarded-Proto": "https",
                     "Host": served.url.removeprefix("http://")},
        )
        assert refused.status_code == 403, refused.text  # the scheme is still http


def test_api_requests_served_at_once_or_in_a_task_get_their_answers_in_order_served() -> None:
    """`emulator serve` answers a whole API request within the read that brought it, and
    one that waits (a delay fault) from a task: pipelined on one connection, a GET, a
    delayed GET, a HEAD and a POST get four answers, in order, each whole."""
    with serve() as served:
        fault = httpx.post(f"{served.url}/_emulator/faults",
                           json={"api": "247xd", "path": "/balance", "latencyMs": 5, "times": 1})
        assert fault.status_code == 201, fault.text
        url = httpx.URL(served.url)
        key = f"Authorization: Bearer {XD_KEY}\r\nHost: emulator\r\n".encode()
        body = (b'{"serviceId": "00000000-0000-4000-8000-000000000001",'
                b' "priceOptionId": "00000000-0000-4000-8000-000000000011"}')
        requests = [
            b"GET /api/v1/otp/services HTTP/1.1\r\n" + key + b"\r\n",
            b"GET /api/v1/balance HTTP/1.1\r\n" + key + b"\r\n",
            b"HEAD /api/v1/balance HTTP/1.1\r\n" + key + b"\r\n",
            b"POST /api/v1/otp/orders HTTP/1.1\r\n" + key
            + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body,
        ]
        with socket.create_connection((url.host, url.port), timeout=10) as sock:
            sock.sendall(b"".join(requests))
            received = b""
            while received.count(b"HTTP/1.1 ") < 4 or not received.endswith(b"}"):
                chunk = sock.recv(65536)
                assert chunk, received
                received += chunk
        answers = [b"HTTP/1.1 " + part for part in received.split(b"HTTP/1.1 ")[1:]]
        statuses = [answer.split(b" ", 2)[1] for answer in answers]
        assert statuses == [b"200", b"200", b"200", b"201"], received
        head, _, balance = answers[1].partition(b"\r\n\r\n")
        assert f"content-length: {len(balance)}".encode() in head and balance.endswith(b"}")
        assert answers[2].endswith(b"\r\n\r\n")  # HEAD: GET's headers, no body
        assert f"content-length: {len(balance)}".encode() in answers[2]
        assert httpx.get(f"{served.url}/_emulator/faults").json()["faults"][0]["injected"] == 1
