"""The rules JSON Schema cannot state, as schemathesis custom checks.

Each check names the vendor rule (seed section) or SPEC rule it enforces; where the seeds are
silent the rule is SPEC's and the failure says *inferred*. Checks on one response run in every
phase; the ones that need two calls (balance before and after) get their findings from the
stateful steps (support.Flows.call) and from the list walks (test_*::*_lists), through NOTES.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import schemathesis
from schemathesis.core.failures import Failure

from . import pacing

# The state machines, as SPEC's tables (also GET /_emulator/machines and the documents'
# descriptions). Against the real API this copy is the table; in-process and with a control URL
# the emulator's own table is used, and test_machines.py keeps the copy equal to it.
MACHINES: dict[str, dict[str, list[str]]] = {
    "otp": {
        "waiting_sms": ["completed", "cancelled", "expired"],
        "completed": [], "cancelled": ["refunded"], "expired": ["refunded"], "refunded": [],
    },
    "social": {
        "pending": ["processing", "cancelled"], "processing": ["completed", "partial", "cancelled"],
        "completed": [], "partial": ["refunded"], "cancelled": ["refunded"], "refunded": [],
    },
    "premium": {"completed": []},
    "energy": {"processing": ["completed", "failed"], "completed": [], "failed": []},
}
INITIAL = {"otp": "waiting_sms", "social": "pending", "premium": "completed", "energy": "processing"}


@dataclass(frozen=True, slots=True)
class Rule:
    check: str
    code: str
    title: str
    source: str  # where the rule is written
    inferred: bool

    def text(self) -> str:
        return f"{self.source}{' (inferred: the seeds are silent)' if self.inferred else ''}"


RULES = {
    rule.check: rule
    for rule in (
        Rule("money_create", "ST920", "A create does not debit exactly the price",
             "SPEC 'Money is exact' and seed 000 sections 6-8 / seed 002 POST /v1/energy/orders: the price "
             "is debited once (USDTLowFee: it moves from balanceSun to frozenSun)", False),
        Rule("money_refund", "ST921", "A refund does not credit exactly refundedAmount, once",
             "SPEC 'Client actions' and 'Money is exact': a refund credits refundedAmount once; a second "
             "refund is 400 BAD_REQUEST and the balance does not move", True),
        Rule("wallet_total", "ST922", "totalSun is not balanceSun + frozenSun",
             "SPEC USDTLowFee GET /v1/wallet/balance: total = balance + frozen", False),
        Rule("frozen_release", "ST923", "A settled order's price did not leave frozenSun",
             "SPEC USDTLowFee 'Order lifecycle': completed spends the frozen price, failed returns it", False),
        Rule("state_edges", "ST924", "An order moved off its state machine's edges",
             "SPEC state tables (OTP, social, energy): an order starts in the initial status and each "
             "read shows a move the table allows from the one before", True),
        Rule("can_transition_to", "ST925", "canTransitionTo is not the table's moves",
             "SPEC USDTLowFee: canTransitionTo always equals the state machine's moves from the status", False),
        Rule("list_order", "ST926", "The energy order list is not newest first",
             "SPEC GET /v1/energy/orders: newest first (createdAt, then id, descending)", False),
        Rule("list_window", "ST927", "A list page does not match its offset, limit and total",
             "SPEC GET /v1/energy/orders {orders, total, offset, limit}: the answer echoes offset and limit "
             "(default 20) and holds min(limit, total - offset) orders", True),
        Rule("list_pages", "ST928", "offset/limit pages overlap, skip or disagree on total",
             "SPEC GET /v1/energy/orders: pages of one list, walked by offset, are the list", True),
        Rule("list_refusals", "ST929", "An out-of-range list query was not refused with 400",
             "SPEC GET /v1/energy/orders: limit 1..100, status one of processing, completed, failed; "
             "anything else 400 VALIDATION_ERROR", False),
        Rule("no_content", "ST930", "A 204 has a body or a Content-Type",
             "Seed 002 PUT /v1/addresses/{id}/default and DELETE /v1/addresses/{id}: 204 with no body "
             "(RFC 9110 15.3.5)", False),
        Rule("created_status", "ST931", "A creation did not answer 201",
             "Seed 000 sections 6-8, seed 002 POST /v1/energy/orders and /v1/addresses: 201 on creation", False),
        Rule("rate_limit_remaining", "ST932", "X-RateLimit-Remaining does not count down by one",
             "Seed 000 section 3: Remaining drops by one per counted request within a window", False),
        Rule("rate_limit_reset", "ST933", "X-RateLimit-Reset is not unix seconds within one window",
             "Seed 000 section 3: X-RateLimit-Reset is unix seconds; after the request's Date and at most "
             "one window (60 s) away", True),
        Rule("retry_after", "ST934", "A 429 without Retry-After",
             "SPEC 247xd 'Rate limit': the 429 also carries Retry-After", True),
        Rule("allow_on_405", "ST935", "A 405 without Allow",
             "SPEC 'Order of checks' and RFC 9110 15.5.6: 405 with an Allow header naming the methods", False),
        Rule("time_format", "ST936", "A time is not in the documented form",
             "Seed 000 section 6: expiresAt ISO 8601 UTC with milliseconds, after createdAt (SPEC: 20 minutes "
             "later); seed 002 / SPEC: USDTLowFee times without milliseconds (2025-01-15T10:30:00Z)", False),
        Rule("completed_order", "ST937", "A completed energy order lacks txid or completedAt",
             "SPEC USDTLowFee 'Order lifecycle': a completed order shows a 64-hex txid and completedAt", False),
    )
}


def failure_class(rule: Rule) -> type[Failure]:
    return type(
        "".join(part.title() for part in rule.check.split("_")),
        (Failure,),
        {"code": rule.code, "checks": (rule.check,), "kind_title": rule.title, "__slots__": ()},
    )


FAILURES = {name: failure_class(rule) for name, rule in RULES.items()}


def fail(check: str, operation: str, problem: str) -> Failure:
    rule = RULES[check]
    return FAILURES[check](operation=operation, message=f"Expected: {rule.text()}\nGot: {problem}")


def _report(check: str, case: Any, problems: list[str]) -> None:
    if problems:
        raise fail(check, case.operation.label, "; ".join(problems[:3]))


def _api(case: Any) -> str | None:
    return pacing.LABELS.get(case.operation.label)


def _data(response: Any) -> Any:
    if not 200 <= response.status_code < 300 or not response.content:
        return None
    try:
        doc = response.json()
    except Exception:
        return None
    return doc.get("data") if isinstance(doc, dict) else None


def kind_of(label: str) -> str | None:
    for kind in ("otp", "social", "premium"):
        if f"/{kind}/orders" in label:
            return kind
    return "energy" if "/v1/energy/orders" in label else None


def _orders(label: str, data: Any) -> list[dict[str, Any]]:
    """The order objects an answer shows."""
    if kind_of(label) is None or not isinstance(data, dict):
        return []
    if isinstance(data.get("orders"), list):
        return [o for o in data["orders"] if isinstance(o, dict)]
    return [data]


def _order_id(order: dict[str, Any]) -> Any:
    return order.get("orderId", order.get("id"))


# --- checks on one response ---------------------------------------------------------------


@schemathesis.check
def wallet_total(ctx: Any, response: Any, case: Any) -> bool | None:
    data = _data(response)
    if case.operation.label != "GET /v1/wallet/balance" or not isinstance(data, dict):
        return None
    balance, frozen, total = (data.get(k) for k in ("balanceSun", "frozenSun", "totalSun"))
    if all(isinstance(v, int) for v in (balance, frozen, total)) and total != balance + frozen:
        raise fail("wallet_total", case.operation.label, f"totalSun {total} != {balance} + {frozen}")
    return None


@schemathesis.check
def no_content(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code != 204 or _api(case) is None:
        return None
    problems = []
    if response.content:
        problems.append(f"a body of {len(response.content)} bytes")
    if response.headers.get("content-type"):
        problems.append(f"Content-Type {response.headers['content-type'][0]}")
    if (response.headers.get("content-length") or ["0"])[0] != "0":
        problems.append(f"Content-Length {response.headers['content-length'][0]}")
    _report("no_content", case, problems)
    return None


CREATES = {
    "POST /otp/orders", "POST /social/orders", "POST /premium/orders",
    "POST /v1/energy/orders", "POST /v1/addresses",
}


@schemathesis.check
def created_status(ctx: Any, response: Any, case: Any) -> bool | None:
    if case.operation.label in CREATES and 200 <= response.status_code < 300 and response.status_code != 201:
        raise fail("created_status", case.operation.label, f"{response.status_code} for a creation")
    return None


@schemathesis.check
def allow_on_405(ctx: Any, response: Any, case: Any) -> bool | None:
    if response.status_code == 405 and _api(case) is not None and not response.headers.get("allow"):
        raise fail("allow_on_405", case.operation.label, f"405 to {case.method.upper()} with no Allow header")
    return None


def _notes_check(name: str) -> Any:
    def check(ctx: Any, response: Any, case: Any) -> bool | None:
        api = _api(case)
        if api is not None:
            _report(name, case, pacing.take_notes(api, case.operation.label, name))
        return None

    check.__name__ = name
    return schemathesis.check(check)


# Found while the pacer watched the raw exchanges (pacing._observe) or in the stateful steps.
rate_limit_remaining = _notes_check("rate_limit_remaining")
rate_limit_reset = _notes_check("rate_limit_reset")
retry_after = _notes_check("retry_after")
money_create = _notes_check("money_create")
money_refund = _notes_check("money_refund")
frozen_release = _notes_check("frozen_release")
list_pages = _notes_check("list_pages")
list_refusals = _notes_check("list_refusals")


_TABLES: dict[str, dict[str, list[str]]] = dict(MACHINES)


def use_tables(machines: list[dict[str, Any]]) -> None:
    """The target's own tables (GET /_emulator/machines), when it has a control plane."""
    for machine in machines:
        _TABLES[machine["kind"]] = {k: list(v) for k, v in machine["transitions"].items()}


