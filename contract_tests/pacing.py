"""Every request of a contract run, paced by the target's own rate-limit headers, and a ledger
of what was judged.

Both schemathesis transports (requests for a base URL, ASGI in-process) are wrapped once, so
every request a run sends goes through here: the generated cases, the stateful steps, and the
probes the built-in checks send themselves (`ignored_auth`). Before a counted request the
pacer waits when the bucket's `X-RateLimit-Remaining` is 0 until its `X-RateLimit-Reset`;
a 429 is retried after `Retry-After` and never handed to the checks, so it can never pass for
a correct refusal. Waiting means moving the emulator clock when the run has a control plane
(in-process, or `CONTRACT_CONTROL_URL`), and real time otherwise (the real endpoints).

Alongside, the rate-limit headers of every response are judged against the previous ones of
the same bucket (`notes`, reported by the checks in semantics.py), and the ledger counts
each operation's responses by status class and its rate-limited retries (coverage.json).
"""

from __future__ import annotations

import contextvars
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from schemathesis.transport.asgi import ASGI_TRANSPORT
from schemathesis.transport.requests import REQUESTS_TRANSPORT

# Seed 000 section 3 and SPEC: 60 requests per minute; windows are a minute long *(inferred:
# fixed windows aligned to the clock's minute)*. USDTLowFee uses the same headers (SPEC).
WINDOW_S = 60
MAX_RETRIES = 6
_ACTIVE: contextvars.ContextVar[bool] = contextvars.ContextVar("contract_pacing", default=True)


class RateLimitExhausted(RuntimeError):
    """The target kept answering 429 after waiting as told: not a verdict on the API, a stop."""


@dataclass(slots=True)
class Bucket:
    remaining: int | None = None
    reset: int | None = None
    skew_s: float = 0.0  # the target's Date minus local time when last seen


