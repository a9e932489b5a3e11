"""What keeps a web page the developer visits away from the emulator (docs/security.md).

Two plain-ASGI middlewares:

- `HostGuard`, outermost, on every surface: a `Host` that is not allowed gets 403 before
  anything else runs (DNS rebinding). Allowed by default: IP literals, `localhost`,
  `*.localhost` and single-label names (a compose or CI service name); others through
  `--allowed-hosts`. One dict lookup per request: each distinct Host value is judged once.
- `ControlGuard`, around the control plane and the dashboard (inside the Gateway, so the
  APIs never see it): cross-site writes refused, a body must be JSON, the control token,
  and the dashboard's framing and sniffing headers on every answer.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Awaitable, Iterable, Sequence
from urllib.parse import parse_qsl, quote, urlencode

from emulator.core.errors import plain_error
from emulator.core.head import head_of
from emulator.core.http import content_type_is_json
from emulator.core.types import ASGIApp, Headers, Message, Receive, Scope, Send

NOSNIFF = (b"x-content-type-options", b"nosniff")
# No inline script or style, nothing from elsewhere: ui.js and ui.css are served by the
# emulator itself (emulator/ui/static).
CSP = (
    b"content-security-policy",
    b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
)
DENY_FRAMES = (b"x-frame-options", b"DENY")
COOKIE = "emulator_session"
COOKIE_PATH = "/_emulator"
DASHBOARD = "/_emulator/ui"
HEALTH = "/_emulator/health"
_SAFE = ("GET", "HEAD")
_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,62})")
_CACHE_SIZE = 256


def _label_ok(label: str) -> bool:
    return _NAME.fullmatch(label) is not None and not label.endswith("-")


def host_name(value: str) -> str | None:
    """The host of a Host header without its port, lower case (IPv6 without brackets);
    None for a value that is not a host[:port]."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[1:end], value[end + 1 :]
        try:
            ipaddress.IPv6Address(name)
        except ValueError:
            return None
    else:
        name, _, port = value.partition(":")
        rest = ":" + port if _ else ""
    if rest and not (rest.startswith(":") and rest[1:].isdigit() and len(rest) <= 6):
        return None
    return name.removesuffix(".") if name.endswith(".") and len(name) > 1 else name


def allowed_by_default(name: str) -> bool:
    """IP literals, localhost, *.localhost and single-label names: a rebinding attack
    needs a name the attacker's DNS answers, and none of these is one."""
    if ":" in name:
        return True  # an IPv6 literal (host_name checked it)
    try:
        ipaddress.IPv4Address(name)
        return True
    except ValueError:
        pass
    labels = name.split(".")
    if not all(_label_ok(label) for label in labels):
        return False
    return len(labels) == 1 or labels[-1] == "localhost"


class HostPolicy:
    """Which Host values are served: the defaults plus `--allowed-hosts` entries (a name, or
    `.example.com` for it and its subdomains, as Django's ALLOWED_HOSTS; `*` for all)."""

    def __init__(self, allowed: Iterable[str] = ()) -> None:
        entries = [entry.strip().lower() for entry in allowed if entry.strip()]
        self.any = "*" in entries
        self.names = frozenset(e for e in entries if not e.startswith("."))
        self.suffixes = tuple(e for e in entries if e.startswith("."))
        self._seen: dict[bytes, bool] = {}

    def allows(self, raw: bytes) -> bool:
        seen = self._seen.get(raw)
        if seen is None:
            seen = self._judge(raw)
            if len(self._seen) >= _CACHE_SIZE:  # a flood of distinct Hosts: start over
                self._seen.clear()
            self._seen[raw] = seen
        return seen

    def _judge(self, raw: bytes) -> bool:
        if self.any:
            return True
        try:
            name = host_name(raw.decode("ascii"))
        except UnicodeDecodeError:
            return False
        if not name:
            return False
        if allowed_by_default(name) or name in self.names:
            return True
        return any(name == s[1:] or name.endswith(s) for s in self.suffixes)


Refusal = tuple[int, bytes]  # status, JSON body


