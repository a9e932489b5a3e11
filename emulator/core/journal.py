"""The request journal (WireMock's): the last N API requests and their responses.

Recording is on the request path, so it stores one tuple of bytes already at hand;
JSON decoding and rendering wait for GET /_emulator/requests. Keys are redacted when
recorded, so the journal never holds a full key.
"""

from __future__ import annotations

import re
import re._parser  # the shortest key a pattern matches (public API has none)
from collections import deque
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

import orjson

from .clock import iso_ms
from .head import SCOPE_KEY, head_of

MASK = "****"
SHOWN = 4  # the last characters of a key that stay visible
_AUTHORIZATION = b"authorization"

# An escape of a character RFC 3986 calls unreserved (letters, digits, `-._~`: every
# character of a key): `%5F`/`%5f` in a URL, `\u005F` in a JSON string. Decoding these
# changes no meaning (RFC 3986 section 6.2.2.2; a JSON escape stands for its character),
# so a key is looked for, and masked, in the decoded text.
_UNRESERVED_HEX = rb"(3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa]|2[DdEe]|5[Ff]|7[Ee])"
_PERCENT = re.compile(rb"%" + _UNRESERVED_HEX)
# `\u00XX` not itself escaped (preceded by an even number of backslashes); `%` too
# (`\u0025`), so that the percent-encoding it starts is decoded next.
_JSON_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u00(25|" + _UNRESERVED_HEX[1:])


def _percent_char(match: re.Match[bytes]) -> bytes:
    return bytes.fromhex(match.group(1).decode())


def _json_char(match: re.Match[bytes]) -> bytes:
    return match.group(1) + bytes.fromhex(match.group(2).decode())


def decoded(data: bytes) -> bytes:
    """`data` with every escape of an unreserved character decoded, JSON's and then
    percent-encoding's, until none is left (`%5\\u0046` is `%5F` is `_`)."""
    for _ in range(8):
        plain = _PERCENT.sub(_percent_char, _JSON_ESCAPE.sub(_json_char, data))
        if plain == data:
            break
        data = plain
    return data


def _mask_bytes(match: re.Match[bytes]) -> bytes:
    # `247xd_****9a2b`: a bare key keeps its prefix (its "scheme") and its last 4 characters.
    key = match.group()
    return key[: key.rfind(b"_") + 1] + b"****" + key[-SHOWN:]


def mask_key(key: str) -> str:
    """`247xd_****9a2b`: a key's prefix (its "scheme") and its last 4 characters."""
    return key[: key.rfind("_") + 1] + MASK + key[-SHOWN:]


def _mask_text(match: re.Match[str]) -> str:
    return mask_key(match.group())


class Redactor:
    """Masks every key of the given shapes (regexes such as `247xd_[A-Za-z0-9]{40}`)
    wherever it appears, and whatever follows the scheme in an Authorization header."""

    __slots__ = ("_bytes", "_text", "shortest", "_prefixes")

    def __init__(self, key_patterns: Iterable[str]) -> None:
        patterns = list(key_patterns)
        joined = "|".join(f"(?:{pattern})" for pattern in patterns) or "(?!)"
        self._bytes = re.compile(joined.encode())
        self._text = re.compile(joined)
        # Values shorter than any key (most header values) skip the regex.
        try:
            self.shortest = min((re._parser.parse(p).getwidth()[0] for p in patterns), default=0)
        except Exception:  # a private module: if it ever changes, scan everything
            self.shortest = 0
        # Each key shape starts with a literal (`247xd_`, `ak_live_`): a substring search
        # for those is ~100x cheaper than the regex over a page of orders. A pattern with
        # no literal start turns the shortcut off.
        literals = [re.split(r"[^A-Za-z0-9_]", pattern, maxsplit=1)[0] for pattern in patterns]
        self._prefixes = [lit.encode() for lit in literals] if all(literals) else None

    def data(self, data: bytes) -> bytes:
        """`data` with every key masked, also a key written with escapes (`%5F`, `\\u005f`):
        then the decoded text, masked, is what is kept. Data without an escape and
        without a key's literal start (most of it) costs three substring searches."""
        if len(data) < self.shortest:  # an escape only lengthens a key
            return data
        # `find`, not `in`: `bytes in bytes` first tries the operand as an int, and that
        # failing costs an exception (about twice the search). One byte each: memchr.
        if data.find(b"%") >= 0 or data.find(b"\\") >= 0:
            plain = decoded(data)
            if self._bytes.search(plain) is not None:
                return self._bytes.sub(_mask_bytes, plain)
            return data
        prefixes = self._prefixes
        if prefixes is not None:
            for prefix in prefixes:
                if data.find(prefix) >= 0:
                    break
            else:
                return data
        if self._bytes.search(data) is not None:
            return self._bytes.sub(_mask_bytes, data)
        return data

    def text(self, text: str) -> str:
        """As `data`, for text (a path as the server decoded it)."""
        if "%" in text or "\\" in text:
            return self.data(text.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")
        if self._text.search(text) is not None:
            return self._text.sub(_mask_text, text)
        return text

    def path(self, path: str) -> str:
        """A request path: only one with `_`, `%` or `\\` (the server decoded `%5F`) can
        hold a key."""
        if "_" in path or "%" in path or "\\" in path:
            return self.text(path)
        return path

    @staticmethod
    def credentials(value: bytes) -> bytes:
        """`Bearer 247xd_…9a2b` -> `Bearer ****9a2b`, whatever follows the scheme, well
        formed or not; a credential of 8 characters or fewer is masked whole."""
        scheme, space, secret = value.partition(b" ")
        if not space:  # no scheme: all of it is the credential
            scheme, secret = b"", scheme
        shown = secret[-SHOWN:] if len(secret) > 2 * SHOWN else b""
        if scheme:
            return b"%b ****%b" % (scheme, shown) if secret else scheme
        return b"****" + shown if secret else b""

    def headers(self, headers: list[tuple[bytes, bytes]]) -> bytes:
        """Redacted in one pass (the Authorization header always, any other value holding
        a key) and kept as one bytes object, `name\nvalue\nname\nvalue` (a newline cannot
        occur in a header over HTTP; in-process one is escaped). One object, not a list of
        tuples: entries stay small and, holding only bytes, strings and numbers, out of
        the garbage collector's way."""
        search, shortest, credentials, data = self._bytes.search, self.shortest, self.credentials, self.data
        parts = []
        for name, value in headers:
            # Over HTTP names arrive lowercased; in-process (ASGI callers) maybe not.
            if name == _AUTHORIZATION or (len(name) == 13 and name.lower() == _AUTHORIZATION):
                value = credentials(value)
            elif len(value) >= shortest and (
                value.find(b"%") >= 0 or value.find(b"\\") >= 0 or search(value) is not None
            ):
                value = data(value)
            if len(name) >= shortest:
                name = data(name)
            parts.append(name)
            parts.append(value)
        blob = b"\n".join(parts)
        if parts and blob.count(b"\n") != len(parts) - 1:  # a newline in a value: in-process only
            blob = b"\n".join(part.replace(b"\n", b"\\n") for part in parts)
        return blob


# One entry: a plain tuple (cheapest to build). Fields, in order:
AT, API, METHOD, PATH, ROUTE, QUERY, HEADERS, BODY, STATUS, RESPONSE, DURATION_NS, FAULT = range(12)
# ... then: the request's number (`req-N`), the account its key resolved to (None without
# a valid key), the instant on the caller's clock (the account's own, else the emulator's),
# the fault's phase, the answer an `after` fault withheld (status, body), and a 429's
# Retry-After in seconds.
SEQ, ACCOUNT, CALLER_AT, PHASE, WITHHELD_STATUS, WITHHELD_RESPONSE, RETRY_AFTER = range(12, 19)
Entry = tuple[Any, ...]


class Journal:
    """Bounded: the oldest entries fall off. With `size` 0 the request path records nothing."""

    __slots__ = ("size", "redactor", "_entries", "_seq")

    def __init__(self, size: int = 1000, redactor: Redactor | None = None) -> None:
        self.size = size
        self.redactor = redactor or Redactor(())
        self._entries: deque[Entry] = deque(maxlen=max(size, 1))
        # Request numbers never repeat in a process, not even after clear(): an id a test
        # kept still means the same request.
        self._seq = 0

    def record(
        self,
        at_us: int,
        api: str,
        scope: MutableMapping[str, Any],
        route: str | None,
        body: bytes,
        status: int | None,
        response: bytes | None,
        duration_ns: int,
        fault_id: str | None = None,
        account_id: str | None = None,
        caller_at_us: int | None = None,
        phase: str | None = None,
        withheld: tuple[int | None, bytes] | None = None,
        retry_after: int | None = None,
        shown_path: str | None = None,
    ) -> None:
        """`status` and `response` are None for a connection dropped without a response;
        `shown_path`: the path as `redactor.path` shows it, if the caller has it already."""
        redact = self.redactor
        path: str = scope["path"]
        query: bytes = scope["query_string"]
        self._seq += 1
        withheld_status, withheld_response = withheld if withheld is not None else (None, None)
        # The request's headers redacted, once per distinct header list (core/head.py).
        head = scope.get(SCOPE_KEY) or head_of(scope)
        kept = head.journal
        if kept is not None and kept[0] is redact:
            headers = kept[1]
        else:
            headers = redact.headers(scope["headers"])
            head.journal = (redact, headers)
        shortest = redact.shortest  # shorter data cannot hold a key: no call
        self._entries.append(
            (
                at_us,
                api,
                scope["method"],
                redact.path(path) if shown_path is None else shown_path,
                route,
                redact.data(query) if len(query) >= shortest else query,
                headers,
                redact.data(body) if len(body) >= shortest else body,
                status,
                redact.data(response) if response is not None and len(response) >= shortest else response,
                duration_ns,
                fault_id,
                self._seq,
                account_id,
                at_us if caller_at_us is None else caller_at_us,
                phase,
                withheld_status,
                redact.data(withheld_response) if withheld_response else withheld_response,
                retry_after,
            )
        )

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def newest_first(self) -> list[Entry]:
        # list(deque) runs in C without releasing the GIL: a consistent snapshot.
        entries = list(self._entries)
        entries.reverse()
        return entries


def select(
    entries: Iterable[Entry],
    *,
    prefixes: Mapping[str, str],
    api: str | None = None,
    method: str | None = None,
    path: str | None = None,
    status: int | None = None,
    account_id: str | None = None,
    limit: int = 100,
) -> list[Entry]:
    """Filter entries (already newest first). `path` matches the request path as sent,
    the path relative to the API's prefix, or the route template it matched."""
    method = method.upper() if method is not None else None
    chosen: list[Entry] = []
    for entry in entries:
        if api is not None and entry[API] != api:
            continue
        if method is not None and entry[METHOD] != method:
            continue
        if status is not None and entry[STATUS] != status:
            continue
        if account_id is not None and entry[ACCOUNT] != account_id:
            continue
        if path is not None:
            full = entry[PATH]
            if path not in (full, entry[ROUTE]) and prefixes.get(entry[API], "") + path != full:
                continue
        chosen.append(entry)
        if len(chosen) >= limit:
            break
    return chosen


def _decoded(data: bytes | None) -> Any:
    if not data:
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return data.decode("utf-8", "replace")


def view(entry: Entry) -> dict[str, Any]:
    headers: dict[str, str] = {}
    if entry[HEADERS]:
        parts = entry[HEADERS].decode("latin-1").split("\n")
        for name, text in zip(parts[::2], parts[1::2], strict=False):
            headers[name] = f"{headers[name]}, {text}" if name in headers else text
    withheld = None
    if entry[PHASE] == "after":
        withheld = {"status": entry[WITHHELD_STATUS], "response": _decoded(entry[WITHHELD_RESPONSE])}
    return {
        "requestId": request_id(entry),
        "time": iso_ms(entry[AT]),
        "api": entry[API],
        "method": entry[METHOD],
        "path": entry[PATH],
        "route": entry[ROUTE],
        "query": entry[QUERY].decode("utf-8", "replace"),
        "headers": headers,
        "body": _decoded(entry[BODY]),
        "status": entry[STATUS],
        "response": _decoded(entry[RESPONSE]),
        "durationMs": round(entry[DURATION_NS] / 1_000_000, 3),
        "faulted": entry[FAULT] is not None,
        "faultId": entry[FAULT],
        "faultPhase": entry[PHASE],
        "withheld": withheld,
        "accountId": entry[ACCOUNT],
    }


def request_id(entry: Entry) -> str:
    return f"req-{entry[SEQ]}"
