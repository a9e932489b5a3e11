"""core/head.py: what the request path reads of the headers, once per distinct list."""

from __future__ import annotations

from emulator.core import head as head_mod
from emulator.core.auth import AuthScheme
from emulator.core.head import Head, head_of

KEY = "247xd_" + "a" * 40
SCHEME = AuthScheme("Bearer", r"247xd_[A-Za-z0-9]{40}")


def scope(headers: list) -> dict:  # type: ignore[type-arg]
    return {"headers": headers}


def test_one_scan_reads_host_size_key_and_content_type() -> None:
    headers = [
        (b"host", b"127.0.0.1:8080"), (b"host", b"other"), (b"authorization", f"Bearer {KEY}".encode()),
        (b"content-type", b"Application/JSON; charset=utf-8"),
    ]
    head = Head(headers)
    assert head.host == b"127.0.0.1:8080"  # the first
    assert head.size == sum(len(n) + len(v) for n, v in headers)
    assert head.json is True
    assert SCHEME.key_of(head) == KEY


def test_two_authorization_headers_are_no_key_but_the_log_shows_the_first() -> None:
    head = Head([(b"authorization", b"Bearer one-key"), (b"authorization", f"Bearer {KEY}".encode())])
    assert head.authorization is None
    assert SCHEME.key_of(head) is None
    assert head.any_authorization == b"Bearer one-key"


def test_a_mixed_case_name_is_no_key_as_before_but_is_logged() -> None:
    """Over HTTP names arrive lowercased; in-process the key is read from `authorization`
    only (as AuthScheme always did), while the log and journal still mask any case."""
    head = Head([(b"Authorization", f"Bearer {KEY}".encode())])
    assert SCHEME.key_of(head) is None
    assert head.any_authorization == f"Bearer {KEY}".encode()


def test_the_same_list_is_one_head_and_another_list_another() -> None:
    a = [(b"host", b"localhost"), (b"authorization", f"Bearer {KEY}".encode())]
    first = head_of(scope(list(a)))
    assert head_of(scope(list(a))) is first  # equal lists, new objects: found
    other = head_of(scope([(b"host", b"localhost")]))
    assert other is not first and SCHEME.key_of(other) is None


def test_the_head_is_kept_in_the_scope_for_later_layers() -> None:
    s = scope([(b"host", b"localhost")])
    assert head_of(s) is s[head_mod.SCOPE_KEY] is head_of(s)


def test_unhashable_headers_are_read_uncached() -> None:
    head = head_of(scope([[b"host", b"localhost"]]))
    assert head.host == b"localhost"


def test_the_cache_is_bounded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(head_mod, "MAX_HEADS", 3)
    monkeypatch.setattr(head_mod, "_heads", {})
    for n in range(10):
        head_of(scope([(b"x-request-id", str(n).encode())]))
    assert len(head_mod._heads) <= 3