async def _send(
    send: Send, status: int, body: bytes, headers: Headers, media: bytes = b"application/json"
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", media),
                (b"content-length", str(len(body)).encode()),
                NOSNIFF,
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(headers: Headers, name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


class HostGuard:
    """Outermost: a request whose Host is not allowed gets 403, in the envelope of the
    surface it asked for (`refusals`: an API prefix -> its dialect's 403; else the control
    plane's), and nothing else runs."""

    def __init__(
        self, app: ASGIApp, policy: HostPolicy, refusals: Sequence[tuple[str, Refusal]] = ()
    ) -> None:
        self.app = app
        self.policy = policy
        self.refusals = tuple(refusals)
        self.control: Refusal = (
            403,
            plain_error(
                "FORBIDDEN",
                "this Host is not allowed (DNS rebinding guard): add it with --allowed-hosts "
                "or EMULATOR_ALLOWED_HOSTS",
            ),
        )

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine of its own: it hands back the awaitable of what runs next (an
        # ASGI server awaits whatever the app returns), one frame fewer per request.
        if scope["type"] == "http":
            host = head_of(scope).host
            if host is not None:
                allowed = self.policy._seen.get(host)
                if allowed is None:
                    allowed = self.policy.allows(host)
                if not allowed:
                    return self._refuse(scope, send)
        return self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        path: str = scope["path"]
        status, body = self.control
        for prefix, refusal in self.refusals:
            if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
                status, body = refusal
                break
        await _send(send, status, body, [])


def _default_port(scheme: str) -> str:
    return ":443" if scheme in ("https", "wss") else ":80"


def _origin_of(scheme: str, host: str) -> str:
    host = host.lower().removesuffix(_default_port(scheme))
    return f"{scheme}://{host}"


def same_origin(origin: bytes, scheme: str, host: bytes | None) -> bool:
    """Whether `Origin` names the request's own origin (scheme://host[:port] of its Host);
    `Origin: null` (a sandboxed frame, a data: URL) never does."""
    if host is None:
        return False
    try:
        text = origin.decode("ascii").strip().lower()
        own = _origin_of(scheme, host.decode("ascii"))
    except UnicodeDecodeError:
        return False
    their_scheme, sep, their_host = text.partition("://")
    if not sep or their_scheme not in ("http", "https"):
        return False
    return _origin_of(their_scheme, their_host) == own


def _cookie_value(token: str) -> str:
    """What the dashboard's cookie holds: derived from the token, not the token itself."""
    return hmac.new(token.encode(), b"emulator dashboard session", hashlib.sha256).hexdigest()


def _cookie(headers: Headers) -> bytes | None:
    for key, value in headers:
        if key == b"cookie":
            for part in value.split(b";"):
                name, _, content = part.strip().partition(b"=")
                if name == COOKIE.encode():
                    return content
    return None


LOGIN_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>emulator dashboard: log in</title></head>
<body><h1>This emulator needs its control token</h1>
<p>It was started with <code>--control-token</code> (or <code>EMULATOR_CONTROL_TOKEN</code>).
Open the dashboard once as <code>/_emulator/ui?token=YOUR-TOKEN</code>: a cookie keeps you
logged in. Scripts send <code>Authorization: Bearer YOUR-TOKEN</code>.</p>
</body></html>
"""


class ControlGuard:
    """The control plane and the dashboard (everything the Gateway passes on):

    - a write (any method but GET/HEAD) is refused 403 when `Sec-Fetch-Site` says
      cross-site or same-site or `Origin` is another origin, and 415 when it has a
      Content-Type other than application/json or a body without one;
    - with a token, every request but `GET /_emulator/health` needs it (`Authorization:
      Bearer`, or the dashboard's cookie, set by a visit with `?token=`): else 401;
    - every answer says nosniff, and that it may not be framed (CSP frame-ancestors, XFO).
    """

    def __init__(self, app: ASGIApp, token: str | None = None) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.cookie = _cookie_value(token).encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: Headers = scope["headers"]
        method: str = scope["method"]
        if method not in _SAFE:
            refusal = self._cross_site(scope, headers)
            if refusal is not None:
                await _send(send, *refusal, [CSP, DENY_FRAMES])
                return
        open_health = method in _SAFE and scope["path"] == HEALTH
        if self.token is not None and not open_health and await self._login(scope, receive, send, headers):
            return

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), NOSNIFF, CSP, DENY_FRAMES]}
            await send(message)

        await self.app(scope, receive, guarded)

    def _cross_site(self, scope: Scope, headers: Headers) -> Refusal | None:
        site = _header(headers, b"sec-fetch-site")
        if site is not None and site.strip().lower() in (b"cross-site", b"same-site"):
            shown = site.decode("latin-1")
            return 403, plain_error("FORBIDDEN", f"a {shown} write to the control plane is refused")
        origin = _header(headers, b"origin")
        host = _header(headers, b"host")
        if origin is not None and not same_origin(origin, scope.get("scheme", "http"), host):
            return 403, plain_error(
                "FORBIDDEN", "a write to the control plane from another origin is refused (Origin)"
            )
        content_type = _header(headers, b"content-type")
        if content_type is None or content_type_is_json(headers):
            return None
        # A form, multipart or text/plain body is what a browser sends without a preflight:
        # refused whoever sends it (curl -d needs -H 'Content-Type: application/json').
        return 415, plain_error(
            "UNSUPPORTED_MEDIA_TYPE",
            "a control-plane write with a body must be Content-Type: application/json",
        )

    async def _login(self, scope: Scope, receive: Receive, send: Send, headers: Headers) -> bool:
        """True when the request was answered here (refused, or the dashboard's log-in)."""
        assert self.token is not None and self.cookie is not None
        path: str = scope["path"]
        dashboard = path == "/" or path == DASHBOARD or path.startswith(DASHBOARD + "/")
        query: bytes = scope["query_string"]
        if dashboard and scope["method"] in _SAFE and b"token=" in query:
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            given = [v for k, v in pairs if k == "token"]
            if given and hmac.compare_digest(given[-1].encode(), self.token):
                rest = urlencode([(k, v) for k, v in pairs if k != "token"])
                location = quote(path) + ("?" + rest if rest else "")
                cookie = f"{COOKIE}={self.cookie.decode()}; Path={COOKIE_PATH}; HttpOnly; SameSite=Strict"
                moved = [(b"location", location.encode("ascii")), (b"set-cookie", cookie.encode())]
                await _send(send, 303, b"", moved, b"text/plain")
                return True
        elif self._holds_token(headers):
            return False
        if dashboard and not path.startswith(DASHBOARD + "/fragments/"):
            await _send(send, 401, LOGIN_PAGE, [CSP, DENY_FRAMES], b"text/html; charset=utf-8")
        else:
            body = plain_error(
                "UNAUTHORIZED", "this emulator needs its control token: Authorization: Bearer <token>"
            )
            await _send(send, 401, body, [(b"www-authenticate", b'Bearer realm="emulator control plane"')])
        return True

    def _holds_token(self, headers: Headers) -> bool:
        assert self.token is not None and self.cookie is not None
        authorization = _header(headers, b"authorization")
        if authorization is not None:
            scheme, _, credentials = authorization.strip().partition(b" ")
            if scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(), self.token):
                return True
        cookie = _cookie(headers)
        return cookie is not None and hmac.compare_digest(cookie, self.cookie)
