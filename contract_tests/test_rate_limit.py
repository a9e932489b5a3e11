"""The one deliberate trip over the rate limit: the 429 and its headers keep the contract.

The suites run with the limit out of the way; here a fresh emulator with a limit of 3 per
minute is pushed one request over it, and the 429 goes through every schemathesis check
(status documented, X-RateLimit-* and Retry-After present and well-typed, body shape).
Against a live target it runs only with CONTRACT_CHECK_RATE_LIMIT=1 (it spends a minute's
worth of read-only requests).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator

from .pacing import unpaced
from .support import SEED, SPECS, START, USDTLOWFEE, XD247, Api, config_for, fresh_key, target

LIMIT = 3
READ = {XD247: "/balance", USDTLOWFEE: "/v1/wallet/balance"}


def _in_process(api: Api) -> tuple[Any, str]:
    config = Config(seed=SEED, clock_start_us=parse_iso(START))
    config.rate_limit_247xd = config.rate_limit_usdtlowfee = LIMIT
    emulator = Emulator(config)
    app = create_app(emulator=emulator)
    control = TestClient(app)
    control.post("/_emulator/clock/freeze").raise_for_status()
    return app, fresh_key(api, control)


@pytest.mark.parametrize("api", [XD247, USDTLOWFEE], ids=["247xd", "usdtlowfee"])
def test_the_429_and_its_headers_keep_the_contract(api: Api) -> None:
    live = target(api) if os.environ.get(f"CONTRACT_{api.env}_URL") else None
    if live is not None and os.environ.get("CONTRACT_CHECK_RATE_LIMIT") != "1":
        pytest.skip("against a live target only with CONTRACT_CHECK_RATE_LIMIT=1")
    if live is None:
        app, key = _in_process(api)
        schema = schemathesis.openapi.from_path(SPECS / api.spec)
        schema.app = app
    else:
        key = live.key
        schema = schemathesis.openapi.from_path(SPECS / api.spec, config=config_for(live))
    operation = schema[READ[api]]["GET"]

    def call() -> Any:
        case = operation.Case(headers={"Authorization": api.header_value(key)})
        with unpaced():  # this test wants the 429 itself, not the pacer's retry
            return case, case.call()

    case, first = call()
    limit = int(first.headers["x-ratelimit-limit"][0])
    assert live is not None or limit == LIMIT
    for _ in range(limit + 1):
        case, response = call()
        if response.status_code == 429:
            break
    assert response.status_code == 429, "the limit was never reached"
    case.validate_response(response)  # every check: documented status, headers, body
    assert int(response.headers["retry-after"][0]) >= 1
    assert response.headers["x-ratelimit-remaining"] == ["0"]
    assert int(response.headers["x-ratelimit-reset"][0]) % 60 == 0
