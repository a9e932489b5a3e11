"""Writes and Python's cyclic collector (docs/speed.md, "The collector").

CPython starts a young collection when the objects it tracks that were allocated
outnumber those freed by 700. A bounded log that keeps a tracked object per write, and
frees its oldest as it goes, holds that count still: its young objects pile up
uncollected until something else (a burst of new connections) sets a collection off,
which then walks them all. The event log kept a tuple, a dict and a Later for each of
its 10,000 events, about 30,000 young objects once it had turned over, and such a
collection stalled the server 5 to 13 ms. A write now leaves nothing tracked behind;
these tests count what a run of writes leaves in the young generation.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import SplitResult

from emulator.app import create_app
from emulator.config import Config
from emulator.core.events import BALANCE, EventLog, Later
from emulator.runtime import Emulator
from emulator.testing.transport import in_process_client

OTP_SERVICE = "00000000-0000-4000-8000-000000000001"
OTP_OPTION = "00000000-0000-4000-8000-000000000011"  # no SMS: the order stays active
ENERGY = {"type": "manual", "data": {"tronAddress": "TLa2f6VPqDgRE67v1736s7bJ8Ray5wYjU7",
                                     "energyValue": 65000, "durationHours": 1}}


@contextmanager
def collector_off() -> Iterator[None]:
    gc.collect()  # the young generations are empty now
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def young_left(run: Callable[[], object]) -> int:
    """The tracked objects `run` allocated that are still alive after it: a young
    collection sweeps its garbage, the survivors go to the (empty) middle generation.
    Not counted: the client's, httpx's cookie handling parses each URL through
    urllib.parse, whose cache keeps the last 128."""
    with collector_off():
        run()
        gc.collect(0)
        return sum(1 for o in gc.get_objects(1) if type(o) is not SplitResult)


def test_order_creations_past_the_event_logs_size_leave_nothing_young() -> None:
    emu = Emulator(Config(seed=1))
    backend = emu.xd247
    account, _ = backend.create_account(10**11)
    now = emu.clock.now_us()

    def create(count: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(count):
                backend.create_otp_order(account, OTP_SERVICE, OTP_OPTION, now)
        return run

    young_left(create(emu.events.size))  # the log full: every event from now on pushes one out
    # 2 events an order: the whole log turns over 1.2 times.
    assert young_left(create(emu.events.size * 6 // 10)) < 20


def test_api_writes_leave_nothing_young() -> None:
    # The journal keeps a tuple a request (bounded by its size): off here, to see the rest.
    emu = Emulator(Config(seed=2, journal_size=0, rate_limit_247xd=10**9, rate_limit_usdtlowfee=10**9))
    with in_process_client(create_app(emulator=emu)) as client:
        xd_key = client.post("/_emulator/247xd/accounts", json={"coins": 10**6}).json()["apiKey"]
        ulf_key = client.post("/_emulator/usdtlowfee/accounts", json={"balanceSun": 10**15}).json()["apiKey"]
        xd, ulf = {"Authorization": f"Bearer {xd_key}"}, {"Authorization": f"ApiKey {ulf_key}"}

        def writes() -> None:
            for _ in range(100):
                order = client.post("/api/v1/otp/orders", headers=xd,
                                    json={"serviceId": OTP_SERVICE, "priceOptionId": OTP_OPTION})
                assert order.status_code == 201, order.text
                path = f"/api/v1/otp/orders/{order.json()['data']['orderId']}/cancel"
                cancel = client.post(path, headers=xd)
                assert cancel.status_code == 200, cancel.text
                energy = client.post("/v1/energy/orders", headers=ulf, json=ENERGY)
                assert energy.status_code in (200, 201), energy.text

        writes()  # first requests fill caches (heads, routes) that live as long as the server
        # 300 writes, 800 events: each kept a dozen tracked objects behind before.
        assert young_left(writes) < 20


def test_the_count_catches_an_event_log_that_keeps_tracked_objects() -> None:
    # The deliberately broken copy: events whose data holds a Later (a tracked object)
    # instead of the order's number, as every 247xd event did before.
    log = EventLog(size=1000)

    def emit(data: Callable[[int], dict[str, object]]) -> Callable[[], None]:
        def run() -> None:
            for n in range(3000):
                log.emit("247xd", "a", BALANCE, data(n), 0)
        return run

    assert young_left(emit(lambda n: {"coins": 1.5, "orderId": n})) < 10
    assert young_left(emit(lambda n: {"coins": 1.5, "orderId": Later(str, n)})) >= 2000
