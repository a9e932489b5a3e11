"""GET /_emulator/events: every order creation, transition and balance change, in order,
with ids to resume from; as JSON in-process, as Server-Sent Events from a served emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from emulator.core.events import EventLog, render
from tests.served import serve
from tests.usdtlowfee.support import DEMO_KEY, order_body
from tests.xd247.support import LINE, LINE_AIS, RICH, auth, ok

from .apis import ULF
from .test_advance_until import at, energy, otp


def events(client: TestClient | httpx.Client, **params: Any) -> dict[str, Any]:
    response = client.get("/_emulator/events", params={"format": "json", **params})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def kinds(found: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [(e["kind"], e.get("cause", ""), e.get("to") or e.get("status") or "") for e in found]


def test_a_creation_and_its_natural_move_read_later(client: TestClient) -> None:
    start = events(client)["last"]
    order_id = energy(client)
    client.post("/_emulator/clock/advance", json={"seconds": 60})
    found = events(client, after=start)["events"]
    assert [e["kind"] for e in found] == ["order.created", "balance"]
    created, balance = found
    assert created == {
        "id": start + 1, "kind": "order.created", "at": at(0), "api": "usdtlowfee", "accountId": "ulf-demo",
        "orderId": order_id, "type": "energy", "status": "processing",
    }  # fmt: skip
    assert (balance["frozenSun"], balance["cause"], balance["orderId"]) == (3_000_000, "request", order_id)
    # The move came due at +5 s; the read that applies it reports it, at +5 s.
    response = client.get(f"/v1/energy/orders/{order_id}", headers=ULF.headers(DEMO_KEY))
    assert response.json()["data"]["status"] == "completed"
    moved = events(client, after=balance["id"])["events"]
    assert kinds(moved) == [("order.transition", "natural", "completed"), ("balance", "natural", "")]
    assert moved[0]["at"] == at(5) and moved[0]["from"] == "processing"
    assert moved[1]["frozenSun"] == 0


def test_a_clock_advance_and_a_forced_move_say_so(client: TestClient) -> None:
    start = events(client)["last"]
    fired = otp(client, LINE_AIS)
    forced = otp(client, LINE_AIS)
    forcing = client.post(f"/_emulator/247xd/orders/{forced}/transition", json={"to": "cancelled"})
    assert forcing.status_code == 200, forcing.text
    client.post("/_emulator/clock/advance", json={"until": "next"})
    found = [e for e in events(client, after=start)["events"] if e["kind"] == "order.transition"]
    assert [(e["orderId"], e["cause"], e["to"], e["at"]) for e in found] == [
        (forced, "forced", "cancelled", at(0)),
        (fired, "advance", "completed", at(57)),
    ]


def test_refunds_and_control_plane_balances_are_balance_events(client: TestClient) -> None:
    start = events(client)["last"]
    order_id = otp(client, LINE_AIS)
    assert client.post(f"/_emulator/247xd/orders/{order_id}/transition", json={"to": "cancelled"}).is_success
    ok(client.post(f"/api/v1/otp/orders/{order_id}/refund", headers=auth(RICH)))
    client.patch("/_emulator/247xd/accounts/xd-rich", json={"coins": 7})
    found = events(client, after=start)["events"]
    coins = [(e["cause"], e["change"]) for e in found if e["kind"] == "balance"]
    assert coins == [("request", -15.0), ("request", 15.0), ("control", -99_993.0)]
    assert events(client)["events"][-1]["coins"] == 7.0


def test_filters_resume_and_resets(client: TestClient) -> None:
    start = events(client)["last"]
    otp(client, LINE_AIS)
    energy(client)
    only = events(client, after=start, api="usdtlowfee")
    assert {e["api"] for e in only["events"]} == {"usdtlowfee"}
    assert only["last"] == events(client)["last"]  # resumes past what the filter skipped
    assert events(client, after=start, accountId="xd-rich")["events"][0]["api"] == "247xd"
    assert events(client, after=start, limit=1)["last"] == start + 1
    # The JSON form's own `after` wins over a Last-Event-ID header.
    response = client.get("/_emulator/events", params={"format": "json", "after": start, "limit": 1},
                          headers={"Last-Event-ID": "0"})
    assert response.json()["events"][0]["id"] == start + 1
    last = events(client)["last"]
    client.post("/_emulator/reset")
    after_reset = events(client, after=last)["events"]
    assert [(e["id"], e["kind"], e["reason"]) for e in after_reset] == [(last + 1, "reset", "reset")]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "xml"}, "format"),
        ({"format": "json", "after": "-1"}, "after"),
        ({"format": "json", "limit": "0"}, "limit"),
        ({"format": "json", "api": "other"}, "api"),
        ({"format": "json", "accountId": "a b"}, "accountId"),
        ({"lastEventId": "x"}, "lastEventId"),
    ],
)
def test_bad_queries_are_400_naming_the_field(client: TestClient, params: dict[str, str], field: str) -> None:
    response = client.get("/_emulator/events", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(field)


def test_the_log_is_bounded_and_a_reader_left_behind_gets_a_gap() -> None:
    log = EventLog(size=3)
    for n in range(5):
        log.emit("247xd", "a", "balance", {"n": n}, 0)
    found, last = log.since(0)
    assert last == 5 and log.kept == 3
    assert [render(e)["kind"] for e in found] == ["gap", "balance", "balance", "balance"]
    assert render(found[0])["missed"] == 2 and [e[0] for e in found[1:]] == [3, 4, 5]
    assert log.since(5) == ([], 5)
    assert log.since(99) == log.since(0)  # an id from another run: everything kept
    woken: list[int] = []
    subscriber = log.subscribe(lambda: woken.append(1))
    log.emit("247xd", "a", "balance", {}, 0)
    log.emit("247xd", "a", "balance", {}, 0)
    assert woken == [1]  # one wake-up until the reader has read
    subscriber.pending = False
    log.emit("247xd", "a", "balance", {}, 0)
    assert woken == [1, 1]
    log.unsubscribe(subscriber)


# --- the stream, served -----------------------------------------------------------------
@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    with serve(env={"EMULATOR_CLOCK_START": "2025-01-15T10:30:00Z", "EMULATOR_CLOCK_FROZEN": "true"}) as s:
        yield s.url


def sse_events(lines: Iterator[str], count: int) -> list[dict[str, str]]:
    """The next `count` events of a stream (comments and the opening `retry:` skipped)."""
    found: list[dict[str, str]] = []
    event: dict[str, str] = {}
    for line in lines:
        if not line:
            if "data" in event:  # not the opening `retry:`
                found.append(event)
            event = {}
            if len(found) == count:
                return found
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        event[name] = value.removeprefix(" ")
    raise AssertionError(f"the stream ended after {found}")


def test_the_stream_delivers_a_clock_advance_and_resumes_from_last_event_id(served: str) -> None:
    timeout = httpx.Timeout(10.0)
    with httpx.Client(base_url=served, timeout=timeout) as control:
        control.post("/_emulator/reset")
        body = {"serviceId": LINE, "priceOptionId": LINE_AIS}
        with control.stream("GET", "/_emulator/events", params={"api": "247xd"}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines) == "retry: 1000"  # connected: what follows is what happens next
            order = control.post("/api/v1/otp/orders", headers=auth(RICH), json=body).json()["data"]
            # Filtered out of this stream, and due first.
            control.post("/v1/energy/orders", headers=ULF.headers(DEMO_KEY), json=order_body())
            advanced = control.post("/_emulator/clock/advance", json={"until": "next"}).json()
            assert advanced["now"] == at(5)
            advanced = control.post("/_emulator/clock/advance", json={"until": "next"}).json()
            assert advanced["now"] == at(57)
            created, balance, moved = sse_events(lines, 3)
        named = (created["event"], balance["event"], moved["event"])
        assert named == ("order.created", "balance", "order.transition")
        shown = httpx.Response(200, content=moved["data"]).json()
        assert (shown["orderId"], shown["to"], shown["cause"], shown["at"]) == (
            order["orderId"], "completed", "advance", at(57)
        )
        # A new connection from the creation's id gets what came after it, in order: the
        # header wins over a stale id in the URL, as when an EventSource reconnects.
        resume = {"Last-Event-ID": created["id"]}
        stale = {"api": "247xd", "lastEventId": "0"}
        with control.stream("GET", "/_emulator/events", params=stale, headers=resume) as stream:
            again = sse_events(stream.iter_lines(), 2)
        assert [e["id"] for e in again] == [balance["id"], moved["id"]]
        assert events(control, after=int(created["id"]), api="247xd")["events"][1]["id"] == int(moved["id"])
