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