@schemathesis.check
def can_transition_to(ctx: Any, response: Any, case: Any) -> bool | None:
    label = case.operation.label
    if kind_of(label) != "energy":
        return None
    problems = []
    for order in _orders(label, _data(response)):
        status, shown = order.get("status"), order.get("canTransitionTo")
        moves = _TABLES["energy"].get(status) if isinstance(status, str) else None
        if moves is not None and isinstance(shown, list) and sorted(shown) != sorted(moves):
            problems.append(f"order {_order_id(order)} {status}: canTransitionTo {shown}, the table says {moves}")
    _report("can_transition_to", case, problems)
    return None


# (Authorization, kind, order id) -> (status, Date) of the last answer that showed the order
_SEEN: dict[tuple[str, str, str], tuple[str, str | None]] = {}
_SEEN_LOCK = threading.Lock()
pacing.on_fresh_target(_SEEN.clear)


def forced(authorization: str, kind: str, order_id: Any, status: str) -> None:
    """A move the run forced through the control plane: the next read starts from it."""
    with _SEEN_LOCK:
        key = (authorization, kind, str(order_id))
        _SEEN[key] = (status, _SEEN.get(key, (status, None))[1])


def _reachable(table: dict[str, list[str]], start: str, goal: str) -> bool:
    frontier, seen = [start], {start}
    while frontier:
        for move in table.get(frontier.pop(), []):
            if move == goal:
                return True
            if move not in seen:
                seen.add(move)
                frontier.append(move)
    return False


