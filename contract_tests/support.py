"""What both contract suites share: the target (in-process emulator or a live base URL),
the schemathesis configuration, the spending guard, and the checks and hooks the seeds call for.

The contract is `emulator/specs/*.json`; nothing here restates a wire shape.
"""

from __future__ import annotations

import contextvars
import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis.core.failures import Failure
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator
from emulator.usdtlowfee import tron

from . import breakages, pacing, semantics

SPECS = Path(__file__).resolve().parent.parent / "emulator" / "specs"
REPORTS = Path(os.environ.get("CONTRACT_REPORT_DIR") or Path(__file__).resolve().parent / "reports")


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return default if not raw else int(raw)


# The knobs (contract_tests/README.md). Defaults keep `make test` well inside the CI budget.
_LIVE = any(os.environ.get(f"CONTRACT_{name}_URL") for name in ("247XD", "USDTLOWFEE"))
SEED = _int_env("CONTRACT_SEED", 20250115)
# A live target answers 60 requests a minute (seed 000 section 3): the defaults of a live run keep
# it inside 5 minutes (README "What a run costs"); in-process there is no limit to respect.
# With a control plane (CONTRACT_CONTROL_URL) waiting is a clock move, nearly free: in between.
_PACED_BY_WALL_CLOCK = _LIVE and not os.environ.get("CONTRACT_CONTROL_URL")
MAX_EXAMPLES = _int_env("CONTRACT_MAX_EXAMPLES", 4 if _PACED_BY_WALL_CLOCK else 20 if _LIVE else 50)
STATEFUL_EXAMPLES = _int_env("CONTRACT_STATEFUL_EXAMPLES", 6 if _PACED_BY_WALL_CLOCK else 25)
STATEFUL_STEPS = _int_env("CONTRACT_STATEFUL_STEPS", 6 if _PACED_BY_WALL_CLOCK else 10)
ALLOW_SPEND = os.environ.get("CONTRACT_ALLOW_SPEND") == "1"
# At most this many orders bought from a live target that may be the real vendor.
MAX_PURCHASES = _int_env("CONTRACT_MAX_PURCHASES", 50)
OPERATIONS = [op for op in os.environ.get("CONTRACT_OPERATIONS", "").split(",") if op]
# A served emulator's control plane (http://HOST:PORT/_emulator): the stateful flows then get a
# fresh account per scenario, as in-process.
CONTROL_URL = (os.environ.get("CONTRACT_CONTROL_URL") or "").rstrip("/") or None
BREAKAGE = os.environ.get("CONTRACT_BREAK") or None
# Without a control plane nothing settles an energy order on demand: the fixed walk (scripted_flows)
# waits for its order to settle by itself, polling it by id every SETTLE_POLL_S, at most this long
# (README "Spending runs"). The emulator fulfils after fulfilmentDelaySeconds (5 s by default); the
# vendor documents no time, so against it the wait may need raising. Past the bound: inconclusive.
SETTLE_WAIT_S = float(os.environ.get("CONTRACT_SETTLE_WAIT_S") or 20)
SETTLE_POLL_S = 2.0
# The schemathesis phases to run (all by default); test_teeth.py narrows its children with it.
PHASE_NAMES = ("examples", "coverage", "fuzzing", "stateful")
PHASES = [p for p in os.environ.get("CONTRACT_PHASES", ",".join(PHASE_NAMES)).split(",") if p]
if set(PHASES) - set(PHASE_NAMES):
    raise RuntimeError(f"CONTRACT_PHASES: unknown {sorted(set(PHASES) - set(PHASE_NAMES))}; known: {PHASE_NAMES}")

# The in-process clock: frozen (no automatic move ever fires by itself, so runs repeat).
START = "2025-01-15T10:30:00Z"
FROZEN_AT = "2025-01-15T10:31:00.000Z"
# Fresh accounts hold plenty: what the seeds document as refusals for money (400 in 247xd,
# 403 in USDTLowFee) stays rare and deliberate, not the common case.
XD247_COINS = 10_000_000
USDTLOWFEE_SUN = 10**15
UNLIMITED = 10**9



def _spending() -> frozenset[str]:
    """The operations that cost money on the real endpoints: `x-spends` in the documents."""
    labels = set()
    for name in ("247xd.json", "usdtlowfee.json"):
        for path, item in json.loads((SPECS / name).read_text("utf-8"))["paths"].items():
            labels |= {f"{method.upper()} {path}" for method, op in item.items() if "x-spends" in op}
    return frozenset(labels)


SPENDING = _spending()


def _labels() -> dict[str, str]:
    labels = {}
    for api, name in (("247xd", "247xd.json"), ("usdtlowfee", "usdtlowfee.json")):
        for path, item in json.loads((SPECS / name).read_text("utf-8"))["paths"].items():
            labels |= {f"{method.upper()} {path}": api for method in item if method in ("get", "post", "put", "delete")}
    return labels


def operation_ids() -> dict[str, str]:
    ids = {}
    for name in ("247xd.json", "usdtlowfee.json"):
        for path, item in json.loads((SPECS / name).read_text("utf-8"))["paths"].items():
            ids |= {f"{m.upper()} {path}": op["operationId"] for m, op in item.items() if isinstance(op, dict) and "operationId" in op}
    return ids


DOCUMENTED = _labels()  # "GET /v1/energy/orders" -> "usdtlowfee"
pacing.install(DOCUMENTED)


