"""The request path's body helpers: size limit, Content-Type, JSON objects only."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from emulator.core.http import MAX_BODY, BodyError, content_type_is_json, parse_json_object, read_body


def receiver(*chunks: bytes, disconnect: bool = False) -> Any:
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    if disconnect:
        messages = [{"type": "http.disconnect"}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    return receive


def test_read_body_joins_chunks() -> None:
    assert asyncio.run(read_body(receiver(b'{"a"', b": 1}"))) == b'{"a": 1}'


def test_read_body_accepts_exactly_the_limit_and_refuses_one_byte_more() -> None:
    assert len(asyncio.run(read_body(receiver(b"x" * MAX_BODY)))) == MAX_BODY
    with pytest.raises(BodyError, match="64 KiB"):
        asyncio.run(read_body(receiver(b"x" * MAX_BODY, b"y")))


def test_read_body_refuses_a_client_that_went_away() -> None:
    with pytest.raises(BodyError):
        asyncio.run(read_body(receiver(disconnect=True)))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (b"application/json", True),
        (b"application/json; charset=utf-8", True),
        (b"Application/JSON", True),
        (b" application/json ;", True),
        (b"text/plain", False),
        (b"application/jsonp", False),
        (b"application/problem+json", False),
        (b"", False),
    ],
)
def test_content_type_must_be_application_json(value: bytes, expected: bool) -> None:
    assert content_type_is_json([(b"content-type", value)]) is expected


def test_a_missing_content_type_is_not_json() -> None:
    assert content_type_is_json([(b"accept", b"application/json")]) is False


def test_parse_json_object_accepts_objects_only() -> None:
    assert parse_json_object(b'{"a": [1, 2]}') == {"a": [1, 2]}
    for raw in (b"", b"{", b"[]", b'"x"', b"1", b"null", b"NaN", b"\xff"):
        with pytest.raises(BodyError):
            parse_json_object(raw)


def _stalled() -> Any:
    """A receive that never delivers (a client that sent its headers and stopped)."""

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return receive


def test_a_stalled_read_is_cut_and_the_others_go_on() -> None:
    """One watch timer for all reads: the read past its deadline ends with BodyTimeout (not
    a cancelled task), a read with a later deadline is not cut, and nothing is left watched."""
    from emulator.core import http as http_mod

    async def main() -> tuple[BaseException | None, bytes, int]:
        gate = asyncio.Event()

        async def slow() -> dict[str, Any]:
            await gate.wait()
            return {"type": "http.request", "body": b"{}", "more_body": False}

        stalled = asyncio.ensure_future(read_body(_stalled(), timeout_s=0))
        later = asyncio.ensure_future(read_body(slow, timeout_s=3600))
        done, _ = await asyncio.wait([stalled], timeout=5)  # the 0 s deadline: the next loop turn
        gate.set()
        body = await later
        deadlines = http_mod._deadlines[asyncio.get_running_loop()]
        return stalled.exception(), body, len(deadlines.reads) + len(deadlines.expired)

    error, body, left = asyncio.run(main())
    assert isinstance(error, http_mod.BodyTimeout)
    assert "within 0 s" in str(error)
    assert body == b"{}"
    assert left == 0


def test_a_read_cancelled_by_someone_else_stays_cancelled() -> None:
    """A cancellation that is not the deadline's (the server shutting down) is not turned
    into a 408."""

    async def main() -> None:
        task = asyncio.ensure_future(read_body(_stalled(), timeout_s=3600))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