@schemathesis.check
def state_edges(ctx: Any, response: Any, case: Any) -> bool | None:
    label = case.operation.label
    kind = kind_of(label)
    if kind is None:
        return None
    table = _TABLES[kind]
    who = str(response.request.headers.get("Authorization"))
    date = (response.headers.get("date") or [None])[0]
    problems = []
    for order in _orders(label, _data(response)):
        status, order_id = order.get("status"), _order_id(order)
        if not isinstance(status, str) or order_id is None:
            continue
        if status not in table:
            problems.append(f"order {order_id}: status {status!r} is not in the table")
            continue
        if label in CREATES and status != INITIAL[kind]:
            problems.append(f"order {order_id} created as {status!r}, not {INITIAL[kind]!r}")
        key = (who, kind, str(order_id))
        with _SEEN_LOCK:
            before = _SEEN.get(key)
            _SEEN[key] = (status, date)
        if before is None or before[0] == status:
            continue
        # At one instant of the target's clock (same Date) only one move can happen (the client's
        # own action); across time, automatic moves may chain, but only along the table.
        if status in table[before[0]]:
            continue
        if before[1] != date and _reachable(table, before[0], status):
            continue
        problems.append(f"order {order_id} moved {before[0]} -> {status} (table: {before[0]} -> {table[before[0]]})")
    _report("state_edges", case, problems)
    return None


def _newest_first(orders: list[dict[str, Any]]) -> bool:
    keys = [(str(o.get("createdAt", "")), int(o["id"]) if isinstance(o.get("id"), int) else 0) for o in orders]
    return all(a >= b for a, b in zip(keys, keys[1:], strict=False))


def _query(case: Any) -> dict[str, Any]:
    return dict(case.query or {})


@schemathesis.check
def list_order(ctx: Any, response: Any, case: Any) -> bool | None:
    if case.operation.label != "GET /v1/energy/orders":
        return None
    data = _data(response)
    orders = _orders(case.operation.label, data)
    if len(orders) > 1 and not _newest_first(orders):
        shown = [(o.get("id"), o.get("createdAt")) for o in orders[:4]]
        raise fail("list_order", case.operation.label, f"page not newest first: {shown}")
    return None


