"""A typed client for the control plane (`/_emulator`): the emulator in-process, or served.

One method per control endpoint; answers are the control plane's JSON as plain dicts, and
an error answer raises `EmulatorError`. An account comes back as an `Account`: its ids,
its key, an httpx client already pointing at its API with the key, and its clock.

In-process, every request goes through one `InProcessTransport` into the app in the
caller's thread (not thread-safe: one thread at a time); served, through one connection
pool over HTTP. Either way the clients of all accounts share the control client's
transport, so only `EmulatorClient.close()` has anything to release.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import httpx

from .transport import InProcessTransport

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from emulator.config import Config
    from emulator.runtime import Emulator

Api = Literal["247xd", "usdtlowfee"]
OrderKind = Literal["otp", "social", "premium", "energy"]
Json = dict[str, Any]

IN_PROCESS_ROOT = "http://emulator"
# Base URL of each API below the root: 247xd paths are relative to /api/v1 (`/balance`),
# USDTLowFee's start with /v1 (`/v1/wallet/balance`), as in the vendors' docs.
API_BASE = {"247xd": "/api/v1", "usdtlowfee": ""}
AUTH_SCHEME = {"247xd": "Bearer", "usdtlowfee": "ApiKey"}
SPEC_PATHS = {
    "247xd": "/specs/247xd.json", "usdtlowfee": "/specs/usdtlowfee.json", "control": "/openapi.json"
}
# A latency fault may hold a request for up to 60 s; connecting must not take long.
TIMEOUT = httpx.Timeout(65.0, connect=5.0)


class EmulatorError(Exception):
    """An error answer of the control plane: `{"error": {"code", "message"}}`."""

    def __init__(self, status: int, code: str, message: str, response: httpx.Response | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.response = response


class _Shared(httpx.BaseTransport):
    """The owner's transport, lent to an account's client: closing that client keeps it open."""

    def __init__(self, transport: httpx.BaseTransport) -> None:
        self.transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.transport.handle_request(request)


def iso(instant: str | datetime) -> str:
    """An instant for the control plane: ISO 8601 text as given; a datetime in UTC (naive = UTC)."""
    if isinstance(instant, str):
        return instant
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _seg(value: str | int) -> str:
    """One path segment: whatever the value, it stays one segment."""
    return quote(str(value), safe="")


def _given(**fields: Any) -> Json:
    """The body fields that were given (None means not given)."""
    return {name: value for name, value in fields.items() if value is not None}


@dataclass(frozen=True)
class ClockControl:
    """The emulator clock (`/clock`) or an account's own (`/{api}/accounts/{id}/clock`)."""

    emulator: EmulatorClient = field(repr=False)
    path: str

    def get(self) -> Json:
        """`{"now": ISO-8601, "frozen": bool}`."""
        return self.emulator.call_object("GET", self.path)

    def now(self) -> datetime:
        return datetime.fromisoformat(self.get()["now"].replace("Z", "+00:00"))

    def advance(self, seconds: float) -> Json:
        return self.emulator.call_object("POST", self.path + "/advance", {"seconds": seconds})

    def advance_until_next(self) -> Json:
        """To the instant of the next natural move due (not at all if none) and apply it;
        the answer's `fired` lists the moves applied."""
        return self.emulator.call_object("POST", self.path + "/advance", {"until": "next"})

    def advance_until_settled(self, max_seconds: float | None = None) -> Json:
        """From one natural move to the next until none is due within `max_seconds`
        (default 86400) of the current instant; `fired` lists every move applied."""
        body = _given(until="settled", maxSeconds=max_seconds)
        return self.emulator.call_object("POST", self.path + "/advance", body)

    def set(self, now: str | datetime) -> Json:
        """Never backwards: 409 (`reset` is the way back for the emulator clock)."""
        return self.emulator.call_object("POST", self.path + "/set", {"now": iso(now)})

    def freeze(self) -> Json:
        return self.emulator.call_object("POST", self.path + "/freeze")

    def resume(self) -> Json:
        return self.emulator.call_object("POST", self.path + "/resume")