@dataclass(frozen=True, slots=True)
class Api:
    name: str  # the control plane's {api}
    spec: str  # file in emulator/specs/
    env: str  # CONTRACT_<env>_URL, CONTRACT_<env>_KEY
    scheme: str  # the security scheme of the document
    prefix: str  # strip from a given URL to get the document's server URL
    auth_scheme: str  # `Authorization: <auth_scheme> <key>`

    def header_value(self, key: str) -> str:
        return f"{self.auth_scheme} {key}"


XD247 = Api("247xd", "247xd.json", "247XD", "BearerAuth", "", "Bearer")
USDTLOWFEE = Api("usdtlowfee", "usdtlowfee.json", "USDTLOWFEE", "ApiKeyAuth", "/v1", "ApiKey")


@dataclass(frozen=True, slots=True)
class Target:
    api: Api
    key: str
    base_url: str | None = None  # live
    app: Any = None  # in-process ASGI app
    emulator: Emulator | None = None

    @property
    def live(self) -> bool:
        return self.base_url is not None

    @property
    def may_spend(self) -> bool:
        return not self.live or ALLOW_SPEND

    def auth_value(self) -> dict[str, str]:
        if self.api is XD247:
            return {"bearer": self.key}
        return {"api_key": self.api.header_value(self.key)}


# --- the in-process emulator ------------------------------------------------------------


def new_emulator() -> tuple[Emulator, Any, TestClient]:
    """A seeded emulator with its clock frozen and the rate limits out of the way."""
    emulator = Emulator(
        Config(
            seed=SEED,
            clock_start_us=parse_iso(START),
            rate_limit_247xd=UNLIMITED,
            rate_limit_usdtlowfee=UNLIMITED,
        )
    )
    app = create_app(emulator=emulator)
    control = TestClient(app)
    control.post("/_emulator/clock/freeze").raise_for_status()
    # Frozen a few real microseconds after START; setting it forward makes the instant exact.
    control.post("/_emulator/clock/set", json={"now": FROZEN_AT}).raise_for_status()
    pacing.set_advance(_advancer(control))
    return emulator, app, control


def _advancer(control: Any) -> Any:
    """Waiting for a rate-limit window on a target with a control plane: move its clock."""

    def advance(seconds: float) -> None:
        body = {"seconds": round(seconds, 3)}
        if isinstance(control, str):
            httpx.post(f"{control}/clock/advance", json=body, timeout=30).raise_for_status()
        else:
            control.post("/_emulator/clock/advance", json=body).raise_for_status()

    return advance


def control_client() -> Any:
    """The served emulator's control plane (CONTRACT_CONTROL_URL), or None."""
    if CONTROL_URL is None:
        return None
    return httpx.Client(base_url=CONTROL_URL.removesuffix("/_emulator"), timeout=30)


@cache
def emulator_app() -> tuple[Emulator, Any, TestClient]:
    """The emulator of the run, shared by both suites."""
    return new_emulator()