def expected_window(query: dict[str, Any]) -> tuple[int, int] | None:
    """(offset, limit) a valid query asks for, or None when the query is not a valid one."""
    try:
        offset, limit = int(query.get("offset", 0)), int(query.get("limit", 20))
    except (TypeError, ValueError):
        return None
    return (offset, limit) if offset >= 0 and 1 <= limit <= 100 else None


@schemathesis.check
def list_window(ctx: Any, response: Any, case: Any) -> bool | None:
    if case.operation.label != "GET /v1/energy/orders":
        return None
    data = _data(response)
    window = expected_window(_query(case))
    if not isinstance(data, dict) or window is None or not isinstance(data.get("orders"), list):
        return None
    offset, limit = window
    total = data.get("total")
    problems = []
    if data.get("offset") != offset or data.get("limit") != limit:
        problems.append(f"asked offset={offset} limit={limit}, answered offset={data.get('offset')} "
                        f"limit={data.get('limit')}")
    if isinstance(total, int) and len(data["orders"]) != max(0, min(limit, total - offset)):
        problems.append(f"{len(data['orders'])} orders for offset {offset}, limit {limit}, total {total}")
    _report("list_window", case, problems)
    return None


_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
_S = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _times(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in _times(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [t for i, v in enumerate(value) for t in _times(v, f"{path}[{i}]")]
    return [(path, value)] if isinstance(value, str) and path.endswith("At") else []


@schemathesis.check
def time_format(ctx: Any, response: Any, case: Any) -> bool | None:
    api = _api(case)
    data = _data(response)
    if api is None or data is None:
        return None
    problems = []
    if api == "usdtlowfee":
        problems += [f"{p} = {v!r} (with milliseconds or not UTC)" for p, v in _times(data) if not _S.match(v)]
    elif kind_of(case.operation.label) == "otp" and isinstance(data, dict) and "expiresAt" in data:
        expires, created = data.get("expiresAt"), data.get("createdAt")
        if not isinstance(expires, str) or not _MS.match(expires):
            problems.append(f"expiresAt = {expires!r}, not ISO 8601 UTC with milliseconds")
        elif isinstance(created, str) and not expires > created:
            problems.append(f"expiresAt {expires} is not after createdAt {created}")
    _report("time_format", case, problems)
    return None


_TXID = re.compile(r"^[0-9a-f]{64}$")


@schemathesis.check
def completed_order(ctx: Any, response: Any, case: Any) -> bool | None:
    if kind_of(case.operation.label) != "energy":
        return None
    problems = []
    for order in _orders(case.operation.label, _data(response)):
        if order.get("status") != "completed":
            continue
        if not isinstance(order.get("txid"), str) or not _TXID.match(order["txid"]):
            problems.append(f"order {_order_id(order)} completed with txid {order.get('txid')!r}")
        if not isinstance(order.get("completedAt"), str):
            problems.append(f"order {_order_id(order)} completed without completedAt")
    _report("completed_order", case, problems)
    return None


# --- ids for the GETs by id ---------------------------------------------------------------

BY_ID = {
    "GET /otp/orders/{orderId}", "GET /social/orders/{orderId}", "GET /premium/orders/{orderId}",
    "GET /v1/energy/orders/{id}", "GET /v1/addresses/{id}",
}
_ID_SOURCES = {
    "POST /otp/orders": "GET /otp/orders/{orderId}",
    "POST /social/orders": "GET /social/orders/{orderId}",
    "POST /premium/orders": "GET /premium/orders/{orderId}",
    "POST /v1/energy/orders": "GET /v1/energy/orders/{id}",
    "GET /v1/energy/orders": "GET /v1/energy/orders/{id}",
    "POST /v1/addresses": "GET /v1/addresses/{id}",
    "GET /v1/addresses": "GET /v1/addresses/{id}",
}


@schemathesis.check
def harvest_ids(ctx: Any, response: Any, case: Any) -> bool | None:
    """Not a rule: remembers the ids a run saw (for the GETs by id and coverage.json)."""
    api, by_id = _api(case), _ID_SOURCES.get(case.operation.label)
    data = _data(response)
    if api is None or by_id is None or not isinstance(data, dict):
        return None
    key = str(response.request.headers.get("Authorization"))
    items = data.get("orders", data.get("addresses", [data]))
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and _order_id(item) is not None:
            pacing.LEDGER.add_id(api, by_id, (key, _order_id(item)))
    return None
