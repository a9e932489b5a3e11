"""The fault registry: matching, newest-first choice, times, probability, dropping."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from emulator.core.faults import ConnectionDropped, FaultRegistry, drop_connection


def test_an_empty_registry_is_inactive_and_picks_nothing() -> None:
    registry = FaultRegistry()
    assert registry.active is False
    assert registry.pick("api", "GET", "/x") is None


def test_adding_activates_and_removing_or_clearing_deactivates() -> None:
    registry = FaultRegistry()
    fault = registry.add(api="api", status=500)
    assert registry.active is True
    assert registry.remove(fault.id) is True
    assert registry.active is False
    assert registry.remove(fault.id) is False
    registry.add(api="api", status=500)
    registry.clear()
    assert registry.active is False and registry.all() == []


def test_ids_are_sequential_and_the_view_has_every_field() -> None:
    registry = FaultRegistry()
    first = registry.add(api="api", status=503, code="INTERNAL_ERROR")
    second = registry.add(api="api", drop=True, path="/x", method="GET", times=2, probability=0.5)
    assert (first.id, second.id) == ("fault-1", "fault-2")
    assert second.view() == {
        "faultId": "fault-2",
        "api": "api",
        "method": "GET",
        "path": "/x",
        "status": None,
        "code": None,
        "message": None,
        "latencyMs": 0,
        "drop": True,
        "times": 2,
        "probability": 0.5,
        "phase": "before",
        "accountId": None,
        "injected": 0,
    }


def test_a_fault_matches_its_api_method_and_template_only() -> None:
    registry = FaultRegistry()
    fault = registry.add(api="a", method="POST", path="/orders/{id}", status=500)
    assert registry.pick("b", "POST", "/orders/{id}") is None
    assert registry.pick("a", "GET", "/orders/{id}") is None
    assert registry.pick("a", "POST", "/orders") is None
    assert registry.pick("a", "POST", None) is None
    assert registry.pick("a", "POST", "/orders/{id}") is fault


def test_a_fault_without_method_or_path_matches_every_request_of_its_api() -> None:
    registry = FaultRegistry()
    fault = registry.add(api="a", status=500)
    for method, template in (("GET", "/x"), ("DELETE", "/y/{id}"), ("PATCH", None)):
        assert registry.pick("a", method, template) is fault
    assert registry.pick("b", "GET", "/x") is None


def test_the_newest_matching_fault_wins() -> None:
    registry = FaultRegistry()
    registry.add(api="a", status=500)
    newer = registry.add(api="a", path="/x", status=503)
    assert registry.pick("a", "GET", "/x") is newer
    assert registry.pick("a", "GET", "/y") is not newer


def test_times_caps_the_injections_and_the_fault_stays_listed_but_inert() -> None:
    registry = FaultRegistry()
    fault = registry.add(api="a", status=500, times=2)
    assert registry.pick("a", "GET", "/x") is fault
    assert registry.pick("a", "GET", "/x") is fault
    assert registry.pick("a", "GET", "/x") is None
    assert fault.injected == 2 and fault.exhausted
    assert registry.all() == [fault]
    assert registry.active is False  # nothing left to inject: the request path skips it


def test_an_exhausted_newer_fault_lets_an_older_one_through() -> None:
    registry = FaultRegistry()
    older = registry.add(api="a", status=500)
    registry.add(api="a", status=503, times=1)
    assert registry.pick("a", "GET", "/x").status == 503  # type: ignore[union-attr]
    assert registry.pick("a", "GET", "/x") is older


def test_probability_zero_never_injects_and_one_always_does_drawing_nothing() -> None:
    registry = FaultRegistry(seed=1)
    state = registry._rng.getstate()
    never = registry.add(api="a", path="/never", status=500, probability=0.0)
    always = registry.add(api="a", path="/always", status=500, probability=1.0)
    for _ in range(50):
        assert registry.pick("a", "GET", "/never") is None
        assert registry.pick("a", "GET", "/always") is always
    assert never.injected == 0 and always.injected == 50
    assert registry._rng.getstate() == state


def _draws(seed: int, n: int = 200) -> list[bool]:
    registry = FaultRegistry(seed=seed)
    registry.add(api="a", status=500, probability=0.3)
    return [registry.pick("a", "GET", "/x") is not None for _ in range(n)]


def test_a_fractional_probability_is_deterministic_for_a_seed() -> None:
    first = _draws(42)
    assert first == _draws(42)
    assert first != _draws(43)
    assert 30 <= sum(first) <= 90  # about 30% of 200


def test_drop_without_a_server_transport_raises_a_connection_error() -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    with pytest.raises(ConnectionDropped) as caught:
        asyncio.run(drop_connection(receive))
    assert isinstance(caught.value, ConnectionError)


class _Transport:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class _Cycle:
    """Stands for uvicorn's request cycle: `receive` is its method, it holds the transport."""

    def __init__(self) -> None:
        self.transport = _Transport()
        self.messages: list[dict[str, Any]] = [
            {"type": "http.request", "body": b"", "more_body": False},
            {"type": "http.disconnect"},
        ]

    async def receive(self) -> dict[str, Any]:
        return self.messages.pop(0)


def test_drop_under_a_server_closes_its_transport_and_waits_for_the_disconnect() -> None:
    cycle = _Cycle()
    asyncio.run(drop_connection(cycle.receive))
    assert cycle.transport.closed is True
    assert cycle.messages == []
