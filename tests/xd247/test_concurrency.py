"""A burst of concurrent orders against one account never overdraws it."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from starlette.testclient import TestClient

from emulator.app import create_app
from emulator.config import Config
from emulator.core.clock import parse_iso
from emulator.runtime import Emulator

from .support import OTP_NEVER, OTP_TEST_SERVICE, START, auth

N = 20  # orders the account can pay for; 3N are fired
BODY = {"serviceId": OTP_TEST_SERVICE, "priceOptionId": OTP_NEVER}  # 5.00 each


def fresh() -> Emulator:
    emu = Emulator(Config(seed=3, clock_start_us=parse_iso(START), rate_limit_247xd=10_000))
    emu.clock.freeze()
    return emu


def test_threads_with_their_own_clients_never_double_spend() -> None:
    emu = fresh()
    app = create_app(emulator=emu)
    with TestClient(app) as control:
        account = control.post("/_emulator/247xd/accounts", json={"coins": 5 * N}).json()
    headers = auth(account["apiKey"])
    stock_before = emu.xd247.price_options[OTP_NEVER][1].stock
    threads = 10
    barrier = threading.Barrier(threads)
    coins_seen: list[int] = []

    def worker(_: int) -> list[int]:
        statuses = []
        with TestClient(app) as client:
            barrier.wait()
            for _ in range(3 * N // threads):
                statuses.append(client.post("/api/v1/otp/orders", headers=headers, json=BODY).status_code)
                coins_seen.append(emu.xd247.accounts[account["accountId"]].coins)
        return statuses

    with ThreadPoolExecutor(threads) as pool:
        statuses = [s for batch in pool.map(worker, range(threads)) for s in batch]

    assert len(statuses) == 3 * N
    assert statuses.count(201) == N
    assert statuses.count(400) == 2 * N
    owner = emu.xd247.accounts[account["accountId"]]
    assert owner.coins == 0
    assert min(coins_seen) >= 0
    assert len(owner.orders) == N
    assert emu.xd247.price_options[OTP_NEVER][1].stock == stock_before - N


def test_an_asyncio_burst_never_double_spends() -> None:
    emu = fresh()
    app = create_app(emulator=emu)

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            account = (await client.post("/_emulator/247xd/accounts", json={"coins": 5 * N})).json()
            headers = auth(account["apiKey"])
            responses = await asyncio.gather(
                *(client.post("/api/v1/otp/orders", headers=headers, json=BODY) for _ in range(3 * N))
            )
            balance = (await client.get("/api/v1/balance", headers=headers)).json()
            assert balance == {"success": True, "data": {"coins": 0.0}}
            return [r.status_code for r in responses]

    statuses = asyncio.run(burst())
    assert statuses.count(201) == N and statuses.count(400) == 2 * N
    assert all(a.coins >= 0 for a in emu.xd247.accounts.values())
