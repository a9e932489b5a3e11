"""Every id USDTLowFee issues breaks a client that reads it as a double (SPEC "Types",
docs/ids.md): above 2^53, odd, strictly increasing, the creation millisecond on top."""

from __future__ import annotations

import json
import random
from itertools import pairwise

from starlette.testclient import TestClient

from emulator.config import DEFAULT_FIXTURES
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator
from emulator.usdtlowfee import tron

from .support import RICH_KEY, USDT_CONTRACT, advance, auth, create_order, new_account


def changed_by_a_double(value: int) -> bool:
    """What JSON.parse or float() does to the id: True when the number read back differs."""
    return int(float(value)) != value


def test_the_check_tells_an_exact_id_from_a_changed_one() -> None:
    # The old layout's first id in a millisecond (a multiple of 4096) survives a double.
    assert not changed_by_a_double(tron.snowflake_at(1_736_937_000_000) & ~0xFFF)
    assert changed_by_a_double(tron.snowflake_at(1_736_937_000_000))


def test_ten_thousand_fresh_ids_are_all_changed_by_a_double(emu: Emulator) -> None:
    backend = emu.usdtlowfee
    account = backend.accounts["ulf-rich"]
    rng = random.Random(18)
    now = emu.clock.now_us()
    ids = []
    for i in range(10_000):
        # Mostly a frozen clock; now and then a jump forward or back, as tests move it.
        if i % 97 == 0:
            now += rng.choice([-86_400_000_000, -1_000, 1, 999, 1_000, 3_600_000_000])
        if i % 10 == 0:
            ids.append(backend.create_account(balance_sun=0)[0].user_id)
        else:
            ids.append(backend.create_order(account, USDT_CONTRACT, 32_000, 1, now).id)
    parsed = json.loads(json.dumps(ids), parse_int=float)  # as JSON.parse reads them
    assert len(parsed) == 10_000
    assert all(int(p) != i for p, i in zip(parsed, ids, strict=True))
    assert all(changed_by_a_double(i) and i > 2**53 for i in ids)
    assert all(a < b for a, b in pairwise(ids))


def test_ids_over_http_at_a_frozen_instant_are_changed_and_ordered(client: TestClient) -> None:
    ids = [create_order(client, RICH_KEY)["id"] for _ in range(30)]
    ids += [new_account(client, 0)["userId"] for _ in range(10)]
    advance(client, 0.0004)  # within the same millisecond (the domain test moves it back too)
    ids += [create_order(client, RICH_KEY)["id"] for _ in range(10)]
    assert all(a < b for a, b in pairwise(ids))
    assert all(changed_by_a_double(i) for i in ids)
    body = client.get("/v1/energy/orders?limit=100", headers=auth(RICH_KEY)).text
    as_doubles = json.loads(body, parse_int=float)["data"]["orders"]
    exact = json.loads(body)["data"]["orders"]
    assert len(exact) == 40
    assert all(int(d["id"]) != e["id"] for d, e in zip(as_doubles, exact, strict=True))


def test_an_id_issued_on_time_carries_its_creation_millisecond(client: TestClient) -> None:
    advance(client, 1.5)
    order = create_order(client, RICH_KEY)
    assert order["id"] >> 22 == parse_iso("2025-01-15T10:30:01.500Z") // 1000 - tron.EPOCH_MS


def test_the_default_fixture_user_ids_obey_the_layout() -> None:
    accounts = json.loads(DEFAULT_FIXTURES.read_text("utf-8"))["usdtlowfee"]["accounts"]
    for account in accounts:
        user_id = account["userId"]
        assert user_id > 2**53 and changed_by_a_double(user_id), account["id"]
        assert user_id >> 22 == parse_iso(account["createdAt"]) // 1000 - tron.EPOCH_MS
