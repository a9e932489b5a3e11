"""Field readers shared by request bodies, control bodies and fixture files.

Each raises FieldError naming the field; the caller words it in its API's language.
Booleans are not integers; integers are not strings.
"""

from __future__ import annotations

import ipaddress
import re
import string as _chars
from collections.abc import Hashable, Iterable
from typing import Any
from urllib.parse import urlsplit

from .errors import FieldError

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# The largest integer a field may hold: ids, amounts and counts are int64 at the vendors.
INT64_MAX = 2**63 - 1
_MISSING = object()
# RFC 3986 section 2: the characters a URI may hold unencoded (unreserved, reserved, and
# `%` of a percent-encoding). Everything else (space, controls, `"<>\\^`{|}`, non-ASCII)
# must be percent-encoded.
_URI_CHARS = frozenset(_chars.ascii_letters + _chars.digits + "-._~:/?#[]@!$&'()*+,;=%")
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def need(obj: dict[str, Any], field: str, path: str = "") -> Any:
    value = obj.get(field, _MISSING)
    if value is _MISSING or value is None:
        raise FieldError(path + field, "is required")
    return value


def string(
    obj: dict[str, Any], field: str, path: str = "", *, min_len: int = 1, max_len: int = 10_000
) -> str:
    value = need(obj, field, path)
    if not isinstance(value, str):
        raise FieldError(path + field, "must be a string")
    if not min_len <= len(value) <= max_len:
        raise FieldError(path + field, f"must be {min_len} to {max_len} characters")
    return value


def integer(
    obj: dict[str, Any], field: str, path: str = "", *, low: int | None = None, high: int | None = None
) -> int:
    value = need(obj, field, path)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(path + field, "must be an integer")
    if low is not None and value < low:
        raise FieldError(path + field, f"must be at least {low}")
    if high is not None and value > high:
        raise FieldError(path + field, f"must be at most {high}")
    return value


def number(obj: dict[str, Any], field: str, path: str = "", *, low: float | None = None) -> float:
    value = need(obj, field, path)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(path + field, "must be a number")
    if value != value or value in (float("inf"), float("-inf")):
        raise FieldError(path + field, "must be a finite number")
    if low is not None and value < low:
        raise FieldError(path + field, f"must be at least {low}")
    return value


def boolean(obj: dict[str, Any], field: str, path: str = "") -> bool:
    value = need(obj, field, path)
    if not isinstance(value, bool):
        raise FieldError(path + field, "must be true or false")
    return value


# uuids already checked, as sent -> lowered: clients send the same catalogue ids again
# and again, and a dict lookup costs a tenth of the match. Bounded: cleared when full.
_UUIDS: dict[str, str] = {}
_MAX_UUIDS = 4096


def uuid_string(obj: dict[str, Any], field: str, path: str = "") -> str:
    value = obj.get(field)
    if type(value) is str:
        seen = _UUIDS.get(value)
        if seen is not None:
            return seen
    value = string(obj, field, path)
    if UUID_RE.fullmatch(value) is None:
        raise FieldError(path + field, "must be a uuid")
    lowered = value.lower()
    if len(_UUIDS) >= _MAX_UUIDS:
        _UUIDS.clear()
    _UUIDS[value] = lowered
    return lowered


def obj_of(obj: dict[str, Any], field: str, path: str = "") -> dict[str, Any]:
    value = need(obj, field, path)
    if not isinstance(value, dict):
        raise FieldError(path + field, "must be an object")
    return value


def list_of(obj: dict[str, Any], field: str, path: str = "") -> list[Any]:
    value = need(obj, field, path)
    if not isinstance(value, list):
        raise FieldError(path + field, "must be a list")
    return value


def optional(obj: dict[str, Any], field: str) -> bool:
    """True when the field is present and not null."""
    return obj.get(field) is not None


def objects(
    obj: dict[str, Any], field: str, path: str = "", *, required: bool = True
) -> list[tuple[str, dict[str, Any]]]:
    """A list of objects, each with the path to name its own fields by
    (`accounts[2].`); an absent list is empty unless `required`."""
    if not required and field not in obj:
        return []
    out = []
    for i, item in enumerate(list_of(obj, field, path)):
        where = f"{path}{field}[{i}]"
        if not isinstance(item, dict):
            raise FieldError(where, "must be an object")
        out.append((where + ".", item))
    return out


def items(obj: dict[str, Any], field: str, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """An optional list of objects (a fixtures document may leave any list out)."""
    return objects(obj, field, path, required=False)


def unique(values: Iterable[Hashable], path: str, *, noun: str = "") -> None:
    """FieldError at `path` for the first value listed twice ("{noun}{value} is used twice")."""
    seen: set[Hashable] = set()
    for value in values:
        if value in seen:
            raise FieldError(path, f"{noun}{value} is used twice")
        seen.add(value)


def http_url_problem(url: str) -> str | None:
    """Why `url` is not an absolute http(s) URL as RFC 3986 allows it, or None: parsed by
    urllib.parse, with the scheme http or https (any case), a host (a name, an IPv4 or a
    bracketed IPv6 address), a port of 0-65535 if any, only the characters RFC 3986
    allows unencoded, `%` only before two hex digits, `[` `]` only around an IPv6 host,
    and one `#` at most. urlsplit alone would strip or ignore what these checks refuse
    (it drops tabs and newlines, and lets `"` or a space through)."""
    if not _URI_CHARS.issuperset(url):
        return "must be a URL: no spaces, control characters or characters RFC 3986 does not allow unencoded"
    if _PERCENT.search(url) is not None:
        return "must be a URL: % must start a percent-encoding (two hex digits)"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"must be a URL: {exc}"
    if parts.scheme not in ("http", "https") or not url[len(parts.scheme) :].startswith("://"):
        return "must be an http(s) URL"
    netloc = parts.netloc
    host = netloc.rpartition("@")[2]
    if port is not None or host.endswith(":"):
        host = host[: host.rfind(":")]
    if netloc.count("@") > 1 or not host:
        return "must be an http(s) URL with a host"
    if host.startswith("["):
        try:  # no zone id (`%25eth0`) and no IPvFuture (`v1.x`): neither names a web host
            if "%" in host or not host.endswith("]"):
                raise ValueError(host)
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return "must be a URL: a bracketed host must be an IPv6 address"
    elif "[" in netloc or "]" in netloc or ":" in host:
        return "must be a URL: [ ] and : in a host only around an IPv6 address"
    rest = url[len(parts.scheme) + 3 + len(netloc) :]
    if "[" in rest or "]" in rest or rest.count("#") > 1:
        return "must be a URL: [ ] and a second # must be percent-encoded"
    return None