@dataclass(slots=True)
class Ledger:
    """What a run judged, per API and operation label."""

    judged: dict[tuple[str, str], dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    rate_limited: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    sent: int = 0
    waited_s: float = 0.0
    settle_waited_s: float = 0.0  # pauses while an order settles by itself (pause), not rate-limit windows
    ids: dict[tuple[str, str], list[Any]] = field(default_factory=lambda: defaultdict(list))  # (api, label) -> ids
    apis_run: set[str] = field(default_factory=set)
    reachable_by_id: set[tuple[str, str]] = field(default_factory=set)

    def add_id(self, api: str, label: str, value: Any) -> None:
        known = self.ids[(api, label)]
        if value not in known:
            known.append(value)


LEDGER = Ledger()
# (api, operation label) -> [(check name, message)]: rate-limit findings the checks report.
NOTES: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
_LOCK = threading.RLock()
_BUCKETS: dict[str, Bucket] = {}
_KEYS: set[str] = set()  # Authorization values of the run's own keys
# label -> api, for the two vendor documents (the control plane is not counted)
LABELS: dict[str, str] = {}
# Moves the target's clock by that many seconds, or None: real time then.
_advance: list[Callable[[float], None] | None] = [None]


def known_key(authorization: str) -> None:
    _KEYS.add(authorization)


_FORGET: list[Callable[[], None]] = []


def fresh_target() -> None:
    """A new emulator behind the same keys (in-process, a seeded emulator per scenario issues the
    same keys and ids again): what was learnt about the old one no longer holds."""
    with _LOCK:
        _BUCKETS.clear()
    for forget in _FORGET:
        forget()


def on_fresh_target(forget: Callable[[], None]) -> None:
    _FORGET.append(forget)


def set_advance(advance: Callable[[float], None] | None) -> None:
    _advance[0] = advance


@contextmanager
def unpaced() -> Iterator[None]:
    """Requests that want the 429 itself (test_rate_limit.py)."""
    token = _ACTIVE.set(False)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def note(api: str, label: str, check: str, message: str) -> None:
    with _LOCK:
        NOTES[(api, label)].append((check, message))


def take_notes(api: str, label: str, check: str) -> list[str]:
    with _LOCK:
        mine = [m for c, m in NOTES.get((api, label), []) if c == check]
        if mine:
            NOTES[(api, label)] = [(c, m) for c, m in NOTES[(api, label)] if c != check]
        return mine


def _header(response: Any, name: str) -> str | None:
    values = response.headers.get(name)
    return values[0] if values else None


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and re.fullmatch(r"\d+", value) else None


def _date_s(response: Any) -> float | None:
    raw = _header(response, "date")
    if raw is None:
        return None
    try:
        return parsedate_to_datetime(raw).timestamp()
    except (TypeError, ValueError):
        return None


def _bucket_of(response: Any) -> str:
    authorization = response.request.headers.get("Authorization")
    if authorization in _KEYS:
        return str(authorization)
    host = re.sub(r"^[a-z]+://([^/]+).*$", r"\1", str(response.request.url))
    return f"anonymous {host}"  # SPEC: without a valid key, counted per client address


def _pass(seconds: float) -> None:
    """Let `seconds` of the target's time pass: a clock move with a control plane, else real
    time (the real endpoints, or a served emulator without a control URL: their clock is the
    wall clock)."""
    advance = _advance[0]
    if advance is not None:
        advance(seconds)
    else:
        time.sleep(seconds)


def _wait(seconds: float) -> None:
    if seconds <= 0:
        return
    LEDGER.waited_s += seconds
    _pass(seconds)


def pause(seconds: float) -> None:
    """Let the target's time pass (an order settling by itself): a clock move with a control plane,
    real time otherwise. Sends nothing; the requests around it are paced as every other."""
    if seconds <= 0:
        return
    LEDGER.settle_waited_s += seconds
    _pass(seconds)


def _before(bucket_name: str) -> None:
    """Never a counted request when the bucket has nothing left before its reset."""
    bucket = _BUCKETS.get(bucket_name)
    if bucket is None or bucket.remaining is None or bucket.reset is None or bucket.remaining > 0:
        return
    now = time.time() + bucket.skew_s
    if now < bucket.reset:
        # Date has whole seconds: a second's margin when waiting on the wall clock.
        _wait(bucket.reset - now + (0 if _advance[0] is not None else 1))
    bucket.remaining = None


def reserve(authorization: str, count: int) -> None:
    """Wait now, if need be, so the next `count` counted requests of the key fall in one window
    (a stateful step's reads before and after a call)."""
    with _LOCK:
        bucket = _BUCKETS.get(authorization)
        if bucket is None or bucket.remaining is None or bucket.remaining >= count:
            return
        bucket.remaining = 0
    _before(authorization)


def _observe(api: str, label: str, response: Any, sent_at: float) -> None:
    """Judge the rate-limit headers of one response against the bucket's previous ones."""
    remaining = _int(_header(response, "x-ratelimit-remaining"))
    raw_reset = _header(response, "x-ratelimit-reset")
    reset = _int(raw_reset)
    date = _date_s(response)
    status = response.status_code
    if raw_reset is not None:
        # Seed 000 section 3: X-RateLimit-Reset is unix seconds. After the request (Date, the
        # target's clock; SPEC "HTTP details") and at most one window away *(inferred: fixed
        # one-minute windows)*.
        now = date if date is not None else sent_at
        slack = 0 if date is not None else 2  # without Date, the local clock and a little skew
        if reset is None or not (now - slack < reset <= now + WINDOW_S + slack):
            note(api, label, "rate_limit_reset",
                 f"X-RateLimit-Reset {raw_reset!r} is not unix seconds after the request's Date "
                 f"({_header(response, 'date')}) and at most {WINDOW_S} s later (seed 000 section 3)")
    if status == 429 and _int(_header(response, "retry-after")) is None:
        # SPEC (inferred): every 429 also carries Retry-After (whole seconds).
        note(api, label, "retry_after", f"a 429 without a valid Retry-After: {_header(response, 'retry-after')!r}")
    bucket_name = _bucket_of(response)
    with _LOCK:
        bucket = _BUCKETS.setdefault(bucket_name, Bucket())
        if (
            not bucket_name.startswith("anonymous")
            and remaining is not None
            and reset is not None
            and bucket.remaining is not None
            and bucket.reset == reset
        ):
            # Seed 000 section 3: Remaining counts down one per request within a window. SPEC
            # "Order of checks": an unknown route or a wrong method is refused before the
            # limiter, so a 404/405 may leave it where it was.
            expected = {max(0, bucket.remaining - 1)}
            if status in (404, 405):
                expected.add(bucket.remaining)
            if remaining not in expected:
                note(api, label, "rate_limit_remaining",
                     f"X-RateLimit-Remaining went {bucket.remaining} -> {remaining} within one window "
                     f"(reset {reset}); expected {' or '.join(map(str, sorted(expected)))} (seed 000 section 3)")
        if remaining is not None:
            bucket.remaining = remaining
            bucket.reset = reset
        if date is not None:
            bucket.skew_s = date - time.time()


def _paced(original: Callable[..., Any]) -> Callable[..., Any]:
    def send(case: Any, **kwargs: Any) -> Any:
        label = case.operation.label
        api = LABELS.get(label)
        if api is None or not _ACTIVE.get():
            return original(case, **kwargs)
        LEDGER.apis_run.add(api)
        authorization = _authorization(case, kwargs)
        bucket_name = authorization if authorization in _KEYS else None
        for _ in range(MAX_RETRIES):
            if bucket_name is not None:
                _before(bucket_name)
            sent_at = time.time()
            try:
                response = original(case, **kwargs)
            except Exception as exc:
                if "may not contain content" in str(exc):  # urllib3 on a 204 or 304 with a body
                    from .semantics import fail

                    raise fail("no_content", label, f"the client refused the answer: {exc}") from exc
                raise
            LEDGER.sent += 1
            _observe(api, label, response, sent_at)
            if response.status_code != 429:
                with _LOCK:
                    LEDGER.judged[(api, label)][f"{response.status_code // 100}xx"] += 1
                return response
            with _LOCK:
                LEDGER.rate_limited[(api, label)] += 1
            retry_after = _int(_header(response, "retry-after"))
            reset = _int(_header(response, "x-ratelimit-reset"))
            date = _date_s(response) or time.time()
            wait = max(retry_after or 0, (reset - date) if reset is not None and reset - date <= WINDOW_S else 0, 1)
            _wait(wait)
            _BUCKETS.pop(_bucket_of(response), None)
        raise RateLimitExhausted(f"{label}: still 429 after {MAX_RETRIES} waits as told")

    return send


def _authorization(case: Any, kwargs: dict[str, Any]) -> str | None:
    headers = {**(case.headers or {}), **(kwargs.get("headers") or {})}
    for name, value in headers.items():
        if name.lower() == "authorization":
            return str(value)
    return None


def install(labels: dict[str, str]) -> None:
    """Wrap both transports once (idempotent)."""
    LABELS.update(labels)
    for transport in (REQUESTS_TRANSPORT, ASGI_TRANSPORT):
        if not getattr(transport.send, "_contract_paced", False):
            paced = _paced(transport.send)
            paced._contract_paced = True  # type: ignore[attr-defined]
            transport.send = paced  # type: ignore[method-assign]
