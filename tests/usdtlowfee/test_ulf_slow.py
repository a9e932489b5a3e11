"""Slow addresses (fixtures' slowAddresses) in the USDTLowFee domain, without HTTP: each order
comes due at its own delay, exactly, whatever mix of slow and quick orders an account holds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.core.clock import US_PER_S, Clock, iso_s, parse_iso
from emulator.core.ids import IdSource
from emulator.usdtlowfee.fixtures import parse
from emulator.usdtlowfee.service import UsdtLowFeeBackend

from .support import COLD, FAILING, OTHER, USDT_CONTRACT

T0 = parse_iso("2025-01-15T10:30:00Z")
DELAYS = {USDT_CONTRACT: 5, COLD: 3600, OTHER: 0, FAILING: 5}  # seconds; COLD slow, OTHER instant


def make() -> tuple[UsdtLowFeeBackend, Clock]:
    doc = {
        "fulfilmentDelaySeconds": 5,
        "failingAddresses": [{"tronAddress": FAILING, "reason": "no"}],
        "slowAddresses": [
            {"tronAddress": COLD, "delaySeconds": 3600},
            {"tronAddress": OTHER, "delaySeconds": 0},
        ],
    }
    clock = Clock(T0, frozen=True)
    return UsdtLowFeeBackend(parse(doc), clock, IdSource(5)), clock


@settings(max_examples=120, deadline=None, database=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(sorted(DELAYS)), st.integers(0, 4000), st.booleans()),
        min_size=1,
        max_size=25,
    )
)
def test_every_order_moves_exactly_at_its_own_due_instant(steps: list[tuple[str, int, bool]]) -> None:
    backend, clock = make()
    account = backend.create_account(10**15)[0]
    made = []
    for address, wait, read in steps:
        now = clock.now_us()
        order = backend.create_order(account, address, 65000, 1, now)
        made.append((order, now + DELAYS[address] * US_PER_S, address == FAILING))
        clock.advance(wait * US_PER_S)
        if read:
            backend.list_orders(account, clock.now_us())
        now = clock.now_us()
        for order, due, fails in made:
            backend.order_of(account, order.id, now)
            if due <= now:
                assert order.status == ("failed" if fails else "completed")
                assert order.updated_us == due
                assert order.view()["updatedAt"] == iso_s(due)
            else:
                assert order.status == "processing"
        processing = [o for o, due, _ in made if due > now]
        assert account.frozen_sun == sum(o.price_sun for o in processing)
        listed = backend.list_orders(account, now, limit=100, status="processing")["orders"]
        assert sorted(o["id"] for o in listed) == sorted(o.id for o in processing)


def test_a_slow_order_forced_at_the_default_instant_shows_that_instant() -> None:
    backend, clock = make()
    account = backend.create_account(10**12)[0]
    order = backend.create_order(account, COLD, 65000, 1, clock.now_us())
    assert order.due_us == T0 + 3600 * US_PER_S
    clock.advance(5 * US_PER_S)
    backend.force(order.id, "completed")
    assert order.view()["completedAt"] == "2025-01-15T10:30:05Z"
    clock.advance(7200 * US_PER_S)
    account.settle(clock.now_us())
    assert order.view()["completedAt"] == "2025-01-15T10:30:05Z"
