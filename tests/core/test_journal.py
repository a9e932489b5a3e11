"""The journal: redaction at record time, bounded size, order, filters, rendering."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.config import ConfigError, load
from emulator.core.journal import Journal, Redactor, select, view

XD_KEY = "247xd_3769736d6939931e6de10def20d9a2483134d0c1"
ULF_KEY = "ak_live_6xT3MweUDszReLuYfv1vnmFmb4x3enH4"
REDACTOR = Redactor([r"247xd_[A-Za-z0-9]{40}", r"ak_live_[A-Za-z0-9]{32}"])
PREFIXES = {"x": "/api/v1", "u": "/v1"}


def scope(
    path: str = "/api/v1/balance",
    method: str = "GET",
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
) -> dict[str, Any]:
    return {
        "method": method,
        "path": path,
        "query_string": query,
        "headers": headers if headers is not None else [(b"authorization", f"Bearer {XD_KEY}".encode())],
    }


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (f"Bearer {XD_KEY}", "Bearer ****d0c1"),
        (f"ApiKey {ULF_KEY}", f"ApiKey ****{ULF_KEY[-4:]}"),
        ("bearer not-a-key-at-all", "bearer ****-all"),
        (XD_KEY, "****d0c1"),  # no scheme: all of it is the credential
        ("Bearer short", "Bearer ****"),  # too short to show any of it
        ("Bearer", "****"),
        ("", ""),
    ],
)
def test_an_authorization_value_keeps_its_scheme_and_last_4_characters(value: str, shown: str) -> None:
    assert REDACTOR.credentials(value.encode()) == shown.encode()


def test_keys_of_both_shapes_in_data_keep_their_prefix_and_last_4_characters() -> None:
    data = f'{{"a": "{XD_KEY}", "b": ["{ULF_KEY}"], "c": "247xd_tooshort"}}'.encode()
    redacted = REDACTOR.data(data)
    assert (
        redacted
        == f'{{"a": "247xd_****d0c1", "b": ["ak_live_****{ULF_KEY[-4:]}"], "c": "247xd_tooshort"}}'.encode()
    )
    assert REDACTOR.text(f"/x/{XD_KEY}/y") == "/x/247xd_****d0c1/y"


def test_data_without_keys_comes_back_as_is() -> None:
    data = b'{"success":true,"data":{"coins":500.0}}'
    assert REDACTOR.data(data) is data
    assert REDACTOR.data(b"") == b""


def test_headers_redact_authorization_and_any_other_value_holding_a_key() -> None:
    headers = [
        (b"host", b"example"),
        (b"authorization", f"ApiKey {ULF_KEY}".encode()),
        (b"x-api-key", XD_KEY.encode()),
    ]
    assert REDACTOR.headers(headers) == b"\n".join(
        [
            b"host",
            b"example",
            b"authorization",
            f"ApiKey ****{ULF_KEY[-4:]}".encode(),
            b"x-api-key",
            b"247xd_****d0c1",
        ]
    )


def test_a_newline_inside_a_header_value_cannot_shift_the_names_and_values() -> None:
    # Impossible over HTTP, possible in-process.
    journal = Journal(10, REDACTOR)
    journal.record(0, "x", scope(headers=[(b"x-a", b"one\ntwo"), (b"x-b", b"three")]), None, b"", 404, b"", 0)
    assert view(journal.newest_first()[0])["headers"] == {"x-a": "one\\ntwo", "x-b": "three"}


def test_a_recorded_entry_is_left_alone_by_the_garbage_collector() -> None:
    # Only tuples, strings, bytes and numbers: soon untracked, so a full journal does not
    # churn the old generation.
    import gc

    journal = Journal(10, REDACTOR)
    headers = [(b"host", b"x"), (b"authorization", f"Bearer {XD_KEY}".encode())]
    journal.record(1, "x", scope(headers=headers), "/balance", b"{}", 200, b"{}", 5, None)
    entry = journal.newest_first()[0]
    passes = 0
    while gc.is_tracked(entry) and passes < 10:  # inner tuples first, then the entry
        gc.collect()
        passes += 1
    assert not gc.is_tracked(entry)


def test_record_redacts_path_query_headers_body_and_response() -> None:
    journal = Journal(10, REDACTOR)
    journal.record(
        1,
        "x",
        scope(path=f"/api/v1/{XD_KEY}", query=f"key={ULF_KEY}".encode()),
        None,
        f'{{"key": "{XD_KEY}"}}'.encode(),
        404,
        f'{{"echo": "{ULF_KEY}"}}'.encode(),
        1000,
    )
    stored = repr(journal.newest_first())
    assert XD_KEY not in stored and ULF_KEY not in stored
    shown = view(journal.newest_first()[0])
    assert shown["path"] == "/api/v1/247xd_****d0c1"
    assert shown["query"] == f"key=ak_live_****{ULF_KEY[-4:]}"
    assert shown["body"] == {"key": "247xd_****d0c1"}
    assert shown["response"] == {"echo": f"ak_live_****{ULF_KEY[-4:]}"}
    assert shown["headers"] == {"authorization": "Bearer ****d0c1"}


def test_the_journal_is_bounded_and_lists_newest_first() -> None:
    journal = Journal(3, REDACTOR)
    for i in range(5):
        journal.record(i, "x", scope(), "/balance", b"", 200, b"{}", 0)
    assert len(journal) == 3
    assert [entry[0] for entry in journal.newest_first()] == [4, 3, 2]
    journal.clear()
    assert journal.newest_first() == []


def _journal() -> Journal:
    journal = Journal(100, REDACTOR)
    journal.record(1, "x", scope("/api/v1/balance"), "/balance", b"", 200, b"{}", 0)
    journal.record(
        2, "x", scope("/api/v1/otp/orders/abc", "GET"), "/otp/orders/{orderId}", b"", 404, b"{}", 0
    )
    journal.record(3, "u", scope("/v1/wallet/balance"), "/wallet/balance", b"", 401, b"{}", 0)
    journal.record(
        4, "x", scope("/api/v1/otp/orders", "POST"), "/otp/orders", b"{}", 201, b"{}", 0, "fault-1"
    )
    return journal


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [4, 3, 2, 1]),
        ({"api": "x"}, [4, 2, 1]),
        ({"method": "post"}, [4]),
        ({"status": 404}, [2]),
        ({"path": "/api/v1/balance"}, [1]),  # as sent
        ({"path": "/balance"}, [1]),  # relative to the API's prefix
        ({"path": "/otp/orders/{orderId}"}, [2]),  # the route template
        ({"path": "/wallet/balance", "api": "x"}, []),
        ({"limit": 2}, [4, 3]),
        ({"api": "x", "limit": 1}, [4]),
    ],
)
def test_select_filters_and_limits(filters: dict[str, Any], expected: list[int]) -> None:
    chosen = select(_journal().newest_first(), prefixes=PREFIXES, **filters)
    assert [entry[0] for entry in chosen] == expected


def test_view_decodes_json_lazily_and_keeps_other_text() -> None:
    journal = Journal(10, REDACTOR)
    headers = [(b"accept", b"a"), (b"accept", b"b"), (b"authorization", f"Bearer {XD_KEY}".encode())]
    journal.record(
        0, "x", scope(method="POST", headers=headers), "/otp/orders", b"not json", 400, b"", 2_345_678
    )
    shown = view(journal.newest_first()[0])
    assert shown == {
        "requestId": "req-1",
        "time": "1970-01-01T00:00:00.000Z",
        "api": "x",
        "method": "POST",
        "path": "/api/v1/balance",
        "route": "/otp/orders",
        "query": "",
        "headers": {"accept": "a, b", "authorization": "Bearer ****d0c1"},
        "body": "not json",
        "status": 400,
        "response": None,
        "durationMs": 2.346,
        "faulted": False,
        "faultId": None,
        "faultPhase": None,
        "withheld": None,
        "accountId": None,
    }


def test_a_dropped_request_has_no_status_or_response_and_is_marked_faulted() -> None:
    journal = Journal(10, REDACTOR)
    journal.record(0, "x", scope(), "/balance", b"", None, None, 0, "fault-3")
    shown = view(journal.newest_first()[0])
    assert (shown["status"], shown["response"], shown["faulted"], shown["faultId"]) == (
        None,
        None,
        True,
        "fault-3",
    )


def test_journal_size_comes_from_flag_or_environment_and_is_bounded() -> None:
    assert load({}, {}).journal_size == 1000
    assert load({"journal_size": "5"}, {"EMULATOR_JOURNAL_SIZE": "7"}).journal_size == 5
    assert load({}, {"EMULATOR_JOURNAL_SIZE": "0"}).journal_size == 0
    for bad in ("-1", "many", "1000001"):
        with pytest.raises(ConfigError, match="journal size"):
            load({"journal_size": bad}, {})