class Swap:
    """An ASGI app that forwards to whichever app it holds: the stateful flows give each
    scenario a fresh emulator behind the same schema."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def fresh_key(api: Api, control: Any) -> str:
    """A fresh account of the API, made through the control plane; its key."""
    body: dict[str, Any] = {"label": "contract tests"}
    body |= {"coins": XD247_COINS} if api is XD247 else {"balanceSun": USDTLOWFEE_SUN}
    response = control.post(f"/_emulator/{api.name}/accounts", json=body)
    assert response.status_code == 201, response.text
    key = str(response.json()["apiKey"])
    pacing.known_key(api.header_value(key))
    return key


def target(api: Api) -> Target:
    url = os.environ.get(f"CONTRACT_{api.env}_URL")
    if url:
        key = os.environ.get(f"CONTRACT_{api.env}_KEY")
        if not key:
            raise RuntimeError(f"CONTRACT_{api.env}_URL is set: CONTRACT_{api.env}_KEY must be set too")
        url = url.rstrip("/")
        if api.prefix and url.endswith(api.prefix):
            url = url[: -len(api.prefix)]  # the document's paths carry /v1 themselves
        pacing.known_key(api.header_value(key))
        if CONTROL_URL is not None:
            pacing.set_advance(_advancer(CONTROL_URL))
            semantics.use_tables(httpx.get(f"{CONTROL_URL}/machines", timeout=30).json()["machines"])
        return Target(api, key, base_url=url)
    emulator, app, control = emulator_app()
    semantics.use_tables(control.get("/_emulator/machines").json()["machines"])
    key = fresh_key(api, control)
    return Target(api, key, app=Swap(breakages.wrap(app, api.name, BREAKAGE, key)), emulator=emulator)


# --- schemathesis configuration --------------------------------------------------------

# Positive (schema-valid) requests the vendor documents as refused for business reasons.
# The defaults of `positive_data_acceptance` already allow 401, 403, 404, 409 and 429; 247xd
# refuses with 400 where USDTLowFee uses 403/409, so those operations expect 400 too, and
# `documented_refusal` below pins which error codes such a refusal may carry.
POSITIVE_ACCEPTED = ["2xx", "401", "403", "404", "409", "429"]
REFUSALS: dict[str, dict[int, set[str]]] = {
    # Seed 000 section 9 and SPEC 247xd "Error codes": insufficient coins and out of stock
    # are 400 BAD_REQUEST (SPEC: "a valid-shaped order refused for insufficient coins").
    "POST /otp/orders": {400: {"BAD_REQUEST"}},
    "POST /premium/orders": {400: {"BAD_REQUEST"}},
    # ... and quantity outside the option's [min, max] (GET /social/services) is
    # 400 VALIDATION_ERROR (SPEC "Social boosters"): the range is per option, not in the schema.
    "POST /social/orders": {400: {"BAD_REQUEST", "VALIDATION_ERROR"}},
    # Seed 000 section 6: cancel "only while waiting_sms", refund "from a cancelled order";
    # SPEC: an action the order's status forbids is 400 BAD_REQUEST.
    "POST /otp/orders/{orderId}/cancel": {400: {"BAD_REQUEST"}},
    "POST /otp/orders/{orderId}/refund": {400: {"BAD_REQUEST"}},
    # Seed 000 section 7: refund "for a cancelled/incomplete order" only.
    "POST /social/orders/{orderId}/refund": {400: {"BAD_REQUEST"}},
    # USDTLowFee's auth page: 403 for insufficient balance (or a disabled account); the
    # default expectation already allows 403, this pins the codes.
    "POST /v1/energy/orders": {403: {"INSUFFICIENT_BALANCE", "FORBIDDEN"}},
    # SPEC (inferred): the same tronAddress twice for one user is 409 CONFLICT.
    "POST /v1/addresses": {409: {"CONFLICT"}},
}


def _operations_config(api: Api) -> list[dict[str, Any]]:
    ops = []
    for label, statuses in REFUSALS.items():
        extra = sorted(str(s) for s in statuses if str(s) not in POSITIVE_ACCEPTED)
        if not extra:
            continue
        if (api is USDTLOWFEE) != label.split(" ", 1)[1].startswith("/v1/"):
            continue
        ops.append(
            {
                "include-name": label,
                "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_ACCEPTED + extra}},
            }
        )
    return ops


def config_for(target: Target) -> schemathesis.Config:
    project: dict[str, Any] = {
        "seed": SEED,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "auth": {"openapi": {target.api.scheme: target.auth_value()}},
        # Positive and negative data; no example database, so a run depends on the seed alone.
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "database": "none"},
        # Stateful walks the documented links with valid data (negatives are the other phases' job).
        "phases": {
            **{name: {"enabled": name in PHASES} for name in PHASE_NAMES},
            "stateful": {"enabled": "stateful" in PHASES, "generation": {"mode": "positive"}},
        },
        "operations": _operations_config(target.api),
    }
    if target.live:
        project["base-url"] = target.base_url
        project["request-timeout"] = 30
        rate = os.environ.get("CONTRACT_RATE_LIMIT")  # e.g. "60/m": stay under the vendor's limit
        if rate:
            project["rate-limit"] = rate
    return schemathesis.Config.from_dict(project)


def load_schema(target: Target) -> Any:
    schema: Any = schemathesis.openapi.from_path(SPECS / target.api.spec, config=config_for(target))
    if target.app is not None:
        schema.app = target.app
    # Filters exclude: schemathesis ORs an include with the selection the per-operation
    # configuration already makes, so an include would select everything.
    if not target.may_spend:
        # Against the real endpoints, only what cannot cost money: reads.
        schema = schema.exclude(method=["POST", "PUT", "PATCH", "DELETE"])
    if OPERATIONS:
        schema = schema.exclude(func=lambda ctx: _operation_id(ctx) not in OPERATIONS)
    _READ_ONLY[target.base_url or ""] = not target.may_spend
    if target.live and target.may_spend and CONTROL_URL is None:
        _SPENDING_APIS.add(target.api.name)
    schema.hook("map_body")(whole_numbers)
    return schema


def _operation_id(ctx: Any) -> str | None:
    return ctx.operation.definition.raw.get("operationId")  # type: ignore[no-any-return]


def flows_skipped(target: Target) -> str | None:
    """Why the stateful flows do not run for this target, or None when they do."""
    if not target.may_spend:
        return "the stateful flows buy and save: set CONTRACT_ALLOW_SPEND=1 to run them against a live target"
    if OPERATIONS:
        return "CONTRACT_OPERATIONS picks single operations; the flows need the linked ones"
    if "stateful" not in PHASES:
        return "CONTRACT_PHASES leaves out the stateful phase"
    return None


def flows(schema: Any, target: Target) -> Any:
    """The stateful test case: the document's links walked with valid data.

    Hypothesis replays a scenario's choices and expects the same responses, which a duplicate
    address (409 the second time), a spent balance or a sold-out item would not give. So
    in-process every scenario runs on a fresh emulator and account; against a served
    emulator (CONTRACT_CONTROL_URL), on a fresh account.
    """

    shared = target.app.app if target.emulator is not None else None
    money = Money(schema, target)

    class Flows(schema.as_state_machine()):  # type: ignore[misc]
        key = target.key
        emulator_control: Any = None

        def setup(self) -> None:
            if target.emulator is not None:
                pacing.fresh_target()
                _, app, self.emulator_control = new_emulator()
                self.key = fresh_key(target.api, self.emulator_control)
                target.app.app = breakages.wrap(app, target.api.name, BREAKAGE, self.key)
            elif CONTROL_URL is not None:
                self.emulator_control = control_client()
                self.key = fresh_key(target.api, self.emulator_control)

        def teardown(self) -> None:
            if shared is not None:
                target.app.app = shared
                pacing.fresh_target()
                pacing.set_advance(_advancer(emulator_app()[2]))
            elif self.emulator_control is not None:
                self.emulator_control.close()
            super().teardown()

        def before_call(self, case: Any) -> None:
            case.headers["Authorization"] = target.api.header_value(self.key)
            # One long-lived real account: a replayed scenario would meet its own address again
            # (409, not 201) and Hypothesis would call the run flaky. A new address every time
            # keeps the responses the same from run to run.
            if (
                target.live
                and CONTROL_URL is None
                and case.operation.label == "POST /v1/addresses"
                and isinstance(case.body, dict)
                and isinstance(case.body.get("tronAddress"), str)
            ):
                case.body["tronAddress"] = tron.address_from_bytes(os.urandom(20))

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            super().validate_response(response, case, *args, **kwargs)
            money.after_step(case, response, self.key, self.emulator_control)

        def call(self, case: Any, **kwargs: Any) -> Any:
            return money.step(case, self.key, self.emulator_control, lambda: super(Flows, self).call(case, **kwargs))

    test_case = Flows.TestCase
    test_case.settings = stateful_settings()
    return test_case


def scripted_flows(schema: Any, target: Target) -> None:
    """The flows without a control plane (the real API; a served emulator without CONTRACT_CONTROL_URL).

    There is one long-lived account then, whose balance, stock and orders change from call to call,
    so Hypothesis' replays of a walk would not meet the same answers, and any scenario that stopped
    where an earlier identical one went on (a sold-out item, the purchase cap) would be reported as
    flaky. So the links are walked once, in a fixed order, judged by every check, with the same money
    steps as the stateful flows: a fixed number of purchases (SCRIPTED_PURCHASES), always.
    """
    money = Money(schema, target)
    key = target.key
    auth = {"Authorization": target.api.header_value(key)}

    def step(path: str, method: str, **kwargs: Any) -> Any:
        case = schema[path][method].Case(headers=dict(auth), **kwargs)
        response = money.step(case, key, None, case.call)
        case.validate_response(response)
        money.after_step(case, response, key, None)
        return response.json().get("data") if 200 <= response.status_code < 300 and response.content else None

    token = _SCRIPTED.set(True)
    try:
        if target.api is XD247:
            services = step("/otp/services", "GET") or []
            options = [(o["price"], s["id"], o["id"]) for s in services for o in s["priceOptions"] if o["stock"] > 0]
            if options:
                _, service_id, option_id = min(options)
                order = step("/otp/orders", "POST", body={"serviceId": service_id, "priceOptionId": option_id})
                if order:
                    # cancel, then (within the step, Money.after_step) refund twice: money_refund
                    step("/otp/orders/{orderId}/cancel", "POST", path_parameters={"orderId": order["orderId"]})
                    step("/otp/orders/{orderId}", "GET", path_parameters={"orderId": order["orderId"]})
            socials = step("/social/services", "GET") or []
            picks = [(o["pricePer1000"] * o["min"], o["id"], o["min"]) for s in socials for o in s["options"]]
            if picks:
                _, option_id, quantity = min(picks)
                body = {"optionId": option_id, "link": "https://example.com/contract-tests", "quantity": quantity}
                order = step("/social/orders", "POST", body=body)
                if order:
                    step("/social/orders/{orderId}", "GET", path_parameters={"orderId": order["orderId"]})
            apps = [(a["price"], a["id"]) for a in step("/premium/services", "GET") or [] if a["stock"] > 0]
            if apps:
                order = step("/premium/orders", "POST", body={"serviceId": min(apps)[1]})
                if order:
                    step("/premium/orders/{orderId}", "GET", path_parameters={"orderId": order["orderId"]})
        else:
            body = {"type": "manual", "data": {
                "tronAddress": tron.address_from_bytes(os.urandom(20)), "energyValue": 32000, "durationHours": 1}}
            order = step("/v1/energy/orders", "POST", body=body)
            if order:
                step("/v1/energy/orders/{id}", "GET", path_parameters={"id": order["id"]})
            # save -> (Money.after_step) label -> default -> read -> delete
            address = step("/v1/addresses", "POST", body={"tronAddress": tron.address_from_bytes(os.urandom(20)), "label": "contract tests"})
            if address:
                step("/v1/addresses/{id}", "GET", path_parameters={"id": address["id"]})
                step("/v1/addresses/{id}", "DELETE", path_parameters={"id": address["id"]})
            if order and order.get("status") == "processing":
                # Last, so the address steps' time counts towards the order's fulfilment.
                money.await_settlement(order, key)
    finally:
        _SCRIPTED.reset(token)


class Money:
    """The money rules that need the balance before and after one call, read with the same key
    within the same stateful step (semantics.RULES: money_create, money_refund, frozen_release)."""

    def __init__(self, schema: Any, target: Target) -> None:
        self.schema = schema
        self.target = target
        self.wallet_path = "/balance" if target.api is XD247 else "/v1/wallet/balance"
        self.settled = 0
        # energy order id -> the wallet read right after its create, when it showed the price frozen
        self.frozen_at_create: dict[Any, dict[str, int]] = {}

    def wallet(self, key: str) -> dict[str, int]:
        """The balance in integer units: 247xd hundredths of a coin, USDTLowFee sun."""
        case = self.schema[self.wallet_path]["GET"].Case(headers={"Authorization": self.target.api.header_value(key)})
        response = case.call()
        case.validate_response(response)
        data = response.json()["data"]
        if self.target.api is XD247:
            return {"coins": round(data["coins"] * 100)}
        return {k: int(data[k]) for k in ("balanceSun", "frozenSun", "totalSun")}

    def step(self, case: Any, key: str, control: Any, call: Any) -> Any:
        label = case.operation.label
        if label not in MONEY_STEPS:
            return call()
        # Room for the step's reads in one window, so no wait (no clock move) falls between them.
        pacing.reserve(self.target.api.header_value(key), 6)
        before = self.wallet(key)
        response = call()
        data = response.json().get("data") if 200 <= response.status_code < 300 and response.content else None
        if not isinstance(data, dict):
            return response
        after = self.wallet(key)
        api = self.target.api.name
        if label == "POST /v1/energy/orders":
            price = int(data.get("priceSun", 0))
            moved = (before["balanceSun"] - after["balanceSun"], after["frozenSun"] - before["frozenSun"])
            if data.get("status") == "processing" and moved != (price, price):
                pacing.note(api, label, "money_create",
                            f"priceSun {price}: balanceSun fell by {moved[0]}, frozenSun rose by {moved[1]}")
            elif data.get("status") == "processing":
                self.frozen_at_create[data.get("id")] = after
        elif label.startswith("POST") and label.endswith("/orders"):
            price = round(float(data.get("price", 0)) * 100)
            if before["coins"] - after["coins"] != price:
                pacing.note(api, label, "money_create",
                            f"price {price / 100}: coins fell by {(before['coins'] - after['coins']) / 100}")
        elif label.endswith("/refund"):
            refunded = round(float(data.get("refundedAmount", 0)) * 100)
            if after["coins"] - before["coins"] != refunded:
                pacing.note(api, label, "money_refund",
                            f"refundedAmount {refunded / 100}: coins rose by {(after['coins'] - before['coins']) / 100}")
            again = case.call()
            again_code = again.json().get("error", {}).get("code") if again.content else None
            last = self.wallet(key)
            if again.status_code != 400 or again_code != "BAD_REQUEST" or last != after:
                pacing.note(api, label, "money_refund",
                            f"a second refund answered {again.status_code} {again_code}; coins "
                            f"{after['coins'] / 100} -> {last['coins'] / 100}")
        return response

    def after_step(self, case: Any, response: Any, key: str, control: Any) -> None:
        """After a create was judged, the control plane ends it (energy: completed or failed, and
        its price must leave frozenSun) or makes it refundable (social: 247xd has no client cancel
        and delivery follows the clock; cancelled or partial, alternately)."""
        label = case.operation.label
        auth = {"Authorization": self.target.api.header_value(key)}
        if label == "POST /otp/orders/{orderId}/cancel" and response.status_code == 200:
            # The refund of a cancelled order, within this step (it costs nothing: the price comes back).
            refund = self.schema["/otp/orders/{orderId}/refund"]["POST"].Case(
                path_parameters={"orderId": response.json()["data"]["orderId"]}, headers=auth
            )
            refund.validate_response(self.step(refund, key, control, refund.call))
            return
        if label == "POST /v1/addresses" and response.status_code == 201:
            # Label and default the new address, each judged: the walk of links rarely does both. (Not
            # delete: schemathesis' ensure_resource_availability reads the created address later.)
            address = {"id": response.json()["data"]["id"]}
            for path, method, body in (
                ("/v1/addresses/{id}/label", "PUT", {"label": "contract"}),
                ("/v1/addresses/{id}/default", "PUT", None),
            ):
                kwargs: dict[str, Any] = {"path_parameters": address, "headers": dict(auth)}
                if body is not None:
                    kwargs["body"] = body
                self.schema[path][method].Case(**kwargs).call_and_validate()
            return
        if control is None or response.status_code != 201 or label not in ("POST /v1/energy/orders", "POST /social/orders"):
            return
        data = response.json()["data"]
        if label == "POST /social/orders":
            moves = ["cancelled"] if int(str(data["orderId"])[0], 16) % 2 == 0 else ["processing", "partial"]
            for to in moves:
                moved = control.post(f"/_emulator/247xd/orders/{data['orderId']}/transition", json={"to": to})
                if moved.status_code == 200:
                    semantics.forced(self.target.api.header_value(key), "social", data["orderId"], to)
            # The refund then, within this step: the walk of links reaches it too rarely to count on.
            refund = self.schema["/social/orders/{orderId}/refund"]["POST"].Case(
                path_parameters={"orderId": data["orderId"]}, headers=auth
            )
            refund.validate_response(self.step(refund, key, control, refund.call))
        elif data.get("status") == "processing":
            self.settle(data, key, control, self.wallet(key))

    def settle(self, order: dict[str, Any], key: str, control: Any, before: dict[str, int]) -> None:
        """Force the order's end through the control plane and see its price leave frozenSun:
        completed spends it, failed returns it (alternately, by id)."""
        self.settled += 1
        to = "completed" if self.settled % 2 else "failed"
        moved = control.post(f"/_emulator/usdtlowfee/orders/{order['id']}/transition", json={"to": to})
        if moved.status_code != 200:
            return  # settled already (an automatic move): nothing to force
        semantics.forced(self.target.api.header_value(key), "energy", order["id"], to)
        # Read back and judged: a settled order as the API shows it (completed_order, state_edges).
        read = self.schema["/v1/energy/orders/{id}"]["GET"].Case(
            path_parameters={"id": order["id"]}, headers={"Authorization": self.target.api.header_value(key)}
        )
        read.call_and_validate()
        after = self.wallet(key)
        price = int(order["priceSun"])
        expected = (before["balanceSun"] + (price if to == "failed" else 0), before["frozenSun"] - price)
        if (after["balanceSun"], after["frozenSun"]) != expected:
            raise semantics.fail(
                "frozen_release", "POST /v1/energy/orders",
                f"order {order['id']} {to} (priceSun {price}): balanceSun/frozenSun {before['balanceSun']}/"
                f"{before['frozenSun']} -> {after['balanceSun']}/{after['frozenSun']}, expected {expected[0]}/{expected[1]}",
            )


    def await_settlement(self, order: dict[str, Any], key: str) -> None:
        """frozen_release without a control plane: the order settles by itself. From the wallet read
        right after its create (the price frozen), poll the order by id (paced like every request)
        until it is no longer processing or SETTLE_WAIT_S has passed, then read the wallet again.

        The account is long-lived: other processing orders of it (the list walk's, the generated
        cases') may settle in between too, but nothing new is frozen. With no other order frozen the
        rule is exact; with others it is the bounds every settlement keeps: frozenSun falls by at
        least the price, balanceSun does not fall (failed: rises by at least the price), totalSun
        does not rise (completed: falls by at least the price). Past the bound the order is still
        processing: inconclusive, said in coverage.json and drift.md, neither passed nor failed."""
        before = self.frozen_at_create.get(order["id"])
        record: dict[str, Any] = {"orderId": order["id"], "boundS": SETTLE_WAIT_S}
        SETTLEMENTS.append(record)
        if before is None:
            record["outcome"] = "not judged: the wallet after its create did not show the price frozen"
            return
        auth = {"Authorization": self.target.api.header_value(key)}
        started, paused, polls = time.monotonic(), 0.0, 0
        while True:
            case = self.schema["/v1/energy/orders/{id}"]["GET"].Case(
                path_parameters={"id": order["id"]}, headers=dict(auth)
            )
            response = case.call()
            polls += 1
            data = response.json().get("data") if response.status_code == 200 else None
            status = data.get("status") if isinstance(data, dict) else None
            # With a control plane a pause is a clock move, not real time: both count.
            elapsed = max(time.monotonic() - started, paused)
            if status != "processing" or elapsed >= SETTLE_WAIT_S:
                break
            wait = min(SETTLE_POLL_S, SETTLE_WAIT_S - elapsed)
            pacing.pause(wait)
            paused += wait
        case.validate_response(response)  # the order as the API shows it (completed_order, state_edges)
        record |= {"status": status, "polls": polls, "seconds": round(elapsed, 1)}
        if status == "processing":
            record["outcome"] = f"inconclusive: still processing after {elapsed:.0f} s"
            return
        if status not in ("completed", "failed"):
            record["outcome"] = f"not judged: read back as {status!r}"
            return
        after = self.wallet(key)
        price = int(order["priceSun"])
        others = before["frozenSun"] - price  # other orders' prices frozen when ours was created
        spent = status == "completed"
        balance = before["balanceSun"] + (0 if spent else price)  # exact, or at least
        frozen = before["frozenSun"] - price  # exact (0), or at most
        total = before["totalSun"] - (price if spent else 0)  # at most
        if others == 0:
            ok = (after["balanceSun"], after["frozenSun"]) == (balance, 0)
            rule = f"expected {balance}/0"
        else:
            ok = after["frozenSun"] <= frozen and after["balanceSun"] >= balance
            ok = ok and after["totalSun"] <= total
            rule = (f"other orders held {others} sun frozen, so expected frozenSun at most {frozen}, "
                    f"balanceSun at least {balance}, totalSun at most {total}")
        verdict = "left frozenSun" if ok else "still frozen"
        record["outcome"] = f"{status} after {elapsed:.0f} s: price {verdict}"
        if not ok:
            raise semantics.fail(
                "frozen_release", "POST /v1/energy/orders",
                f"order {order['id']} {status} by itself (priceSun {price}): balanceSun/frozenSun "
                f"{before['balanceSun']}/{before['frozenSun']} -> "
                f"{after['balanceSun']}/{after['frozenSun']}, {rule}",
            )


# frozen_release without a control plane (Money.await_settlement): each order waited for, and how it went.
SETTLEMENTS: list[dict[str, Any]] = []


MONEY_STEPS = {
    "POST /otp/orders", "POST /social/orders", "POST /premium/orders", "POST /v1/energy/orders",
    "POST /otp/orders/{orderId}/refund", "POST /social/orders/{orderId}/refund",
}


def stateful_settings() -> settings:
    # CONTRACT_NO_SHRINK=1 (test_teeth.py): report the first failing scenario as found; a broken
    # copy only has to be caught, and shrinking it replays many scenarios.
    phases = [Phase.explicit, Phase.generate] if os.environ.get("CONTRACT_NO_SHRINK") == "1" else list(Phase)
    return settings(
        phases=phases,
        max_examples=STATEFUL_EXAMPLES,
        stateful_step_count=STATEFUL_STEPS,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )


# --- hooks ------------------------------------------------------------------------------

# A TRON address is base58check (SPEC "USDTLowFee"): a pattern cannot say that, so valid
# data draws real addresses and the negative phases still send malformed ones.
schemathesis.openapi.format("tron-address", st.binary(min_size=20, max_size=20).map(tron.address_from_bytes))


def _integers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers(v) for v in value]
    return value


def whole_numbers(context: Any, body: Any) -> Any:
    # JSON Schema calls 65000.0 an integer; the emulator, like a strictly typed int64 backend,
    # refuses it (SPEC "Request bodies": booleans are not integers, integers are not strings;
    # the `x-rules` of both documents). Integers are sent as integers.
    return _integers(body)


def _cheapest_energy(case: Any) -> None:
    # A spending run against a live USDTLowFee rents the least it can, whatever the phase drew:
    # 32000 energy for 1 hour (about 1.48 TRX at the vendor's example price; README.md).
    data = case.body.get("data") if isinstance(case.body, dict) else None
    if not isinstance(data, dict):
        return
    energy = data.get("energyValue")
    if isinstance(energy, int) and not isinstance(energy, bool) and 32000 <= energy <= 100_000_000:
        data["energyValue"] = 32000
    if data.get("durationHours") in (24, 72, 168, 336, 720):
        data["durationHours"] = 1


_READ_ONLY: dict[str, bool] = {}
BOUGHT: Counter[str] = Counter()  # spending calls the live target accepted (2xx), per operation
HELD_BACK: Counter[str] = Counter()  # generated spending cases not sent: the operation's share was spent
_BOUGHT_LOCK = threading.Lock()
# Purchases the fixed walk makes without a control plane (scripted_flows; energy_lists' three orders).
SCRIPTED_PURCHASES = {"247xd": 3, "usdtlowfee": 1 + 3}
_SCRIPTED: contextvars.ContextVar[bool] = contextvars.ContextVar("contract_scripted", default=False)
_SPENDING_APIS: set[str] = set()  # APIs of this run on a live target that may be the vendor, writes allowed


def purchase_shares() -> dict[str, int]:
    """CONTRACT_MAX_PURCHASES shared out, decided before anything is bought: the fixed walks' purchases
    first, the rest evenly over the spending operations' generated cases (examples, coverage, fuzzing).
    A share spent, the operation's further generated cases are not sent (HELD_BACK), so the cap is never
    met half-way through a walk and the run is the same every time."""
    labels = sorted(label for label in SPENDING if DOCUMENTED[label] in _SPENDING_APIS)
    rest = MAX_PURCHASES - sum(SCRIPTED_PURCHASES[api] for api in _SPENDING_APIS)
    return {label: max(0, rest) // len(labels) for label in labels} if labels else {}


class SpendingRefused(RuntimeError):
    """A request that could cost money was about to be sent and was not."""


def _costs_money(case: Any) -> bool:
    """A live target that may be the real vendor (no control plane named) and a spending call."""
    base_url = case.operation.schema.config.base_url
    return base_url is not None and CONTROL_URL is None and f"{case.method.upper()} {case.path}" in SPENDING


@schemathesis.hook("before_call")
def _guard_spending(context: Any, case: Any, kwargs: Any) -> None:
    """Never a write on a read-only live target; never more purchases than the cap."""
    base_url = case.operation.schema.config.base_url
    if base_url is None:  # in-process: nothing to guard
        return
    label = f"{case.method.upper()} {case.path}"
    if _READ_ONLY.get(base_url.rstrip("/"), True) and case.method.upper() not in ("GET", "HEAD", "OPTIONS"):
        documented = case.operation.schema.raw_schema["paths"].get(case.path, {})
        if case.method.lower() in documented:
            raise SpendingRefused(f"{label} is a write; set CONTRACT_ALLOW_SPEND=1 to allow writes")
    if _costs_money(case):
        with _BOUGHT_LOCK:
            if sum(BOUGHT.values()) >= MAX_PURCHASES:  # the hard bound; the shares keep a run inside it
                raise SpendingRefused(f"CONTRACT_MAX_PURCHASES={MAX_PURCHASES} reached; {label} not sent")
        if label == "POST /v1/energy/orders":
            _cheapest_energy(case)


GENERATED_BOUGHT: Counter[str] = Counter()  # the part of BOUGHT the generated cases bought


def within_share(case: Any) -> bool:
    """Whether a generated case may be sent (test_*.py): without a control plane, not once its
    operation's share of the purchases (purchase_shares) is spent — it is then held back: not sent,
    not judged, counted in HELD_BACK, and the test passes over it (not a rejection, which Hypothesis
    would count towards giving up, nor in the before_call hook, whose errors schemathesis wraps)."""
    if not _costs_money(case):
        return True
    label = f"{case.method.upper()} {case.path}"
    with _BOUGHT_LOCK:
        if GENERATED_BOUGHT[label] < purchase_shares().get(label, 0):
            return True
        HELD_BACK[label] += 1
        return False


@schemathesis.hook("after_call")
def _count_purchases(context: Any, case: Any, response: Any) -> None:
    if 200 <= response.status_code < 300 and _costs_money(case):
        label = f"{case.method.upper()} {case.path}"
        with _BOUGHT_LOCK:
            BOUGHT[label] += 1
            if not _SCRIPTED.get():
                GENERATED_BOUGHT[label] += 1


# --- a check the seeds call for ----------------------------------------------------------


class UndocumentedRefusal(Failure):
    code = "ST991"
    checks = ("documented_refusal",)
    kind_title = "Valid data refused with an undocumented code"


@schemathesis.check
def documented_refusal(ctx: Any, response: Any, case: Any) -> bool | None:
    """Valid data that the vendor may refuse (REFUSALS) must be refused the documented way."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    allowed = REFUSALS.get(case.operation.label, {}).get(response.status_code)
    if allowed is None:
        return None
    try:
        code = response.json()["error"]["code"]
    except Exception:  # the schema checks report a malformed body
        return None
    message = str(response.json()["error"].get("message", ""))
    if code == "VALIDATION_ERROR" and "quantity" not in message:
        allowed = allowed - {"VALIDATION_ERROR"}  # only the quantity range is a business refusal
    if code not in allowed:
        raise UndocumentedRefusal(
            operation=case.operation.label,
            message=f"Expected: {response.status_code} with code {' or '.join(sorted(allowed))}\n"
            f"Got: {response.status_code} {code}: {message}",
        )
    return None


# --- explicit reads: GETs by id, the list walks -------------------------------------------


def _env_ids(api: Api) -> list[str]:
    return [v.strip() for v in os.environ.get(f"CONTRACT_{api.env}_ORDER_IDS", "").split(",") if v.strip()]


BY_ID_PARAM = {
    "GET /otp/orders/{orderId}": "orderId", "GET /social/orders/{orderId}": "orderId",
    "GET /premium/orders/{orderId}": "orderId", "GET /v1/energy/orders/{id}": "id", "GET /v1/addresses/{id}": "id",
}


def ids_for(target: Target, label: str) -> list[Any]:
    """The ids the run has for a GET by id: seen in a list or a create with this key, or given."""
    mine = target.api.header_value(target.key)
    seen = [value for key, value in pacing.LEDGER.ids.get((target.api.name, label), []) if key == mine]
    given: list[Any] = []
    if label.startswith("GET /v1/energy/orders/") or (target.api is XD247 and "orders" in label):
        given = [int(v) if v.isdigit() else v for v in _env_ids(target.api)]
    return list(dict.fromkeys([*seen[:3], *given]))


def reads_by_id(schema: Any, target: Target) -> list[str]:
    """Each GET by id, called with the ids the run has and judged by every check. Returns the
    operations that had no id (unreachable; coverage.json says so)."""
    unreached = []
    for label, param in BY_ID_PARAM.items():
        if pacing.LABELS.get(label) != target.api.name or (OPERATIONS and label not in _selected_labels(schema)):
            continue
        ids = ids_for(target, label)
        if not ids:
            unreached.append(label)
            continue
        pacing.LEDGER.reachable_by_id.add((target.api.name, label))
        path = label.split(" ", 1)[1]
        for value in ids:
            case = schema[path]["GET"].Case(
                path_parameters={param: value}, headers={"Authorization": target.api.header_value(target.key)}
            )
            case.call_and_validate()
    return unreached


def _selected_labels(schema: Any) -> set[str]:
    return {op.ok().label for op in schema.get_all_operations()}


def energy_lists(schema: Any, target: Target) -> None:
    """The energy order list walked by offset and limit, and refused out of range (semantics:
    list_pages, list_refusals). Spending targets get three orders first so pages exist."""
    if target.api is not USDTLOWFEE or (OPERATIONS and "GET /v1/energy/orders" not in _selected_labels(schema)):
        return
    auth = {"Authorization": target.api.header_value(target.key)}
    operation = schema["/v1/energy/orders"]["GET"]
    label = "GET /v1/energy/orders"

    def page(**query: Any) -> tuple[Any, Any]:
        case = operation.Case(query=query, headers=auth)
        response = case.call()
        return case, response

    if target.may_spend:
        create = schema["/v1/energy/orders"]["POST"]
        token = _SCRIPTED.set(True)  # three of SCRIPTED_PURCHASES
        try:
            for _ in range(3):
                address = tron.address_from_bytes(os.urandom(20))
                body = {"type": "manual", "data": {"tronAddress": address, "energyValue": 32000, "durationHours": 1}}
                create.Case(body=body, headers=auth).call()
        finally:
            _SCRIPTED.reset(token)
    judged = [page(limit=100)]
    everything = judged[0][1].json()["data"]
    problems = []
    size = 2
    walked: list[Any] = []
    offset = 0
    while offset < min(everything["total"], 8):
        judged.append(page(offset=offset, limit=size))
        data = judged[-1][1].json()["data"]
        if data["total"] != everything["total"]:
            problems.append(f"total {data['total']} at offset {offset}, {everything['total']} for the whole list")
        walked += [o["id"] for o in data["orders"]]
        offset += size
    expected = [o["id"] for o in everything["orders"]][: len(walked) if walked else 0]
    if walked != expected[: len(walked)] or len(walked) != min(everything["total"], offset):
        problems.append(f"pages of {size} gave ids {walked}, the whole list starts {expected}")
    if len(everything["orders"]) != min(everything["total"], 100):
        problems.append(f"total {everything['total']} but limit=100 gave {len(everything['orders'])} orders")
    for problem in problems:
        pacing.note("usdtlowfee", label, "list_pages", problem)
    for query in ({"limit": 0}, {"limit": 101}, {"status": "pending"}, {"status": "PROCESSING"}):
        _, response = page(**query)
        code = response.json().get("error", {}).get("code") if response.content else None
        if response.status_code != 400 or code != "VALIDATION_ERROR":
            pacing.note("usdtlowfee", label, "list_refusals", f"{query} answered {response.status_code} {code}")
    # Judged after the walk: the list_pages/list_refusals findings go with the first page's checks.
    for case, response in judged:
        case.validate_response(response)

