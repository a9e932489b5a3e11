"""GET /_emulator/verdicts: findings about how a client behaved, computed from the journal.

Computed when asked, from what the journal still holds (bounded, `journal_size`): the
request path records nothing more than the journal does. Only requests whose key
resolved to an account are judged (the journal records the account of each). Times are
on the caller's clock (the account's own, else the emulator's), as the requests' Date
headers showed them.

Rules (docs/robustness.md):
- duplicate-create: two order creates by one account with the same body within
  `duplicateWindow` seconds (60), both *served* 2xx (an `after` fault's withheld answer
  counts: the client saw an error, the order exists);
- retry-too-soon: a request by an account after a 429 it was answered and before that
  429's Retry-After elapsed (a burst of such requests is one finding);
- poll-after-final: more than `finalReads` (3) reads of one order answered with the order
  in a final status: one with no outgoing move in its state machine (GET /_emulator/machines);
- rate-budget: more than `budgetShare` (0.5) of one rate-limit window's budget spent
  reading a single order (the windows the limiter uses: fixed, aligned to the minute);
- ignored-refusal: the same request (method, path, query, body) refused with a 4xx other
  than 429 more than `refusals` (3) times in a row (an answer that is not a refusal ends
  the run).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from emulator.apis import APIS
from emulator.core import journal as j
from emulator.core.clock import US_PER_S, iso_ms, parse_iso
from emulator.core.errors import FieldError
from emulator.core.statemachine import StateMachine
from emulator.usdtlowfee.energy import ENERGY
from emulator.xd247.lifecycles import OTP, PREMIUM, SOCIAL

from .common import api_and_account, emulator_of, invalid, json, route

RULES = ("duplicate-create", "retry-too-soon", "poll-after-final", "rate-budget", "ignored-refusal")
# The routes that create an order (and move money), and those that read one order, with
# the state machine of the order they read.
CREATES: dict[str, frozenset[str]] = {
    "247xd": frozenset({"/otp/orders", "/social/orders", "/premium/orders"}),
    "usdtlowfee": frozenset({"/energy/orders"}),
}
READS: dict[str, dict[str, StateMachine]] = {
    "247xd": {
        "/otp/orders/{orderId}": OTP,
        "/social/orders/{orderId}": SOCIAL,
        "/premium/orders/{orderId}": PREMIUM,
    },
    "usdtlowfee": {"/energy/orders/{id}": ENERGY},
}
WINDOW_US = 60 * US_PER_S  # RateLimiter's window


@dataclass(frozen=True, slots=True)
class Thresholds:
    duplicate_window_s: float = 60
    final_reads: int = 3
    budget_share: float = 0.5
    refusals: int = 3


Finding = dict[str, Any]


def _finding(rule: str, entries: list[j.Entry], message: str) -> tuple[int, Finding]:
    last = entries[-1]
    return last[j.SEQ], {
        "rule": rule,
        "api": last[j.API],
        "accountId": last[j.ACCOUNT],
        "message": message,
        "requestIds": [j.request_id(e) for e in entries],
        "at": iso_ms(last[j.CALLER_AT]),
    }


def _canonical(body: bytes) -> bytes:
    if not body:
        return b""
    try:
        return orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        return body


def _served_status(entry: j.Entry) -> int | None:
    """The answer the emulator served: the withheld one when an `after` fault replaced it."""
    status: int | None = entry[j.WITHHELD_STATUS] if entry[j.PHASE] == "after" else entry[j.STATUS]
    return status


def _order_status(entry: j.Entry) -> str | None:
    raw = entry[j.RESPONSE]
    if not raw:
        return None
    try:
        data = orjson.loads(raw).get("data")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    status = data.get("status") if isinstance(data, dict) else None
    return status if isinstance(status, str) else None


def _show(entry: j.Entry) -> str:
    return f"{entry[j.METHOD]} {entry[j.PATH]}"


def _seconds(us: int) -> str:
    return f"{us / US_PER_S:g} s"


def findings(
    entries: Iterable[j.Entry], limits: Mapping[str, int], thresholds: Thresholds = Thresholds()
) -> list[Finding]:
    """Every finding in `entries` (oldest first), newest first. `limits`: each API's
    requests per rate-limit window."""
    found: list[tuple[int, Finding]] = []
    window_us = round(thresholds.duplicate_window_s * US_PER_S)
    creates: dict[tuple[object, ...], j.Entry] = {}
    too_soon: dict[tuple[str, str], tuple[int, list[j.Entry]]] = {}  # (api, account) -> (until, [429, ...])
    final_reads: dict[tuple[str, str, str], list[j.Entry]] = {}
    budget: dict[tuple[str, str, str, int], list[j.Entry]] = {}
    refused: dict[tuple[object, ...], list[j.Entry]] = {}

    def close_too_soon(group: list[j.Entry]) -> None:
        if len(group) > 1:
            first = group[0]
            found.append(
                _finding(
                    "retry-too-soon",
                    group,
                    f"{len(group) - 1} request(s) within the Retry-After of {first[j.RETRY_AFTER]} s "
                    f"of the 429 to {_show(first)}",
                )
            )

    def close_refusals(group: list[j.Entry]) -> None:
        if len(group) > thresholds.refusals:
            found.append(
                _finding(
                    "ignored-refusal",
                    group,
                    f"{_show(group[0])} refused with {group[0][j.STATUS]} and sent unchanged "
                    f"{len(group)} times",
                )
            )

    for entry in entries:
        account = entry[j.ACCOUNT]
        if account is None:
            continue
        api, at, template, status = entry[j.API], entry[j.CALLER_AT], entry[j.ROUTE], entry[j.STATUS]
        method = entry[j.METHOD]

        if method == "POST" and template in CREATES.get(api, ()):
            served = _served_status(entry)
            if served is not None and 200 <= served < 300:
                key = (api, account, template, _canonical(entry[j.BODY]))
                previous = creates.get(key)
                if previous is not None and at - previous[j.CALLER_AT] <= window_us:
                    lost = (
                        " (the first answer was withheld by a fault)" if previous[j.PHASE] == "after" else ""
                    )
                    found.append(
                        _finding(
                            "duplicate-create",
                            [previous, entry],
                            f"{_show(entry)} sent twice with the same body "
                            f"{_seconds(at - previous[j.CALLER_AT])} apart, both served {served}{lost}",
                        )
                    )
                creates[key] = entry

        pending = too_soon.get((api, account))
        if pending is not None:
            until, group = pending
            if at < until:
                group.append(entry)
            else:
                close_too_soon(group)
                del too_soon[(api, account)]
                pending = None
        if status == 429 and entry[j.RETRY_AFTER] is not None:
            until = at + entry[j.RETRY_AFTER] * US_PER_S
            if pending is not None:  # a retry that was itself refused: the same burst, waited for longer
                too_soon[(api, account)] = (until, pending[1])
            else:
                too_soon[(api, account)] = (until, [entry])

        machine = READS.get(api, {}).get(template) if method == "GET" else None
        if machine is not None:
            path = entry[j.PATH]
            shown = _order_status(entry) if status is not None and 200 <= status < 300 else None
            if shown is not None and shown in machine.table and machine.is_terminal(shown):
                final_reads.setdefault((api, account, path), []).append(entry)
            if status != 429 and entry[j.PHASE] != "before":  # what the limiter counted
                budget.setdefault((api, account, path, at // WINDOW_US), []).append(entry)

        if status is not None and 400 <= status < 500 and status != 429:
            same = (api, account, method, entry[j.PATH], entry[j.QUERY], _canonical(entry[j.BODY]))
            refused.setdefault(same, []).append(entry)
        elif status is not None and status != 429:
            same = (api, account, method, entry[j.PATH], entry[j.QUERY], _canonical(entry[j.BODY]))
            run = refused.pop(same, None)
            if run is not None:
                close_refusals(run)

    for _, group in too_soon.values():
        close_too_soon(group)
    for group in refused.values():
        close_refusals(group)
    for group in final_reads.values():
        if len(group) > thresholds.final_reads:
            found.append(
                _finding(
                    "poll-after-final",
                    group,
                    f"{_show(group[0])} read {len(group)} times after the order reached "
                    f"{_order_status(group[0])} (a final status: nothing can change it)",
                )
            )
    for (api, _, _, _), group in budget.items():
        limit = limits.get(api, 0)
        if limit and len(group) > limit * thresholds.budget_share:
            found.append(
                _finding(
                    "rate-budget",
                    group,
                    f"{_show(group[0])} read {len(group)} times in one rate-limit window of {limit} requests",
                )
            )
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [finding for _, finding in found]


def _number(text: str, name: str, *, integer: bool, low: float, high: float) -> float:
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        kind = "an integer" if integer else "a number"
        raise invalid(FieldError(name, f"must be {kind} from {low:g} to {high:g}"))
    return value


async def verdicts(request: Request) -> Response:
    emu = emulator_of(request)
    query = request.query_params
    api, account_id = api_and_account(query)
    since = None
    if "since" in query:
        try:
            since = iso_ms(parse_iso(query["since"]))
        except ValueError as exc:
            raise invalid(FieldError("since", str(exc))) from None
    rule = query.get("rule")
    if rule is not None and rule not in RULES:
        raise invalid(FieldError("rule", f"must be one of {', '.join(RULES)}"))
    defaults = Thresholds()
    thresholds = Thresholds(
        duplicate_window_s=_number(
            query["duplicateWindow"], "duplicateWindow", integer=False, low=0, high=86_400
        )
        if "duplicateWindow" in query
        else defaults.duplicate_window_s,
        final_reads=int(_number(query["finalReads"], "finalReads", integer=True, low=0, high=1_000_000))
        if "finalReads" in query
        else defaults.final_reads,
        budget_share=_number(query["budgetShare"], "budgetShare", integer=False, low=0, high=1)
        if "budgetShare" in query
        else defaults.budget_share,
        refusals=int(_number(query["refusals"], "refusals", integer=True, low=0, high=1_000_000))
        if "refusals" in query
        else defaults.refusals,
    )
    entries = emu.journal.newest_first()
    entries.reverse()
    if api is not None or account_id is not None:
        entries = [
            e
            for e in entries
            if (api is None or e[j.API] == api) and (account_id is None or e[j.ACCOUNT] == account_id)
        ]
    limits = {spec.name: spec.rate_limit(emu.config) for spec in APIS}
    listed = findings(entries, limits, thresholds)
    if since is not None:
        listed = [f for f in listed if f["at"] >= since]
    if rule is not None:
        listed = [f for f in listed if f["rule"] == rule]
    return json(
        {
            "verdicts": listed,
            "rules": list(RULES),
            "journalSize": emu.journal.size,
            "journaled": len(emu.journal),
        }
    )


routes = [route("/_emulator/verdicts", GET=verdicts)]