@dataclass
class Account:
    """An account made through the control plane, with a client of its API holding its key."""

    api: Api
    account_id: str
    api_key: str
    client: httpx.Client
    info: Json  # the control plane's view of the account (as created, or as last patched)
    emulator: EmulatorClient = field(repr=False)
    fault_ids: list[str] = field(default_factory=list, repr=False)  # removed by close()

    @property
    def user_id(self) -> int | None:
        """USDTLowFee's int64 user id (`GET /v1/users/me`); None for 247xd."""
        user_id = self.info.get("userId")
        return user_id if isinstance(user_id, int) else None

    @property
    def clock(self) -> ClockControl:
        """The account's own clock (only for one created with `clock="own"`, else 409)."""
        return self.emulator.account_clock(self.api, self.account_id)

    def advance(self, seconds: float) -> Json:
        """Move this account's own clock on: its orders expire, get SMS, complete, as due."""
        return self.clock.advance(seconds)

    def advance_until_next(self) -> Json:
        """This account's own clock to its next natural move, applied (see ClockControl)."""
        return self.clock.advance_until_next()

    def advance_until_settled(self, max_seconds: float | None = None) -> Json:
        """This account's own clock on, move after move, until none is due within
        `max_seconds` (default 86400): every order of it that would finish by itself has."""
        return self.clock.advance_until_settled(max_seconds)

    def events(self, after: int | None = None, limit: int | None = None) -> Json:
        """This account's events (`EmulatorClient.events`)."""
        return self.emulator.events(api=self.api, account_id=self.account_id, after=after, limit=limit)

    def patch(self, **fields: Any) -> Json:
        """247xd: `coins`, `banned`; USDTLowFee: `balance_sun`, `disabled`."""
        if self.api == "247xd":
            self.info = self.emulator.patch_xd247_account(self.account_id, **fields)
        else:
            self.info = self.emulator.patch_usdtlowfee_account(self.account_id, **fields)
        return self.info

    def create_key(self, expires_at: str | datetime | None = None) -> Json:
        return self.emulator.create_key(self.api, self.account_id, expires_at=expires_at)

    def transition(self, order_id: str | int, to: str, **extra: Any) -> Json:
        return self.emulator.transition(self.api, order_id, to, **extra)

    def fault(
        self, *, path: str | None = None, method: str | None = None, status: int | None = None,
        code: str | None = None, message: str | None = None, latency_ms: int | None = None,
        drop: bool | None = None, times: int | None = None, probability: float | None = None,
        phase: Literal["before", "after"] | None = None,
    ) -> Json:
        """A fault that strikes only this account's requests (other tests sharing the server
        are untouched); removed by `close()` (the plugin's fixtures: at teardown)."""
        created = self.emulator.create_fault(
            self.api, path=path, method=method, status=status, code=code, message=message,
            latency_ms=latency_ms, drop=drop, times=times, probability=probability, phase=phase,
            account_id=self.account_id,
        )
        self.fault_ids.append(created["faultId"])
        return created

    def verdicts(self, **options: Any) -> list[Json]:
        """Findings about this account's requests (GET /_emulator/verdicts?accountId=...)."""
        return self.emulator.verdicts(api=self.api, account_id=self.account_id, **options)

    def assert_well_behaved(self, **options: Any) -> None:
        """Fail, listing every finding, unless this account's requests broke no rule."""
        found = self.verdicts(**options)
        if found:
            lines = [f"- {v['rule']}: {v['message']} ({', '.join(v['requestIds'])})" for v in found]
            heading = f"{len(found)} verdict(s) on account {self.account_id}:"
            raise AssertionError("\n".join([heading, *lines]))

    def close(self) -> None:
        while self.fault_ids:
            try:
                self.emulator.delete_fault(self.fault_ids.pop())
            except EmulatorError as exc:
                if exc.status != 404:  # already gone (deleted, or the emulator was reset)
                    raise
        self.client.close()

    def __enter__(self) -> Account:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class EmulatorClient:
    """The control plane of one emulator. Build one with `in_process()` or `served(url)`."""

    def __init__(
        self, root: str, transport: httpx.BaseTransport, *, app: Starlette | None = None,
        timeout: httpx.Timeout = TIMEOUT, token: str | None = None,
    ) -> None:
        self.root = root.rstrip("/")
        self.app = app  # the Starlette app, in-process only
        self.timeout = timeout
        self._transport = transport
        # The control token (--control-token): on control-plane requests only, never the APIs'.
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        self.http = httpx.Client(
            base_url=self.root + "/_emulator", transport=transport, timeout=timeout, headers=headers
        )
        self.clock = ClockControl(self, "/clock")

    @classmethod
    def in_process(cls, emulator: Emulator | None = None, config: Config | None = None) -> EmulatorClient:
        """The app around `emulator` (a new one from `config` if None), driven in this thread,
        with the app's own control token if it has one."""
        from emulator.app import create_app

        app = create_app(config, emulator)
        token = app.state.emulator.config.control_token
        return cls(IN_PROCESS_ROOT, InProcessTransport(app), app=app, token=token)

    @classmethod
    def served(cls, url: str, timeout: httpx.Timeout = TIMEOUT, token: str | None = None) -> EmulatorClient:
        """A running emulator at `url` (e.g. `http://127.0.0.1:8080`, as `emulator serve` prints);
        `token`: its --control-token, if it was started with one."""
        return cls(url, httpx.HTTPTransport(), timeout=timeout, token=token)

    @property
    def runtime(self) -> Emulator | None:
        """The very `Emulator` the app serves (in-process only): its clock, backends, lock."""
        return None if self.app is None else self.app.state.emulator

    def call(self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """One control request: the JSON answer (None for 204), or EmulatorError."""
        response = self.http.request(
            method, path, json=body, params={k: v for k, v in (params or {}).items() if v is not None}
        )
        if response.is_error:
            code, message = f"HTTP_{response.status_code}", response.text[:500]
            try:
                error = response.json()["error"]
                code, message = str(error["code"]), str(error["message"])
            except (ValueError, KeyError, TypeError):
                pass
            raise EmulatorError(response.status_code, code, message, response)
        return response.json() if response.content else None

    def call_object(
        self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None
    ) -> Json:
        """`call` for an endpoint that answers a JSON object."""
        answer = self.call(method, path, body, params)
        if not isinstance(answer, dict):
            raise EmulatorError(
                200, "UNEXPECTED_ANSWER", f"{method} {path} answered {answer!r}, not a JSON object"
            )
        return answer

    def api_client(self, api: Api, api_key: str | None = None) -> httpx.Client:
        """An httpx client at `api`'s base URL, with `api_key` in the vendor's Authorization scheme."""
        headers = {} if api_key is None else {"Authorization": f"{AUTH_SCHEME[api]} {api_key}"}
        return httpx.Client(
            base_url=self.root + API_BASE[api], headers=headers, transport=_Shared(self._transport),
            timeout=self.timeout,
        )

    # -- health, reset, fixtures -------------------------------------------------------------

    def health(self) -> Json:
        return self.call_object("GET", "/health")

    def reset(self) -> Json:
        """The fixtures' state again (every account made since is gone: not for a shared server)."""
        return self.call_object("POST", "/reset")

    def load_fixtures(self, document: Mapping[str, Any]) -> Json:
        return self.call_object("POST", "/fixtures", dict(document))

    # -- accounts ------------------------------------------------------------------------------

    def _account(self, api: Api, created: Json) -> Account:
        key = created.pop("apiKey")
        return Account(api, created["accountId"], key, self.api_client(api, key), created, self)

    def create_xd247_account(
        self, *, coins: float | None = None, banned: bool | None = None, label: str | None = None,
        clock: Literal["own", "global"] | None = None,
    ) -> Account:
        """`clock="own"`: a clock of its own, frozen at the emulator's instant, moved only by you."""
        body = _given(coins=coins, banned=banned, label=label, clock=clock)
        return self._account("247xd", self.call_object("POST", "/247xd/accounts", body))

    def create_usdtlowfee_account(
        self, *, balance_sun: int | None = None, email: str | None = None, email_verified: bool | None = None,
        disabled: bool | None = None, label: str | None = None, clock: Literal["own", "global"] | None = None,
    ) -> Account:
        body = _given(
            balanceSun=balance_sun, email=email, emailVerified=email_verified, disabled=disabled,
            label=label, clock=clock,
        )
        return self._account("usdtlowfee", self.call_object("POST", "/usdtlowfee/accounts", body))

    def patch_xd247_account(
        self, account_id: str, *, coins: float | None = None, banned: bool | None = None
    ) -> Json:
        body = _given(coins=coins, banned=banned)
        return self.call_object("PATCH", f"/247xd/accounts/{_seg(account_id)}", body)

    def patch_usdtlowfee_account(
        self, account_id: str, *, balance_sun: int | None = None, disabled: bool | None = None
    ) -> Json:
        body = _given(balanceSun=balance_sun, disabled=disabled)
        return self.call_object("PATCH", f"/usdtlowfee/accounts/{_seg(account_id)}", body)

    def accounts(self, api: Api) -> list[Json]:
        """Every account of `api` in creation order (the fixtures' first), each with `keys`:
        its keys, whole, in issue order. USDTLowFee wallets are as of now (due orders settled)."""
        accounts: list[Json] = self.call_object("GET", f"/{api}/accounts")["accounts"]
        return accounts

    def account(self, api: Api, account_id: str) -> Json:
        """One account as `accounts` lists it (404 for an unknown id)."""
        return self.call_object("GET", f"/{api}/accounts/{_seg(account_id)}")

    def account_clock(self, api: Api, account_id: str) -> ClockControl:
        return ClockControl(self, f"/{api}/accounts/{_seg(account_id)}/clock")

    # -- keys ----------------------------------------------------------------------------------

    def create_key(self, api: Api, account_id: str, *, expires_at: str | datetime | None = None) -> Json:
        """Another key for the account: `{"apiKey", "accountId", "expiresAt", "revoked"}`."""
        body = {} if expires_at is None else {"expiresAt": iso(expires_at)}
        return self.call_object("POST", f"/{api}/accounts/{_seg(account_id)}/keys", body)

    def revoke_key(self, api: Api, api_key: str) -> None:
        self.call("DELETE", f"/{api}/keys/{_seg(api_key)}")

    def set_key_expiry(self, api: Api, api_key: str, expires_at: str | datetime | None) -> Json:
        """None: the key never expires."""
        body = {"expiresAt": None if expires_at is None else iso(expires_at)}
        return self.call_object("PATCH", f"/{api}/keys/{_seg(api_key)}", body)

    # -- catalog (247xd), prices (USDTLowFee) --------------------------------------------------

    def patch_catalog_item(
        self, item_id: str, *, price: float | None = None, stock: int | None = None
    ) -> Json:
        """A price option, social option (price = pricePer1000) or premium service, as listed."""
        body = _given(price=price, stock=stock)
        return self.call_object("PATCH", f"/247xd/catalog/{_seg(item_id)}", body)

    def get_prices(self) -> dict[int, int]:
        """USDTLowFee's table: durationHours -> priceSun of 65000 energy."""
        answer = self.call_object("GET", "/usdtlowfee/prices")
        return {row["durationHours"]: row["priceSun"] for row in answer["prices"]}

    def put_prices(self, prices: Mapping[int, int]) -> dict[int, int]:
        """Replace the whole table (every duration: 1, 24, 72, 168, 336, 720)."""
        rows = [{"durationHours": hours, "priceSun": sun} for hours, sun in prices.items()]
        answer = self.call_object("PUT", "/usdtlowfee/prices", {"prices": rows})
        return {row["durationHours"]: row["priceSun"] for row in answer["prices"]}

    # -- orders --------------------------------------------------------------------------------

    def transition(
        self, api: Api, order_id: str | int, to: str, *, otp_code: str | None = None,
        delivered: int | None = None, reason: str | None = None,
    ) -> Json:
        """Force a move the order's table allows (409 if not); the order as the API shows it."""
        body = _given(to=to, otpCode=otp_code, delivered=delivered, reason=reason)
        return self.call_object("POST", f"/{api}/orders/{_seg(order_id)}/transition", body)

    def orders(
        self, *, api: Api | None = None, account_id: str | None = None, status: str | None = None,
        kind: OrderKind | None = None, limit: int | None = None,
    ) -> Json:
        """Orders of both APIs, newest first (default limit 100, at most 1000), each settled to
        now: `{"orders": [{"api", "orderId", "accountId", "kind", "status", "canTransitionTo",
        "price", "priceUnit", "createdAt", "updatedAt", "order", ...}], "hasMore": bool}`."""
        params = {"api": api, "accountId": account_id, "status": status, "kind": kind, "limit": limit}
        return self.call_object("GET", "/orders", params=params)

    # -- faults --------------------------------------------------------------------------------

    def create_fault(
        self, api: Api, *, path: str | None = None, method: str | None = None, status: int | None = None,
        code: str | None = None, message: str | None = None, latency_ms: int | None = None,
        drop: bool | None = None, times: int | None = None, probability: float | None = None,
        phase: Literal["before", "after"] | None = None, account_id: str | None = None,
    ) -> Json:
        """`path` is a route template relative to the API's prefix (`/otp/orders/{orderId}`).
        `phase="after"`: the request is served and committed, then its answer replaced;
        `account_id`: only that account's requests."""
        body = _given(
            api=api, path=path, method=method, status=status, code=code, message=message,
            latencyMs=latency_ms, drop=drop, times=times, probability=probability, phase=phase,
            accountId=account_id,
        )
        return self.call_object("POST", "/faults", body)

    def list_faults(self) -> list[Json]:
        faults: list[Json] = self.call_object("GET", "/faults")["faults"]
        return faults

    def delete_fault(self, fault_id: str) -> None:
        self.call("DELETE", f"/faults/{_seg(fault_id)}")

    def delete_faults(self) -> None:
        self.call("DELETE", "/faults")

    # -- journal -------------------------------------------------------------------------------

    def list_requests(
        self, *, api: Api | None = None, method: str | None = None, path: str | None = None,
        status: int | None = None, limit: int | None = None, account_id: str | None = None,
    ) -> list[Json]:
        """API requests, newest first (default limit 100), keys redacted."""
        params = {
            "api": api, "method": method, "path": path, "status": status, "limit": limit,
            "accountId": account_id,
        }
        requests: list[Json] = self.call_object("GET", "/requests", params=params)["requests"]
        return requests

    def clear_requests(self) -> None:
        self.call("DELETE", "/requests")

    def verdicts(
        self, *, api: Api | None = None, account_id: str | None = None, since: str | datetime | None = None,
        rule: str | None = None, duplicate_window: float | None = None, final_reads: int | None = None,
        budget_share: float | None = None, refusals: int | None = None,
    ) -> list[Json]:
        """Findings about how clients behaved, newest first: `{"rule", "api", "accountId",
        "message", "requestIds", "at"}` (docs/robustness.md)."""
        params = {
            "api": api, "accountId": account_id, "since": None if since is None else iso(since), "rule": rule,
            "duplicateWindow": duplicate_window, "finalReads": final_reads, "budgetShare": budget_share,
            "refusals": refusals,
        }
        found: list[Json] = self.call_object("GET", "/verdicts", params=params)["verdicts"]
        return found

    # -- events --------------------------------------------------------------------------------

    def events(
        self, *, api: Api | None = None, account_id: str | None = None, after: int | None = None,
        limit: int | None = None,
    ) -> Json:
        """`{"events": [...], "last": id}`: the events after `after` (default: every one
        kept), oldest first; pass `last` as `after` next time. The JSON form of the
        Server-Sent Events stream `GET /_emulator/events`, which a served emulator offers too."""
        params = {"format": "json", "api": api, "accountId": account_id, "after": after, "limit": limit}
        return self.call_object("GET", "/events", params=params)

    # -- state, specs --------------------------------------------------------------------------

    def export_state(self) -> Json:
        """Everything but the journal, as `import_state` takes it back."""
        return self.call_object("GET", "/state")

    def import_state(self, state: Mapping[str, Any]) -> Any:
        """All or nothing."""
        return self.call("PUT", "/state", dict(state))

    def spec(self, name: Literal["247xd", "usdtlowfee", "control"]) -> Json:
        """An OpenAPI document, as served."""
        return self.call_object("GET", SPEC_PATHS[name])

    # -- lifetime ------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the transport (every account's client with it)."""
        self.http.close()

    def __enter__(self) -> EmulatorClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
