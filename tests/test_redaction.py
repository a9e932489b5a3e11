"""No key survives in the journal, the dashboard's Requests page or the access log, in any
encoding a request can carry it (issue 15 item 5): raw, JSON-escaped characters anywhere
in a body, percent-encoded characters (either case of hex) anywhere in the path, the
query or a header value, in headers of any name and any case."""

from __future__ import annotations

import asyncio
import html
import logging
import re
import string
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from emulator.core.http import exchange
from emulator.logs import JsonFormatter
from emulator.runtime import Emulator

ALNUM = string.ascii_letters + string.digits
KEYS = st.one_of(
    st.text(ALNUM, min_size=40, max_size=40).map(lambda rest: "247xd_" + rest),
    st.text(ALNUM, min_size=32, max_size=32).map(lambda rest: "ak_live_" + rest),
)
Encode = Callable[[str, bool], str]


def raw(c: str, upper: bool) -> str:
    return c


def percent(c: str, upper: bool) -> str:
    return "%" + (f"{ord(c):02X}" if upper else f"{ord(c):02x}")


def json_escape(c: str, upper: bool) -> str:
    return "\\u00" + (f"{ord(c):02X}" if upper else f"{ord(c):02x}")


def json_percent(c: str, upper: bool) -> str:
    """`\\u0025` (a JSON-escaped `%`) starting a percent-encoding: `%5F` once parsed."""
    return "\\u0025" + percent(c, upper)[1:]


IN_URL: list[Encode] = [raw, raw, percent]
IN_BODY: list[Encode] = [raw, raw, percent, json_escape, json_percent]


def encoded(data: st.DataObject, key: str, ways: list[Encode]) -> str:
    return "".join(data.draw(st.sampled_from(ways))(c, data.draw(st.booleans())) for c in key)


def json_unescaped(text: str) -> str:
    return re.sub(r"\\u([0-9A-Fa-f]{4})", lambda m: chr(int(m.group(1), 16)), text)


def forms(text: str) -> Iterator[str]:
    """The text and what it decodes to (percent-encoding, JSON escapes, both)."""
    yield text
    yield unquote(text)
    yield json_unescaped(text)
    yield unquote(json_unescaped(text))


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from strings(v)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif value is not None:
        yield str(value)


def assert_no_key(key: str, texts: Iterator[str], where: str) -> None:
    for text in texts:
        for form in forms(text):
            assert key not in form, f"{key} in {where}: {text[:300]!r}"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def access_log() -> Iterator[Records]:
    logger = logging.getLogger("emulator.access")
    handler, level = Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


API_PATHS = {
    "247xd": ("/api/v1/social/orders", "Bearer 247xd_b8dea7c360f5addabe9d6dd532d8fadd55d62b2a"),
    "usdtlowfee": ("/v1/addresses", "ApiKey ak_live_rR89FMJJckUpNloEOvSsT6RT8ItCPzCp"),
}
HEADER_NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}", fullmatch=True).filter(
    lambda name: name.lower() not in ("content-length", "content-type", "authorization", "host")
)


def build(data: st.DataObject, key: str) -> tuple[dict[str, Any], bytes]:
    """One request carrying `key` in one place, in one drawn encoding; the scope as a
    server builds it (`path` percent-decoded, `raw_path` and the query as sent)."""
    api = data.draw(st.sampled_from(sorted(API_PATHS)))
    collection, authorization = API_PATHS[api]
    where = data.draw(st.sampled_from(["path", "query", "header", "authorization", "body", "link"]))
    raw_path, query, body = collection, "", b""
    headers: list[tuple[bytes, bytes]] = [(b"content-type", b"application/json")]
    auth_name = data.draw(st.sampled_from(["authorization", "Authorization", "AUTHORIZATION"]))
    method = "POST"
    if where == "path":
        method = data.draw(st.sampled_from(["GET", "POST"]))
        raw_path = f"{collection}/{encoded(data, key, IN_URL)}" + data.draw(st.sampled_from(["", "/cancel"]))
    elif where == "query":
        method = "GET"
        query = data.draw(st.sampled_from(["k=", "a=1&key=", ""])) + encoded(data, key, IN_URL)
    elif where == "header":
        name = data.draw(HEADER_NAME)
        value = data.draw(st.sampled_from(["", "x ", "token="])) + encoded(data, key, IN_URL)
        headers.append((name.encode(), value.encode()))
    elif where == "authorization":
        scheme = data.draw(st.sampled_from(["Bearer ", "ApiKey ", "", "Basic "]))
        authorization = scheme + encoded(data, key, [*IN_URL, json_escape])
    if where in ("body", "link"):
        note = encoded(data, key, IN_BODY)
        link = "https://x.com/?k=" + encoded(data, key, [raw, percent]) if where == "link" else "https://x.com/"
        body = (
            '{"optionId": "50371bb9-f952-4916-b02b-cb89b962367f", "quantity": 100, "label": "a", '
            f'"address": "TXYZ", "link": "{link}", "note": "{note}"}}'
        ).encode()
    headers.append((auth_name.encode(), authorization.encode()))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http",
        "method": method, "path": unquote(raw_path), "raw_path": raw_path.encode(), "root_path": "",
        "query_string": query.encode(), "headers": headers,
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8080),
    }
    return scope, body


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=KEYS, data=st.data())
def test_no_key_survives_in_any_encoding(
    client: TestClient, emu: Emulator, access_log: Records, key: str, data: st.DataObject
) -> None:
    emu.journal.clear()
    access_log.records.clear()
    scope, body = build(data, key)
    status, _, _ = asyncio.run(exchange(client.app, scope, body))
    assert status, "no answer"

    journal = client.get("/_emulator/requests")
    assert journal.status_code == 200
    (entry,) = journal.json()["requests"]
    assert entry["path"] == scope["path"] or "****" in entry["path"]
    assert_no_key(key, iter([journal.text, *strings(journal.json())]), "GET /_emulator/requests")

    page = client.get("/_emulator/ui/requests")
    assert page.status_code == 200 and entry["method"] in page.text
    assert_no_key(key, iter([page.text, html.unescape(page.text)]), "the Requests page")

    (record,) = access_log.records
    formatted = [record.getMessage(), JsonFormatter().format(record), str(record.__dict__)]
    assert_no_key(key, iter(formatted), "the access log")


def test_the_property_catches_a_redactor_that_skips_decoding(
    client: TestClient, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check itself: with decoding off (the redaction before issue 15), `%5F` leaks."""
    monkeypatch.setattr("emulator.core.journal.decoded", lambda data: data)
    key = "247xd_" + "Ab3" * 13 + "x"
    client.get(f"/v1/addresses?k={key.replace('_', '%5F')}")
    with pytest.raises(AssertionError):
        assert_no_key(key, iter([client.get("/_emulator/requests").text]), "the journal")
    emu.journal.clear()
    monkeypatch.undo()
    client.get(f"/v1/addresses?k={key.replace('_', '%5F')}")
    assert_no_key(key, iter([client.get("/_emulator/requests").text]), "the journal")


def test_a_body_key_is_masked_and_the_body_stays_json(client: TestClient) -> None:
    key = "247xd_" + "a1" * 20
    escaped = key.replace("_", "\\u005f").replace("a", "\\u0061", 3)
    client.post("/v1/addresses", content=orjson.dumps({"x": 1})[:-1] + f', "note": "{escaped}"}}'.encode(),
                headers={"content-type": "application/json"})
    (entry,) = client.get("/_emulator/requests").json()["requests"]
    assert entry["body"] == {"x": 1, "note": "247xd_****a1a1"}
