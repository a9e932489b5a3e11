"""pytest plugin (entry point `emulator`): the emulator and fresh accounts as fixtures.

- `emulator` (session): an `EmulatorClient` for the control plane. In-process by default:
  one app per session (per xdist worker), configured by the same `EMULATOR_*` variables as
  `emulator serve`; `emulator.runtime` is the very `Emulator` it serves. Served when
  `--emulator-url URL` or `EMULATOR_URL` is given: every worker drives that one server
  (`--emulator-token` or `EMULATOR_CONTROL_TOKEN`: its control token, if it has one).
- `xd247_account`, `usdtlowfee_account` (function): a new account with a generous balance
  and a clock of its own (frozen at the emulator's instant; only the test moves it, with
  `account.advance(seconds)` or `account.clock`), and `account.client`, an httpx client at
  the API's base URL holding the key. Tests sharing one server never see each other's
  accounts, orders or time, so they can run in parallel; nothing is reset between tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .client import Account, EmulatorClient

URL_VARIABLE = "EMULATOR_URL"
TOKEN_VARIABLE = "EMULATOR_CONTROL_TOKEN"
XD247_COINS = 100_000.0
USDTLOWFEE_BALANCE_SUN = 1_000_000 * 1_000_000  # 1,000,000 TRX
MAX_LABEL = 200


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("emulator").addoption(
        "--emulator-url",
        default=None,
        metavar="URL",
        help=f"drive the emulator served at URL (e.g. http://127.0.0.1:8080) instead of one "
        f"in-process; default: ${URL_VARIABLE}",
    )
    parser.getgroup("emulator").addoption(
        "--emulator-token",
        default=None,
        metavar="TOKEN",
        help=f"the served emulator's control token (its --control-token); default: ${TOKEN_VARIABLE}",
    )


def emulator_url(config: pytest.Config) -> str | None:
    return config.getoption("emulator_url") or os.environ.get(URL_VARIABLE) or None


def emulator_token(config: pytest.Config) -> str | None:
    return config.getoption("emulator_token") or os.environ.get(TOKEN_VARIABLE) or None


@pytest.fixture(scope="session")
def emulator(pytestconfig: pytest.Config) -> Iterator[EmulatorClient]:
    import httpx

    from emulator.config import load
    from emulator.runtime import Emulator

    from .client import EmulatorClient

    url = emulator_url(pytestconfig)
    if url is None:
        runtime = Emulator(load({}))
        # Load Faker now rather than in the first test that buys a phone number (~0.2 s);
        # it is seeded, so when it loads does not change what it generates.
        runtime.ids.faker  # noqa: B018
        client = EmulatorClient.in_process(runtime)
    else:
        client = EmulatorClient.served(url, token=emulator_token(pytestconfig))
        try:
            client.health()
        except httpx.TransportError as exc:
            client.close()
            where = f"{url} (--emulator-url / ${URL_VARIABLE})"
            raise RuntimeError(f"no emulator answers at {where}: {exc}") from exc
    with client:
        yield client


def _label(request: pytest.FixtureRequest) -> str:
    return str(request.node.nodeid)[-MAX_LABEL:]


@pytest.fixture
def xd247_account(emulator: EmulatorClient, request: pytest.FixtureRequest) -> Iterator[Account]:
    with emulator.create_xd247_account(coins=XD247_COINS, label=_label(request), clock="own") as account:
        yield account


@pytest.fixture
def usdtlowfee_account(emulator: EmulatorClient, request: pytest.FixtureRequest) -> Iterator[Account]:
    with emulator.create_usdtlowfee_account(
        balance_sun=USDTLOWFEE_BALANCE_SUN, label=_label(request), clock="own"
    ) as account:
        yield account
