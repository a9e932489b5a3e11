"""Deliberately broken copies of the emulator, to prove the contract suites have teeth.

Each breakage is a small ASGI middleware around the real app that injects one fault a
vendor (or a regression) could introduce. `CONTRACT_BREAK=<name>` makes the in-process
target use it (test_teeth.py runs the suites that way and expects them to fail).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

App = Any
Message = dict[str, Any]


Edit = Callable[[int, list, bytes], tuple[int, list, bytes]]


def _rewrite(app: App, path: str, method: str | None, edit: Any) -> App:
    """Buffer the responses to `method path` (any method if None) and pass them through `edit`
    (or through `edit(scope)`'s answer, for a `_per_key` edit)."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != path or (method and scope["method"] != method):
            await app(scope, receive, send)
            return
        change: Edit = edit(scope) if getattr(edit, "per_key", False) else edit
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            status, headers, body = change(start["status"], list(start.get("headers", [])), b"".join(chunks))
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return wrapped


def _per_key(make: Callable[[], Edit]) -> Callable[[dict[str, Any]], Edit]:
    """An edit with state of its own per caller's key (Authorization): behind a proxy, one broken
    server sees every account of a run (a fresh one per scenario), as a real vendor would."""
    edits: dict[bytes, Edit] = {}

    def edit_for(scope: dict[str, Any]) -> Edit:
        key = next((v for k, v in scope["headers"] if k.lower() == b"authorization"), b"")
        return edits.setdefault(key, make())

    edit_for.per_key = True  # type: ignore[attr-defined]
    return edit_for


def _json_edit(change: Callable[[Any], None]) -> Edit:
    def edit(status: int, headers: list, body: bytes) -> tuple[int, list, bytes]:
        if status < 300 and body:
            doc = orjson.loads(body)
            change(doc)
            body = orjson.dumps(doc)
        return status, headers, body

    return edit


def rename_field(app: App, key: str) -> App:
    """247xd GET /balance answers `coin` instead of `coins` (seed section 5)."""

    def change(doc: Any) -> None:
        doc["data"]["coin"] = doc["data"].pop("coins")

    return _rewrite(app, "/api/v1/balance", "GET", _json_edit(change))


def change_type(app: App, key: str) -> App:
    """USDTLowFee balanceSun as a string, as a JavaScript-minded backend might."""

    def change(doc: Any) -> None:
        doc["data"]["balanceSun"] = str(doc["data"]["balanceSun"])

    return _rewrite(app, "/v1/wallet/balance", "GET", _json_edit(change))


def change_status(app: App, key: str) -> App:
    """247xd POST /otp/orders answers 200 instead of 201 (seed section 6)."""

    def edit(status: int, headers: list, body: bytes) -> tuple[int, list, bytes]:
        return (200 if status == 201 else status), headers, body

    return _rewrite(app, "/api/v1/otp/orders", "POST", edit)


def drop_header(app: App, key: str) -> App:
    """Every 247xd response loses X-RateLimit-Remaining (seed section 3)."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/v1"):
            await app(scope, receive, send)
            return

        async def strip(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message["headers"] if k.lower() != b"x-ratelimit-remaining"]
                message = {
                    **message,
                    "headers": kept,
                }
            await send(message)

        await app(scope, receive, strip)

    return wrapped


def ignore_auth(app: App, key: str) -> App:
    """USDTLowFee serves any request as if it carried a valid key."""
    valid = f"ApiKey {key}".encode()

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
            scope = {**scope, "headers": [*headers, (b"authorization", valid)]}
        await app(scope, receive, send)

    return wrapped


def no_allow(app: App, key: str) -> App:
    """USDTLowFee answers a wrong method with 404 and no Allow header."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await app(scope, receive, send)
            return

        async def hide(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                headers = [(k, v) for k, v in message["headers"] if k.lower() != b"allow"]
                message = {**message, "status": 404, "headers": headers}
            await send(message)

        await app(scope, receive, hide)

    return wrapped


def _headers_edit(app: App, prefix: str, change: Callable[[int, list], list]) -> App:
    """Rewrite the response headers of every request under `prefix`."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(prefix):
            await app(scope, receive, send)
            return

        async def edit(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": change(message["status"], list(message.get("headers", [])))}
            await send(message)

        await app(scope, receive, edit)

    return wrapped


def total_mismatch(app: App, key: str) -> App:
    """USDTLowFee wallet: totalSun one sun more than balanceSun + frozenSun."""

    def change(doc: Any) -> None:
        doc["data"]["totalSun"] += 1

    return _rewrite(app, "/v1/wallet/balance", "GET", _json_edit(change))


def double_refund(app: App, key: str) -> App:
    """247xd credits a refund twice: every later balance of the account shows refundedAmount once more."""
    extra: dict[bytes, float] = {}

    def who(scope: dict[str, Any]) -> bytes:
        return next((v for k, v in scope["headers"] if k.lower() == b"authorization"), b"")

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        caller = who(scope)

        def on_refund(doc: Any) -> None:
            extra[caller] = extra.get(caller, 0.0) + float(doc["data"].get("refundedAmount", 0))

        def on_balance(doc: Any) -> None:
            doc["data"]["coins"] = round(doc["data"]["coins"] + extra.get(caller, 0.0), 2)

        if path.startswith("/api/v1/") and path.endswith("/refund"):
            await _rewrite(app, path, "POST", _json_edit(on_refund))(scope, receive, send)
            return
        await _rewrite(app, "/api/v1/balance", "GET", _json_edit(on_balance))(scope, receive, send)

    return wrapped


def _reorder(change: Callable[[list], list]) -> Callable[[App, str], App]:
    def middleware(app: App, key: str) -> App:
        def edit(doc: Any) -> None:
            doc["data"]["orders"] = change(doc["data"]["orders"])

        return _rewrite(app, "/v1/energy/orders", "GET", _json_edit(edit))

    return middleware


# The energy order list oldest first (sorted by the server the wrong way round).
oldest_first = _reorder(lambda orders: list(reversed(orders)))
# Within a page, the first two orders swapped (the right orders, in the wrong order).
page_order = _reorder(lambda orders: [orders[1], orders[0], *orders[2:]] if len(orders) > 1 else orders)


def _query_edit(app: App, path: str, change: Callable[[dict[str, str]], dict[str, str]]) -> App:
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == path and scope["method"] == "GET":
            query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
            scope = {**scope, "query_string": urlencode(change(query)).encode()}
        await app(scope, receive, send)

    return wrapped


def offset_overlap(app: App, key: str) -> App:
    """USDTLowFee serves offset N from N-1 (pages overlap by one) and says it served N."""

    def shift(query: dict[str, str]) -> dict[str, str]:
        if query.get("offset", "").isdigit() and 0 < int(query["offset"]) <= 1000:
            query["offset"] = str(int(query["offset"]) - 1)
        return query

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        asked = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))

        def restore(doc: Any) -> None:
            if asked.get("offset", "").isdigit() and 0 < int(asked["offset"]) <= 1000:
                doc["data"]["offset"] = int(asked["offset"])

        inner = _rewrite(_query_edit(app, "/v1/energy/orders", shift), "/v1/energy/orders", "GET", _json_edit(restore))
        await inner(scope, receive, send)

    return wrapped


def limit_mutated(app: App, key: str) -> App:
    """USDTLowFee's list answer says limit 20 whatever limit was asked."""

    def change(doc: Any) -> None:
        doc["data"]["limit"] = 20

    return _rewrite(app, "/v1/energy/orders", "GET", _json_edit(change))


def status_ignored(app: App, key: str) -> App:
    """USDTLowFee ignores a status it does not know (lists everything) instead of refusing it."""

    def drop(query: dict[str, str]) -> dict[str, str]:
        if query.get("status") not in (None, "processing", "completed", "failed"):
            del query["status"]
        return query

    return _query_edit(app, "/v1/energy/orders", drop)


def no_content_body(app: App, key: str) -> App:
    """USDTLowFee's 204 answers carry a JSON body and its Content-Type."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/addresses/"):
            await app(scope, receive, send)
            return
        status = [0]

        async def edit(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                if status[0] == 204:
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-length"]
                    headers += [(b"content-type", b"application/json"), (b"content-length", b"2"),
                                (b"connection", b"close")]
                    message = {**message, "headers": headers}
            elif status[0] == 204 and not message.get("more_body"):
                message = {**message, "body": b"{}"}
            await send(message)

        await app(scope, receive, edit)

    return wrapped


def reset_ms(app: App, key: str) -> App:
    """247xd's X-RateLimit-Reset in milliseconds."""

    def change(status: int, headers: list) -> list:
        return [(k, str(int(v) * 1000).encode() if k.lower() == b"x-ratelimit-reset" else v) for k, v in headers]

    return _headers_edit(app, "/api/v1", change)


def remaining_static(app: App, key: str) -> App:
    """247xd's X-RateLimit-Remaining never counts down (always the limit)."""

    def change(status: int, headers: list) -> list:
        limit = next((v for k, v in headers if k.lower() == b"x-ratelimit-limit"), b"60")
        return [(k, limit if k.lower() == b"x-ratelimit-remaining" else v) for k, v in headers]

    return _headers_edit(app, "/api/v1", change)


def no_retry_after(app: App, key: str) -> App:
    """247xd answers every third GET /balance 429 without Retry-After (the request not served)."""
    seen = [0]
    last: list[tuple[bytes, bytes]] = []

    def remember(status: int, headers: list) -> list:
        last[:] = [(k, v) for k, v in headers if k.lower() in (b"x-ratelimit-limit", b"x-ratelimit-reset", b"date")]
        return headers

    inner = _headers_edit(app, "/api/v1", remember)

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/api/v1/balance" and scope["method"] == "GET" and last:
            seen[0] += 1
            if seen[0] % 3 == 0:
                body = orjson.dumps({"success": False, "error": {"code": "RATE_LIMITED", "message": "slow down"}})
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *last]
                await send({"type": "http.response.start", "status": 429, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await inner(scope, receive, send)

    return wrapped


def skip_state(app: App, key: str) -> App:
    """247xd social orders are created `processing`, skipping `pending`."""

    def change(doc: Any) -> None:
        doc["data"]["status"] = "processing"

    return _rewrite(app, "/api/v1/social/orders", "POST", _json_edit(change))


def wrong_can_transition(app: App, key: str) -> App:
    """USDTLowFee's processing orders say they can only complete (not fail)."""

    def edit(order: Any) -> None:
        if isinstance(order, dict) and order.get("status") == "processing":
            order["canTransitionTo"] = ["completed"]

    def change(doc: Any) -> None:
        for order in doc["data"]["orders"] if "orders" in doc["data"] else [doc["data"]]:
            edit(order)

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/v1/energy/orders"):
            await _rewrite(app, path, None, _json_edit(change))(scope, receive, send)
            return
        await app(scope, receive, send)

    return wrapped


def price_misreported(app: App, key: str) -> App:
    """247xd's OTP order answer shows a price one coin below what was debited."""

    def change(doc: Any) -> None:
        doc["data"]["price"] = round(doc["data"]["price"] - 1, 2)

    return _rewrite(app, "/api/v1/otp/orders", "POST", _json_edit(change))


def frozen_stuck(app: App, key: str) -> App:
    """USDTLowFee's frozenSun never falls: a settled order's price stays frozen (total kept right)."""

    def make() -> Edit:
        shown = [0]  # the most an account's wallet has shown frozen

        def change(doc: Any) -> None:
            data = doc["data"]
            shown[0] = max(shown[0], data["frozenSun"])
            data["frozenSun"] = min(shown[0], data["totalSun"])
            data["balanceSun"] = data["totalSun"] - data["frozenSun"]

        return _json_edit(change)

    return _rewrite(app, "/v1/wallet/balance", "GET", _per_key(make))


def txid_missing(app: App, key: str) -> App:
    """USDTLowFee's completed orders come without txid."""

    def change(doc: Any) -> None:
        for order in doc["data"]["orders"] if "orders" in doc["data"] else [doc["data"]]:
            if isinstance(order, dict) and order.get("status") == "completed":
                order.pop("txid", None)

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/v1/energy/orders"):
            await _rewrite(app, path, "GET", _json_edit(change))(scope, receive, send)
            return
        await app(scope, receive, send)

    return wrapped


def expires_no_ms(app: App, key: str) -> App:
    """247xd's OTP expiresAt without milliseconds."""

    def change(doc: Any) -> None:
        doc["data"]["expiresAt"] = doc["data"]["expiresAt"][:19] + "Z"

    return _rewrite(app, "/api/v1/otp/orders", "POST", _json_edit(change))


# name -> (API it breaks, middleware)
BREAKAGES: dict[str, tuple[str, Callable[[App, str], App]]] = {
    "rename-field": ("247xd", rename_field),
    "change-type": ("usdtlowfee", change_type),
    "change-status": ("247xd", change_status),
    "drop-header": ("247xd", drop_header),
    "ignore-auth": ("usdtlowfee", ignore_auth),
    "no-allow": ("usdtlowfee", no_allow),
    "total-mismatch": ("usdtlowfee", total_mismatch),
    "double-refund": ("247xd", double_refund),
    "oldest-first": ("usdtlowfee", oldest_first),
    "page-order": ("usdtlowfee", page_order),
    "offset-overlap": ("usdtlowfee", offset_overlap),
    "limit-mutated": ("usdtlowfee", limit_mutated),
    "status-ignored": ("usdtlowfee", status_ignored),
    "no-content-body": ("usdtlowfee", no_content_body),
    "reset-ms": ("247xd", reset_ms),
    "remaining-static": ("247xd", remaining_static),
    "no-retry-after": ("247xd", no_retry_after),
    "skip-state": ("247xd", skip_state),
    "wrong-can-transition": ("usdtlowfee", wrong_can_transition),
    "price-misreported": ("247xd", price_misreported),
    "frozen-stuck": ("usdtlowfee", frozen_stuck),
    "txid-missing": ("usdtlowfee", txid_missing),
    "expires-no-ms": ("247xd", expires_no_ms),
}


def wrap(app: App, api: str, name: str | None, key: str) -> App:
    """The app with breakage `name` when it targets `api`; otherwise the app itself."""
    if name is None:
        return app
    if name not in BREAKAGES:
        raise ValueError(f"unknown breakage {name!r}; known: {', '.join(BREAKAGES)}")
    target_api, middleware = BREAKAGES[name]
    return middleware(app, key) if target_api == api else app
