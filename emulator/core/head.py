"""What the request path reads of a request's headers, worked out once per distinct list.

The Host check, the bound on the head's size, the key, the body's Content-Type, the
journal's redacted copy and the access log's shown key each need a scan of the header
list, and a client sends the same list on every request of a connection (mostly of a
whole run). So a `Head` is made by one scan the first time a list is seen, and found by
one dict lookup after that; the journal's copy and the shown key are filled in by their
users on first need (they depend on the redactor, which this module does not know).

The cache is bounded (`MAX_HEADS` lists, then it starts afresh): a client whose headers
change on every request (a request id, a trace header) costs one tuple and one lookup
more than a scan. It holds header values as received, keys included, in memory only:
what leaves the process (journal, log, pages) is the redacted copy.
"""

from __future__ import annotations

from typing import Any

from .http import is_json_media
from .types import Headers, Scope

MAX_HEADS = 1024
SCOPE_KEY = "emulator.head"
_AUTHORIZATION = b"authorization"


class Head:
    """`host`: the first Host value; `size`: the names' and values' bytes;
    `authorization`: the one `authorization` value, None without one or with several
    (ambiguous); `any_authorization`: the first Authorization value whatever its name's
    case (for the log, which shows what was sent); `json`: the first Content-Type is
    application/json. `keys`, `journal`, `shown`: filled in by their users."""

    __slots__ = ("host", "size", "authorization", "any_authorization", "json", "keys", "journal", "shown")

    def __init__(self, headers: Headers) -> None:
        host: bytes | None = None
        size = 0
        authorization: bytes | None = None
        authorizations = 0
        any_authorization: bytes | None = None
        content_type: bytes | None = None
        for name, value in headers:
            size += len(name) + len(value)
            if name == b"host":
                if host is None:
                    host = value
            elif len(name) == 13 and name.lower() == _AUTHORIZATION:
                if name == _AUTHORIZATION:
                    authorizations += 1
                    authorization = value
                if any_authorization is None:
                    any_authorization = value
            elif name == b"content-type" and content_type is None:
                content_type = value
        self.host = host
        self.size = size
        self.authorization = authorization if authorizations == 1 else None
        self.any_authorization = any_authorization
        self.json = content_type is not None and is_json_media(content_type)
        self.keys: dict[Any, str | None] = {}  # an auth scheme -> the key it reads, None: none
        self.journal: tuple[Any, bytes] | None = None  # (the redactor, the redacted copy)
        self.shown: str | None = None  # the access log's `Bearer ****d0c1`, or "-"


_heads: dict[tuple[tuple[bytes, bytes], ...], Head] = {}


def head_of(scope: Scope) -> Head:
    """The request's Head: kept in the scope for the layers after the first."""
    head: Head | None = scope.get(SCOPE_KEY)
    if head is not None:
        return head
    headers = scope["headers"]
    try:
        key = tuple(headers)
        head = _heads.get(key)
    except TypeError:  # an in-process caller's headers as lists: not hashable, not cached
        key = None
    if head is None:
        head = Head(headers)
        if key is not None:
            if len(_heads) >= MAX_HEADS:
                _heads.clear()
            _heads[key] = head
    scope[SCOPE_KEY] = head
    return head
